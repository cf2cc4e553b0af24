import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchTesting
import Testing

/// One input for the restart tests: a fixture or a generated log, with the configuration to parse it with.
struct RestartCase: Sendable, CustomTestStringConvertible {
    enum Format: Sendable { case postfix, exim, jsonl }
    enum Source: Sendable {
        case fixture(String)
        case postfixRollover
        case eximRollover
        case jsonlWithBadLines
    }

    var name: String
    var format: Format
    var source: Source
    var configuration = FormatConfiguration()
    var yearHint: YearHint = .year(2026)

    var testDescription: String { name }

    /// A configuration small enough that eviction and expiry happen all the time.
    static let tight = FormatConfiguration(maxOpenMessages: 3, openMessageTimeoutSeconds: 20)

    static let all: [RestartCase] = [
        RestartCase(
            name: "Postfix 3.7 rsyslog capture", format: .postfix, source: .fixture("postfix/rsyslog-mail.log")),
        RestartCase(
            name: "Postfix 3.7 postlogd capture", format: .postfix, source: .fixture("postfix/postlogd-subset.log")),
        RestartCase(
            name: "Postfix 3.7 postlogd capture, 3 open messages, 20 s timeout", format: .postfix,
            source: .fixture("postfix/postlogd-subset.log"), configuration: tight),
        RestartCase(
            name: "Postfix generated, Dec 31 -> Jan 1 without years", format: .postfix, source: .postfixRollover,
            yearHint: .year(2025)),
        RestartCase(
            name: "Postfix generated rollover, 3 open messages, 20 s timeout", format: .postfix,
            source: .postfixRollover, configuration: tight, yearHint: .year(2025)),
        RestartCase(name: "Exim 4.96 mainlog capture", format: .exim, source: .fixture("exim/mainlog")),
        RestartCase(
            name: "Exim 4.96 mainlog capture, 3 open messages, 20 s timeout", format: .exim,
            source: .fixture("exim/mainlog"), configuration: tight),
        RestartCase(
            name: "Exim generated syslog, Dec 31 -> Jan 1 without years", format: .exim, source: .eximRollover,
            yearHint: .year(2025)),
        RestartCase(name: "JSON lines fixture plus bad lines", format: .jsonl, source: .jsonlWithBadLines),
    ]

    func lines() throws -> [[UInt8]] {
        switch source {
        case .fixture(let path):
            let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/" + path)
            return try Self.split(Data(contentsOf: url))
        case .postfixRollover:
            return LogGenerator.postfixRollover().map { Array($0.utf8) }
        case .eximRollover:
            return LogGenerator.eximRollover().map { Array($0.utf8) }
        case .jsonlWithBadLines:
            let url = try #require(Bundle.module.resourceURL)
                .appendingPathComponent("Fixtures/jsonl/notifications.jsonl")
            var lines = try Self.split(Data(contentsOf: url))
            let extra = [
                #"{"ts":"2026-11-29T06:00:00Z","account":"a-1","to":["x@y.test","x@y.test"],"status":"weird"}"#,
                "not json at all",
                "[1, 2]",
                #"{"to":"x@y.test","account":"a-1"}"#,
                #"{"ts":"2026-11-29T06:00:01Z","account":"a-2","to":"z@y.test","account_created":"yesterday"}"#,
                "",
            ]
            for (i, e) in extra.enumerated() { lines.insert(Array(e.utf8), at: min(lines.count, 3 + i * 3)) }
            return lines
        }
    }

    static func split(_ data: Data) -> [[UInt8]] {
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}

/// Deterministic logs for the cases the captures do not cover: a year rollover with year-less timestamps,
/// deferrals retried across the restart, many recipients, notices (with their own lines, with them late, without
/// them), messages left open.
enum LogGenerator {
    /// A classic syslog timestamp for `second` seconds after Dec 31 00:00:00 (Jan 1 from 86,400 on).
    static func stamp(_ second: Int) -> String {
        let (month, day, s) = second < 86_400 ? ("Dec", "31", second) : ("Jan", " 1", second - 86_400)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(month) \(day) \(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))"
    }

    /// Lines `(second, text)` sorted by time (stable), then one late December line placed after New Year.
    private static func ordered(_ timed: [(Int, String)], late: String) -> [String] {
        var lines = timed.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
            .map(\.element.1)
        let firstJanuary = lines.firstIndex { $0.hasPrefix("Jan") } ?? lines.count
        lines.insert(late, at: min(lines.count, firstJanuary + 5))
        return lines
    }

