import Foundation
import SendWatchCore
import SendWatchIngest
import SendWatchTesting
import Testing

@testable import SendWatchPipeline

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch tail` resumes a state directory written by an earlier build (`Fixtures/tail-state-0aee8b2`, see its
/// README): the parsers' checkpoints of version 1 and the detection state of that build, taken after the first
/// 50,000 lines of mixed-s11. Both runs detect as that build did (``sameDetection``).
@Suite("Tail state of the previous release", .serialized)
struct TailPreviousReleaseTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tail-state-0aee8b2")
    /// The lines the fixture's run read (`head -50000` of the dataset); its checkpoint's offset is their length.
    static let linesRead = 50_000

    /// What turns off the detection changes made since the fixture's build, for both runs: the fixture's first
    /// alerts were written by that build's rules, so the resumed run can only equal a replay that detects as it did.
    /// A deliberate detection change that alters alerts on these lines adds its switch here (or the fixture is
    /// written again by the then-previous release; see its README).
    static let sameDetection = """
        rules:
          concentrated_strangers:
            min_early_wave_only_accounts: 10000000
            min_early_strangers_only_accounts: 0
            discount_owner: false
        """

    /// The decompressed bytes of the fixture file `name` (zstd).
    static func fixtureBytes(_ name: String) throws -> [UInt8] {
        var source = try InputSource.open(path: fixture.appendingPathComponent(name).path)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }

    /// Starts the built `sendwatch` in `directory` (the fixture's paths are relative: `mail.log`, `state`,
    /// `alerts.jsonl`), standard error to `stderr`.
    static func startTail(in directory: URL, stderr: FileHandle) throws -> Process {
        let executable = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let process = Process()
        process.executableURL = executable
        process.currentDirectoryURL = directory
        // The fixture's command (README), so that the configuration and the idle timer match.
        process.arguments = [
            "tail", "--from-start", "--state", "state", "--output", "alerts.jsonl", "--year", "2026",
            "--idle-advance", "1d", "--checkpoint-interval", "1s", "--poll-interval", "50", "--config",
            "same-detection.yaml", "mail.log",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test(
        "A tail state written by 0aee8b2 resumes: the alerts equal one uninterrupted run's, byte for byte",
        .timeLimit(.minutes(10)))
    func resumesPreviousReleaseState() throws {
        let all = TailTestData.lines
        try #require(all.count > Self.linesRead)
        let dir = try TestPaths.makeTemporaryDirectory()
        // Kept when the test fails (its path is in the failure): the state, the alerts and tail's stderr tell why.
        var passed = false
        defer { if passed { try? FileManager.default.removeItem(at: dir) } }
        try Self.sameDetection.write(
            to: dir.appendingPathComponent("same-detection.yaml"), atomically: false, encoding: .utf8)
        var configuration = try Configuration.load(yaml: Self.sameDetection)
        configuration.year = TailTestData.configuration.year
        let reference = try TailTestData.replayLines(all, in: dir, configuration: configuration)

        // The fixture's state and the alerts its run wrote, where its relative paths point.
        let state = dir.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        for name in ["checkpoint", "checkpoint-sections.1", "checkpoint-sections.1.delta"] {
            try Data(try Self.fixtureBytes(name + ".zst")).write(to: state.appendingPathComponent(name))
        }
        let before = try Self.fixtureBytes("alerts.jsonl.zst")
        try Data(before).write(to: URL(fileURLWithPath: alertsPath(dir)))
        // The file it read (the first 50,000 lines) was rotated to mail.log.1 while it was stopped, and the rest
        // went to a new mail.log. A new inode here: the state finds the file among the rotated names by its first
        // bytes, reads it from the saved offset (its end), then mail.log from its start.
        let read = all[..<Self.linesRead].joined()
        let header = String(decoding: try Self.fixtureBytes("checkpoint.zst").prefix(1024), as: UTF8.self)
        #expect(header.contains("\"files\":[{\"path\":\"mail.log\",\"offset\":\(read.utf8.count)}]"), "\(header)")
        try read.write(to: dir.appendingPathComponent("mail.log.1"), atomically: false, encoding: .utf8)
        let rest = all[Self.linesRead...].joined()
        try rest.write(to: dir.appendingPathComponent("mail.log"), atomically: false, encoding: .utf8)

        let stderrPath = dir.appendingPathComponent("tail.stderr").path
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let stderr = try #require(FileHandle(forWritingAtPath: stderrPath))
        defer { try? stderr.close() }
        let process = try Self.startTail(in: dir, stderr: stderr)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Read to the end once a checkpoint says so (one a second while lines flow).
        let end = "\"files\":[{\"path\":\"mail.log\",\"offset\":\(rest.utf8.count)}]"
        let checkpointPath = state.appendingPathComponent("checkpoint").path
        let caughtUp = waitUntil(seconds: 540) {
            let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: checkpointPath)).read(upToCount: 1024))
            return head.map { String(decoding: $0, as: UTF8.self).contains(end) } ?? false
        }
        #expect(caughtUp, "no checkpoint at the end of mail.log: \(fileText(atPath: stderrPath))")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(fileText(atPath: stderrPath))")

        let written = try String(contentsOfFile: alertsPath(dir), encoding: .utf8)
        let expected = reference.map { $0 + "\n" }.joined()
        #expect(written.utf8.count == expected.utf8.count)
        #expect(written == expected, "the resumed run's alerts differ from replay's (\(dir.path))")
        #expect(written.utf8.starts(with: before) && before.count < written.utf8.count)
        // The restored detection state carried alerts across the restart: concentrated_strangers alerts created
        // before it were updated after it.
        let beforeLines = String(decoding: before, as: UTF8.self).split(separator: "\n").map(String.init)
        let afterLines = reference.dropFirst(beforeLines.count)
        let strangers = { (lines: [String]) in lines.filter { $0.contains("\"kind\":\"concentrated_strangers\"") } }
        let created = TailTestData.ids(strangers(beforeLines), action: "create")
        let updated = TailTestData.ids(strangers(Array(afterLines)), action: "update")
        #expect(!created.intersection(updated).isEmpty)
        passed = true
    }
}
