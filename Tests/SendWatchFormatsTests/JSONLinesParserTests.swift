import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// Parses one line with `parser` and returns the outcome and the events it produced.
private func parse(_ line: [UInt8], _ parser: inout JSONLinesParser) -> (LineOutcome, [SendEvent]) {
    var events: EventBatch = []
    let outcome = line.withUnsafeBytes { parser.parse(line: $0, into: &events) }
    return (outcome, events)
}

private func parse(_ line: String, mapping: JSONFieldMapping = .init()) -> (LineOutcome, [SendEvent]) {
    var parser = JSONLinesParser(mapping: mapping)
    return parse(Array(line.utf8), &parser)
}

/// A minimal valid record with `ts` replaced.
private func record(ts: String) -> String {
    #"{"ts":"# + ts + #","account":"t-1","to":"a@example.org"}"#
}

@Suite struct JSONLinesParserTests {
    @Test("An account with @ is folded to ASCII lowercase (non-ASCII letters kept); an opaque id keeps its case")
    func accountCaseFolded() {
        let (_, events) = parse(#"{"ts":1772442904,"account":"Acct-ÄB7@Example.ORG","to":"a@example.org"}"#)
        #expect(events.map(\.account) == ["acct-Äb7@example.org"])
        let (_, opaque) = parse(#"{"ts":1772442904,"account":"Acct-ÄB7","to":"a@example.org"}"#)
        #expect(opaque.map(\.account) == ["Acct-ÄB7"])
    }

    // MARK: Time forms

    @Test(
        "Time forms: RFC 3339, epoch seconds, milliseconds, numeric strings, fractions",
        arguments: [
            (#""2026-03-02T09:15:04.120+01:00""#, "2026-03-02T08:15:04.120Z"),
            (#""2026-03-02T09:15:04Z""#, "2026-03-02T09:15:04Z"),
            (#""2026-03-02t09:15:04.123456z""#, "2026-03-02T09:15:04.123456Z"),
            (#""2026-03-02T09:15:04-0530""#, "2026-03-02T14:45:04Z"),
            (#""2026-03-02T09:15:04""#, "2026-03-02T09:15:04Z"),
            (#""2026-03-02 09:15:04""#, "2026-03-02T09:15:04Z"),
            ("1772442904", "2026-03-02T09:15:04Z"),
            ("1772442904.25", "2026-03-02T09:15:04.250Z"),
            ("1772442904.1234567", "2026-03-02T09:15:04.123456Z"),
            ("1.772442904e9", "2026-03-02T09:15:04Z"),
            ("1772442904120", "2026-03-02T09:15:04.120Z"),
            ("1772442904120.5", "2026-03-02T09:15:04.120500Z"),
            ("17724429041200e-1", "2026-03-02T09:15:04.120Z"),
            (#""1772442904""#, "2026-03-02T09:15:04Z"),
            (#""1772442904120""#, "2026-03-02T09:15:04.120Z"),
            (#""1772442904.5""#, "2026-03-02T09:15:04.500Z"),
            (#""2026\u002d03-02T09:15:04Z""#, "2026-03-02T09:15:04Z"),
            ("631152000", "1990-01-01T00:00:00Z"),
            ("7289654399", "2200-12-31T23:59:59Z"),
        ])
    func timeForms(ts: String, expected: String) throws {
        let (outcome, events) = parse(record(ts: ts))
        #expect(outcome == .used)
        let event = try #require(events.first)
        #expect(event.time.description == expected)
    }

    @Test("Offset-less RFC 3339 times use the configured zone")
    func zone() throws {
        var parser = JSONLinesParser(configuration: FormatConfiguration(zone: LocalTimeZone(offsetSeconds: 3600)))
        let (outcome, events) = parse(Array(record(ts: #""2026-03-02T09:15:04""#).utf8), &parser)
        #expect(outcome == .used)
        #expect(try #require(events.first).time.description == "2026-03-02T08:15:04Z")
    }

    // MARK: Rejections

    @Test(
        "Every reject reason the parser produces",
        arguments: [
            ("{", RejectReason.badJSON),
            (#"{"ts":1772442904,"to":"a@x","account":"t"} trailing"#, .badJSON),
            (#"{"ts":1772442904,"to":"a@x","account":"t",}"#, .badJSON),
            ("{\"ts\":1772442904,\"to\":\"a@x\",\"account\":\"t\tab\"}", .badJSON),
            ("{\"ts\":1772442904,\"to\":\"a@x\",\"account\":\"t\u{0}\"}", .badJSON),
            (#"{"ts":1772442904,"to":"a@x","account":"\x"}"#, .badJSON),
            (#"[{"ts":1772442904,"to":"a@x","account":"t"}]"#, .jsonNotObject),
            (#""ts""#, .jsonNotObject),
            ("17", .jsonNotObject),
            ("null", .jsonNotObject),
            (String(repeating: "[", count: 10_000), .jsonTooDeep),
            (#"{"ts":1772442904,"x":"# + String(repeating: "{\"a\":", count: 10_000), .jsonTooDeep),
            (#"{"to":"a@x","account":"t"}"#, .missingField),
            (#"{"ts":null,"to":"a@x","account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"to":null,"account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"to":"","account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"to":"  ","account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"to":[],"account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"to":[1,null,{"a":"b@x"},["c@x"],""],"account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"to":{"addr":"a@x"},"account":"t"}"#, .missingField),
            (#"{"ts":1772442904,"to":"a@x"}"#, .missingField),
            (#"{"ts":1772442904,"to":"a@x","account":"","sender":""}"#, .missingField),
            (#"{"ts":1772442904,"to":"a@x","account":null,"sender":true}"#, .missingField),
            (record(ts: #""2026-03-02""#), .badTimestamp),
            (record(ts: #""yesterday""#), .badTimestamp),
            (record(ts: #""""#), .badTimestamp),
            (record(ts: #""2026-02-30T00:00:00Z""#), .badTimestamp),
            (record(ts: #""2026-03-02T25:00:00Z""#), .badTimestamp),
            (record(ts: #""2026-03-02T09:15:04Z junk""#), .badTimestamp),
            (record(ts: #""2026-03-02T09:15:04+01""#), .badTimestamp),
            (record(ts: #"" 1772442904""#), .badTimestamp),
            (record(ts: #""0x69a55398""#), .badTimestamp),
            (record(ts: #""1772442904.""#), .badTimestamp),
            (record(ts: "true"), .badTimestamp),
            (record(ts: "[1772442904]"), .badTimestamp),
            (record(ts: #"{"s":1772442904}"#), .badTimestamp),
            (record(ts: #""1889-03-02T09:15:04Z""#), .timestampOutOfRange),
            (record(ts: #""2201-01-01T00:00:00Z""#), .timestampOutOfRange),
            (record(ts: #""9999-12-31T23:59:59.999Z""#), .timestampOutOfRange),
            (record(ts: #""1990-01-01T00:30:00+01:00""#), .timestampOutOfRange),
            (record(ts: "0"), .timestampOutOfRange),
            (record(ts: "-0"), .timestampOutOfRange),
            (record(ts: "-1772442904"), .timestampOutOfRange),
            (record(ts: "1e999"), .timestampOutOfRange),
            (record(ts: "-1e999"), .timestampOutOfRange),
            (record(ts: "1e-999"), .timestampOutOfRange),
            (record(ts: "123456789012345678901234567890"), .timestampOutOfRange),
            (record(ts: "9223372036854775807"), .timestampOutOfRange),
            (record(ts: "18446744073709551616"), .timestampOutOfRange),
            (record(ts: "99999999999"), .timestampOutOfRange),
            (record(ts: "100000000001"), .timestampOutOfRange),
            (record(ts: #""1e999""#), .timestampOutOfRange),
            (record(ts: "631151999"), .timestampOutOfRange),
            (record(ts: "7289654400"), .timestampOutOfRange),
            (record(ts: "7289654400000"), .timestampOutOfRange),
        ])
    func rejects(line: String, reason: RejectReason) {
        var parser = JSONLinesParser()
        let (outcome, events) = parse(Array(line.utf8), &parser)
        #expect(outcome == .rejected(reason))
        #expect(events.isEmpty)
        #expect(parser.counters.rejected == [reason: 1])
        #expect(parser.counters.lines == 1)
    }

    @Test("Empty and whitespace-only lines are ignored", arguments: ["", " ", "\t \r", "\r"])
    func ignored(line: String) {
        var parser = JSONLinesParser()
        let (outcome, events) = parse(Array(line.utf8), &parser)
        #expect(outcome == .ignored)
        #expect(events.isEmpty)
        #expect(parser.counters.ignored == 1)
    }

    // MARK: Default schema

    @Test("The login field is the event's login; the account field is believed as written")
    func login() throws {
        let (outcome, events) = parse(
            #"{"ts":1772442904,"account":"t-10001","login":"api-key-7","client_ip":"198.51.100.7","to":"a@b.test"}"#)
        #expect(outcome == .used)
        let e = try #require(events.first)
        #expect(e.login == "api-key-7")
        #expect(e.account == "t-10001")
        #expect(e.accountSource == .header)
        #expect(e.claimedAccount == nil)
        #expect(parse(record(ts: "1772442904")).1.first?.login == nil)
        let mapped = parse(
            #"{"ts":1772442904,"account":"t-1","auth":{"user":"svc"},"to":"a@b.test"}"#,
            mapping: JSONFieldMapping(login: ["auth", "user"]))
        #expect(mapped.1.first?.login == "svc")
    }

    @Test("subject_cut: true marks the subject cut, as sendwatch events wrote it; anything else does not")
    func subjectCut() throws {
        let head = #"{"ts":1772442904,"account":"t-1","to":"a@b.test""#
        let cut = parse(head + #","subject":"Your parcel is on hold, call","subject_cut":true}"#)
        #expect(cut.0 == .used)
        #expect(cut.1.first?.subjectCut == true)
        for rest in [
            #","subject":"Hi","subject_cut":false}"#, #","subject":"Hi","subject_cut":"true"}"#,
            #","subject":"Hi","subject_cut":1}"#, #","subject":"Hi"}"#, #","subject_cut":true}"#,
        ] {
            let (outcome, events) = parse(head + rest)
            #expect(outcome == .used)
            #expect(events.first?.subjectCut == false, "\(rest)")
        }
        // What sendwatch events writes for a cut subject reads back as that event, with its field names mapped.
        let event = SendEvent(
            time: EventTime(seconds: 1_772_442_904), account: "t-1", accountSource: .header, sender: "n@p.test",
            recipient: "a@b.test", subject: "Your parcel", status: .accepted, subjectCut: true)
        var writer = JSONWriter(capacity: 256)
        event.writeJSONLine(to: &writer)
        let line = String(decoding: writer.bytes, as: UTF8.self).trimmingCharacters(in: .newlines)
        #expect(line.contains(#""subject_cut":true"#))
        let (outcome, events) = parse(
            line, mapping: JSONFieldMapping(time: ["time"], recipients: ["recipient"], template: ["template"]))
        #expect(outcome == .used)
        #expect(events.first?.subjectCut == true)
        #expect(events.first?.subject == "Your parcel")
    }

    @Test("A full default-schema record maps every field")
    func fullRecord() throws {
        let line = #"""
            {"ts":"2026-03-02T09:15:04.120+01:00","account":"t-4821","account_created":"2026-03-02T08:59:10Z",
            "sender":"no-reply@app.example","to":"ana@example.org","subject":"Welcome, Ana","template_id":"welcome-v2",
            "message_id":" <a1b2@app.example> ","client_ip":"198.51.100.7","host":"notify-1","status":"sent",
            "extra":{"nested":[1,2,{"x":null}]}}
            """#.replacingOccurrences(of: "\n", with: "")
        let (outcome, events) = parse(line)
        #expect(outcome == .used)
        #expect(events.count == 1)
        let e = try #require(events.first)
        #expect(
            e
                == SendEvent(
                    time: EventTime(microseconds: 1_772_439_304_120_000), host: "notify-1", account: "t-4821",
                    accountSource: .header, accountCreated: EventTime(seconds: 1_772_441_950),
                    sender: "no-reply@app.example", recipient: "ana@example.org", subject: "Welcome, Ana",
                    template: "welcome-v2", messageID: "a1b2@app.example", queueID: nil, clientIP: "198.51.100.7",
                    status: .sent))
    }

    @Test("Missing optional fields are nil; status defaults to accepted")
    func minimalRecord() throws {
        let (outcome, events) = parse(#"{"ts":1772442904,"to":"a@example.org","account":"t-1"}"#)
        #expect(outcome == .used)
        let e = try #require(events.first)
        #expect(e.account == "t-1" && e.accountSource == .header)
        #expect(e.sender == "")
        #expect(e.host == nil && e.subject == nil && e.template == nil && e.messageID == nil && e.clientIP == nil)
        #expect(e.queueID == nil && e.accountCreated == nil)
        #expect(e.status == .accepted)
    }

    @Test("Optional fields that are null, empty or of another type count as missing")
    func nullOptionals() throws {
        let line = #"""
            {"ts":1772442904,"to":"a@x","account":"t","subject":null,"template_id":"","message_id":"<>",
            "client_ip":[],"host":{},"status":null}
            """#.replacingOccurrences(of: "\n", with: "")
        let e = try #require(parse(line).1.first)
        #expect(e.subject == nil && e.template == nil && e.messageID == nil && e.clientIP == nil && e.host == nil)
        #expect(e.status == .accepted)
        let empty = try #require(parse(#"{"ts":1772442904,"to":"a@x","account":"t","subject":""}"#).1.first)
        #expect(empty.subject == "", "an empty subject is a subject")
    }

    @Test("Account falls back to the sender")
    func accountFallback() throws {
        for line in [
            #"{"ts":1772442904,"to":"a@x","sender":"s@app.example"}"#,
            #"{"ts":1772442904,"to":"a@x","sender":"s@app.example","account":""}"#,
            #"{"ts":1772442904,"to":"a@x","sender":"s@app.example","account":null}"#,
            #"{"ts":1772442904,"to":"a@x","sender":"s@app.example","account":false}"#,
        ] {
            let e = try #require(parse(line).1.first)
            #expect(e.account == "s@app.example" && e.accountSource == .sender && e.sender == "s@app.example")
        }
    }

    @Test("Numeric account and template ids keep their text")
    func numericIDs() throws {
        let e = try #require(parse(#"{"ts":1772442904,"to":"a@x","account":12345,"template_id":7}"#).1.first)
        #expect(e.account == "12345" && e.accountSource == .header && e.template == "7")
    }

    @Test(
        "Recipients: string or array, trimmed, deduplicated, non-strings skipped, commas not split",
        arguments: [
            (#""a@x""#, ["a@x"]),
            (#"" a@x\t""#, ["a@x"]),
            (#""Doe, Jane <j@x>""#, ["Doe, Jane <j@x>"]),
            (#"["a@x"]"#, ["a@x"]),
            (#"["a@x","b@x","a@x"," b@x ","c@x"]"#, ["a@x", "b@x", "c@x"]),
            (#"["a@x",1,null,"",{"b":"c"},["d@x"],"e@x"]"#, ["a@x", "e@x"]),
            (#"["A@x","a@x"]"#, ["A@x", "a@x"]),
        ])
    func recipients(to: String, expected: [String]) {
        var parser = JSONLinesParser()
        let (outcome, events) = parse(Array((#"{"ts":1772442904,"account":"t","to":"# + to + "}").utf8), &parser)
        #expect(outcome == .used)
        #expect(events.map(\.recipient) == expected)
        #expect(parser.counters.events == expected.count)
    }

    @Test("Repeated recipients are dropped beyond 16 too (hash set path)")
    func manyRecipientsDeduplicated() {
        let list = (0..<40).map { "\"r\($0 % 20)@x\"" }.joined(separator: ",")
        var parser = JSONLinesParser()
        let (outcome, events) = parse(Array((#"{"ts":1772442904,"account":"t","to":["# + list + "]}").utf8), &parser)
        #expect(outcome == .used)
        #expect(events.map(\.recipient) == (0..<20).map { "r\($0)@x" })
        #expect(parser.jsonCounters.duplicateRecipients == 20)
    }

    @Test("Recipients beyond the cap are dropped and counted; the first ones are kept")
    func recipientCap() {
        var parser = JSONLinesParser(maxRecipientsPerRecord: 3)
        let list = (0..<10).map { "\"r\($0)@x\"" }.joined(separator: ",")
        let (outcome, events) = parse(Array((#"{"ts":1772442904,"account":"t","to":["# + list + "]}").utf8), &parser)
        #expect(outcome == .used)
        #expect(events.map(\.recipient) == ["r0@x", "r1@x", "r2@x"])
        #expect(parser.jsonCounters.recordsOverRecipientCap == 1)
        #expect(parser.jsonCounters.droppedRecipients == 7)
    }

    @Test(
        "Status values",
        arguments: [
            (#""sent""#, DeliveryStatus.sent, 0), (#""deferred""#, .deferred, 0), (#""bounced""#, .bounced, 0),
            (#""expired""#, .expired, 0), (#""discarded""#, .discarded, 0), (#""accepted""#, .accepted, 0),
            (#""SENT""#, .sent, 0), (#""Bounced""#, .bounced, 0), ("null", .accepted, 0),
            (#""queued""#, .accepted, 1), (#""""#, .accepted, 1), ("250", .accepted, 1), ("true", .accepted, 1),
        ])
    func status(status: String, expected: DeliveryStatus, unknown: Int) throws {
        var parser = JSONLinesParser()
        let line = #"{"ts":1772442904,"account":"t","to":"a@x","status":"# + status + "}"
        let (outcome, events) = parse(Array(line.utf8), &parser)
        #expect(outcome == .used)
        #expect(try #require(events.first).status == expected)
        #expect(parser.jsonCounters.unknownStatus == unknown)
    }

    @Test(
        "account_created: same forms as ts; bad values are dropped and counted",
        arguments: [
            (#""2026-03-02T08:59:10Z""#, Optional("2026-03-02T08:59:10Z"), 0),
            ("1704067200", "2024-01-01T00:00:00Z", 0),
            ("1704067200000", "2024-01-01T00:00:00Z", 0),
            (#""1704067200""#, "2024-01-01T00:00:00Z", 0),
            ("null", nil, 0),
            (#""never""#, nil, 1),
            ("1e999", nil, 1),
            (#""1850-01-01T00:00:00Z""#, nil, 1),
        ] as [(String, String?, Int)])
    func accountCreated(value: String, expected: String?, bad: Int) throws {
        var parser = JSONLinesParser()
        let line = #"{"ts":1772442904,"account":"t","to":"a@x","account_created":"# + value + "}"
        let (outcome, events) = parse(Array(line.utf8), &parser)
        #expect(outcome == .used)
        #expect(try #require(events.first).accountCreated?.description == expected)
        #expect(parser.jsonCounters.badAccountCreated == bad)
    }

    @Test(
        "Message-ID loses surrounding whitespace and one pair of angle brackets",
        arguments: [
            ("<a@b>", "a@b"), ("a@b", "a@b"), (" <a@b> ", "a@b"), ("<<a@b>>", "<a@b>"), ("<a@b", "<a@b"),
        ])
    func messageID(raw: String, expected: String) throws {
        let line = #"{"ts":1772442904,"account":"t","to":"a@x","message_id":""# + raw + #""}"#
        #expect(try #require(parse(line).1.first).messageID == expected)
    }

    // MARK: Nested mappings

    @Test("Amazon SES event record with the example mapping")
    func amazonSES() throws {
        let line = #"""
            {"eventType":"Send","mail":{"timestamp":"2026-03-02T08:18:45.250Z","source":"no-reply@notify.example.com",
            "sourceArn":"arn:aws:ses:eu-west-1:123456789012:identity/notify.example.com","sourceIp":"203.0.113.66",
            "sendingAccountId":"123456789012","messageId":"0102018f-aaaa-bbbb","destination":["x@example.org","y@example.org"],
            "headersTruncated":false,"headers":[{"name":"Subject","value":"Welcome"}],
            "commonHeaders":{"from":["Tallyboard <no-reply@notify.example.com>"],"to":["x@example.org"],"subject":"Welcome to Tallyboard"},
            "tags":{"ses:configuration-set":["sends"],"account":["t-5120"],"template_id":["welcome-v3"]}},"send":{}}
            """#.replacingOccurrences(of: "\n", with: "")
        let (outcome, events) = parse(line, mapping: .amazonSES)
        #expect(outcome == .used)
        #expect(events.map(\.recipient) == ["x@example.org", "y@example.org"])
        let e = try #require(events.first)
        #expect(e.time.description == "2026-03-02T08:18:45.250Z")
        #expect(e.account == "t-5120" && e.accountSource == .header)
        #expect(e.sender == "no-reply@notify.example.com")
        #expect(e.subject == "Welcome to Tallyboard")
        #expect(e.template == "welcome-v3")
        #expect(e.messageID == "0102018f-aaaa-bbbb")
        #expect(e.clientIP == "203.0.113.66")
        #expect(e.host == nil && e.status == .accepted && e.accountCreated == nil)
    }

    @Test(
        "Dotted config paths split on dots; the empty string is an unmapped field",
        arguments: [
            ("mail.commonHeaders.subject", ["mail", "commonHeaders", "subject"]),
            ("ts", ["ts"]),
            ("mail.tags.account.0", ["mail", "tags", "account", "0"]),
            ("a..b", ["a", "", "b"]),
            ("", []),
        ])
    func dottedPaths(dotted: String, expected: [String]) {
        #expect(JSONFieldMapping.path(dotted) == expected)
    }

    @Test("A custom mapping with an array index and an unmapped field")
    func customMapping() throws {
        let mapping = JSONFieldMapping(
            time: JSONFieldMapping.path("event.at"), account: JSONFieldMapping.path("event.tenant.id"),
            recipients: JSONFieldMapping.path("event.rcpt.1"), subject: [])
        let line = #"{"event":{"at":1772442904120,"tenant":{"id":"t-9"},"rcpt":["first@x","second@x"]},"subject":"s"}"#
        let e = try #require(parse(line, mapping: mapping).1.first)
        #expect(e.recipient == "second@x" && e.account == "t-9" && e.subject == nil)
        #expect(e.time.description == "2026-03-02T09:15:04.120Z")
    }

    // MARK: Hostile input

    @Test("Repeated keys: the last occurrence wins")
    func repeatedKeys() throws {
        let line = #"{"ts":1,"ts":1772442904,"to":["a@x","b@x"],"account":"t1","to":"c@x","account":"t2"}"#
        let (outcome, events) = parse(line)
        #expect(outcome == .used)
        #expect(events.map(\.recipient) == ["c@x"])
        #expect(events.first?.account == "t2")
        #expect(parse(#"{"ts":1772442904,"ts":null,"to":"a@x","account":"t"}"#).0 == .rejected(.missingField))
    }

    @Test("Strings with \\u0000, lone surrogates and invalid UTF-8 are kept, repaired")
    func strangeStrings() throws {
        let e = try #require(
            parse(#"{"ts":1772442904,"to":"a@x","account":"t\u0000x","subject":"\ud800 and \udfff"}"#).1.first)
        #expect(e.account == "t\u{0}x")
        #expect(e.subject == "\u{FFFD} and \u{FFFD}")
        let bytes =
            Array(#"{"ts":1772442904,"to":"a@x","account":"t","subject":"bad "#.utf8) + [0xC3, 0x28, 0xFF]
            + Array(#" end"}"#.utf8)
        var parser = JSONLinesParser()
        let (outcome, events) = parse(bytes, &parser)
        #expect(outcome == .used)
        #expect(events.first?.subject == "bad \u{FFFD}(\u{FFFD} end")
    }

    @Test("A 1 MB subject is carried through")
    func megabyteSubject() throws {
        let subject = String(repeating: "Hello ", count: 174_763)
        let e = try #require(
            parse(#"{"ts":1772442904,"to":"a@x","account":"t","subject":""# + subject + #""}"#).1.first)
        #expect(e.subject == subject)
    }

    @Test(
        "Whitespace variants around tokens and a trailing CR",
        arguments: [
            " {\"ts\" : 1772442904 , \"to\" : [ \"a@x\" ] , \"account\" : \"t\" } ",
            "\t{\t\"ts\"\t:\t1772442904,\"to\":\"a@x\",\"account\":\"t\"}\r",
            "{\r\n\"ts\":1772442904,\n\"to\":\"a@x\",\n\"account\":\"t\"\n}",
        ])
    func whitespace(line: String) {
        let (outcome, events) = parse(line)
        #expect(outcome == .used)
        #expect(events.count == 1)
    }

    @Test("Random byte mutations of records never crash")
    func mutations() {
        let base = Array(
            #"{"ts":"2026-03-02T09:15:04.120+01:00","account":"t-4821","account_created":1704067200,"sender":"s@x","to":["a@x","b@x"],"subject":"Hi \u00e9","template_id":"w","message_id":"<m@x>","client_ip":"1.2.3.4","host":"h","status":"sent"}"#
                .utf8)
        let alphabet: [UInt8] = Array("{}[],:\"\\0123456789-+.eEZT \u{0}".utf8) + [0x80, 0xFF]
        var parser = JSONLinesParser()
        var state: UInt64 = 42
        for _ in 0..<20_000 {
            var line = base
            for _ in 0..<3 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let at = Int(state >> 33) % line.count
                let b = alphabet[Int(state >> 20) % alphabet.count]
                switch state >> 62 {
                case 0: line[at] = b
                case 1: line.insert(b, at: at)
                case 2: line.remove(at: at)
                default: line[at] = UInt8(truncatingIfNeeded: state >> 40)
                }
            }
            _ = parse(line, &parser)
        }
        #expect(parser.counters.lines == 20_000)
        #expect(parser.counters.rejectedTotal + parser.counters.ignored <= 20_000)
    }

    // MARK: Fixture

    @Test("Fixture notifications.jsonl: outcomes, events and counters")
    func fixture() throws {
        let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/jsonl/notifications.jsonl")
        let data = try Data(contentsOf: url)
        var parser = JSONLinesParser()
        var events: EventBatch = []
        var outcomes: [LineOutcome] = []
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            outcomes.append(Array(line).withUnsafeBytes { parser.parse(line: $0, into: &events) })
        }
        #expect(outcomes.count == 16)
        #expect(outcomes[8] == .ignored)
        #expect(outcomes[10] == .rejected(.missingField))
        #expect(outcomes[15] == .rejected(.badJSON))
        #expect(outcomes.filter { $0 == .used }.count == 13)
        #expect(events.count == 18)
        #expect(parser.counters.events == 18)
        #expect(parser.counters.rejected == [.missingField: 1, .badJSON: 1])
        #expect(parser.jsonCounters.unknownStatus == 1)
        #expect(parser.jsonCounters.duplicateRecipients == 1)

        #expect(events[0].time.description == "2026-03-02T08:15:04.120Z")
        #expect(events[0].messageID == "20260302081504.4821.1@notify.example.com")
        #expect(events[1].recipient == "li.wei@example.net" && events[2].recipient == "j.okafor@example.com")
        #expect(events[3].time.description == "2026-03-02T08:18:00Z")
        #expect(events[3].accountCreated?.description == "2024-01-01T00:00:00Z")
        #expect(events[4].time.description == "2026-03-02T08:18:45.250Z")
        #expect(events[4].subject == "Welcome to Tallyboard, Élodie")
        #expect(events[5].time.description == "2026-03-02T08:18:50Z" && events[5].status == .accepted)
        #expect(events[7...9].allSatisfy { $0.status == .deferred && $0.account == "t-5122" })
        #expect(events[11].account == "billing@notify.example.com" && events[11].accountSource == .sender)
        let welcome = events.filter { $0.template == "welcome-v3" }.count
        let invites = events.filter { $0.template == "invite-team" }.count
        #expect(welcome == 4 && invites == 9)
        #expect(Set(events.map(\.status)) == [.sent, .accepted, .deferred, .bounced, .expired])
    }

    @Test("beginInput and finish do nothing")
    func lifecycle() {
        var parser = JSONLinesParser()
        var events: EventBatch = []
        parser.beginInput(yearHint: .none)
        parser.finish(into: &events)
        #expect(events.isEmpty && parser.counters == ParseCounters())
    }
}
