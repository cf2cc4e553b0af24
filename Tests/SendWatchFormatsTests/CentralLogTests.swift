import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// Runs `lines` through a fresh parser of format `F`, restarting it through an encoded checkpoint before line
/// `restartAt` when given.
private func parse<F: FormatComponent>(
    _: F.Type, _ lines: [String], restartAt: Int? = nil
) throws -> (events: [SendEvent], counters: ParseCounters) {
    var parser = F.makeParser(FormatSettings(configuration: .init()))
    parser.beginInput(yearHint: .year(2026))
    var events: EventBatch = []
    for (k, line) in lines.enumerated() {
        if k == restartAt {
            let saved = try JSONDecoder().decode(
                F.Parser.Checkpoint.self, from: try JSONEncoder().encode(parser.checkpoint()))
            parser = try F.makeParser(FormatSettings(configuration: .init()), restoring: saved)
        }
        _ = Array(line.utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) }
    }
    parser.finish(into: &events)
    return (Array(events), parser.counters)
}

/// One Postfix message's lines on `host` under the syslog name `instance` (`postfix`, `postfix-out`): SASL
/// user, subject, account header, sender, then one delivery per recipient and `removed`.
private func postfixMessage(
    host: String, instance: String = "postfix", qid: String, user: String, account: String, subject: String,
    recipients: [String]
) -> [String] {
    let t = "Nov 29 05:29:42 \(host) \(instance)"
    let trailer = " from unknown[127.0.0.11]; from=<\(user)> to=<\(recipients[0])> proto=ESMTP helo=<h>"
    var lines = [
        "\(t)/smtpd[1]: \(qid): client=unknown[127.0.0.\(host.count)], sasl_method=PLAIN, sasl_username=\(user)",
        "\(t)/cleanup[2]: \(qid): message-id=<\(qid).\(host)@example.net>",
        "\(t)/cleanup[2]: \(qid): warning: header Subject: \(subject)\(trailer)",
        "\(t)/cleanup[2]: \(qid): warning: header X-Account-Id: \(account)\(trailer)",
        "\(t)/qmgr[3]: \(qid): from=<\(user)>, size=900, nrcpt=\(recipients.count) (queue active)",
    ]
    for r in recipients {
        lines.append(
            "\(t)/smtp[4]: \(qid): to=<\(r)>, relay=mx.test[192.0.2.9]:25, delay=1, dsn=2.0.0, status=sent (ok)")
    }
    lines.append("\(t)/qmgr[3]: \(qid): removed")
    return lines
}

/// Interleaves `a` and `b` line by line, `a` first, so that every line of one message lies between lines of
/// the other.
private func interleave(_ a: [String], _ b: [String]) -> [String] {
    var out: [String] = []
    for k in 0..<max(a.count, b.count) {
        if k < a.count { out.append(a[k]) }
        if k < b.count { out.append(b[k]) }
    }
    return out
}

@Suite("Central logs: several hosts and instances whose message ids collide")
struct CentralLogTests {
    static let mx1 = postfixMessage(
        host: "mx1", qid: "05E63FA1A2", user: "alice@example.net", account: "acct-1", subject: "Invoice 42",
        recipients: ["x1@mailbox.test", "y1@mailbox.test", "z1@mailbox.test"])
    static let mx2 = postfixMessage(
        host: "mx2", qid: "05E63FA1A2", user: "bob@example.org", account: "acct-2", subject: "Photos",
        recipients: ["x2@mailbox.test"])

    /// Checks that `events` are exactly both messages' deliveries, each with its own host's fields.
    static func expectBothComplete(
        _ events: [SendEvent], host1: String = "mx1", host2: String = "mx2", id: String = "05E63FA1A2",
        secondMessageID: String? = nil
    ) {
        let first = events.filter { $0.account == "acct-1" }
        let second = events.filter { $0.account == "acct-2" }
        #expect(events.count == 4)
        #expect(first.map(\.recipient) == ["x1@mailbox.test", "y1@mailbox.test", "z1@mailbox.test"])
        #expect(second.map(\.recipient) == ["x2@mailbox.test"])
        for e in first {
            #expect(e.host == host1 && e.subject == "Invoice 42" && e.sender == "alice@example.net")
            #expect(e.messageID == "\(id).\(host1)@example.net")
        }
        for e in second {
            #expect(e.host == host2 && e.subject == "Photos" && e.sender == "bob@example.org")
            #expect(e.messageID == secondMessageID ?? "\(id).\(host2)@example.net")
        }
    }