    static func postfixRollover() -> [String] {
        var timed: [(Int, String)] = []
        let start = 86_400 - 120
        for i in 0..<40 {
            let qid = "4B" + String(0x10000 + i, radix: 16, uppercase: true)
            let t0 = start + i * 5
            func line(_ s: Int, _ daemon: String, _ text: String) {
                timed.append((s, "\(stamp(s)) mx1 postfix/\(daemon): \(qid): \(text)"))
            }
            let sender = "s\(i % 6)@example.org"
            let sasl = i % 3 == 0 ? ", sasl_method=PLAIN, sasl_username=user\(i % 5)@example.org" : ""
            line(t0, "smtpd[100]", "client=unknown[192.0.2.\(i + 1)]\(sasl)")
            line(t0, "cleanup[101]", "message-id=<m\(i)@example.org>")
            let trailer =
                "from unknown[192.0.2.\(i + 1)]; from=<\(sender)> to=<r0@example.net> proto=ESMTP helo=<c.example.org>"
            line(t0 + 1, "cleanup[101]", "warning: header Subject: Notice \(i % 4) \(trailer)")
            if i % 2 == 0 { line(t0 + 1, "cleanup[101]", "warning: header X-Account-Id: acct-\(i % 7) \(trailer)") }
            let n = 1 + i % 5
            line(t0 + 2, "qmgr[102]", "from=<\(sender)>, size=\(1000 + i), nrcpt=\(n) (queue active)")
            for r in 0..<n {
                let dt = t0 + 3 + r * 7 + (i % 4) * 11
                let to = "to=<r\(r)@example.net>, relay=mx.example.net[198.51.100.1]:25, delay=1, delays=0/0/0/1"
                if (i + r) % 4 == 0 {
                    line(dt, "smtp[103]", "\(to), dsn=4.4.1, status=deferred (connect to mx.example.net: refused)")
                    line(dt + 40, "smtp[103]", "\(to), dsn=2.0.0, status=sent (250 2.0.0 Ok)")
                } else {
                    line(dt, "smtp[103]", "\(to), dsn=2.0.0, status=sent (250 2.0.0 Ok)")
                }
            }
            if i == 5 {
                let notice = "4C00005"
                line(t0 + 50, "bounce[104]", "sender non-delivery notification: \(notice)")
                timed.append(
                    (
                        t0 + 51,
                        "\(stamp(t0 + 51)) mx1 postfix/qmgr[102]: \(notice): from=<>, size=2000, nrcpt=1 (queue active)"
                    ))
                timed.append(
                    (
                        t0 + 52,
                        "\(stamp(t0 + 52)) mx1 postfix/local[105]: \(notice): to=<\(sender)>, relay=local, delay=0, dsn=2.0.0, status=sent (delivered)"
                    ))
                timed.append((t0 + 53, "\(stamp(t0 + 53)) mx1 postfix/qmgr[102]: \(notice): removed"))
            }
            if i == 20 || i == 30 {
                // Notices named without lines of their own (yet): one never logs any, one logs them 30 s later.
                let notice = "4C000\(i)"
                line(t0 + 50, "bounce[104]", "sender non-delivery notification: \(notice)")
                if i == 30 {
                    let qmgr =
                        "\(stamp(t0 + 80)) mx1 postfix/qmgr[102]: \(notice): from=<>, size=2000, nrcpt=1 (queue active)"
                    timed.append((t0 + 80, qmgr))
                    timed.append((t0 + 81, "\(stamp(t0 + 81)) mx1 postfix/qmgr[102]: \(notice): removed"))
                }
            }
            // Every ninth message is never removed: it stays open until the end or expires.
            if i % 9 != 8 { line(t0 + 3 + n * 7 + 90, "qmgr[102]", "removed") }
        }
        return ordered(timed, late: "\(stamp(86_399)) mx1 postfix/smtpd[100]: connect from unknown[192.0.2.250]")
    }

