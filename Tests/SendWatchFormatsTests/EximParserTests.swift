import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// Runs lines through one parser; returns the parser, the events and each line's outcome.
private func run(
    _ lines: [String], configuration: FormatConfiguration = .init(), yearHint: YearHint = .year(2026),
    finish: Bool = false
) -> (parser: EximParser, events: [SendEvent], outcomes: [LineOutcome]) {
    var parser = EximParser(configuration: configuration)
    parser.beginInput(yearHint: yearHint)
    var events: EventBatch = []
    var outcomes: [LineOutcome] = []
    for line in lines {
        var bytes = Array(line.utf8)
        outcomes.append(bytes.withUnsafeMutableBytes { parser.parse(line: UnsafeRawBufferPointer($0), into: &events) })
    }
    if finish { parser.finish(into: &events) }
    return (parser, events, outcomes)
}

private let t = "2026-11-29 05:35:47"
private let id = "1xXXZj-0000c0-39"
private let arrival =
    "\(t) \(id) <= bob@example.net H=([127.0.0.12]) [127.0.0.12]:49079 P=esmtpa A=plain_server:bob@example.net "
    + "S=573 id=20261129053547.000001.2b5eadad@example.net T=\"Photos\" for ben@mailbox.test ximena@uni.example.edu"

@Suite struct EximParserTests {
    @Test("Account keys are folded to ASCII lowercase")
    func accountCaseFolded() throws {
        let upper = arrival.replacingOccurrences(of: "A=plain_server:bob@", with: "A=plain_server:BoB@")
        let r = run([upper, "\(t) \(id) => ben@mailbox.test R=r T=t"])
        #expect(r.events.map(\.account) == ["bob@example.net"])
        #expect(r.events.first?.login == "BoB@example.net")
    }

    // MARK: Single-line classification, one case per RejectReason

