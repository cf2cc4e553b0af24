import Foundation
import Testing

@Suite struct OutputSafetyTests {
    static let escape = "\u{1B}[2J\u{1B}[31m"

    @Test("eval shows an account name's ANSI escapes as text, not as terminal commands")
    func evalEscapes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eval-ansi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[],"abusive_accounts":[]}"#
        let alert =
            #"{"v":1,"id":"sw-1","action":"create","kind":"young_account_burst","severity":"high","score":1,"event_time":"2026-11-29T08:00:00Z","first_event_time":"2026-11-29T08:00:00Z","accounts":["t-1\u001b[2J\u001b[31mFAKE"],"accounts_total":1,"evidence":{},"reasons":[]}"#
        try Data(labels.utf8).write(to: dir.appendingPathComponent("labels.json"))
        try Data((alert + "\n").utf8).write(to: dir.appendingPathComponent("alerts.jsonl"))
        let result = try CommandLine.run([
            "eval", "--labels", dir.appendingPathComponent("labels.json").path,
            dir.appendingPathComponent("alerts.jsonl").path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1B}"))
        #expect(result.stdout.contains(#"t-1\x1b[2J\x1b[31mFAKE"#))
    }

    @Test("Error messages show a file name's control characters as escapes, and stay one line")
    func errorEscapes() throws {
        let name = "/nonexistent/mail\(Self.escape)\nlog"
        let result = try CommandLine.run(["replay", name])
        #expect(result.status != 0)
        #expect(!result.stderr.contains("\u{1B}"))
        #expect(result.stderr.contains(#"mail\x1b[2J\x1b[31m\x0alog"#), "\(result.stderr)")
    }
}
