public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program run to its end (or killed at its time limit), with its exit status and its output.
///
/// Usage:
/// ```swift
/// let run = try ProgramRun.run(executable, ["replay", path], timeout: .seconds(300))
/// #expect(run.status == 0, "\(run.stderr)")
/// ```
public struct ProgramRun: Sendable {
    /// The exit status (the signal's number when it was killed).
    public var status: Int32
    /// Everything it wrote to standard output.
    public var stdout: Data
    /// Everything it wrote to standard error.
    public var stderr: String
    /// Whether the time limit passed first, and the program was killed (SIGKILL).
    public var timedOut: Bool

    /// Standard output as text.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// The environment every program run gets: the test's own with `TZ=UTC`, so that a log without a zone
    /// (classic syslog, read in the system's zone by default) gives the same times on a machine in any zone. A
    /// test of the zone itself sets `TZ` in `arguments` through `/usr/bin/env`.
    public static var pinnedEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = "UTC"
        return environment
    }

    /// Runs `executable` with `TZ=UTC` (``pinnedEnvironment``) and `arguments` and waits for it at most `timeout`; kills it (SIGKILL) when the time is
    /// up.
    ///
    /// Both pipes are read on other threads while it runs, so a full pipe cannot stall the child.
    ///
    /// - Parameters:
    ///   - stdin: Written to its standard input, which is then closed; nil: `/dev/null`.
    /// - Throws: When the program cannot be started, or `stdin` cannot be written.
    public static func run(
        _ executable: URL, _ arguments: [String], stdin: Data? = nil, timeout: Duration
    ) throws -> ProgramRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = pinnedEnvironment
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        // Each variable is written by one reader and read after `readers.wait()`.
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        var timedOut = false
        if done.wait(timeout: .now() + seconds) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        readers.wait()
        return ProgramRun(
            status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self),
            timedOut: timedOut)
    }
}