    @Test(
        "Single lines are classified",
        arguments: [
            (
                "\(t) exim 4.96 daemon started: pid=2265, -q20s, listening for SMTP on [127.0.0.1]:{25,587}",
                LineOutcome.ignored
            ),
            ("\(t) Start queue run: pid=2267", .ignored),
            ("\(t) End queue run: pid=5009 -qff", .ignored),
            (
                "\(t) H=(bad.example) [127.0.0.2]:45609 F=<spammer@bad.example> rejected RCPT <p@webmail.example>: relay not permitted",
                .ignored
            ),
            (
                "\(t) plain_server authenticator failed for (brute.example) [127.0.0.50]:48347: 535 Incorrect authentication data (set_id=alice@example.net)",
                .ignored
            ),
            ("\(t) SMTP connection from (helo) [192.0.2.1]:4567 lost", .ignored),
            ("\(t) no host name found for IP address 192.0.2.8", .ignored),
            ("\(t) TLS error on connection from (helo) [192.0.2.1]:4567 (SSL_accept): error:0A000126", .ignored),
            ("\(t) \(id) Spool file is locked (another process is handling this message)", .ignored),
            ("\(t) \(id) H=127.0.0.1 [127.0.0.1] Connection refused", .ignored),
            ("\(t) \(id) Completed", .ignored),
            ("\(t) \(id) X-Account-Id: acct-1002", .used),
            ("\(t) \(id) X-Unrelated: value", .ignored),
            ("\(t)", .ignored),
            // A blank line is irrelevant, not a broken timestamp (issue 14).
            ("", .ignored),
            ("******** SERVER ********", .rejected(.badTimestamp)),
            ("2026-13-29 05:35:47 \(id) Completed", .rejected(.badTimestamp)),
            ("2026-11-29 05:35 \(id) Completed", .rejected(.badTimestamp)),
            ("2026-11-29 05:35:47x \(id) Completed", .rejected(.badTimestamp)),
            ("1899-11-29 05:35:47 \(id) Completed", .rejected(.timestampOutOfRange)),
            ("2301-11-29 05:35:47 \(id) Completed", .rejected(.timestampOutOfRange)),
            ("Jun 29 16:04:19 server", .rejected(.notSyslog)),
            ("Jun 29 16:04:19 server dovecot[12]: imap-login: Login: user=<a>", .ignored),
            ("\(t) \(id) Completed\u{0}", .rejected(.nulByte)),
            ("\(t) \(id) <= ", .rejected(.malformed)),
            ("\(t) \(id) => ", .rejected(.malformed)),
            ("\(t) \(id) => a@b R=r T=t", .rejected(.unknownQueueID)),
            ("\(t) \(id) == a@b routing defer (-52): retry time not reached", .rejected(.unknownQueueID)),
            ("\(t) \(id) => a@b F=<> R=r T=t", .ignored),
            ("\(t) 1xXXZj-0000c0-3 => a@b F=<s@x> R=r T=t", .ignored),
            ("\(t) 1xXXZj_0000c0-39 => a@b F=<s@x> R=r T=t", .ignored),
        ])
    func classify(line: String, expected: LineOutcome) {
        let r = run([line])
        #expect(r.outcomes == [expected])
        let c = r.parser.counters
        #expect(c.lines == 1)
        #expect(c.ignored + c.rejectedTotal + (expected == .used ? 1 : 0) == 1)
        if case .rejected(let reason) = expected { #expect(c.rejected[reason] == 1) }
    }

    // MARK: Arrival + delivery

    @Test("A normal message yields one event per recipient with every field")
    func normalMessage() throws {
        let r = run(
            [
                "\(t) \(id) X-Account-Id: acct-1002",
                arrival,
                "\(t) \(id) => ben@mailbox.test F=<bob@example.net> R=smarthost T=remote_smtp S=594 H=127.0.0.1 [127.0.0.1] C=\"250 2.0.0 Ok: queued as SINK000001\"",
                "\(t) \(id) -> ximena@uni.example.edu F=<bob@example.net> R=smarthost T=remote_smtp S=594 H=127.0.0.1 [127.0.0.1] C=\"250 2.0.0 Ok\"",
                "\(t) \(id) Completed",
            ], finish: true)
        #expect(r.outcomes == [.used, .used, .used, .used, .used])
        #expect(r.events.count == 2)
        let e = try #require(r.events.first)
        #expect(e.time.description == "2026-11-29T05:35:47Z")
        #expect(e.host == nil)
        #expect(e.account == "acct-1002")
        #expect(e.accountSource == .header)
        #expect(e.sender == "bob@example.net")
        #expect(e.recipient == "ben@mailbox.test")
        #expect(e.subject == "Photos")
        #expect(e.template == nil)
        #expect(e.messageID == "20261129053547.000001.2b5eadad@example.net")
        #expect(e.queueID == id)
        #expect(e.clientIP == "127.0.0.12")
        #expect(e.status == .sent)
        #expect(r.events[1].recipient == "ximena@uni.example.edu")
        #expect(r.parser.counters.events == 2)
        #expect(r.parser.counters.incompleteMessages == 0)
    }

    @Test(
        "Delivery line forms give the recipient and status",
        arguments: [
            ("=> a@b.test F=<bob@example.net> R=r T=remote_smtp", "a@b.test", DeliveryStatus.sent),
            ("-> a@b.test F=<bob@example.net> R=r T=remote_smtp", "a@b.test", .sent),
            (">> a@b.test R=r T=remote_smtp H=127.0.0.1 [127.0.0.1]", "a@b.test", .sent),
            ("*> a@b.test R=r T=remote_smtp", "a@b.test", .discarded),
            (
                "** a@b.test F=<bob@example.net> R=r T=t H=h [1.2.3.4]: SMTP error from remote mail server after RCPT TO:<a@b.test>: 550 F=<evil@x>",
                "a@b.test", .bounced
            ),
            (
                "** nosuchuser@mx1.example.test F=<root@mx1.example.test>: Unrouteable address",
                "nosuchuser@mx1.example.test", .bounced
            ),
            ("** b@known.ex: retry timeout exceeded", "b@known.ex", .bounced),
            (
                "== greylist@b.test R=smarthost T=remote_smtp defer (-44) H=127.0.0.1 [127.0.0.1]: 451 Greylisted",
                "greylist@b.test", .deferred
            ),
            ("== d@b.test routing defer (-52): retry time not reached", "d@b.test", .deferred),
            (
                "=> root <root@mx1.example.test> F=<root@mx1.example.test> R=local_user T=local_delivery S=759",
                "root@mx1.example.test", .sent
            ),
            ("=> /dev/null <x@y.test> R=null T=devnull", "x@y.test", .sent),
            ("=> |/usr/bin/procmail -d bob <bob@y.test> R=userforward T=address_pipe", "bob@y.test", .sent),
            (
                "== |/non/existing/file <userx@test.ex> R=userforward defer (-30): pipe_transport unset",
                "userx@test.ex", .deferred
            ),
            (
                "=> :blackhole: <void@blackhole.example.com> R=blackhole_router", "void@blackhole.example.com",
                .discarded
            ),
            ("=> jdoe@local.test (list@x.test) <top@x.test> F=<bob@example.net> R=r T=t", "top@x.test", .sent),
            ("=> \"john smith\"@x.test F=<bob@example.net> R=r T=t", "\"john smith\"@x.test", .sent),
        ])
    func deliveryForms(body: String, recipient: String, status: DeliveryStatus) throws {
        let r = run([arrival, "\(t) \(id) \(body)"])
        #expect(r.outcomes == [.used, .used])
        let e = try #require(r.events.first)
        #expect(r.events.count == 1)
        #expect(e.recipient == recipient)
        #expect(e.status == status)
        #expect(e.account == "bob@example.net")
        #expect(e.accountSource == .authenticated)
    }

    @Test("Only the first attempt per recipient makes an event")
    func firstAttemptWins() {
        let r = run([
            arrival,
            "\(t) \(id) == ben@mailbox.test R=smarthost T=remote_smtp defer (-44): 451 later",
            "\(t) \(id) == ben@mailbox.test routing defer (-52): retry time not reached",
            "2026-11-29 05:45:47 \(id) => ben@mailbox.test F=<bob@example.net> R=smarthost T=remote_smtp",
            "2026-11-29 05:45:47 \(id) -> ximena@uni.example.edu F=<bob@example.net> R=smarthost T=remote_smtp",
            "2026-11-29 05:45:47 \(id) -> ximena@uni.example.edu F=<bob@example.net> R=smarthost T=remote_smtp",
        ])
        #expect(r.events.map(\.recipient) == ["ben@mailbox.test", "ximena@uni.example.edu"])
        #expect(r.events.map(\.status) == [.deferred, .sent])
        #expect(r.events[0].time.description == "2026-11-29T05:35:47Z")
        #expect(r.outcomes.allSatisfy { $0 == .used })
    }

    @Test("A message with many recipients stays deduplicated past the small-array limit")
    func manyRecipients() {
        var lines = [arrival]
        for k in 0..<100 { lines.append("\(t) \(id) -> r\(k)@x.test F=<bob@example.net> R=r T=t") }
        for k in 0..<100 { lines.append("\(t) \(id) == r\(k)@x.test R=r T=t defer (-1): again") }
        let r = run(lines)
        #expect(r.events.count == 100)
        #expect(Set(r.events.map(\.recipient)).count == 100)
    }

    // MARK: Subjects

    @Test(
        "T= subjects are decoded and never confuse the other fields",
        arguments: [
            ("T=\"Photos from the weekend\"", "Photos from the weekend" as String?),
            ("T=\"He said \\\"ship it\\\" and left\"", "He said \"ship it\" and left"),
            ("T=\"Path is C:\\\\Users\\\\alice and ends with \\\\\"", "Path is C:\\Users\\alice and ends with \\"),
            ("T=\"Gr\\303\\274\\303\\237e aus M\\303\\274nchen\"", "Grüße aus München"),
            ("T=\"\\360\\237\\223\\246\"", "📦"),
            ("T=\"keeps going and\\n going on\"", "keeps going and going on"),
            ("T=\"two-line subject,\\n  that is\"", "two-line subject,  that is"),
            ("T=\"Tab\tinside\"", "Tab\tinside"),
            ("T=\"Tab\\tescaped\"", "Tab\tescaped"),
            ("T=\"\"", ""),
            // Not UTF-8: read as Latin-1.
            ("T=\"Patrik F\\344ltstr\\366m\"", "Patrik Fältström"),
            ("T=\"caf\\351 \\251 2026\"", "café © 2026"),
            // Valid UTF-8 stays UTF-8; one stray byte makes the whole value Latin-1.
            ("T=\"M\\303\\274nchen \\351\"", "MÃ¼nchen é"),
            ("T=\"subject containing \\b\\b backspaces\"", "subject containing \u{8}\u{8} backspaces"),
            ("T=\"unknown \\q escape\"", "unknown \\q escape"),
            (
                "T=\"Weekly digest for evil@x.test id=fake@x T=\\\"nested\\\" H=[6.6.6.6] A=p:mallory\"",
                "Weekly digest for evil@x.test id=fake@x T=\"nested\" H=[6.6.6.6] A=p:mallory"
            ),
            ("T=\" for \"", " for "),
            // A last encoded word cut by Exim's limit is decoded as far as it goes (the real capture's line 736);
            // a complete word Exim left literal stays.
            (
                "T=\"Gr\\303\\266\\303\\237e \\342\\200\\223 bitte\\n  =?utf-8?q?pr=C3=BCfen=3A_=C3=84nderungen_an_Bestellunge\"",
                "Größe – bitte  prüfen: Änderungen an Bestellunge"
            ),
            ("T=\"literal =?x-nope?q?abc?=\"", "literal =?x-nope?q?abc?="),
            ("", nil),
        ])
    func subjects(field: String, expected: String?) throws {
        let line =
            "\(t) \(id) <= bob@example.net H=(h) [127.0.0.12]:1 P=esmtpa A=plain_server:bob@example.net S=1 "
            + "id=real@example.net \(field) for ben@mailbox.test"
        let r = run([line, "\(t) \(id) => ben@mailbox.test F=<bob@example.net> R=r T=t"])
        let e = try #require(r.events.first)
        #expect(r.events.count == 1)
        #expect(e.subject == expected)
        #expect(e.messageID == "real@example.net")
        #expect(e.clientIP == "127.0.0.12")
        #expect(e.account == "bob@example.net")
    }

    @Test("Fields may come in any order, after T= too")
    func fieldOrder() throws {
        let line =
            "\(t) \(id) <= bob@example.net T=\"Order id=wrong@x for z@z\" P=esmtpa id=<right@x> "
            + "A=dovecot_plain:user:with:colons H=mail.example (helo) [2001:db8::1]:587 S=5"
        let r = run([line, "\(t) \(id) => z@z.test F=<bob@example.net> R=r T=t"])
        let e = try #require(r.events.first)
        #expect(e.subject == "Order id=wrong@x for z@z")
        #expect(e.messageID == "right@x")
        #expect(e.account == "user:with:colons")
        #expect(e.accountSource == .authenticated)
        #expect(e.clientIP == "2001:db8::1")
    }

    @Test("An unterminated T= (line cut short) keeps the rest of the line as subject")
    func unterminatedSubject() throws {
        let r = run([
            "\(t) \(id) <= bob@example.net H=[1.2.3.4] T=\"cut sho",
            "\(t) \(id) => z@z.test F=<bob@example.net> R=r T=t",
        ])
        #expect(try #require(r.events.first).subject == "cut sho")
    }

    // MARK: H=, U=, A=, accounts

    @Test(
        "H= forms give the client IP",
        arguments: [
            ("H=(helo.example) [192.0.2.1]:25", "192.0.2.1" as String?),
            ("H=mx.example.net (helo.example) [192.0.2.1]:25", "192.0.2.1"),
            ("H=mx.example.net [192.0.2.1]", "192.0.2.1"),
            ("H=[192.0.2.1]:25", "192.0.2.1"),
            ("H=([198.51.100.9]) [192.0.2.1]:49079", "192.0.2.1"),
            ("H=(odd helo with spaces) [192.0.2.1]:1", "192.0.2.1"),
            ("H=[2001:db8::25]:587", "2001:db8::25"),
            (
                "H=localhost (myhost.test.ex) [127.0.0.1] P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no",
                "127.0.0.1"
            ),
            ("H=(unterminated", nil),
            ("H=host-only", nil),
        ])
    func hostField(field: String, ip: String?) throws {
        let r = run([
            "\(t) \(id) <= bob@example.net \(field) S=1 for z@z.test",
            "\(t) \(id) => z@z.test F=<bob@example.net> R=r T=t",
        ])
        #expect(try #require(r.events.first).clientIP == ip)
    }

    @Test(
        "Account resolution: header from a trusted submitter, authenticated id, local user, sender",
        arguments: [
            // The header is believed from a trusted network (loopback by default), a trusted login, or a local
            // submission; from anyone else the login is the account and the header's value is only claimed.
            ("A=plain_server:auth@x.test H=(h) [127.0.0.9]:1", true, "acct-9", AccountSource.header, "auth@x.test"),
            (
                "A=plain_server:notify@notify.example.net H=(h) [1.2.3.4]:1", true, "acct-9", .header,
                "notify@notify.example.net"
            ),
            ("U=www-data P=local", true, "acct-9", .header, "www-data"),
            ("A=plain_server:auth@x.test H=(h) [1.2.3.4]:1", true, "auth@x.test", .authenticated, "auth@x.test"),
            ("H=(h) [1.2.3.4]:1 P=esmtp", true, "s@x.test", .sender, nil),
            ("A=plain_server:auth@x.test H=(h) [1.2.3.4]:1", false, "auth@x.test", .authenticated, "auth@x.test"),
            ("U=www-data P=local", false, "www-data", .localUser, "www-data"),
            ("U=root P=local-esmtp", false, "root", .localUser, "root"),
            ("H=(h) [1.2.3.4]:1 U=identuser P=esmtp", false, "s@x.test", .sender, nil),
            ("H=(h) [1.2.3.4]:1 A=plain", false, "s@x.test", .sender, nil),
            ("H=(h) [1.2.3.4]:1 P=esmtp", false, "s@x.test", .sender, nil),
        ] as [(String, Bool, String, AccountSource, String?)])
    func accounts(fields: String, withHeader: Bool, account: String, source: AccountSource, login: String?) throws {
        var lines: [String] = []
        if withHeader { lines.append("\(t) \(id) X-Account-Id: acct-9") }
        lines += ["\(t) \(id) <= s@x.test \(fields) S=1 for z@z.test", "\(t) \(id) => z@z.test F=<s@x.test> R=r T=t"]
        let e = try #require(run(lines).events.first)
        #expect(e.account == account)
        #expect(e.accountSource == source)
        #expect(e.login == login)
        #expect(e.claimedAccount == (withHeader && source != .header ? "acct-9" : nil))
    }

    @Test("Trusted logins and networks come from the configuration; none trusted means the header is only claimed")
    func configuredTrust() throws {
        let lines = [
            "\(t) \(id) X-Account-Id: t-10001",
            "\(t) \(id) <= s@x.test H=(h) [10.1.2.3]:1 A=plain_server:svc@platform.test S=1 for z@z.test",
            "\(t) \(id) => z@z.test F=<s@x.test> R=r T=t",
        ]
        func account(_ c: FormatConfiguration) throws -> String {
            try #require(run(lines, configuration: c).events.first).account
        }
        #expect(try account(FormatConfiguration()) == "svc@platform.test")
        #expect(try account(FormatConfiguration(accountHeaderLogins: ["svc@platform.test"])) == "t-10001")
        let network = try #require(IPNetwork(parsing: "10.0.0.0/8"))
        #expect(try account(FormatConfiguration(accountHeaderNetworks: [network])) == "t-10001")
        #expect(
            try account(FormatConfiguration(accountHeaderLogins: [], accountHeaderNetworks: [])) == "svc@platform.test")
    }

