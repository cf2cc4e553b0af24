import Foundation
import Logging
import SendWatchIngest
import SendWatchPipeline
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two runs on one state directory: the second is refused; the lock goes with the process, also after SIGKILL.
@Suite("Tail state directory lock", .serialized)
struct TailLockTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func options(_ dir: URL) -> TailOptions {
        var o = TailOptions(patterns: [dir.appendingPathComponent("mail.log").path])
        o.stateDirectory = dir.appendingPathComponent("state").path
        o.follow.usePolling = true
        return o
    }

    @Test("A second run on a state directory in use is refused, naming the directory and the holder's pid")
    func secondRunRefused() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var first: TailRun? = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
            logger: logger)
        #expect(first != nil)
        do {
            _ = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
            Issue.record("a second run on the same state directory started")
        } catch {
            #expect(error.code == .stateDirectoryLocked)
            #expect(error.message.contains(dir.appendingPathComponent("state").path), "\(error)")
            #expect(error.message.contains("pid \(getpid())"), "\(error)")
        }
        first = nil
        // The lock went with the first run.
        _ = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
            logger: logger)
    }

    @Test(
        "A lock this process's own pid holds for a moment (a run just ended, its descriptor in a child before exec) is waited for"
    )
    func ownHolderWaitedFor() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // A second descriptor of the lock file, locked and naming this process, as an ended run's copy in a
        // forked child would be: released 300 ms later from another thread.
        let fd = open(state + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        let release = Thread {
            usleep(300_000)
            close(fd)
        }
        release.start()
        let run = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
            logger: logger)
        _ = run
    }

    /// Starts `sendwatch tail` with stderr to `stderrPath` and waits until it logs that it is following.
    func startTail(_ arguments: [String], stderrPath: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let stderr = try #require(FileHandle(forWritingAtPath: stderrPath))
        defer { try? stderr.close() }
        let p = try launchSendwatch(arguments, stderr: stderr)
        _ = waitUntil(seconds: 60) { fileText(atPath: stderrPath).contains(" following ") }
        return p
    }

    @Test("sendwatch tail on a state directory in use exits 75 naming the directory and pid; after SIGKILL it starts")
    func executable() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("state").path
        let log = dir.appendingPathComponent("mail.log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let first = try startTail(
            ["tail", "--state", state, "--output", dir.appendingPathComponent("a.jsonl").path, log],
            stderrPath: dir.appendingPathComponent("first.stderr").path)
        defer {
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
        }
        let second = try CommandLine.run(["tail", "--state", state, log])
        #expect(second.status == 75)
        #expect(second.stderr.contains("state directory \(state) is in use"), "\(second.stderr)")
        #expect(second.stderr.contains("pid \(first.processIdentifier)"), "\(second.stderr)")
        #expect(second.stderr.contains("tail.code=state_directory_locked"), "\(second.stderr)")

        // SIGKILL leaves no stale lock: the kernel releases it with the process.
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let thirdStderr = dir.appendingPathComponent("third.stderr").path
        let third = try startTail(["tail", "--state", state, log], stderrPath: thirdStderr)
        kill(third.processIdentifier, SIGTERM)
        third.waitUntilExit()
        let text = (try? String(contentsOfFile: thirdStderr, encoding: .utf8)) ?? ""
        #expect(third.terminationStatus == 0, "\(text)")
        #expect(text.contains(" following "), "\(text)")
    }
}
