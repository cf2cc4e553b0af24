import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchTesting
import Testing

/// Parses `lines[0..<split]`, restarts through an encoded checkpoint, parses the rest and finishes; returns the
/// events, the restored parser and the checkpoint that crossed the restart.
private func runWithRestart<F: FormatComponent>(
    _: F.Type, _ lines: [String], split: Int, configuration: FormatConfiguration = .init(),
    restoreWith restoreConfiguration: FormatConfiguration? = nil, yearHint: YearHint = .year(2026)
) throws -> (events: [SendEvent], outcomes: [LineOutcome], parser: F.Parser, saved: F.Parser.Checkpoint) {
    var parser = F.makeParser(FormatSettings(configuration: configuration))
    parser.beginInput(yearHint: yearHint)
    var events: EventBatch = []
    var outcomes: [LineOutcome] = []
    for line in lines[0..<split] {
        outcomes.append(Array(line.utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) })
    }
    let saved = try roundTrip(parser.checkpoint())
    parser = try F.makeParser(FormatSettings(configuration: restoreConfiguration ?? configuration), restoring: saved)
    for line in lines[split...] {
        outcomes.append(Array(line.utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) })
    }
    parser.finish(into: &events)
    return (events, outcomes, parser, saved)
}

private let postfixMessage = [
    "Nov 29 05:29:42 mx1 postfix/smtpd[29953]: 05E63FA1A2: client=unknown[127.0.0.11], sasl_method=PLAIN, sasl_username=alice@example.net",
    "Nov 29 05:29:42 mx1 postfix/cleanup[29957]: 05E63FA1A2: message-id=<20261129.1@example.net>",
    "Nov 29 05:29:42 mx1 postfix/cleanup[29957]: 05E63FA1A2: warning: header Subject: Invoice INV-2026-0042 for November from unknown[127.0.0.11]; from=<alice@example.net> to=<yusuf4@mailbox.test> proto=ESMTP helo=<alice-laptop.example.net>",
    "Nov 29 05:29:42 mx1 postfix/cleanup[29957]: 05E63FA1A2: warning: header X-Account-Id: acct-1001 from unknown[127.0.0.11]; from=<alice@example.net> to=<yusuf4@mailbox.test> proto=ESMTP helo=<alice-laptop.example.net>",
    "Nov 29 05:29:42 mx1 postfix/qmgr[29001]: 05E63FA1A2: from=<alice@example.net>, size=1200, nrcpt=2 (queue active)",
    "Nov 29 05:29:43 mx1 postfix/smtp[29960]: 05E63FA1A2: to=<yusuf4@mailbox.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.1, delays=0/0/0/0.1, dsn=4.4.1, status=deferred (try later)",
    "Nov 29 05:29:44 mx1 postfix/smtp[29960]: 05E63FA1A2: to=<ben@mailbox.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    "Nov 29 05:34:43 mx1 postfix/smtp[29960]: 05E63FA1A2: to=<yusuf4@mailbox.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=300, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    "Nov 29 05:34:43 mx1 postfix/qmgr[29001]: 05E63FA1A2: removed",
]

@Suite("Parser checkpoints: named restart scenarios")
struct ParserCheckpointScenarioTests {
    @Test(
        "Postfix: a restart after the cleanup header warning, before any delivery, keeps subject and account",
        arguments: 1...8)
    func postfixHeaderThenRestart(split: Int) throws {
        let r = try runWithRestart(PostfixFormat.self, postfixMessage, split: split)
        #expect(r.saved.openMessages == 1)
        #expect(r.outcomes.allSatisfy { $0 == .used })
        #expect(r.events.map(\.recipient) == ["yusuf4@mailbox.test", "ben@mailbox.test"])
        #expect(r.events.map(\.status) == [.deferred, .sent])
        for e in r.events {
            #expect(e.account == "acct-1001")
            #expect(e.accountSource == .header)
            #expect(e.subject == "Invoice INV-2026-0042 for November")
            #expect(e.messageID == "20261129.1@example.net")
            #expect(e.clientIP == "127.0.0.11")
            #expect(e.queueID == "05E63FA1A2")
            #expect(e.host == "mx1")
        }
        #expect(r.parser.counters.incompleteMessages == 0)
        #expect(r.parser.counters.events == 2)
    }