    @Test("Account headers: first value wins, names match case-insensitively, template header is read")
    func accountHeaders() throws {
        let r = run([
            "\(t) \(id) x-account-id: acct-1003\\nacct-7777",
            "\(t) \(id) X-Account-Id: acct-second",
            "\(t) \(id) X-TEMPLATE-ID: welcome-v2",
            arrival,
            "\(t) \(id) => ben@mailbox.test F=<bob@example.net> R=r T=t",
        ])
        #expect(r.outcomes == [.used, .used, .used, .used, .used])
        let e = try #require(r.events.first)
        #expect(e.account == "acct-1003")
        #expect(e.template == "welcome-v2")
    }

    @Test("A configured header name replaces X-Account-Id")
    func customHeader() throws {
        let config = FormatConfiguration(accountHeader: "X-Tenant", templateHeader: "X-Tpl")
        let r = run(
            [
                "\(t) \(id) X-Account-Id: ignored",
                "\(t) \(id) X-Tenant:   tenant-7  ",
                "\(t) \(id) X-Tpl: t1",
                arrival,
                "\(t) \(id) => ben@mailbox.test F=<bob@example.net> R=r T=t",
            ], configuration: config)
        let e = try #require(r.events.first)
        #expect(r.outcomes[0] == .ignored)
        #expect(e.account == "tenant-7")
        #expect(e.template == "t1")
    }

