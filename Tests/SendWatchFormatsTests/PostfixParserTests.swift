import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// Feeds `lines` to one parser and returns the events, the outcome of each line and the parser.
private func run(
    _ lines: [String], configuration: FormatConfiguration = .init(), hint: YearHint = .year(2026)
) -> (events: [SendEvent], outcomes: [LineOutcome], parser: PostfixParser) {
    var parser = PostfixParser(configuration: configuration)
    parser.beginInput(yearHint: hint)
    var events: EventBatch = []
    var outcomes: [LineOutcome] = []
    for line in lines {
        outcomes.append(Array(line.utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) })
    }
    return (events, outcomes, parser)
}

private let h = "Nov 29 05:29:42 mx1"
private let qid = "05E63FA1A2"

/// A minimal smtpd + qmgr arrival for `qid`.
private func arrival(_ id: String = qid, sasl: String? = "alice@example.net", sender: String = "alice@example.net")
    -> [String]
{
    let saslPart = sasl.map { ", sasl_method=PLAIN, sasl_username=\($0)" } ?? ""
    return [
        "\(h) postfix/smtpd[1]: \(id): client=unknown[127.0.0.11]\(saslPart)",
        "\(h) postfix/qmgr[2]: \(id): from=<\(sender)>, size=582, nrcpt=2 (queue active)",
    ]
}

private func delivery(
    _ id: String = qid, to: String = "bob@example.org", status: String = "sent", daemon: String = "smtp",
    time: String = h
) -> String {
    "\(time) postfix/\(daemon)[3]: \(id): to=<\(to)>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.02, "
        + "delays=0.01/0.01/0/0, dsn=2.0.0, status=\(status) (250 2.0.0 Ok)"
}

@Suite("Postfix parser")
struct PostfixParserTests {
    @Test("Subjects in other charsets are decoded with iconv; words of unknown charsets are counted")
    func iconvSubjects() throws {
        func subject(_ header: String) -> (String?, PostfixParser) {
            let r = run(
                arrival() + [
                    "\(h) postfix/cleanup[3]: \(qid): warning: header Subject: \(header) from unknown[127.0.0.11]; "
                        + "from=<alice@example.net> to=<bob@example.org> proto=ESMTP helo=<app>", delivery(),
                ])
            return (r.events.first?.subject, r.parser)
        }
        // g_jp.log of the review: every subject ISO-2022-JP, base64.
        #expect(subject("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhCIBskQjdvTD4bKEI=?=").0 == "テスト 件名")
        #expect(subject("=?koi8-r?q?=F0=D2=C9=D7=C5=D4?= 42").0 == "Привет 42")
        let (kept, parser) = subject("=?x-nope?q?abc?= 42")
        #expect(kept == "=?x-nope?q?abc?= 42")
        #expect(parser.counters.undecodedSubjectWords.count == 1)
        #expect(parser.counters.undecodedSubjectWords.charsets == ["x-nope": 1])
    }

    @Test("Account keys are folded to ASCII lowercase: a login's letter case does not split its account")
    func accountCaseFolded() throws {
        let upper = run(arrival(sasl: "Blaster@Example.ORG") + [delivery()]).events
        let lower = run(arrival(sasl: "blaster@example.org") + [delivery()]).events
        #expect(upper.map(\.account) == ["blaster@example.org"])
        #expect(lower.map(\.account) == upper.map(\.account))
        // The login stays as the client wrote it (evidence); the envelope sender too.
        #expect(upper.first?.login == "Blaster@Example.ORG")
        let bySender = run(arrival(sasl: nil, sender: "Ana@Example.NET") + [delivery()]).events
        #expect(bySender.map(\.account) == ["ana@example.net"])
        #expect(bySender.first?.sender == "Ana@Example.NET")
    }

    // MARK: Single lines