    static func eximRollover() -> [String] {
        let b62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var timed: [(Int, String)] = []
        let start = 86_400 - 120
        for i in 0..<40 {
            let id = "1wAAA\(b62[i % 62])-00000\(b62[i / 62])-\(b62[i % 7])\(b62[i % 11])"
            let t0 = start + i * 5
            func line(_ s: Int, _ text: String) { timed.append((s, "\(stamp(s)) mx2 exim[200]: \(id) \(text)")) }
            // Message 7 has more recipients than the table keeps in its small array.
            let n = i == 7 ? 40 : 1 + i % 5
            let recipients = (0..<n).map { "r\($0)@example.net" }
            if i % 2 == 0 { line(t0, "X-Account-Id: acct-\(i % 7)") }
            let auth = i % 3 == 0 ? " A=plain:user\(i % 5)" : ""
            let sender = i == 11 ? "<>" : "s\(i % 6)@example.org"
            line(
                t0 + 1,
                "<= \(sender) H=(c.example.org) [192.0.2.\(i + 1)] P=esmtpa\(auth) S=\(1000 + i) id=m\(i)@example.org "
                    + "T=\"Notice \(i % 4)\" for \(recipients.joined(separator: " "))")
            for (r, to) in recipients.enumerated() {
                let dt = t0 + 2 + r * 3 + (i % 4) * 11
                let ok = "R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.1] C=\"250 OK\""
                switch (i + r) % 5 {
                case 0:
                    line(dt, "== \(to) R=dnslookup T=remote_smtp defer (111): Connection refused")
                    line(dt + 40, "=> \(to) \(ok)")
                case 1:
                    line(dt, "** \(to) R=dnslookup T=remote_smtp: SMTP error from remote mail server: 550 no such user")
                default:
                    line(dt, "\(r == 0 ? "=>" : "->") \(to) \(ok)")
                }
            }
            if i % 9 != 8 { line(t0 + 2 + n * 3 + 90, "Completed") }
        }
        return ordered(timed, late: "\(stamp(86_399)) mx2 exim[200]: Start queue run: pid=300")
    }
}

/// What one parser did with a run of lines.
struct RunResult: Equatable {
    var events: [SendEvent] = []
    var outcomes: [LineOutcome] = []

    /// A short description of the first difference from `other`, or `nil` when equal (failure messages stay
    /// readable instead of printing thousands of events).
    func firstDifference(from other: RunResult) -> String? {
        if let i = outcomes.indices.first(where: { $0 < other.outcomes.count && outcomes[$0] != other.outcomes[$0] }) {
            return "line \(i): outcome \(outcomes[i]) instead of \(other.outcomes[i])"
        }
        if let i = events.indices.first(where: { $0 < other.events.count && events[$0] != other.events[$0] }) {
            return "event \(i): \(events[i]) instead of \(other.events[i])"
        }
        if outcomes.count != other.outcomes.count || events.count != other.events.count {
            return "\(outcomes.count) outcomes and \(events.count) events instead of \(other.outcomes.count) and "
                + "\(other.events.count)"
        }
        return nil
    }
}

@Suite("Parser checkpoints: a restart anywhere gives the events of one uninterrupted run")
struct ParserCheckpointTests {
    static func feed<P: EventParser>(_ parser: inout P, _ line: [UInt8], into result: inout RunResult) {
        result.outcomes.append(line.withUnsafeBytes { parser.parse(line: $0, into: &result.events) })
    }

    /// One uninterrupted run: events, outcomes and the counters after `finish`.
    static func uninterrupted<F: FormatComponent>(
        _: F.Type, _ c: RestartCase, _ lines: [[UInt8]]
    ) -> (RunResult, ParseCounters) {
        var parser = F.makeParser(FormatSettings(configuration: c.configuration))
        parser.beginInput(yearHint: c.yearHint)
        var result = RunResult()
        for line in lines { feed(&parser, line, into: &result) }
        parser.finish(into: &result.events)
        return (result, parser.counters)
    }

    static func restartEveryLine<F: FormatComponent>(_ type: F.Type, _ c: RestartCase) throws {
        let lines = try c.lines()
        let (expected, expectedCounters) = uninterrupted(type, c, lines)
        var parser = F.makeParser(FormatSettings(configuration: c.configuration))
        parser.beginInput(yearHint: c.yearHint)
        var result = RunResult()
        for line in lines {
            parser = try F.makeParser(
                FormatSettings(configuration: c.configuration), restoring: roundTrip(parser.checkpoint()))
            feed(&parser, line, into: &result)
        }
        parser = try F.makeParser(
            FormatSettings(configuration: c.configuration), restoring: roundTrip(parser.checkpoint()))
        parser.finish(into: &result.events)
        #expect(!expected.events.isEmpty)
        #expect(result.firstDifference(from: expected) == nil)
        #expect(parser.counters == expectedCounters)
    }