    // MARK: Bounces, unknown ids

    @Test(
        "Bounces and delay warnings produce no events and are counted",
        arguments: [
            "<= <> R=1xXXZl-0000d1-1r U=Debian-exim P=local S=2261 T=\"Mail delivery failed: returning message to sender\" for dave@example.org",
            "<= <> U=CALLER P=local S=sss",
            "<= postmaster@x.test R=1xXXZl-0000d1-1r U=Debian-exim P=local S=1 for dave@example.org",
        ])
    func bounces(body: String) {
        let r = run(
            [
                "\(t) \(id) \(body)",
                "\(t) \(id) => dave@example.org F=<> R=smarthost T=remote_smtp S=2329",
                "\(t) \(id) ** other@example.org: retry timeout exceeded",
                "\(t) \(id) Completed",
            ], finish: true)
        #expect(r.events.isEmpty)
        #expect(r.outcomes == [.used, .ignored, .ignored, .used])
        #expect(r.parser.counters.nonDeliveryNotices == 1)
        #expect(r.parser.counters.incompleteMessages == 0)
    }

    @Test("A delivery for an unknown id uses F= as account; later lines of it are deduplicated")
    func unknownIDWithSender() throws {
        let r = run(
            [
                "\(t) \(id) => a@x.test F=<bob@example.net> R=r T=t C=\"250 OK\"",
                "\(t) \(id) -> b@x.test F=<bob@example.net> R=r T=t",
                "\(t) \(id) == a@x.test routing defer (-52): retry time not reached",
                "\(t) \(id) == c@x.test routing defer (-52): retry time not reached",
                "\(t) \(id) Completed",
            ], finish: true)
        #expect(r.outcomes == [.used, .used, .used, .used, .used])
        #expect(r.events.map(\.recipient) == ["a@x.test", "b@x.test", "c@x.test"])
        let e = try #require(r.events.first)
        #expect(e.account == "bob@example.net")
        #expect(e.accountSource == .sender)
        #expect(e.sender == "bob@example.net")
        #expect(e.subject == nil)
        #expect(e.clientIP == nil)
        #expect(e.queueID == id)
        #expect(r.parser.counters.incompleteMessages == 0)
    }