    @Test(
        "Outcome of single lines without context",
        arguments: [
            // Not Postfix, or Postfix lines without a queue id.
            ("\(h) dovecot[9]: imap-login: Login: user=<a>", LineOutcome.ignored),
            ("\(h) CRON[9]: (root) CMD (postfix check)", .ignored),
            ("\(h) postfix/smtpd[1]: connect from unknown[127.0.0.11]", .ignored),
            (
                "\(h) postfix/smtpd[1]: disconnect from unknown[127.0.0.11] ehlo=1 auth=1 mail=1 rcpt=2 data=1 quit=1 commands=7",
                .ignored
            ),
            (
                "\(h) postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[127.0.0.60]: 554 5.7.1 <ulla@post.test>: Relay access denied; from=<spammer@bad.example> to=<ulla@post.test> proto=ESMTP helo=<bad>",
                .ignored
            ),
            (
                "\(h) postfix/smtpd[1]: warning: unknown[127.0.0.50]: SASL PLAIN authentication failed: authentication failure, sasl_username=alice@example.net",
                .ignored
            ),
            ("\(h) postfix/smtpd[1]: warning: SASL authentication failure: Password verification failed", .ignored),
            (
                "\(h) postfix/anvil[4]: statistics: max connection rate 1/60s for (smtp:127.0.0.11) at Nov 29 05:29:42",
                .ignored
            ),
            ("\(h) postfix/scache[5]: statistics: start interval Nov 29 05:29:42", .ignored),
            ("\(h) postfix/master[6]: daemon started -- version 3.7.11, configuration /etc/postfix", .ignored),
            ("\(h) postfix/postfix-script[7]: starting the Postfix mail system", .ignored),
            ("\(h) postfix/postsuper[8]: Deleted: 1 message", .ignored),
            (
                "\(h) postfix/smtpd[1]: Anonymous TLS connection established from unknown[127.0.0.11]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
                .ignored
            ),
            ("\(h) postfix/smtp[3]: connect to 127.0.0.1[127.0.0.1]:2599: Connection refused", .ignored),
            ("\(h) postfix/cleanup[3]: warning: 9BECF3F19D: sender_canonical_maps map lookup problem", .ignored),
            ("\(h) postfix/qmgr[2]: ED06590130AA1C9D6D862: skipped, still being delivered", .ignored),
            (
                "\(h) postfix/smtp[3]: \(qid): host mx[192.0.2.1] said: 451 try later (in reply to RCPT TO command)",
                .ignored
            ),
            // Lines about an unknown message that would only end or drop it.
            ("\(h) postfix/qmgr[2]: \(qid): removed", .ignored),
            ("\(h) postfix/qmgr[2]: \(qid): from=<a@b>, status=expired, returned to sender", .ignored),
            // State-creating lines for an unknown queue id are used.
            ("\(h) postfix/cleanup[3]: \(qid): message-id=<x@y>", .used),
            ("\(h) postfix/qmgr[2]: \(qid): from=<a@b>, size=1, nrcpt=1 (queue active)", .used),
            // Rejections.
            ("garbage", .rejected(.badTimestamp)),
            // A blank line is irrelevant, not a broken timestamp (issue 14).
            ("", .ignored),
            ("Nox 29 05:29:42 mx1 postfix/smtp[1]: x", .rejected(.badTimestamp)),
            ("2026-13-29T05:31:11.903175+00:00 vm postfix/smtp[1]: x", .rejected(.badTimestamp)),
            ("Nov 29 05:29:42", .rejected(.notSyslog)),
            ("Nov 29 05:29:42 mx1", .rejected(.notSyslog)),
            ("Nov 29 05:29:42 mx1 postfix/smtp[1 x", .rejected(.notSyslog)),
            ("\(h) postfix/smtp[1]: \(qid): to=<a@b>, relay=x, status=sent\u{0} (ok)", .rejected(.nulByte)),
            (delivery(), .rejected(.unknownQueueID)),
            ("\(h) postfix/smtp[3]: \(qid): to=<a@b", .rejected(.malformed)),
            ("\(h) postfix/smtp[3]: \(qid): to=<a@b>, relay=none, delay=0", .rejected(.malformed)),
            ("\(h) postfix/smtp[3]: \(qid): to=<a@b>, relay=none, status=weird (x)", .rejected(.malformed)),
            ("\(h) postfix/smtpd[1]: \(qid): client=no-brackets", .rejected(.malformed)),
            ("\(h) postfix/pickup[1]: \(qid): uid=0 no sender", .rejected(.malformed)),
            ("\(h) postfix/qmgr[2]: \(qid): from=<never closed", .rejected(.malformed)),
            ("\(h) postfix/cleanup[3]: \(qid): warning: header Subject: no separator at all", .rejected(.malformed)),
            ("\(h) postfix/cleanup[3]: \(qid): warning: header Subject", .rejected(.malformed)),
            ("\(h) postfix/bounce[4]: \(qid): sender non-delivery notification: not-an-id", .rejected(.malformed)),
        ])
    func singleLine(line: String, expected: LineOutcome) {
        let (events, outcomes, parser) = run([line])
        #expect(outcomes == [expected])
        #expect(events.isEmpty)
        #expect(parser.counters.lines == 1)
        switch expected {
        case .ignored: #expect(parser.counters.ignored == 1)
        case .rejected(let r): #expect(parser.counters.rejected == [r: 1])
        case .used: #expect(parser.counters.ignored == 0 && parser.counters.rejectedTotal == 0)
        }
    }

    @Test("Without a year hint classic timestamps are rejected, RFC 3339 ones are not")
    func noYearHint() {
        let (_, outcomes, _) = run(
            [
                "\(h) postfix/smtpd[1]: connect from x[1.2.3.4]",
                "2026-11-29T05:31:11.903175+00:00 vm postfix/smtpd[1]: connect from x[1.2.3.4]",
            ],
            hint: .none)
        #expect(outcomes == [.rejected(.badTimestamp), .ignored])
    }

    // MARK: Delivery agents

    @Test(
        "Every delivery agent's line is a delivery; status mapping",
        arguments: [
            ("smtp", "sent", DeliveryStatus.sent),
            ("lmtp", "sent", .sent),
            ("local", "sent", .sent),
            ("virtual", "sent", .sent),
            ("pipe", "bounced", .bounced),
            ("error", "bounced", .bounced),
            ("retry", "deferred", .deferred),
            ("relay", "sent", .sent),
            ("smtp", "deferred", .deferred),
            ("smtp", "SOFTBOUNCE", .deferred),
            ("smtp", "expired", .expired),
            ("discard", "sent", .discarded),
            ("submission/smtp", "sent", .sent),
            ("qmgr", "deferred", .deferred),
        ])
    func deliveryAgents(daemon: String, status: String, expected: DeliveryStatus) throws {
        let (events, outcomes, _) = run(arrival() + [delivery(status: status, daemon: daemon)])
        #expect(outcomes == [.used, .used, .used])
        let e = try #require(events.first)
        #expect(events.count == 1)
        #expect(e.status == expected)
        #expect(e.recipient == "bob@example.org")
        #expect(e.queueID == qid)
        #expect(e.host == "mx1")
        #expect(e.clientIP == "127.0.0.11")
        #expect(e.account == "alice@example.net")
        #expect(e.accountSource == .authenticated)
        #expect(e.sender == "alice@example.net")
        #expect(e.time == EventTime(seconds: 1_795_930_182))  // 2026-11-29T05:29:42Z
    }

    @Test(
        "Program names: syslog_name prefixes work, other programs are ignored",
        arguments: [
            ("postfix/smtp", true), ("postfix-out/smtp", true), ("postfix/submission/smtp", true),
            ("postfix/a/b/c/smtp", true), ("smtp", false), ("sendmail/smtp", false), ("exim", false),
        ])
    func programs(program: String, isPostfix: Bool) {
        // The arrival is logged by the same Postfix instance (the program's first component), as it is for real.
        let instance = isPostfix ? String(program.prefix { $0 != "/" }) : "postfix"
        let lines = arrival().map { $0.replacingOccurrences(of: " postfix/", with: " \(instance)/") }
        let (events, outcomes, _) = run(
            lines + ["\(h) \(program)[3]: \(qid): to=<bob@example.org>, relay=x[1.2.3.4]:25, status=sent (ok)"])
        #expect(outcomes.last == (isPostfix ? .used : .ignored))
        #expect(events.count == (isPostfix ? 1 : 0))
    }

