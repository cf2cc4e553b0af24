import Foundation
import Testing

/// `sendwatch tail -`: standard input through a pipe, as `journalctl -f … | sendwatch tail -` gives it.
@Suite("Tail standard input", .serialized)
struct TailStandardInputTests {
    @Test("tail - reads a pipe to its end, writes replay's alerts, checkpoints and exits 0")
    func pipeToEnd() throws {
        let all = TailTestData.lines
        try #require(all.count > 50_000)
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try TailTestData.replayLines(all, in: dir)
        let state = dir.appendingPathComponent("state").path
        let output = dir.appendingPathComponent("alerts.jsonl").path
        let r = try CommandLine.run(
            ["tail", "--year", "2026", "--state", state, "--output", output, "-"], stdin: Data(all.joined().utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("sendwatch tail: \(all.count) lines"), "\(r.stderr)")
        let written = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(written == reference)
        #expect(FileManager.default.fileExists(atPath: state + "/checkpoint"))
    }

    @Test(
        "A restart on standard input keeps the detection state: two pipes one after the other give replay's alerts of both"
    )
    func restartKeepsDetectionState() throws {
        let all = TailTestData.lines
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try TailTestData.replayLines(all, in: dir)
        let state = dir.appendingPathComponent("state").path
        let output = dir.appendingPathComponent("alerts.jsonl").path
        let half = all.count / 2
        for part in [all[..<half], all[half...]] {
            let r = try CommandLine.run(
                ["tail", "--year", "2026", "--state", state, "--output", output, "-"], stdin: Data(part.joined().utf8))
            #expect(r.status == 0, "\(r.stderr)")
        }
        let written = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(written == reference)
    }

    @Test("tail - without --year gives year-less syslog the current year (as replay's - does), not bad_timestamp")
    func yearFallback() throws {
        let r = try CommandLine.run(["tail", "-"], stdin: Data(TailTestData.lines.prefix(3000).joined().utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("bad_timestamp"), "\(r.stderr)")
        #expect(r.stderr.contains("sendwatch tail: 3000 lines"), "\(r.stderr)")
        #expect(!r.stderr.contains(" 0 events"), "\(r.stderr)")
    }

    @Test("'-' together with files is refused with exit 1 and a message")
    func mixedRefused() throws {
        let r = try CommandLine.run(["tail", "-", "/tmp/sendwatch-no-such.log"], stdin: Data())
        #expect(r.status == 1)
        #expect(r.stderr.contains("standard input"), "\(r.stderr)")
    }
}