    @Test("Postfix: a restart between the last December and the first January line keeps the year rolling over")
    func postfixRolloverRestart() throws {
        let qid = "3F2A1B0C9D"
        let lines = [
            "Dec 31 23:59:58 mx1 postfix/smtpd[1]: \(qid): client=unknown[127.0.0.11], sasl_method=PLAIN, sasl_username=alice@example.net",
            "Dec 31 23:59:59 mx1 postfix/qmgr[2]: \(qid): from=<alice@example.net>, size=1, nrcpt=2 (queue active)",
            "Dec 31 23:59:59 mx1 postfix/smtp[3]: \(qid): to=<a@x.test>, relay=r[192.0.2.1]:25, delay=1, dsn=2.0.0, status=sent (ok)",
            "Jan  1 00:00:01 mx1 postfix/smtp[3]: \(qid): to=<b@x.test>, relay=r[192.0.2.1]:25, delay=1, dsn=2.0.0, status=sent (ok)",
            "Dec 31 23:59:59 mx1 postfix/smtpd[1]: disconnect from unknown[127.0.0.11]",
            "Jan  1 00:00:02 mx1 postfix/qmgr[2]: \(qid): removed",
        ]
        for split in 0...lines.count {
            let r = try runWithRestart(PostfixFormat.self, lines, split: split, yearHint: .year(2025))
            let times = r.events.map(\.time.description)
            #expect(times == ["2025-12-31T23:59:59Z", "2026-01-01T00:00:01Z"], "split \(split)")
            #expect(r.parser.counters.incompleteMessages == 0, "split \(split)")
        }
    }

    @Test(
        "Exim: a restart between <= and Completed keeps the message and its attempted recipients",
        arguments: 1...5)
    func eximOpenMessage(split: Int) throws {
        let id = "1xXXZj-0000c0-39"
        let t = "2026-11-29 05:35:47"
        let lines = [
            "\(t) \(id) X-Account-Id: acct-1002",
            "\(t) \(id) <= bob@example.net H=([127.0.0.12]) [127.0.0.12]:49079 P=esmtpa A=plain_server:bob@example.net S=573 id=m1@example.net T=\"Photos\" for ben@mailbox.test ximena@uni.example.edu",
            "\(t) \(id) == ben@mailbox.test R=smarthost T=remote_smtp defer (-44): SMTP error",
            "\(t) \(id) -> ximena@uni.example.edu F=<bob@example.net> R=smarthost T=remote_smtp H=127.0.0.1 [127.0.0.1] C=\"250 Ok\"",
            "2026-11-29 05:40:47 \(id) => ben@mailbox.test F=<bob@example.net> R=smarthost T=remote_smtp H=127.0.0.1 [127.0.0.1] C=\"250 Ok\"",
            "2026-11-29 05:40:47 \(id) Completed",
        ]
        let r = try runWithRestart(EximFormat.self, lines, split: split)
        #expect(r.saved.openMessages == 1)
        #expect(r.events.map(\.recipient) == ["ben@mailbox.test", "ximena@uni.example.edu"])
        #expect(r.events.map(\.status) == [.deferred, .sent])
        #expect(r.events.allSatisfy { $0.account == "acct-1002" && $0.subject == "Photos" && $0.queueID == id })
        #expect(r.parser.counters.incompleteMessages == 0)
    }

    @Test("Restoring with a smaller maxOpenMessages evicts the least recently touched messages and counts them")
    func smallerTable() throws {
        func arrival(_ qid: String, _ second: Int) -> [String] {
            [
                "Nov 29 05:00:0\(second) mx1 postfix/smtpd[1]: \(qid): client=unknown[127.0.0.11], sasl_method=PLAIN, sasl_username=u\(second)@example.net",
                "Nov 29 05:00:0\(second) mx1 postfix/qmgr[2]: \(qid): from=<u\(second)@example.net>, size=1, nrcpt=1 (queue active)",
            ]
        }
        func delivery(_ qid: String) -> String {
            "Nov 29 05:00:09 mx1 postfix/smtp[3]: \(qid): to=<r@x.test>, relay=r[192.0.2.1]:25, delay=1, dsn=2.0.0, status=sent (ok)"
        }
        // A, B, C arrive; A is touched again last, so B is the least recently touched.
        let lines =
            arrival("AAAAA1", 1) + arrival("BBBBB2", 2) + arrival("CCCCC3", 3)
            + ["Nov 29 05:00:04 mx1 postfix/cleanup[4]: AAAAA1: message-id=<a@x>"]
            + [delivery("AAAAA1"), delivery("BBBBB2"), delivery("CCCCC3")]
        let r = try runWithRestart(
            PostfixFormat.self, lines, split: 7, restoreWith: FormatConfiguration(maxOpenMessages: 2))
        #expect(r.saved.openMessages == 3)
        #expect(r.outcomes.suffix(3) == [.used, .rejected(.unknownQueueID), .used])
        #expect(r.events.map(\.queueID) == ["AAAAA1", "CCCCC3"])
        #expect(r.parser.counters.evictedMessages == 1)
        #expect(r.parser.counters.incompleteMessages == 3)
    }