    @Test("Postfix: two hosts with the same queue id, interleaved, give both hosts' events complete")
    func postfixTwoHosts() throws {
        let r = try parse(PostfixFormat.self, interleave(Self.mx1, Self.mx2))
        Self.expectBothComplete(r.events)
        #expect(r.counters.incompleteMessages == 0)
        #expect(r.counters.rejected.isEmpty)
    }

    @Test("Postfix: hosts too long for the parser's scope cache, interleaved, keep their messages and names")
    func postfixTwoLongHosts() throws {
        // 250 bytes of host and 7 of instance are more than the 256 bytes the last line's scope is kept in, so
        // every line's scope is hashed and no host string is shared between lines.
        let host1 = String(repeating: "a", count: 249) + "1"
        let host2 = String(repeating: "a", count: 249) + "2"
        let a = postfixMessage(
            host: host1, qid: "05E63FA1A2", user: "alice@example.net", account: "acct-1", subject: "Invoice 42",
            recipients: ["x1@mailbox.test", "y1@mailbox.test", "z1@mailbox.test"])
        let b = postfixMessage(
            host: host2, qid: "05E63FA1A2", user: "bob@example.org", account: "acct-2", subject: "Photos",
            recipients: ["x2@mailbox.test"])
        let r = try parse(PostfixFormat.self, interleave(a, b))
        Self.expectBothComplete(r.events, host1: host1, host2: host2)
        #expect(r.counters.incompleteMessages == 0)
    }

    @Test("Postfix: a host that comes back after another host's run gets its own name again")
    func postfixHostRuns() throws {
        let r = try parse(PostfixFormat.self, Array(Self.mx1.prefix(6)) + Self.mx2 + Array(Self.mx1.dropFirst(6)))
        Self.expectBothComplete(r.events)
    }

    @Test("Postfix: the join survives a restart through a checkpoint at every line", arguments: 1...20)
    func postfixTwoHostsRestart(at line: Int) throws {
        let r = try parse(PostfixFormat.self, interleave(Self.mx1, Self.mx2), restartAt: line)
        Self.expectBothComplete(r.events)
        #expect(r.counters.incompleteMessages == 0)
    }

    @Test("Postfix: two instances of one host (postfix, postfix-out) with the same queue id stay apart")
    func postfixTwoInstances() throws {
        let out = postfixMessage(
            host: "mx1", instance: "postfix-out", qid: "05E63FA1A2", user: "bob@example.org", account: "acct-2",
            subject: "Photos", recipients: ["x2@mailbox.test"]
        ).map { $0.replacingOccurrences(of: "05E63FA1A2.mx1@", with: "05E63FA1A2.mx2@") }
        let r = try parse(PostfixFormat.self, interleave(Self.mx1, out))
        Self.expectBothComplete(r.events, host2: "mx1", secondMessageID: "05E63FA1A2.mx2@example.net")
    }

    @Test("Postfix: orig_queue_id= of another instance on the same host still marks the filter hop")
    func postfixFilterAcrossInstances() throws {
        let t = "Nov 29 05:29:42 mx1"
        let lines = [
            "\(t) postfix/smtpd[1]: 1111111111: client=unknown[192.0.2.7], sasl_method=PLAIN, sasl_username=alice@example.net",
            "\(t) postfix/qmgr[3]: 1111111111: from=<alice@example.net>, size=900, nrcpt=1 (queue active)",
            "\(t) postfix-out/smtpd[5]: 2222222222: client=localhost[127.0.0.1], orig_queue_id=1111111111, orig_client=unknown[192.0.2.7]",
            "\(t) postfix-out/qmgr[6]: 2222222222: from=<alice@example.net>, size=950, nrcpt=1 (queue active)",
            "\(t) postfix/smtp[4]: 1111111111: to=<x@mailbox.test>, relay=127.0.0.1[127.0.0.1]:10025, delay=1, dsn=2.0.0, status=sent (250 queued as 2222222222)",
            "\(t) postfix-out/smtp[7]: 2222222222: to=<x@mailbox.test>, relay=mx.test[192.0.2.9]:25, delay=1, dsn=2.0.0, status=sent (ok)",
        ]
        let r = try parse(PostfixFormat.self, lines)
        #expect(r.events.count == 1)
        #expect(r.events.first?.account == "alice@example.net")
        #expect(r.events.first?.queueID == "2222222222")
    }