    /// For every split point k: the parser after lines [0, k), saved, round-tripped and restored, must save the
    /// same state again and handle the next `horizon` lines exactly like a copy of the uninterrupted parser
    /// (whose caches are warm), ending in the same state. Returns the largest number of open messages saved.
    static func everySplit<F: FormatComponent>(
        _ type: F.Type, _ c: RestartCase, horizon: Int, openMessages: (F.Parser.Checkpoint) -> Int
    ) throws -> Int {
        let lines = try c.lines()
        var reference = F.makeParser(FormatSettings(configuration: c.configuration))
        reference.beginInput(yearHint: c.yearHint)
        var mismatches: [Int] = []
        var mostOpen = 0
        var scratch = RunResult()
        for k in 0...lines.count {
            let saved = reference.checkpoint()
            mostOpen = max(mostOpen, openMessages(saved))
            var restored = try F.makeParser(FormatSettings(configuration: c.configuration), restoring: roundTrip(saved))
            var continued = reference
            var a = RunResult()
            var b = RunResult()
            for line in lines[k..<min(lines.count, k + horizon)] {
                feed(&continued, line, into: &a)
                feed(&restored, line, into: &b)
            }
            let again = try roundTrip(saved)
            if restored.checkpoint() != continued.checkpoint() || a != b || again != saved {
                mismatches.append(k)
            }
            if k < lines.count { feed(&reference, lines[k], into: &scratch) }
        }
        #expect(
            mismatches.isEmpty,
            "\(mismatches.count) split points whose restore differs, first: \(mismatches.prefix(10))")
        return mostOpen
    }

    /// Split points picked by a fixed linear congruential generator, each followed by the whole rest and
    /// `finish`.
    static func randomSplits<F: FormatComponent>(_ type: F.Type, _ c: RestartCase, count: Int) throws {
        let lines = try c.lines()
        let (expected, expectedCounters) = uninterrupted(type, c, lines)
        var state: UInt64 = 0x5EED_0F_C4EC4
        for _ in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let k = Int((state >> 33) % UInt64(lines.count + 1))
            var parser = F.makeParser(FormatSettings(configuration: c.configuration))
            parser.beginInput(yearHint: c.yearHint)
            var result = RunResult()
            for line in lines[0..<k] { feed(&parser, line, into: &result) }
            parser = try F.makeParser(
                FormatSettings(configuration: c.configuration), restoring: roundTrip(parser.checkpoint()))
            for line in lines[k...] { feed(&parser, line, into: &result) }
            parser.finish(into: &result.events)
            #expect(result.firstDifference(from: expected) == nil, "split at line \(k)")
            #expect(parser.counters == expectedCounters, "split at line \(k)")
        }
    }

    @Test(
        "Restarting before every line gives the events, outcomes and final counters of one run",
        arguments: RestartCase.all)
    func restartBeforeEveryLine(c: RestartCase) throws {
        switch c.format {
        case .postfix: try Self.restartEveryLine(PostfixFormat.self, c)
        case .exim: try Self.restartEveryLine(EximFormat.self, c)
        case .jsonl: try Self.restartEveryLine(JSONLinesFormat.self, c)
        }
    }

    @Test(
        "At every split point the restored parser (empty caches) continues like the running one",
        arguments: RestartCase.all)
    func everySplitPoint(c: RestartCase) throws {
        switch c.format {
        case .postfix:
            let open = try Self.everySplit(PostfixFormat.self, c, horizon: 48) { $0.openMessages }
            #expect(open > 0, "some split point must fall inside a message")
        case .exim:
            let open = try Self.everySplit(EximFormat.self, c, horizon: 48) { $0.openMessages }
            #expect(open > 0, "some split point must fall inside a message")
        case .jsonl:
            _ = try Self.everySplit(JSONLinesFormat.self, c, horizon: 48) { _ in 0 }
        }
    }

    @Test("One restart at random split points, then the rest and finish", arguments: RestartCase.all)
    func randomSplitPoints(c: RestartCase) throws {
        switch c.format {
        case .postfix: try Self.randomSplits(PostfixFormat.self, c, count: 12)
        case .exim: try Self.randomSplits(EximFormat.self, c, count: 12)
        case .jsonl: try Self.randomSplits(JSONLinesFormat.self, c, count: 12)
        }
    }
}
