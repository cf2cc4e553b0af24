import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchIngest
import SendWatchPipeline
import SendWatchTesting
import Testing

/// Runs the events stage over paths and returns what it produced.
func runEvents(
    _ paths: [String], configuration: Configuration = Configuration(), fallbackYearHint: YearHint = .year(2026),
    logs: Bool = false
) -> (summary: RunSummary, events: [SendEvent], diagnostics: [String]) {
    pinTimeZoneToUTC()
    let run = EventsRun(configuration: configuration, fallbackYearHint: fallbackYearHint)
    var sink = CollectingEventSink()
    var diagnostics: [String] = []
    // `logs`: each path a separate log, merged by time.
    let summary =
        logs
        ? run.run(logs: paths.map { [$0] }, sink: &sink) { diagnostics.append($0) }
        : run.run(paths: paths, sink: &sink) { diagnostics.append($0) }
    return (summary, sink.events, diagnostics)
}

func withYear(_ year: Int, _ configuration: Configuration = Configuration()) -> Configuration {
    var c = configuration
    c.year = year
    return c
}

@Suite struct EventsRunTests {
    @Test(
        "Each bundled dataset is recognised and read without a skipped line",
        arguments: [
            ("real-postfix-3.7.postfix.log.zst", LogFormat.postfix),
            ("real-postfix-3.7-rsyslog.postfix.log.zst", .postfix),
            ("real-exim-4.96.exim.log.zst", .exim),
            ("notify-sample.jsonl.log.zst", .jsonl),
        ])
    func datasets(name: String, format: LogFormat) {
        let (summary, events, diagnostics) = runEvents([TestPaths.dataset(name)], configuration: withYear(2026))
        #expect(diagnostics.isEmpty)
        #expect(summary.failures.isEmpty)
        #expect(summary.inputFormats.map(\.format) == [format])
        #expect(events.count == summary.events)
        #expect(events.count > 10)
        if format == .jsonl {
            // The hand-written sample carries one broken line and one record without recipients on purpose.
            #expect(summary.skipped.map(\.0) == [.badJSON, .missingField])
        } else {
            #expect(summary.skipped.isEmpty)
            #expect(summary.parse.incompleteMessages == 0)
        }
    }

    @Test("A zstd input gives exactly the events of the same log read plain")
    func compressedEqualsPlain() {
        let config = withYear(2026)
        let plain = runEvents([TestPaths.formatsFixture("postfix/rsyslog-mail.log")], configuration: config)
        let zstd = runEvents([TestPaths.dataset("real-postfix-3.7-rsyslog.postfix.log.zst")], configuration: config)
        #expect(plain.events.count > 100)
        #expect(plain.events == zstd.events)
    }

    @Test("The rsyslog capture yields one event per accepted recipient of its ground truth")
    func groundTruthCount() throws {
        let truth = try String(contentsOfFile: TestPaths.formatsFixture("postfix/rsyslog-sent.jsonl"), encoding: .utf8)
        var expected = 0
        for line in truth.split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            // Accepted: a queue id in the SMTP reply, or a local `sendmail` run that exited 0 (it prints none).
            guard let result = record["result"] as? [String: Any],
                result["queue_id"] is String
                    || (record["method"] as? String == "sendmail" && result["exit"] as? Int == 0),
                let outcome = record["expected"] as? [String: String]
            else { continue }
            expected += outcome.values.filter { $0 != "rejected-rcpt" }.count
        }
        let run = runEvents([TestPaths.dataset("real-postfix-3.7-rsyslog.postfix.log.zst")])
        #expect(run.events.count == expected)
    }

    @Test("Inputs are read in order; one that cannot be opened is reported and the others still read")
    func missingInput() {
        let a = TestPaths.dataset("notify-sample.jsonl.log.zst")
        let (summary, events, diagnostics) = runEvents([a, "/nonexistent/mail.log", a])
        #expect(summary.inputs == 2)
        #expect(summary.failures.count == 1)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.contains("/nonexistent/mail.log") == true)
        let single = runEvents([a]).events
        #expect(events == single + single)
    }

    @Test("Damaged zstd data ends that input with its offset, after the events before the damage")
    func damagedInput() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: TestPaths.dataset("real-postfix-3.7.postfix.log.zst")))
        let full = runEvents([TestPaths.dataset("real-postfix-3.7.postfix.log.zst")], configuration: withYear(2026))

        let truncated = dir.appendingPathComponent("truncated.log.zst")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        let cut = runEvents(
            [truncated.path, TestPaths.dataset("notify-sample.jsonl.log.zst")], configuration: withYear(2026))
        #expect(cut.summary.failures.count == 1)
        #expect(cut.diagnostics.first?.contains(truncated.path) == true)
        #expect(cut.diagnostics.first?.contains("offset") == true)
        #expect(cut.summary.inputFormats.count == 2)
        let cutPostfix = cut.events.filter { $0.queueID != nil }
        #expect(cutPostfix.count > 0 && cutPostfix.count < full.events.count)
        #expect(Array(full.events.prefix(cutPostfix.count)) == cutPostfix)

        let corrupt = dir.appendingPathComponent("corrupt.log.zst")
        for i in stride(from: bytes.count / 2, to: bytes.count / 2 + 64, by: 1) { bytes[i] ^= 0x5A }
        try bytes.write(to: corrupt)
        let bad = runEvents([corrupt.path], configuration: withYear(2026))
        #expect(bad.summary.failures.count == 1)
        #expect(bad.events.count < full.events.count)
        #expect(Array(full.events.prefix(bad.events.count)) == bad.events)
    }

    @Test("Lines of no known format are counted, not fatal")
    func unknownFormat() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("noise.txt")
        try Data("hello\nworld\n\u{0}\u{1}binary\n".utf8).write(to: file)
        let (summary, events, _) = runEvents([file.path])
        #expect(events.isEmpty)
        #expect(summary.failures.isEmpty)
        #expect(summary.inputFormats.map(\.format) == [nil])
        #expect(summary.skipped.map(\.0) == [.unknownFormat])
        #expect(summary.skipped.first?.1 == 3)
    }

    @Test("An overlong line is skipped and counted; the lines around it are read")
    func overlongLine() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("long.jsonl")
        let ok = #"{"ts":"2026-11-29T05:00:00Z","account":"t1","to":"a@example.com","subject":"hi"}"#
        let long =
            #"{"ts":"2026-11-29T05:00:01Z","account":"t2","to":"b@example.com","subject":""#
            + String(repeating: "x", count: 5000) + "\"}"
        try Data((ok + "\n" + long + "\n" + ok + "\n").utf8).write(to: file)
        var config = Configuration()
        config.maxLineBytes = 1024
        let (summary, events, _) = runEvents([file.path], configuration: config)
        #expect(events.map(\.account) == ["t1", "t1"])
        #expect(summary.linesTooLong == 1)
        #expect(summary.skipped.map(\.0) == [.lineTooLong])
    }

    @Test("The JSON-lines field mapping of the config reaches the parser")
    func jsonMapping() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("ses.jsonl")
        let record =
            #"{"mail":{"timestamp":"2026-11-29T05:00:00.123Z","source":"noreply@app.example","#
            + #""destination":["x@example.org","y@example.org"],"commonHeaders":{"subject":"Welcome"},"#
            + #""tags":{"tenant":["t-42"]}}}"#
        try Data((record + "\n").utf8).write(to: file)
        let config = try Configuration.load(
            yaml: """
                input:
                  format: jsonl
                jsonl:
                  fields:
                    ts: mail.timestamp
                    sender: mail.source
                    to: mail.destination
                    subject: mail.commonHeaders.subject
                    account: mail.tags.tenant.0
                    message_id: null
                """)
        let (_, events, _) = runEvents([file.path], configuration: config)
        #expect(events.map(\.recipient) == ["x@example.org", "y@example.org"])
        #expect(events.first?.account == "t-42")
        #expect(events.first?.subject == "Welcome")
        #expect(events.first?.time.description == "2026-11-29T05:00:00.123Z")
    }
}