    @Test("A bounce with an unknown id (F=<>) is ignored, and so are its later lines")
    func unknownBounce() {
        let r = run([
            "\(t) \(id) => a@x.test F=<> R=r T=t",
            "\(t) \(id) == b@x.test routing defer (-52): retry time not reached",
        ])
        #expect(r.outcomes == [.ignored, .ignored])
        #expect(r.events.isEmpty)
    }

    // MARK: Layout variants

    @Test("New-style (Exim >= 4.97) message ids join like old ones")
    func newStyleIDs() throws {
        let nid = "10HmaX-000000005vi-0000"
        let r = run(
            [
                "1999-03-02 09:44:33 \(nid) <= CALLER@test.ex U=CALLER P=local S=sss T=\"one-line subject\"",
                "1999-03-02 09:44:33 \(nid) => userx <userx@test.ex> R=all T=appendfile",
                "1999-03-02 09:44:33 \(nid) Completed",
            ], finish: true)
        let e = try #require(r.events.first)
        #expect(e.queueID == nid)
        #expect(e.recipient == "userx@test.ex")
        #expect(e.account == "CALLER")
        #expect(e.accountSource == .localUser)
        #expect(e.subject == "one-line subject")
        #expect(r.parser.counters.incompleteMessages == 0)
    }

