import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchPipeline
import Testing

@Suite struct EventSinkTests {
    @Test("Every event line is valid JSON with the documented keys, and hostile text stays data")
    func jsonLines() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("hostile.jsonl")
        let line =
            #"{"ts":1795929194,"account":"acct-\"1","to":["a@example.com"],"#
            + #""subject":"Pay \"now\"\u0000\n\u001b[31m\", \"status\": \"forged"}"# + "\n"
        try Data(line.utf8).write(to: input)
        let outPath = dir.appendingPathComponent("events.jsonl").path
        let writer = try OutputWriter.appending(path: outPath).get()
        var sink = JSONLinesEventSink(output: writer)
        let run = EventsRun(configuration: Configuration())
        var files = [input.path, TestPaths.dataset("real-exim-4.96.exim.log.zst")]
        files.append(TestPaths.dataset("real-postfix-3.7.postfix.log.zst"))
        let summary = run.run(paths: files, sink: &sink) { _ in }
        let text = try String(contentsOfFile: outPath, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == summary.events)
        let keys = [
            "time", "host", "account", "account_source", "sender", "recipient", "subject", "template", "message_id",
            "queue_id", "client_ip", "status",
        ]
        for l in lines {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
            #expect(Set(obj.keys).isSuperset(of: keys))
        }
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        // Foundation's reader on Linux stops a string at an escaped NUL, so the subject is checked as text.
        #expect(lines[0].contains(#""subject":"Pay \"now\"\u0000\n\u001b[31m\", \"status\": \"forged","#))
        #expect(first["status"] as? String == "accepted")
        #expect(first["account"] as? String == "acct-\"1")
        #expect(first["time"] as? String == "2026-11-29T05:13:14Z")
    }
}