@Suite("Events run with and without a decoder thread")
struct EventsRunPrefetchTests {
    private func run(_ paths: [String], prefetch: Prefetch) -> (RunSummary, [SendEvent], [String]) {
        let run = EventsRun(configuration: withYear(2026), fallbackYearHint: .year(2026))
        var sink = CollectingEventSink()
        var diagnostics: [String] = []
        let summary = run.run(paths: paths, sink: &sink, prefetch: prefetch) { diagnostics.append($0) }
        return (summary, sink.events, diagnostics)
    }

    @Test("Datasets, and a damaged dataset, give the same events, summary and messages either way")
    func sameEvents() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = TestPaths.dataset("real-postfix-3.7.postfix.log.zst")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let truncated = dir.appendingPathComponent("truncated.log.zst")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        var corruptBytes = bytes
        corruptBytes[corruptBytes.count / 2] ^= 0xFF
        let corrupt = dir.appendingPathComponent("corrupt.log.zst")
        try corruptBytes.write(to: corrupt)
        let inputs = [
            [source], [TestPaths.dataset("real-postfix-3.7-rsyslog.postfix.log.zst")],
            [TestPaths.dataset("real-exim-4.96.exim.log.zst")], [TestPaths.dataset("notify-sample.jsonl.log.zst")],
            [truncated.path, TestPaths.dataset("notify-sample.jsonl.log.zst")], [corrupt.path, source],
        ]
        for paths in inputs {
            let (inlineSummary, inlineEvents, inlineMessages) = run(paths, prefetch: .off)
            let (threadSummary, threadEvents, threadMessages) = run(paths, prefetch: .thread)
            #expect(inlineEvents.count > 10)
            #expect(threadEvents == inlineEvents)
            #expect(threadMessages == inlineMessages)
            #expect(threadSummary.text == inlineSummary.text)
            #expect(threadSummary.failures == inlineSummary.failures)
            #expect(threadSummary.bytes == inlineSummary.bytes)
            #expect(threadSummary.lines == inlineSummary.lines)
            #expect(threadSummary.partialLinesDropped == inlineSummary.partialLinesDropped)
        }
    }
}

@Suite("Events run counting only")
struct EventsRunCountOnlyTests {
    @Test(
        "A counting sink's run gives the summary of a full run",
        arguments: [
            "real-postfix-3.7.postfix.log.zst", "real-postfix-3.7-rsyslog.postfix.log.zst", "mixed-s11.postfix.log.zst",
            "mixed-s12.exim.log.zst", "mixed-s13.jsonl.log.zst", "notify-sample.jsonl.log.zst",
            "real-exim-4.96.exim.log.zst",
        ])
    func sameSummary(name: String) {
        let run = EventsRun(configuration: withYear(2026), fallbackYearHint: .year(2026))
        for paths in [
            [TestPaths.dataset(name)], [TestPaths.dataset(name), TestPaths.dataset("mixed-s11.postfix.log.zst")],
        ] {
            var full = CollectingEventSink()
            var counting = CountingEventSink()
            let fullSummary = run.run(paths: paths, sink: &full) { _ in }
            let countSummary = run.run(paths: paths, sink: &counting) { _ in }
            #expect(fullSummary.events > 0)
            #expect(countSummary.text == fullSummary.text)
            #expect(countSummary.parse == fullSummary.parse)
            #expect(countSummary.events == full.events.count)
        }
    }
}