    @Test(
        "Timestamp variants: +pid, log_timezone offset, fractions",
        arguments: [
            ("2026-11-29 05:35:47 [10099] ", "2026-11-29T05:35:47Z"),
            ("2026-11-29 05:35:47 +0100 ", "2026-11-29T04:35:47Z"),
            ("2026-11-29 05:35:47 -0530 [77] ", "2026-11-29T11:05:47Z"),
            ("2026-11-29 05:35:47.123 ", "2026-11-29T05:35:47.123Z"),
            ("2026-11-29 05:35:47.123 +0100 ", "2026-11-29T04:35:47.123Z"),
        ])
    func timestampVariants(prefix: String, expected: String) throws {
        let r = run([
            "\(prefix)\(id) <= bob@example.net H=(h) [192.0.2.1]:1 A=plain_server:bob S=1 for z@z.test",
            "\(prefix)\(id) => z@z.test F=<bob@example.net> R=r T=t",
        ])
        #expect(r.outcomes == [.used, .used])
        #expect(try #require(r.events.first).time.description == expected)
    }

    @Test("Zone-less timestamps use the configured zone")
    func configuredZone() throws {
        let zone = try #require(LocalTimeZone(parsing: "+02:00"))
        let r = run(
            [arrival, "\(t) \(id) => ben@mailbox.test F=<bob@example.net> R=r T=t"],
            configuration: FormatConfiguration(zone: zone))
        #expect(try #require(r.events.first).time.description == "2026-11-29T03:35:47Z")
    }

    @Test(
        "Syslog-wrapped Exim lines carry the syslog host and time",
        arguments: [
            ("Jun 29 16:04:19 server exim[1234]: ", "server", "2026-06-29T16:04:19Z"),
            ("Jun 29 16:04:19 server exim4[1234]: ", "server", "2026-06-29T16:04:19Z"),
            ("Jun 29 16:04:19 server exim: ", "server", "2026-06-29T16:04:19Z"),
            ("Jun 29 16:04:19 server exim[1234]: 2026-06-29 16:04:19 ", "server", "2026-06-29T16:04:19Z"),
            ("<22>Jun 29 16:04:19 mx2 exim4-daemon[9]: ", "mx2", "2026-06-29T16:04:19Z"),
            ("2026-11-29T05:31:11.903175+00:00 vm exim4[12]: ", "vm", "2026-11-29T05:31:11.903175Z"),
            ("2019-10-22 03:39:17 mx1.fqdn.local exim[29786]: ", "mx1.fqdn.local", "2019-10-22T03:39:17Z"),
        ])
    func syslogWrapped(prefix: String, host: String, time: String) throws {
        let r = run([
            "\(prefix)\(id) <= bob@example.net H=(h) [192.0.2.1]:1 A=plain_server:bob S=1 for z@z.test",
            "\(prefix)\(id) => z@z.test F=<bob@example.net> R=r T=t",
            "\(prefix)\(id) Completed",
        ])
        #expect(r.outcomes == [.used, .used, .used])
        let e = try #require(r.events.first)
        #expect(e.host == host)
        #expect(e.time.description == time)
        #expect(e.account == "bob")
    }

    @Test("Classic syslog time without a year hint is rejected")
    func syslogWithoutYear() {
        let r = run(["Jun 29 16:04:19 server exim[1234]: \(id) Completed"], yearHint: .none)
        #expect(r.outcomes == [.rejected(.badTimestamp)])
    }

    // MARK: Bounds

