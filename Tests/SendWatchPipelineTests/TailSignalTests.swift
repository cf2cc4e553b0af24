import Foundation
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch tail` as a process, sent real signals.
@Suite("Tail signals", .serialized)
struct TailSignalTests {
    @Test(
        "SIGHUP reopens the alert output after logrotate and re-reads the configuration; tail goes on; SIGTERM ends it with 0"
    )
    func hangUp() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mail.log").path
        let alerts = dir.appendingPathComponent("alerts.jsonl").path
        let config = dir.appendingPathComponent("config.yaml").path
        let stderrPath = dir.appendingPathComponent("stderr.txt").path
        try "input:\n  year: 2026\n".write(toFile: config, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        defer { try? stderr.close() }
        let process = try launchSendwatch(
            [
                "tail", "--config", config, "--state", dir.appendingPathComponent("state").path, "--output", alerts,
                "--poll", "--poll-interval", "50", log,
            ], stderr: stderr)
        defer { if process.isRunning { process.terminate() } }
        func logText() -> String { fileText(atPath: stderrPath) }
        #expect(waitUntil(seconds: 30) { logText().contains("following") }, "\(logText())")

        // logrotate: rename + create, then SIGHUP; a changed configuration is named, not applied.
        try #require(rename(alerts, alerts + ".1") == 0)
        _ = FileManager.default.createFile(atPath: alerts, contents: nil)
        try "input:\n  year: 2026\ndetect:\n  warmup: 2h\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        #expect(waitUntil(seconds: 30) { logText().contains("reopened the alert output") }, "\(logText())")
        #expect(waitUntil(seconds: 30) { logText().contains("config.changed=detect.warmup") }, "\(logText())")
        #expect(process.isRunning)

        // Alerts produced after the reopen go to the new file.
        try TailTestData.lines.joined().write(toFile: log, atomically: false, encoding: .utf8)
        let size = { (try? FileManager.default.attributesOfItem(atPath: alerts)[.size] as? Int) ?? 0 }
        #expect(waitUntil(seconds: 120) { size() > 0 }, "\(logText())")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0, "\(logText())")
        let old = try String(contentsOfFile: alerts + ".1", encoding: .utf8)
        let new = try String(contentsOfFile: alerts, encoding: .utf8)
        #expect(old.isEmpty)
        #expect(new.contains(#""action":"create""#))
    }
}
