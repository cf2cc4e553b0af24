import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// `EventOutput.countOnly` must make every decision the full parser makes: same outcome per line, same
/// counters, only without the events.
@Suite("Postfix parser, count-only output")
struct PostfixCountOnlyTests {
    private static let h = "Nov 29 05:29:42 mx1"

    /// Runs `lines` through a parser in `output` mode.
    private static func run(
        _ lines: [[UInt8]], output: EventOutput, configuration: FormatConfiguration = .init()
    ) -> (outcomes: [LineOutcome], events: [SendEvent], counters: ParseCounters, open: Int) {
        var parser = PostfixParser(configuration: configuration)
        parser.eventOutput = output
        parser.beginInput(yearHint: .year(2026))
        var events: EventBatch = []
        var outcomes: [LineOutcome] = []
        for line in lines {
            outcomes.append(line.withUnsafeBytes { parser.parse(line: $0, into: &events) })
        }
        let open = parser.openMessages
        parser.finish(into: &events)
        return (outcomes, events, parser.counters, open)
    }

    private static func expectSameDecisions(
        _ lines: [[UInt8]], configuration: FormatConfiguration = .init(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let full = run(lines, output: .events, configuration: configuration)
        let counted = run(lines, output: .countOnly, configuration: configuration)
        #expect(counted.outcomes == full.outcomes, sourceLocation: sourceLocation)
        #expect(counted.counters == full.counters, sourceLocation: sourceLocation)
        #expect(counted.open == full.open, sourceLocation: sourceLocation)
        #expect(counted.events.isEmpty, sourceLocation: sourceLocation)
        #expect(counted.counters.events == full.events.count, sourceLocation: sourceLocation)
    }

    @Test("Real captures: same outcome per line and same counters", arguments: ["postlogd-subset", "rsyslog-mail"])
    func captures(name: String) throws {
        let log = try PostfixCaptureTests.fixture(name, "log")
        let lines = log.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        Self.expectSameDecisions(lines)
        // A small table: eviction decisions must match too.
        Self.expectSameDecisions(lines, configuration: FormatConfiguration(maxOpenMessages: 3))
    }

    @Test("A count-only parser restored from its checkpoint still only counts, as the one that was not restarted")
    func restored() throws {
        let log = try PostfixCaptureTests.fixture("rsyslog-mail", "log")
        let lines = log.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        let settings = FormatSettings(configuration: FormatConfiguration(maxOpenMessages: 8), eventOutput: .countOnly)
        for k in Array(stride(from: 0, to: lines.count, by: 97)) + [lines.count] {
            var continued = PostfixFormat.makeParser(settings)
            #expect(continued.eventOutput == .countOnly)
            continued.beginInput(yearHint: .year(2026))
            var events: EventBatch = []
            for line in lines[..<k] { _ = line.withUnsafeBytes { continued.parse(line: $0, into: &events) } }
            var restored = try PostfixFormat.makeParser(settings, restoring: continued.checkpoint())
            #expect(restored.eventOutput == .countOnly, "split at line \(k)")
            var outcomes: (continued: [LineOutcome], restored: [LineOutcome]) = ([], [])
            for line in lines[k...] {
                outcomes.continued.append(line.withUnsafeBytes { continued.parse(line: $0, into: &events) })
                outcomes.restored.append(line.withUnsafeBytes { restored.parse(line: $0, into: &events) })
            }
            #expect(outcomes.restored == outcomes.continued, "split at line \(k)")
            #expect(restored.checkpoint() == continued.checkpoint(), "split at line \(k)")
            continued.finish(into: &events)
            restored.finish(into: &events)
            #expect(events.isEmpty, "split at line \(k)")
            #expect(restored.counters == continued.counters, "split at line \(k)")
            #expect(restored.counters.events > 0, "split at line \(k)")
        }
    }

    @Test(
        "Field presence decides the same way without the field text",
        arguments: [
            // Null sender from pickup: the uid is the local user, so the message is not a notice.
            [
                "postfix/pickup[1]: 1A2B3C4D5E: uid=1000 from=<>",
                "postfix/qmgr[2]: 1A2B3C4D5E: from=<>, size=1, nrcpt=1 (queue active)",
                "postfix/local[3]: 1A2B3C4D5E: to=<a@b>, relay=local, delay=0, dsn=2.0.0, status=sent (ok)",
            ],
            // Null sender without client, SASL user or submitter: a notice.
            [
                "postfix/cleanup[1]: 1A2B3C4D5F: message-id=<x@y>",
                "postfix/qmgr[2]: 1A2B3C4D5F: from=<>, size=1, nrcpt=1 (queue active)",
                "postfix/local[3]: 1A2B3C4D5F: to=<a@b>, relay=local, delay=0, dsn=2.0.0, status=sent (ok)",
            ],
            // Null sender from a client: not a notice, account "<>" by sender.
            [
                "postfix/smtpd[1]: 1A2B3C4D60: client=x[10.0.0.1]",
                "postfix/qmgr[2]: 1A2B3C4D60: from=<>, size=1, nrcpt=1 (queue active)",
                "postfix/smtp[3]: 1A2B3C4D60: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
            ],
            // An empty account header value does not count as an account; no other source: unknown queue id.
            [
                "postfix/cleanup[1]: 1A2B3C4D61: warning: header X-Account-Id:    from local; from=<u@h> to=<a@b>",
                "postfix/cleanup[1]: 1A2B3C4D61: warning: header Subject: from local; from=<u@h> to=<a@b>",
                "postfix/smtp[3]: 1A2B3C4D61: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
                "postfix/smtp[3]: 1A2B3C4D61: to=<c@d>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=deferred (x)",
            ],
            // Header values (encoded and plain) and a retry of the same recipient.
            [
                "postfix/cleanup[1]: 1A2B3C4D62: warning: header X-Account-Id: =?utf-8?q?acct?= from local; from=<u@h> to=<a@b>",
                "postfix/smtp[3]: 1A2B3C4D62: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=4.0.0, status=deferred (x)",
                "postfix/smtp[3]: 1A2B3C4D62: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
                "postfix/smtp[3]: 1A2B3C4D62: to=<a@b>, orig_to=<o@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
                "postfix/qmgr[2]: 1A2B3C4D62: removed",
            ],
            // Content filter re-injection copies presence from the old message; the hop is not a send.
            [
                "postfix/smtpd[1]: 1A2B3C4D63: client=x[10.0.0.1], sasl_method=PLAIN, sasl_username=carol@example.org",
                "postfix/smtpd[7]: 1A2B3C4D64: client=localhost[127.0.0.1], orig_queue_id=1A2B3C4D63, orig_client=x[10.0.0.1]",
                "postfix/qmgr[2]: 1A2B3C4D64: from=<>, size=1, nrcpt=1 (queue active)",
                "postfix/smtp[3]: 1A2B3C4D63: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
                "postfix/smtp[3]: 1A2B3C4D64: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
            ],
            // An account header with no login and no sender: believed only from a trusted client (loopback by
            // default), decided from the client address kept as text in both modes.
            [
                "postfix/smtpd[1]: 1A2B3C4D66: client=localhost[127.0.0.1]",
                "postfix/cleanup[1]: 1A2B3C4D66: warning: header X-Account-Id: t-1 from local; from=<u@h> to=<a@b>",
                "postfix/smtp[3]: 1A2B3C4D66: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
                "postfix/smtpd[1]: 1A2B3C4D67: client=localhost[::1]",
                "postfix/cleanup[1]: 1A2B3C4D67: warning: header X-Account-Id: t-2 from local; from=<u@h> to=<a@b>",
                "postfix/smtp[3]: 1A2B3C4D67: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
                "postfix/smtpd[1]: 1A2B3C4D68: client=mx.remote[198.51.100.9]",
                "postfix/cleanup[1]: 1A2B3C4D68: warning: header X-Account-Id: t-3 from local; from=<u@h> to=<a@b>",
                "postfix/smtp[3]: 1A2B3C4D68: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=sent (ok)",
            ],
            // A qmgr expiry note for a known message sets a missing sender.
            [
                "postfix/cleanup[1]: 1A2B3C4D65: message-id=<x@y>",
                "postfix/qmgr[2]: 1A2B3C4D65: from=<s@h>, status=expired, returned to sender",
                "postfix/smtp[3]: 1A2B3C4D65: to=<a@b>, relay=x[1.2.3.4]:25, delay=0, dsn=2.0.0, status=bounced (x)",
            ],
        ])
    func presence(lines: [String]) {
        Self.expectSameDecisions(lines.map { Array("\(Self.h) \($0)".utf8) })
    }
}