    @Test("Eviction at a tiny bound drops the least recently touched message")
    func eviction() {
        let config = FormatConfiguration(maxOpenMessages: 2)
        let a = "1xXXZj-0000c0-3a"
        let b = "1xXXZj-0000c0-3b"
        let c = "1xXXZj-0000c0-3c"
        let r = run(
            [
                "\(t) \(a) <= s@x.test H=[1.2.3.4] A=p:acct-a S=1",
                "\(t) \(b) <= s@x.test H=[1.2.3.4] A=p:acct-b S=1",
                "\(t) \(a) == r1@x.test R=r T=t defer (-1): later",  // touches a: b is now the oldest
                "\(t) \(c) <= s@x.test H=[1.2.3.4] A=p:acct-c S=1",  // evicts b
                "\(t) \(b) => r2@x.test R=r T=t",  // b is gone and no F=: unknown
                "\(t) \(b) => r3@x.test F=<s@x.test> R=r T=t",  // with F=: event from the sender
                "\(t) \(c) => r4@x.test R=r T=t",  // c still known (b's orphan evicted a)
            ], configuration: config)
        #expect(r.outcomes == [.used, .used, .used, .used, .rejected(.unknownQueueID), .used, .used])
        #expect(r.events.map(\.account) == ["acct-a", "s@x.test", "acct-c"])
        #expect(r.events[1].accountSource == .sender)
        let cnt = r.parser.counters
        #expect(cnt.evictedMessages == 2)
        #expect(cnt.incompleteMessages == 2)
    }

    @Test("Idle messages expire by event time, not by line count")
    func expiry() {
        let config = FormatConfiguration(openMessageTimeoutSeconds: 60)
        let r = run(
            [
                arrival,
                "2026-11-29 05:36:47 Start queue run: pid=1",  // 60 s later: still open
                "2026-11-29 05:36:47 \(id) => ben@mailbox.test R=r T=t",
                "2026-11-29 05:37:48 Start queue run: pid=2",  // 61 s after the last touch: expired
                "2026-11-29 05:37:48 \(id) -> ximena@uni.example.edu R=r T=t",
            ], configuration: config)
        #expect(r.outcomes == [.used, .ignored, .used, .ignored, .rejected(.unknownQueueID)])
        #expect(r.events.count == 1)
        #expect(r.parser.counters.incompleteMessages == 1)
        #expect(r.parser.counters.evictedMessages == 0)
    }

    @Test("finish drops open messages and counts only arrived ones as incomplete")
    func finishCounts() {
        let r = run(
            [
                arrival,
                "\(t) 1xXXZj-0000c0-40 X-Account-Id: header-only",
                "\(t) 1xXXZj-0000c0-41 <= <> R=\(id) U=Debian-exim P=local S=1",
                "\(t) 1xXXZj-0000c0-42 => a@x.test F=<s@x.test> R=r T=t",
            ], finish: true)
        #expect(r.parser.counters.incompleteMessages == 1)
        #expect(r.events.count == 1)
    }

    @Test("removed by drops the message as incomplete; cancelled by and Frozen keep it open")
    func removedAndCancelled() {
        let r = run(
            [
                arrival,
                "\(t) \(id) Frozen (delivery error message)",
                "\(t) \(id) cancelled by root",
                "\(t) \(id) => ben@mailbox.test R=r T=t",
                "\(t) \(id) removed by root",
                "\(t) \(id) Completed",
            ], finish: true)
        #expect(r.outcomes == [.used, .ignored, .ignored, .used, .used, .ignored])
        #expect(r.events.count == 1)
        #expect(r.parser.counters.incompleteMessages == 1)
    }

    @Test("An id arriving again starts a new message")
    func reArrival() {
        let r = run([
            arrival,
            "\(t) \(id) => ben@mailbox.test F=<bob@example.net> R=r T=t",
            "\(t) \(id) X-Account-Id: acct-new",
            arrival,
            "\(t) \(id) => ben@mailbox.test F=<bob@example.net> R=r T=t",
        ])
        #expect(r.events.map(\.account) == ["bob@example.net", "acct-new"])
        #expect(r.parser.counters.incompleteMessages == 1)
    }

    // MARK: Third-party lines