    /// Delivery lines and their recipient, taken from whyscream/postfix-grok-patterns `test/*.yaml` `data:`
    /// (BSD-3-Clause), with a syslog header and an arrival added here.
    @Test(
        "postfix-grok-patterns delivery lines",
        arguments: [
            (
                "local",
                "2A22C263F6: to=user@hostname.example.com, orig_to=root@localhost, relay=local, delay=0.07, delays=0.04/0/0/0.03, dsn=2.0.0, status=sent (delivered to command: procmail -a \"$EXTENSION\")",
                "root@localhost", DeliveryStatus.sent
            ),
            (
                "local",
                "892A0205B6: to=ghdsgfhdslfh@localhost, relay=local, delay=0.05, delays=0.02/0/0/0.02, dsn=5.1.1, status=bounced (unknown user: \"ghdsgfhdslfh\")",
                "ghdsgfhdslfh@localhost", .bounced
            ),
            (
                "pipe",
                "0F5383D: to=<tom@example.com>, relay=dovecot, delay=4.3, delays=4.1/0.01/0/0.15, dsn=2.0.0, status=sent (delivered via dovecot service)",
                "tom@example.com", .sent
            ),
            (
                "pipe",
                "153053D: to=<tom@example.com>, orig_to=<admin@example.com>, relay=dovecot, delay=3.4, delays=3.3/0.03/0/0.12, dsn=2.0.0, status=sent (delivered via dovecot service)",
                "admin@example.com", .sent
            ),
            (
                "pipe",
                "95ECE24E0: to=<tom@example.com>, relay=dovecot, delay=0.12, delays=0.03/0/0/0.08, dsn=5.4.6, status=bounced (mail forwarding loop for tom@example.com)",
                "tom@example.com", .bounced
            ),
            (
                "virtual",
                "B657F2DB195D: to=<postmaster@example.com>, relay=virtual, delay=0.52, delays=0.51/0.01/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
                "postmaster@example.com", .sent
            ),
            (
                "lmtp",
                "7EE668039: to=<admin@example.com>, relay=127.0.0.1[127.0.0.1]:2525, delay=3.6, delays=0.2/0.02/0.04/3.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 153053D)",
                "admin@example.com", .sent
            ),
            (
                "error",
                "2DC5552A34: to=<user@yahoo.com>, relay=none, delay=63495, delays=63350/144/0/0, dsn=4.4.2, status=deferred (delivery temporarily suspended: lost connection with mta7.am0.yahoodns.net[98.136.216.22] while sending RCPT TO)",
                "user@yahoo.com", .deferred
            ),
            (
                "discard",
                "25F2E5E061: to=<george.desantis@test.example.com>, relay=none, delay=0.05, delays=0.05/0/0/0, dsn=2.0.0, status=sent (test.example.com)",
                "george.desantis@test.example.com", .discarded
            ),
        ])
    func grokDeliveries(daemon: String, data: String, recipient: String, status: DeliveryStatus) throws {
        let id = String(data.prefix { $0 != ":" })
        let (events, outcomes, _) = run(arrival(id) + ["\(h) postfix/\(daemon)[9]: \(data)"])
        #expect(outcomes.last == .used)
        let e = try #require(events.first)
        #expect(e.recipient == recipient)
        #expect(e.status == status)
        #expect(e.queueID == id)
    }