    @Test(
        "A message's account-header trust, decided at its first delivery, survives a restart with other trusted logins",
        arguments: [LogFormat.postfix, .exim])
    func headerTrustAcrossConfigurationChange(format: LogFormat) throws {
        // The first delivery believes the header (its login is trusted); the restart no longer trusts that login.
        // The message's second delivery must keep the first one's account: one message, one account.
        let lines: [String]
        if format == .exim {
            let t = "2026-11-29 05:29:42 1vA2Bc-000ABC-1D"
            lines = [
                "\(t) X-Account-Id: t-10001",
                "\(t) <= s@x.test H=(h) [10.1.2.3]:1 A=plain_server:svc@platform.test S=1 for a@z.test b@z.test",
                "\(t) => a@z.test F=<s@x.test> R=r T=t",
                "\(t) => b@z.test F=<s@x.test> R=r T=t",
                "\(t) Completed",
            ]
        } else {
            let t = "Nov 29 05:29:42 mx1 postfix"
            let q = "58A2BFA244"
            lines = [
                "\(t)/smtpd[1]: \(q): client=unknown[10.1.2.3], sasl_method=PLAIN, sasl_username=svc@platform.test",
                "\(t)/cleanup[2]: \(q): warning: header X-Account-Id: t-10001 from unknown[10.1.2.3]; "
                    + "from=<s@x.test> to=<a@z.test> proto=ESMTP helo=<h>",
                "\(t)/qmgr[3]: \(q): from=<s@x.test>, size=900, nrcpt=2 (queue active)",
                "\(t)/smtp[4]: \(q): to=<a@z.test>, relay=mx.test[192.0.2.9]:25, delay=1, dsn=2.0.0, status=sent (ok)",
                "\(t)/smtp[4]: \(q): to=<b@z.test>, relay=mx.test[192.0.2.9]:25, delay=1, dsn=2.0.0, status=sent (ok)",
                "\(t)/qmgr[3]: \(q): removed",
            ]
        }
        func run<F: FormatComponent>(_: F.Type) throws -> [SendEvent] {
            try runWithRestart(
                F.self, lines, split: lines.count - 2,
                configuration: FormatConfiguration(accountHeaderLogins: ["svc@platform.test"]),
                restoreWith: FormatConfiguration(accountHeaderLogins: [])
            ).events
        }
        let events = try format == .exim ? run(EximFormat.self) : run(PostfixFormat.self)
        #expect(events.count == 2)
        #expect(events.map(\.account) == ["t-10001", "t-10001"])
        #expect(events.allSatisfy { $0.accountSource == .header && $0.claimedAccount == nil })
    }

    @Test("The format detector keeps its votes across a restart")
    func detector() throws {
        let lines = LogGenerator.postfixRollover().prefix(20).map { Array($0.utf8) }
        var uninterrupted = FormatDetector(decisiveVotes: 12)
        var restarted = FormatDetector(decisiveVotes: 12)
        var a: [LogFormat?] = []
        var b: [LogFormat?] = []
        for line in lines {
            a.append(line.withUnsafeBytes { uninterrupted.observe(line: $0) })
            restarted = try FormatDetector(decisiveVotes: 12, restoring: roundTrip(restarted.checkpoint()))
            b.append(line.withUnsafeBytes { restarted.observe(line: $0) })
        }
        #expect(a == b)
        #expect(a.contains(.postfix))
        #expect(restarted.bestGuess == uninterrupted.bestGuess)
        #expect(restarted.checkpoint() == uninterrupted.checkpoint())
    }

    @Test("Checkpoints also round-trip through JSON (readable for debugging)")
    func jsonRoundTrip() throws {
        let lines = LogGenerator.postfixRollover()
        var postfix = PostfixParser()
        postfix.beginInput(yearHint: .year(2025))
        var events: EventBatch = []
        for line in lines.prefix(lines.count / 2) {
            _ = Array(line.utf8).withUnsafeBytes { postfix.parse(line: $0, into: &events) }
        }
        let p = postfix.checkpoint()
        #expect(p.openMessages > 0)
        #expect(try JSONDecoder().decode(PostfixParser.Checkpoint.self, from: JSONEncoder().encode(p)) == p)

        let eximLines = LogGenerator.eximRollover()
        var exim = EximParser()
        exim.beginInput(yearHint: .year(2025))
        for line in eximLines.prefix(eximLines.count / 2) {
            _ = Array(line.utf8).withUnsafeBytes { exim.parse(line: $0, into: &events) }
        }
        let e = exim.checkpoint()
        #expect(e.openMessages > 0)
        #expect(try JSONDecoder().decode(EximParser.Checkpoint.self, from: JSONEncoder().encode(e)) == e)

        let j = JSONLinesParser().checkpoint()
        #expect(try JSONDecoder().decode(JSONLinesParser.Checkpoint.self, from: JSONEncoder().encode(j)) == j)
    }

    @Test("LogFormat encodes as its name", arguments: LogFormat.allCases)
    func logFormatCodable(format: LogFormat) throws {
        #expect(try roundTrip(format) == format)
        #expect(String(decoding: try JSONEncoder().encode(format), as: UTF8.self) == "\"\(format.rawValue)\"")
    }
}
