public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `sendwatch` executable, which SwiftPM puts beside the test bundle (a few folders up from the test
/// runner); nil when it was not built.
///
/// Finding it also pins the test process's `TZ` to UTC (``pinTimeZoneToUTC()``): every test that starts the
/// executable asks for it first, and the child inherits the zone, so a log without a zone (classic syslog, read
/// in the system's zone by default) gives the same times on a machine in any zone.
public var sendwatchExecutable: URL? {
    pinTimeZoneToUTC()
    var dir = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("sendwatch")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// Sets `TZ=UTC` in the test process, once: the children it starts and the in-process runs that read the system's
/// zone (`input.timezone: local`, the default) then read zone-less logs as UTC wherever the tests run. A test of
/// the zone itself passes `TZ` to its child explicitly (`/usr/bin/env TZ=… sendwatch …`) or an environment to
/// `LocalTimeZone(parsing:environment:)`.
public func pinTimeZoneToUTC() {
    _ = timeZonePinned
}

/// ``pinTimeZoneToUTC()``'s one `setenv` (a lazily initialised global runs once, thread-safely).
private let timeZonePinned: Bool = {
    setenv("TZ", "UTC", 1)
    return true
}()

/// The `sendwatch` executable was not built beside the tests.
public struct SendWatchExecutableMissing: Error, CustomStringConvertible {
    /// Says so.
    public var description: String { "the sendwatch executable is built beside the tests" }
}

/// Starts the built `sendwatch` with `arguments` (a long-running command: `tail`), standard output and input on
/// `/dev/null` and standard error to `stderr`, and returns at once; the caller waits (``waitUntil(seconds:_:)``)
/// for what it logs, signals it and reaps it.
///
/// Usage:
/// ```swift
/// let process = try launchSendwatch(["tail", "--state", state, log], stderr: handle)
/// defer { if process.isRunning { process.terminate() } }
/// #expect(waitUntil(seconds: 60) { fileText(atPath: stderrPath).contains(" following ") })
/// ```
///
/// - Throws: ``SendWatchExecutableMissing``, or why it could not be started.
public func launchSendwatch(_ arguments: [String], stderr: FileHandle) throws -> Process {
    guard let executable = sendwatchExecutable else { throw SendWatchExecutableMissing() }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}

/// Waits until `condition` holds, checking every 50 ms, for at most `seconds`; whether it held.
///
/// For tests of a child process (what it logged, a socket it made): the bound is generous, so that only a process
/// that never gets there fails, on a loaded machine too.
public func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// The text of the file at `path` as it is now (a child's log); empty when it cannot be read.
public func fileText(atPath path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