    @Test("Exim: two syslog hosts with the same message id, interleaved, give both hosts' events complete")
    func eximTwoHosts() throws {
        func message(host: String, user: String, account: String, subject: String, recipients: [String]) -> [String] {
            let t = "Nov 29 05:35:47 \(host) exim[12]: 1xXXZj-0000c0-39"
            var lines = [
                "\(t) X-Account-Id: \(account)",
                "\(t) <= \(user) H=(h) [127.0.0.\(host.count)]:4000 P=esmtpa A=plain_server:\(user) S=900 "
                    + "id=1xXXZj-0000c0-39.\(host)@example.net T=\"\(subject)\" for \(recipients.joined(separator: " "))",
            ]
            for (k, r) in recipients.enumerated() {
                lines.append(
                    "\(t) \(k == 0 ? "=>" : "->") \(r) F=<\(user)> R=dnslookup T=remote_smtp H=mx.test [192.0.2.9]")
            }
            lines.append("\(t) Completed")
            return lines
        }
        let a = message(
            host: "mx1", user: "alice@example.net", account: "acct-1", subject: "Invoice 42",
            recipients: ["x1@mailbox.test", "y1@mailbox.test", "z1@mailbox.test"])
        let b = message(
            host: "mx2", user: "bob@example.org", account: "acct-2", subject: "Photos", recipients: ["x2@mailbox.test"])
        for restart in [nil, 3, 6] {
            let r = try parse(EximFormat.self, interleave(a, b), restartAt: restart)
            Self.expectBothComplete(r.events, id: "1xXXZj-0000c0-39")
            #expect(r.counters.incompleteMessages == 0)
        }
    }
}

@Suite("Postfix account-header trust across a restart")
struct PostfixHeaderTrustRestartTests {
    @Test("The trust decided at a message's first delivery survives a checkpoint, whatever later lines add")
    func trustSurvivesRestart() throws {
        // The first delivery comes from an untrusted client with no login, so the header is not believed; a
        // `client=` line naming the trusted service login arrives only after it (found by the postfix fuzz target).
        let t = "Nov 29 05:29:42 mx1 postfix"
        let q = "58A2BFA244"
        let lines = [
            "\(t)/cleanup[2]: \(q): warning: header X-Account-Id: acct-9 from unknown[192.0.2.50]; from=<a@x.test> "
                + "to=<r1@y.test> proto=ESMTP helo=<h>",
            "\(t)/qmgr[3]: \(q): from=<a@x.test>, size=900, nrcpt=2 (queue active)",
            "\(t)/smtp[4]: \(q): to=<r1@y.test>, relay=mx.test[192.0.2.9]:25, delay=1, dsn=2.0.0, status=sent (ok)",
            "\(t)/smtpd[1]: \(q): client=unknown[192.0.2.50], sasl_method=PLAIN, "
                + "sasl_username=\(FormatConfiguration.defaultAccountHeaderLogins.sorted()[0])",
            "\(t)/smtp[4]: \(q): to=<r2@y.test>, relay=mx.test[192.0.2.9]:25, delay=1, dsn=2.0.0, status=sent (ok)",
            "\(t)/qmgr[3]: \(q): removed",
        ]
        let whole = try parse(PostfixFormat.self, lines)
        #expect(whole.events.count == 2)
        #expect(whole.events.allSatisfy { $0.claimedAccount == "acct-9" }, "not believed, kept as a claim")
        for k in 1..<lines.count {
            let restarted = try parse(PostfixFormat.self, lines, restartAt: k)
            #expect(restarted.events == whole.events, "restart before line \(k)")
        }
    }
}