    @Test("postfix-grok-patterns: verify probe status is not a send; qmgr, cleanup and bounce variants")
    func grokOthers() {
        // error_0002: address verification result.
        let probe = run(
            arrival("3E29030F8637E") + [
                "\(h) postfix/error[9]: 3E29030F8637E: to=<user@yahoo.com>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=5.1.1, status=undeliverable-but-not-cached (User unknown in virtual alias table)"
            ])
        #expect(probe.outcomes.last == .ignored)
        #expect(probe.events.isEmpty)
        // qmgr_0004 / qmgr_0005 and qmgr_0001.
        let q = run([
            "\(h) postfix/qmgr[2]: 66C15648577B: from=<uvnhbl@yahoo.com.tw>, size=10, nrcpt=1 (queue active)",
            "\(h) postfix/qmgr[2]: 66C15648577B: from=<uvnhbl@yahoo.com.tw>, status=expired, returned to sender",
            "\(h) postfix/qmgr[2]: 66C15648577B: removed",
        ])
        #expect(q.outcomes == [.used, .used, .used])
        #expect(q.parser.openMessages == 0)
        // cleanup_0002 (empty message-id), cleanup_0010 (message-id not in angle brackets, encoded).
        let c = run([
            "\(h) postfix/cleanup[3]: 4104E3D: message-id=<>",
            "\(h) postfix/cleanup[3]: ADD961003206D: message-id==?UTF-8?B?PDE5?=? =?UTF-8?B?MTIyMDExMjkxNjYxMUBDbGllbnQtMDQ1LnJ1YmluZXR0ZXJpZS5sb2NhbD4=?=",
            "\(h) postfix/qmgr[2]: 4104E3D: from=<a@b>, size=10, nrcpt=1 (queue active)",
            "\(h) postfix/qmgr[2]: ADD961003206D: from=<a@b>, size=10, nrcpt=1 (queue active)",
            delivery("4104E3D"), delivery("ADD961003206D"),
        ])
        #expect(c.outcomes.allSatisfy { $0 == .used })
        #expect(
            c.events.map(\.messageID) == [
                nil, "=?UTF-8?B?PDE5?=? =?UTF-8?B?MTIyMDExMjkxNjYxMUBDbGllbnQtMDQ1LnJ1YmluZXR0ZXJpZS5sb2NhbD4=?=",
            ])
        // bounce_0001..0004: every kind of notice marks the new queue id.
        let b = run([
            "\(h) postfix/bounce[4]: 17CCA8044: sender non-delivery notification: ADD2F8052",
            "\(h) postfix/bounce[4]: 65AFB8B5: sender delivery status notification: 1DF35917",
            "\(h) postfix/bounce[4]: 264FE1A18: sender delay notification: 0A87A1A08",
            "\(h) postfix/bounce[4]: 482E4404AC8: postmaster non-delivery notification: 47335405A44",
            "\(h) postfix/qmgr[2]: ADD2F8052: from=<>, size=2421, nrcpt=1 (queue active)",
            delivery("ADD2F8052"), delivery("1DF35917"), delivery("0A87A1A08"), delivery("47335405A44"),
        ])
        #expect(b.outcomes.allSatisfy { $0 == .used })
        #expect(b.events.isEmpty)
        #expect(b.parser.counters.nonDeliveryNotices == 4)
        // pickup_0001: a sender without a domain.
        let p = run(["\(h) postfix/pickup[1]: D2FAE20586: uid=0 from=<fail2ban>", delivery("D2FAE20586")])
        #expect(p.events.first?.account == "fail2ban")
        #expect(p.events.first?.accountSource == .localUser)
        // cleanup_0004: milter-reject at end of message drops it.
        let m = run(
            arrival("4104E3D") + [
                "\(h) postfix/cleanup[3]: 4104E3D: milter-reject: END-OF-MESSAGE from 061238241086.static.ctinets.com[61.238.241.86]: 5.7.1 Blocked by SpamAssassin; from=<wumt5@cchfdc.com> to=<voorzitter@example.com> proto=ESMTP helo=<ecsolved.com>",
                delivery("4104E3D"),
            ])
        #expect(m.outcomes == [.used, .used, .used, .rejected(.unknownQueueID)])
        #expect(m.parser.counters.incompleteMessages == 0)
        // cleanup_0007: info: header with encoded words, local submission.
        let i = run([
            "\(h) postfix/pickup[1]: D95341E50350: uid=0 from=<from@example.com>",
            "\(h) postfix/cleanup[3]: D95341E50350: info: header Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?utf-8?Q?_=E2=80=92?= test from local; from=<from@example.com> to=<to@example.com>",
            delivery("D95341E50350", to: "to@example.com"),
        ])
        #expect(i.events.first?.subject == "Grüße ‒ test")
        // cleanup_0006 (long URL subject), cleanup_0009 (prepend is not a header we read; long queue id).
        let w = run([
            "\(h) postfix/cleanup[3]: D8B07E3DB6: warning: header Subject: https://drive.google.com/file/d/0B8wxcvprDYVdlVsdf1kzOVkdisarmed/view?usp=sharing from o1678917x173.outbound-mail.sendgrid.net[167.89.17.173]; from=<bounces+2320708-7653-frank.test=hsdjasdd.co.uk@sendgrid.net> to=<frank.test@hsdjasdd.co.uk> proto=ESMTP helo=<o1678917x173.outbound-mail.sendgrid.net>",
            "\(h) postfix/cleanup[3]: 48rT2v1hQrz1J0N: prepend: header X-Spam-Status: Yes, score=45.1 required=10.0 tests=ADVANCE_FE from mx2.example.org[192.0.2.41]; from=<SRS0=1sN3=5P=example.org=noreply@srs.example.org> to=<recipient@example.net> proto=ESMTP helo=<mx2.example.org>: X-Spam-Status: Yes",
        ])
        #expect(w.outcomes == [.used, .ignored])
        let ws = run(
            [
                "\(h) postfix/cleanup[3]: D8B07E3DB6: warning: header Subject: https://drive.google.com/file/d/0B8wxcvprDYVdlVsdf1kzOVkdisarmed/view?usp=sharing from o1678917x173.outbound-mail.sendgrid.net[167.89.17.173]; from=<bounces+2320708-7653-frank.test=hsdjasdd.co.uk@sendgrid.net> to=<frank.test@hsdjasdd.co.uk> proto=ESMTP helo=<o1678917x173.outbound-mail.sendgrid.net>",
                "\(h) postfix/qmgr[2]: D8B07E3DB6: from=<bounces+2320708-7653-frank.test=hsdjasdd.co.uk@sendgrid.net>, size=1, nrcpt=1 (queue active)",
                delivery("D8B07E3DB6"),
            ])
        #expect(
            ws.events.first?.subject
                == "https://drive.google.com/file/d/0B8wxcvprDYVdlVsdf1kzOVkdisarmed/view?usp=sharing")
    }

    // MARK: Header lines

    @Test(
        "Subject extraction from header_checks lines",
        arguments: [
            (
                "Subject: Invoice INV-2026-0042 for November from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "Invoice INV-2026-0042 for November"
            ),
            // ` from ` inside the subject.
            (
                "Subject: Photos from the weekend from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "Photos from the weekend"
            ),
            // The real capture's parser-confusion subject (folding shown as `?`).
            (
                "Subject: Weekly digest; from=<spoof@evil.test> to=<victim@example.com>? proto=ESMTP helo=<x> from unknown[127.0.0.11]; from=<alice@example.net> to=<zoe@mailbox.test> proto=ESMTP helo=<alice-laptop.example.net>",
                "Weekly digest; from=<spoof@evil.test> to=<victim@example.com>? proto=ESMTP helo=<x>"
            ),
            // A whole fake separator inside the subject: the last one wins.
            (
                "Subject: hi from evil[10.0.0.1]; from=<x@y> to=<z@w> proto=ESMTP helo=<q> from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "hi from evil[10.0.0.1]; from=<x@y> to=<z@w> proto=ESMTP helo=<q>"
            ),
            (
                "Subject: fake from local; from=<root> real from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "fake from local; from=<root> real"
            ),
            // A queue-id look-alike in the subject.
            (
                "Subject: 05E63FA1A2: to=<x@y>, status=sent from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "05E63FA1A2: to=<x@y>, status=sent"
            ),
            // Empty subject, and leading/trailing blanks.
            ("Subject: from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>", ""),
            (
                "Subject:    leading and trailing spaces    from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "leading and trailing spaces   "
            ),
            // Local submission.
            (
                "Subject: Cron <root@mx1> /usr/local/bin/backup.sh --nightly (run 1) from local; from=<root@mx1.example.test> to=<root@mx1.example.test>",
                "Cron <root@mx1> /usr/local/bin/backup.sh --nightly (run 1)"
            ),
            // 8-bit UTF-8 and encoded words.
            (
                "Subject: Raw UTF-8 subject: naïve café – 日本 from unknown[127.0.0.12]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "Raw UTF-8 subject: naïve café – 日本"
            ),
            (
                "Subject: Your receipt from =?utf-8?q?Caf=C3=A9?= Luna from unknown[127.0.0.20]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "Your receipt from Café Luna"
            ),
            (
                "SUBJECT: =?utf-8?b?8J+TpvCfmprwn5Ko?= from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                "📦🚚💨"
            ),
            // IPv6 client and a HELO that imitates the separator beyond the 200-byte bound.
            (
                "Subject: v6 from mail.example[2001:db8::1]; from=<a@b> to=<c@d> proto=ESMTP helo=<"
                    + String(repeating: "x", count: 200) + " from evil[1.2.3.4]; from=<x>", "v6"
            ),
            // A WARN action text after the HELO.
            (
                "subject: lower-case name from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>: some warning text",
                "lower-case name"
            ),
        ])
    func subjects(header: String, expected: String) throws {
        let (events, outcomes, _) = run(
            arrival() + ["\(h) postfix/cleanup[3]: \(qid): warning: header \(header)", delivery()])
        #expect(outcomes == [.used, .used, .used, .used])
        #expect(try #require(events.first).subject == expected)
    }

    @Test("A subject cut at 200 bytes in the middle of a UTF-8 sequence decodes with U+FFFD")
    func cutSubject() throws {
        // "Subject: " (9 bytes) + 190 ASCII bytes + the first byte of "é": 200 bytes, as Postfix's %.200s cuts.
        let text = "Subject: " + String(repeating: "a", count: 190)
        var line = Array("\(h) postfix/cleanup[3]: \(qid): warning: header \(text)".utf8)
        line.append(0xC3)
        line += Array(" from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>".utf8)
        var parser = PostfixParser()
        parser.beginInput(yearHint: .year(2026))
        var events: EventBatch = []
        for l in arrival() { _ = Array(l.utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) } }
        #expect(line.withUnsafeBytes { parser.parse(line: $0, into: &events) } == .used)
        _ = Array(delivery().utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) }
        #expect(try #require(events.first).subject == String(repeating: "a", count: 190) + "\u{FFFD}")
        #expect(try #require(events.first).subjectCut)
    }

    @Test("The event says whether the logged Subject reached the 200-byte cut: 199 bytes is whole, 200 is cut")
    func subjectCutFlag() throws {
        for (length, cut) in [(199, false), (200, true)] {
            // "Subject: " is 9 bytes of the header text Postfix logs with %.200s.
            let value = String(repeating: "b", count: length - 9)
            let (events, _, _) = run(
                arrival() + [
                    "\(h) postfix/cleanup[3]: \(qid): warning: header Subject: \(value) from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
                    delivery(),
                ])
            let event = try #require(events.first)
            #expect(event.subject == value)
            #expect(event.subjectCut == cut)
            var writer = JSONWriter()
            event.writeJSONLine(to: &writer)
            #expect(String(decoding: writer.bytes, as: UTF8.self).contains("\"subject_cut\":true") == cut)
        }
    }

    @Test("Header names of 1 to 20 bytes match in any case and only byte for byte otherwise")
    func headerNameCase() {
        let sep = "from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>"
        // Letters, and bytes that differ from a letter or from each other by 0x20 ('[' and '{', '@' and '`').
        let pattern = Array("aB[c@dE-f`Gh{i9".utf8)
        func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
        for length in 1...20 {
            let name = (0..<length).map { pattern[$0 % pattern.count] }
            let swapped = name.map { isLetter($0) ? $0 ^ 0x20 : $0 }
            // The last byte changed by 0x20: the same name only when it is a letter.
            var other = name
            other[length - 1] ^= 0x20
            let configuration = FormatConfiguration(accountHeader: String(decoding: name, as: UTF8.self))
            for (header, matches) in [(name, true), (swapped, true), (other, isLetter(other[length - 1]))] {
                let text = String(decoding: header, as: UTF8.self)
                let (events, _, _) = run(
                    arrival() + ["\(h) postfix/cleanup[3]: \(qid): warning: header \(text): t-1 \(sep)", delivery()],
                    configuration: configuration)
                let e = events.first
                #expect((e?.account == "t-1" || e?.claimedAccount == "t-1") == matches, "\(length): \(text)")
            }
        }
    }

    @Test("Account and template headers: configured names, case-insensitive, first wins")
    func accountHeaders() throws {
        let sep = "from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>"
        let (events, _, _) = run(
            arrival() + [
                "\(h) postfix/cleanup[3]: \(qid): warning: header X-Account-Id: acct-1003 \(sep)",
                "\(h) postfix/cleanup[3]: \(qid): warning: header x-account-id: acct-7777 \(sep)",
                "\(h) postfix/cleanup[3]: \(qid): info: header X-TEMPLATE-ID:  welcome-v2  \(sep)",
                "\(h) postfix/cleanup[3]: \(qid): warning: header X-Other: ignored \(sep)",
                delivery(),
            ])
        let e = try #require(events.first)
        #expect(e.account == "acct-1003")
        #expect(e.accountSource == .header)
        #expect(e.template == "welcome-v2")
        #expect(e.subject == nil)

        let custom = FormatConfiguration(accountHeader: "X-Tenant", templateHeader: "X-Campaign")
        let (ev2, out2, _) = run(
            arrival() + [
                "\(h) postfix/cleanup[3]: \(qid): warning: header X-Account-Id: acct-1003 \(sep)",
                "\(h) postfix/cleanup[3]: \(qid): warning: header x-tenant: t-9 \(sep)",
                "\(h) postfix/cleanup[3]: \(qid): warning: header X-Campaign: c-1 \(sep)",
                delivery(),
            ], configuration: custom)
        #expect(out2[2] == .ignored)
        #expect(ev2.first?.account == "t-9")
        #expect(ev2.first?.template == "c-1")
        // An empty account header value does not count.
        let (ev3, _, _) = run(
            arrival() + ["\(h) postfix/cleanup[3]: \(qid): warning: header X-Account-Id: \(sep)", delivery()])
        #expect(ev3.first?.account == "alice@example.net")
    }

    @Test(
        "Account resolution order",
        arguments: [
            // (lines before the delivery, account, source)
            (
                [
                    "\(h) postfix/smtpd[1]: \(qid): client=unknown[127.0.0.11], sasl_method=LOGIN, sasl_username=dave@example.org",
                    "\(h) postfix/qmgr[2]: \(qid): from=<bounces+x@app.example>, size=1, nrcpt=1 (queue active)",
                ], "dave@example.org", AccountSource.authenticated
            ),
            (
                [
                    "\(h) postfix/smtpd[1]: \(qid): client=unknown[127.0.0.1]",
                    "\(h) postfix/qmgr[2]: \(qid): from=<legacy-app@example.net>, size=1, nrcpt=1 (queue active)",
                ], "legacy-app@example.net", .sender
            ),
            (
                [
                    "\(h) postfix/pickup[1]: \(qid): uid=33 from=<www-data@mx1.example.test>",
                    "\(h) postfix/qmgr[2]: \(qid): from=<www-data@mx1.example.test>, size=1, nrcpt=1 (queue active)",
                ], "www-data@mx1.example.test", .localUser
            ),
            (["\(h) postfix/pickup[1]: \(qid): uid=0 from=<>"], "uid=0", .localUser),
            // Log started mid-message: only the qmgr line is known.
            (["\(h) postfix/qmgr[2]: \(qid): from=<x@y>, size=1, nrcpt=1 (queue active)"], "x@y", .sender),
            // A null-sender message from a client is not this server's notice.
            (
                [
                    "\(h) postfix/smtpd[1]: \(qid): client=mx.remote[192.0.2.7]",
                    "\(h) postfix/qmgr[2]: \(qid): from=<>, size=1, nrcpt=1 (queue active)",
                ], "<>", .sender
            ),
        ])
    func accountResolution(lines: [String], account: String, source: AccountSource) throws {
        let (events, outcomes, parser) = run(lines + [delivery()])
        #expect(outcomes.last == .used)
        let e = try #require(events.first)
        #expect(e.account == account)
        #expect(e.accountSource == source)
        #expect(parser.counters.nonDeliveryNotices == 0)
    }

    @Test(
        "The account header is believed only from a trusted login, a trusted network or a local submission",
        arguments: [
            // (submission line, account, source, login, client IP)
            (
                "postfix/submission/smtpd[1]: \(qid): client=unknown[203.0.113.5], sasl_method=PLAIN, sasl_username=mallory@evil.test",
                "mallory@evil.test", AccountSource.authenticated, "mallory@evil.test" as String?,
                "203.0.113.5" as String?
            ),
            (
                "postfix/smtpd[1]: \(qid): client=app-1[192.0.2.21], sasl_method=PLAIN, sasl_username=notify@notify.example.net",
                "t-10001", .header, "notify@notify.example.net", "192.0.2.21"
            ),
            (
                "postfix/smtpd[1]: \(qid): client=localhost[::1], sasl_method=PLAIN, sasl_username=alice@example.net",
                "t-10001", .header, "alice@example.net", "::1"
            ),
            ("postfix/pickup[1]: \(qid): uid=33 from=<www-data@mx1>", "t-10001", .header, "www-data@mx1", nil),
            // No SASL login, a client outside the trusted networks: the sender.
            (
                "postfix/smtpd[1]: \(qid): client=mx.remote[198.51.100.9]", "alice@example.net", .sender, nil,
                "198.51.100.9"
            ),
        ] as [(String, String, AccountSource, String?, String?)])
    func headerTrust(submission: String, account: String, source: AccountSource, login: String?, ip: String?) throws {
        let lines = [
            "\(h) \(submission)",
            "\(h) postfix/cleanup[3]: \(qid): warning: header X-Account-Id: t-10001 from x[1.2.3.4]; from=<a@b> to=<c@d>",
            "\(h) postfix/qmgr[2]: \(qid): from=<alice@example.net>, size=1, nrcpt=1 (queue active)",
            delivery(),
        ]
        let (events, outcomes, _) = run(lines)
        #expect(outcomes.allSatisfy { $0 == .used })
        let e = try #require(events.first)
        #expect(e.account == account)
        #expect(e.accountSource == source)
        #expect(e.login == login)
        #expect(e.clientIP == ip)
        #expect(e.claimedAccount == (source == .header ? nil : "t-10001"))
    }

    @Test("Known queue id without any account source is rejected as unknown")
    func noAccount() {
        let (events, outcomes, _) = run(["\(h) postfix/cleanup[3]: \(qid): message-id=<m@x>", delivery()])
        #expect(outcomes == [.used, .rejected(.unknownQueueID)])
        #expect(events.isEmpty)
    }

    @Test("Client addresses: unknown[ip], IPv6 with and without prefix, orig_client")
    func clientIPs() {
        for (client, ip) in [
            ("unknown[127.0.0.12]", "127.0.0.12"), ("mail.example[2001:db8::1]", "2001:db8::1"),
            ("mail.example[IPv6:2001:db8::2]", "2001:db8::2"),
            ("localhost[127.0.0.1], orig_queue_id=ABCDE12345, orig_client=mx.example[192.0.2.9]", "192.0.2.9"),
        ] {
            let (events, _, _) = run([
                "\(h) postfix/smtpd[1]: \(qid): client=\(client)",
                "\(h) postfix/qmgr[2]: \(qid): from=<a@b>, size=1, nrcpt=1 (queue active)", delivery(),
            ])
            #expect(events.first?.clientIP == ip)
        }
    }

    // MARK: Joining

    @Test("Deferred then sent: one event with the first status and time; a retried qmgr line changes nothing")
    func deferredThenSent() throws {
        let later = "Nov 29 05:39:42 mx1"
        let (events, outcomes, parser) = run(
            arrival() + [
                delivery(to: "greylist@x.test", status: "deferred"),
                delivery(to: "ok@x.test", status: "sent"),
                "\(later) postfix/qmgr[2]: \(qid): from=<alice@example.net>, size=582, nrcpt=2 (queue active)",
                delivery(to: "greylist@x.test", status: "sent", time: later),
                "\(later) postfix/qmgr[2]: \(qid): removed",
            ])
        #expect(outcomes.allSatisfy { $0 == .used })
        #expect(events.map(\.recipient) == ["greylist@x.test", "ok@x.test"])
        #expect(events.map(\.status) == [.deferred, .sent])
        #expect(events[0].time == EventTime(seconds: 1_795_930_182))
        #expect(parser.openMessages == 0)
        #expect(parser.counters.events == 2)
    }

    @Test("orig_to is the recipient; an alias expanding to two mailboxes is one recipient")
    func origTo() {
        let (events, _, _) = run(
            arrival() + [
                "\(h) postfix/local[3]: \(qid): to=<a@mx1>, orig_to=<team@mx1>, relay=local, delay=0, status=sent (delivered to mailbox)",
                "\(h) postfix/local[3]: \(qid): to=<b@mx1>, orig_to=<team@mx1>, relay=local, delay=0, status=sent (delivered to mailbox)",
                "\(h) postfix/smtp[3]: \(qid): to=<\"a b\"@x.test>, relay=x[1.2.3.4]:25, status=bounced (no)",
            ])
        #expect(events.map(\.recipient) == ["team@mx1", "\"a b\"@x.test"])
    }

    @Test("Notices: bounce-named queue ids and local null-sender messages yield no events and count once")
    func notices() {
        let (events, outcomes, parser) = run(
            arrival() + [
                delivery(to: "nouser@x.test", status: "bounced"),
                "\(h) postfix/cleanup[3]: AFCFBFA204: message-id=<20261129052947.AFCFBFA204@mx1.example.test>",
                "\(h) postfix/bounce[4]: \(qid): sender non-delivery notification: AFCFBFA204",
                "\(h) postfix/qmgr[2]: AFCFBFA204: from=<>, size=2721, nrcpt=1 (queue active)",
                delivery("AFCFBFA204", to: "alice@example.net"),
                "\(h) postfix/qmgr[2]: AFCFBFA204: removed",
                // A null-sender message with no client, SASL user or submitter (bounce line not seen).
                "\(h) postfix/cleanup[3]: 6F123FA249: message-id=<x@mx1>",
                "\(h) postfix/qmgr[2]: 6F123FA249: from=<>, size=2421, nrcpt=1 (queue active)",
                delivery("6F123FA249", to: "root@mx1", daemon: "local"),
            ])
        #expect(outcomes.allSatisfy { $0 == .used })
        #expect(events.map(\.recipient) == ["nouser@x.test"])
        #expect(parser.counters.nonDeliveryNotices == 2)
    }

    @Test("Rejected messages: cleanup reject/discard and smtpd milter-reject at end of message drop the message")
    func rejectedMessages() {
        let sep = "from unknown[127.0.0.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>"
        for line in [
            "\(h) postfix/cleanup[3]: \(qid): reject: header Subject: buy now \(sep): 5.7.1 no spam",
            "\(h) postfix/cleanup[3]: \(qid): discard: body bad stuff \(sep): drop",
            "\(h) postfix/cleanup[3]: \(qid): milter-discard: END-OF-MESSAGE from unknown[127.0.0.11]: milter triggers DISCARD action; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
            "\(h) postfix/smtpd[1]: \(qid): milter-reject: END-OF-MESSAGE from unknown[127.0.0.11]: 5.7.1 spam; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
        ] {
            let (events, outcomes, parser) = run(arrival() + [line, delivery()])
            #expect(outcomes == [.used, .used, .used, .rejected(.unknownQueueID)], "\(line)")
            #expect(events.isEmpty)
            #expect(parser.openMessages == 0)
            #expect(parser.counters.incompleteMessages == 0)
        }
        // smtpd refusing one recipient after the queue id exists does not drop the message.
        let (events, outcomes, _) = run(
            arrival() + [
                "\(h) postfix/smtpd[1]: \(qid): reject: RCPT from unknown[127.0.0.11]: 550 5.1.1 <n@mx1>: Recipient address rejected; from=<a@b> to=<n@mx1> proto=ESMTP helo=<h>",
                delivery(),
            ])
        #expect(outcomes[2] == .ignored)
        #expect(events.count == 1)
    }

    @Test("Content filter re-injection: the filter hop is not a send, the new message inherits the SASL user")
    func contentFilter() throws {
        let (events, _, _) = run(
            arrival("AAAA11111A", sasl: "carol@example.org", sender: "carol@example.org") + [
                "\(h) postfix/cleanup[3]: AAAA11111A: warning: header Subject: Hello from unknown[127.0.0.11]; from=<carol@example.org> to=<x@y> proto=ESMTP helo=<h>",
                "\(h) postfix/smtpd[7]: BBBB22222B: client=localhost[127.0.0.1], orig_queue_id=AAAA11111A, orig_client=unknown[127.0.0.11]",
                "\(h) postfix/qmgr[2]: BBBB22222B: from=<carol@example.org>, size=1, nrcpt=1 (queue active)",
                delivery("AAAA11111A", to: "x@y"),
                delivery("BBBB22222B", to: "x@y"),
            ])
        let e = try #require(events.first)
        #expect(events.count == 1)
        #expect(e.queueID == "BBBB22222B")
        #expect(e.account == "carol@example.org")
        #expect(e.accountSource == .authenticated)
        #expect(e.subject == "Hello")
        #expect(e.clientIP == "127.0.0.11")
    }

    @Test("Long queue ids and RFC 3339 timestamps")
    func longQueueIDs() throws {
        let t = "2026-11-29T05:31:13.964711+00:00 vm"
        let id = "4jcbNd6rkhz7hqW"
        let (events, outcomes, _) = run([
            "\(t) postfix/submission/smtpd[30644]: \(id): client=unknown[127.0.0.13], sasl_method=PLAIN, sasl_username=carol@example.org",
            "\(t) postfix/cleanup[30648]: \(id): message-id=<20261129053113.000001.e8e25d94@example.org>",
            "\(t) postfix/qmgr[30640]: \(id): from=<carol@example.org>, size=551, nrcpt=1 (queue active)",
            "\(t) postfix/smtp[30652]: \(id): to=<mei69@mailbox.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.02, status=sent (250 ok)",
            "\(t) postfix/qmgr[30640]: \(id): removed",
        ])
        #expect(outcomes.allSatisfy { $0 == .used })
        let e = try #require(events.first)
        #expect(e.queueID == id)
        #expect(e.host == "vm")
        #expect(e.messageID == "20261129053113.000001.e8e25d94@example.org")
        #expect(e.time == EventTime(microseconds: 1_795_930_273_964_711))
    }

    @Test(
        "Queue id shapes",
        arguments: [
            ("92081FA1B1", true), ("0F5383D", true), ("ED06590130AA1C9D6D862", true), ("4jcbNd6rkhz7hqW", true),
            ("4jcbNf1QwPz7hqX", true), ("NOQUEUE", false), ("warning", false), ("statistics", false),
            ("ABC", false),
            ("4jcbNd6rkh7hqW", false),  // long, without z
            ("abcdefzhijk", false),  // vowels
        ])
    func queueIDShapes(id: String, valid: Bool) {
        let (_, outcomes, _) = run(["\(h) postfix/qmgr[2]: \(id): from=<a@b>, size=1, nrcpt=1 (queue active)"])
        #expect(outcomes == [valid ? .used : .ignored])
    }

    @Test("Year rollover: Dec 31 then Jan 1 lines join into one message across the new year")
    func yearRollover() throws {
        let modified = EventTime(seconds: 1_798_848_000)  // 2027-01-02T00:00:00Z
        let (events, _, _) = run(
            [
                "Dec 31 23:59:59 mx1 postfix/smtpd[1]: \(qid): client=unknown[127.0.0.11], sasl_method=PLAIN, sasl_username=alice@example.net",
                "Dec 31 23:59:59 mx1 postfix/qmgr[2]: \(qid): from=<alice@example.net>, size=1, nrcpt=2 (queue active)",
                delivery(to: "a@x.test", time: "Dec 31 23:59:59 mx1"),
                delivery(to: "b@x.test", time: "Jan  1 00:00:01 mx1"),
            ], hint: .modified(modified))
        #expect(events.map(\.time) == [EventTime(seconds: 1_798_761_599), EventTime(seconds: 1_798_761_601)])
    }

    @Test("Eviction at the bound: least recently touched first, counted incomplete and evicted")
    func eviction() {
        let config = FormatConfiguration(maxOpenMessages: 2)
        let (events, outcomes, parser) = run(
            arrival("AAAAA00001") + arrival("AAAAA00002")
                + [delivery("AAAAA00001", to: "keep@x.test")]  // touches 00001, so 00002 is the oldest
                + arrival("AAAAA00003")
                + [delivery("AAAAA00002"), delivery("AAAAA00001", to: "again@x.test"), delivery("AAAAA00003")],
            configuration: config)
        #expect(outcomes.suffix(3) == [.rejected(.unknownQueueID), .used, .used])
        #expect(events.map(\.queueID) == ["AAAAA00001", "AAAAA00001", "AAAAA00003"])
        #expect(parser.counters.evictedMessages == 1)
        #expect(parser.counters.incompleteMessages == 1)
        #expect(parser.openMessages == 2)
        var p = parser
        var none: EventBatch = []
        p.finish(into: &none)
        #expect(p.counters.incompleteMessages == 3)
        #expect(p.counters.evictedMessages == 1)
        #expect(p.openMessages == 0)
    }

    @Test("Expiry by event time: idle messages are dropped lazily and counted incomplete")
    func expiry() {
        let config = FormatConfiguration(openMessageTimeoutSeconds: 3600)
        let (events, outcomes, parser) = run(
            arrival("AAAAA00001") + arrival("AAAAA00002") + [
                delivery("AAAAA00002", to: "x@y", time: "Nov 29 06:00:00 mx1"),
                // 05:29:42 + 1 h < 06:30:00: 00001 is idle too long; 00002 was touched at 06:00.
                "Nov 29 06:30:00 mx1 postfix/smtpd[1]: connect from unknown[127.0.0.11]",
                delivery("AAAAA00001", time: "Nov 29 06:30:01 mx1"),
                delivery("AAAAA00002", to: "z@y", time: "Nov 29 06:30:02 mx1"),
            ], configuration: config)
        #expect(outcomes.suffix(3) == [.ignored, .rejected(.unknownQueueID), .used])
        #expect(events.count == 2)
        #expect(parser.counters.incompleteMessages == 1)
        #expect(parser.counters.evictedMessages == 0)
        #expect(parser.openMessages == 1)
    }

    @Test("State survives across inputs; beginInput resets the year inference only")
    func acrossInputs() {
        var parser = PostfixParser()
        var events: EventBatch = []
        parser.beginInput(yearHint: .year(2026))
        for l in arrival() { _ = Array(l.utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) } }
        parser.beginInput(yearHint: .year(2026))
        let o = Array(delivery().utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) }
        #expect(o == .used)
        #expect(events.count == 1)
    }

    @Test(
        "Hostile lines never crash",
        arguments: [
            "\(h) postfix/cleanup[3]: \(qid): warning: header Subject: "
                + String(repeating: " from x[1]; from=<", count: 2000),
            "\(h) postfix/cleanup[3]: \(qid): warning: header Subject: " + String(repeating: "=?utf-8?q?", count: 3000),
            "\(h) postfix/smtp[3]: \(qid): to=<" + String(repeating: ">", count: 5000),
            "\(h) postfix/smtpd[1]: \(qid): client=" + String(repeating: "[", count: 5000),
            "\(h) postfix/bounce[4]: \(qid): sender non-delivery notification: ",
            "\(h) postfix/qmgr[2]: \(qid): from=<",
            "\(h) postfix/qmgr[2]: \(qid): ",
            "\(h) postfix/: \(qid): to=<a>, status=sent",
            "\(h) /smtp[3]: \(qid): to=<a>, status=sent",
            "\(h) postfix/smtp[3]: \(qid): to=",
            "\(h) postfix/smtp[3]: \(qid): to=<a>, orig_to=",
            "\(h) postfix/smtp[3]: \(qid): to=<a>, status=",
        ])
    func hostile(line: String) {
        let (_, outcomes, parser) = run(arrival() + [line, delivery()])
        #expect(outcomes.count == 4)
        #expect(parser.counters.lines == 4)
    }
}