    /// Lines from the Exim test suite, fail2ban and the CrowdSec hub (see `Fixtures/exim/README.md`).
    @Test(
        "Third-party sample lines do not crash and are classified sensibly",
        arguments: [
            // Exim test suite test/log/0135, 4118, 3451, 0215
            (
                "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=V4NET.0.0.1 [V4NET.0.0.1] Network Error",
                LineOutcome.ignored
            ),
            (
                "1999-03-02 09:44:33 10HmaX-000000005vi-0000 == a@unknown.ex R=default T=smtp defer (dd): Network Error",
                .rejected(.unknownQueueID)
            ),
            ("1999-03-02 09:44:33 10HmbA-000000005vi-0000 b@known.ex: error ignored", .ignored),
            (
                "1999-03-02 09:44:33 10HmaX-000000005vi-0000 U=CALLER F=<CALLER@myhost.test.ex> rejected during MIME ACL checks: this is a deny from the mime acl",
                .ignored
            ),
            (
                "1999-03-02 09:44:33 10HmaX-000000005vi-0000 => userx@test.ex R=client T=send_to_server H=127.0.0.1 [127.0.0.1] PS=esea X=TLS1.x:ke-RSA-AES256-SHAnnn:xxx CV=no DN=\"C=UK,O=The Exim Maintainers,OU=Test Suite,CN=Phil Pennock\" A=plain C=\"250 OK id=10HmaZ-000000005vi-0000\"",
                .rejected(.unknownQueueID)
            ),
            (
                "1999-03-02 09:44:33 10HmbA-000000005vi-0000 -> userxz@myhost.test.ex F=<CALLER@myhost.test.ex> R=smartuser T=lmtp H=127.0.0.1 [127.0.0.1] C=\"250-This one's OK\\\\n250 OK\"",
                .used
            ),
            (
                "1999-03-02 09:44:33 exim x.yz daemon started: pid=p1245, no queue runs, listening for SMTP on port PORT_D",
                .ignored
            ),
            ("******** SERVER ********", .rejected(.badTimestamp)),
            // fail2ban tests/files/logs/exim, exim-spam
            (
                "2013-06-10 18:33:32 [10099] H=(yakult.com.tw) [202.132.70.178]:3755 I=[1.2.3.4]:25 F=menacedsj04@listserv.eurasia.org rejected RCPT dir@ml3.ru: relay not permitted",
                .ignored
            ),
            (
                "2013-06-09 10:21:28 [14127] 1UlasQ-0003fr-45 F=mcorporation4@aol.com H=(mail38.fssprus.ru) [46.254.240.82]:43671 I=[1.2.3.4]:25 P=esmtp rejected by local_scan(): Rejected",
                .ignored
            ),
            (
                "2013-12-30 00:24:50 1VxPit-000MMd-U4 SA: Action: flagged as Spam but accepted: score=8.2 required=5.0 (scanned in 6/6 secs | Message-Id: 008701cf04ed_24497d70_6cdc7850_@xxx.xx). From <spammer@xxx.xx>",
                .ignored
            ),
            (
                "2019-10-22 03:39:17 mx1.fqdn.local exim[29786]: dovecot_login authenticator failed for (User) [192.0.2.37]: 535 Incorrect authentication data (set_id=test@domain.com)",
                .ignored
            ),
            (
                "mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed for ([192.0.2.17]) [192.0.2.27]: 535 Incorrect authentication data",
                .rejected(.badTimestamp)
            ),
            (
                "2013-06-02 09:22:08 SMTP call from xxx.example.com [192.0.2.109] dropped: too many syntax or protocol errors (last command was \"\\300\\024?\\234?\\235?/?5\\300\\022?\",  C=EHLO)",
                .ignored
            ),
            // CrowdSec hub .tests/exim-syslog-logs, exim-logs
            (
                "Jun 29 16:04:19 server exim[1234]: dovecot_login authenticator failed for ([1.2.3.5]) [1.2.3.4]:55379: 535 Incorrect authentication data (set_id=abuse@test.com)",
                .ignored
            ),
            (
                "Jun 29 15:33:46 server exim[1234]: H=test.com [1.2.3.4]:53343 F=<info@test.com> rejected RCPT <toto@toto.com>: \"JunkMail rejected - test.com [1.2.3.4]:53343 is in an RBL\"",
                .ignored
            ),
            (
                "Jun 29 14:33:43 server exim[1234]: H=test.sa.com [1.2.3.4]:18146 temporarily rejected connection in \"connect\" ACL: \"Host is ratelimited (1.9/1h max:1.2)\"",
                .ignored
            ),
        ])
    func thirdParty(line: String, expected: LineOutcome) {
        #expect(run([line]).outcomes == [expected])
    }

    @Test("Every prefix of tricky lines parses without crashing")
    func prefixes() {
        let lines = [
            arrival,
            "Jun 29 16:04:19 server exim[1234]: 2026-06-29 16:04:19 [12] \(id) <= <> R=\(id) U=Debian-exim P=local S=1",
            "2026-11-29 05:35:47.5 +0100 [1] \(id) => |/usr/bin/x -y <a@b> (p@q) F=<s@x>: done",
            "\(t) \(id) <= s@x H=(a) [b]:1 H=(c T=\"a\\\\\\\" for \\303 A=x:y id=<> R=",
            "\(t) \(id) X-Account-Id: a\\n",
            "\(t) \(id) ** \"unterminated@x F=<",
            "\(t) \(id) => :blackhole: <",
        ]
        var parser = EximParser(configuration: FormatConfiguration(maxOpenMessages: 3))
        parser.beginInput(yearHint: .year(2026))
        var events: EventBatch = []
        var total = 0
        for line in lines {
            let bytes = Array(line.utf8)
            for n in 0...bytes.count {
                bytes.withUnsafeBytes { all in
                    _ = parser.parse(line: UnsafeRawBufferPointer(rebasing: all[0..<n]), into: &events)
                }
                total += 1
            }
        }
        parser.finish(into: &events)
        let c = parser.counters
        #expect(c.lines == total)
        #expect(c.events == events.count)
    }
}
