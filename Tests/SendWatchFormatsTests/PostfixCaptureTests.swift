import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// Parses the real Postfix captures in `Fixtures/postfix/` and checks every event against the sender's ground
/// truth (`*-sent.jsonl`, schema in the shared corpora's SOURCES.md).
@Suite("Postfix real capture against ground truth")
struct PostfixCaptureTests {
    typealias SentRecord = CaptureRecord

    static func fixture(_ name: String, _ ext: String) throws -> Data {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures/postfix"))
        return try Data(contentsOf: url)
    }

    static func records(_ name: String) throws -> [SentRecord] {
        try CaptureRecord.decodeLines(try fixture(name, "jsonl"))
    }

    static func parse(_ log: Data) -> (events: [SendEvent], parser: PostfixParser) {
        var parser = PostfixParser()
        parser.beginInput(yearHint: .year(2026))
        var events: EventBatch = []
        for line in log.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) where !line.isEmpty {
            Array(line).withUnsafeBytes { _ = parser.parse(line: $0, into: &events) }
        }
        return (events, parser)
    }

    /// The subject the parser must report for a record, and whether it is one of the documented exceptions
    /// where the log cannot carry the ground-truth `subject`:
    /// - folding (CRLF) and TAB are printed by Postfix as `?` (kept as logged);
    /// - the logged header (`Subject: ` + value) is cut at 200 bytes;
    /// - for those, the expectation is derived from `subject_header_raw` the way Postfix prints it, and for
    ///   the one that also holds encoded words (`edge-subject:long-utf8`) it is written out below: the `?` of
    ///   each fold right after an encoded word is removed and the words are joined again (`Rücksendungen`),
    ///   and its third encoded word, cut before `?=`, is decoded as far as it goes.
    static func expectedSubject(_ r: SentRecord) -> (subject: String?, exception: Bool) {
        guard let raw = r.subjectHeaderRaw else { return (nil, false) }
        let logged = raw.replacingOccurrences(of: "\r\n", with: "?").replacingOccurrences(of: "\t", with: "?")
        let header = Array(("Subject: " + logged).utf8)
        if logged == raw && header.count <= 200 { return (r.subject, false) }
        if r.scenario == "edge-subject:long-utf8" {
            return (
                "Größenänderung der Übersicht – bitteprüfen: Änderungen an Bestellungen, Rücksendungen und "
                    + "Gebühren für ", true
            )
        }
        #expect(!raw.contains("=?"), "seq \(r.seq): an encoded, folded or cut subject needs its own expectation")
        return (String(decoding: header.prefix(200).dropFirst(9), as: UTF8.self), true)
    }

    static func status(_ expected: String) -> DeliveryStatus? {
        switch expected {
        case "sent", "delivered-local": return .sent
        case "bounced", "bounced-local": return .bounced
        case "deferred": return .deferred
        case "discarded": return .discarded
        default: return nil
        }
    }

    static func seconds(_ iso: String) -> Int64? {
        var zone = LocalTimeZone.utc
        return Array(iso.utf8).withUnsafeBytes { Timestamps.readDateTime($0, at: 0, zone: &zone)?.time.seconds }
    }

    @Test(
        "Every accepted message yields exactly its recipients with account, subject, message id and first status",
        arguments: [
            // (log, ground truth, accepted messages: records minus 3 failed logins and 1 relay-denied)
            ("rsyslog-mail", "rsyslog-sent", 84), ("postlogd-subset", "postlogd-subset-sent", 105),
        ])
    func groundTruth(log: String, sent: String, messages: Int) throws {
        let (events, parser) = Self.parse(try Self.fixture(log, "log"))
        let records = try Self.records(sent)
        let byQueueID = Dictionary(grouping: events, by: { $0.queueID ?? "" })
        var byMessageID: [String: String] = [:]
        for e in events { if let m = e.messageID, let q = e.queueID { byMessageID[m] = q } }

        var coveredQueueIDs: Set<String> = []
        var exceptions: Set<String> = []
        for r in records {
            guard let expected = r.expected else { continue }  // failed logins
            let recipients = Set(expected.filter { $0.value != "rejected-rcpt" }.keys)
            let mid = r.messageId.map { String($0.dropFirst().dropLast()) }
            let qid = r.result?.queueId ?? mid.flatMap { byMessageID[$0] }
            guard !recipients.isEmpty else {
                #expect(qid == nil, "seq \(r.seq): a message refused at RCPT has no events")
                continue
            }
            let q = try #require(qid, "seq \(r.seq) \(r.scenario): no events found")
            coveredQueueIDs.insert(q)
            let evs = byQueueID[q] ?? []
            #expect(evs.count == recipients.count, "seq \(r.seq): one event per unique recipient")
            #expect(Set(evs.map(\.recipient)) == recipients, "seq \(r.seq) \(r.scenario)")

            let account: String
            let source: AccountSource
            if let a = r.accountIds?.first {
                (account, source) = (a, .header)
            } else if let u = r.saslUsername {
                (account, source) = (u, .authenticated)
            } else if r.localUidUser != nil {
                (account, source) = (try #require(r.envelopeFrom), .localUser)
            } else {
                (account, source) = (try #require(r.envelopeFrom), .sender)
            }
            let (subject, isException) = Self.expectedSubject(r)
            if isException { exceptions.insert(r.scenario) }
            let sentAt = try #require(Self.seconds(r.sentAt))
            for e in evs {
                #expect(e.account == account, "seq \(r.seq) \(r.scenario)")
                #expect(e.accountSource == source, "seq \(r.seq) \(r.scenario)")
                #expect(e.subject == subject, "seq \(r.seq) \(r.scenario)")
                #expect(e.messageID == mid, "seq \(r.seq)")
                #expect(e.sender == r.envelopeFrom, "seq \(r.seq)")
                #expect(e.clientIP == r.clientIp, "seq \(r.seq)")
                #expect(e.template == nil)
                #expect(e.status == Self.status(expected[e.recipient] ?? ""), "seq \(r.seq) \(e.recipient)")
                // Logged in whole seconds (postlogd) or microseconds, a little after the client's send time.
                #expect(e.time.seconds >= sentAt - 1 && e.time.seconds <= sentAt + 60, "seq \(r.seq)")
            }
        }
        // The documented subject exceptions, exactly: folding/TAB shown as `?`, and the 200-byte cut.
        #expect(
            exceptions == [
                "edge-subject:tab", "edge-subject:parser-confusion", "edge-subject:long-ascii",
                "edge-subject:long-utf8",
            ])
        #expect(coveredQueueIDs.count == messages)
        // Nothing else produced events: notices (bounces to the senders, to root) never do.
        #expect(Set(byQueueID.keys) == coveredQueueIDs)

        let text = String(decoding: try Self.fixture(log, "log"), as: UTF8.self)
        let lines = text.split(separator: "\n")
        let noticeLines = lines.filter { $0.contains("postfix/bounce[") && $0.contains(" notification: ") }.count
        #expect(noticeLines > 0)
        #expect(parser.counters.nonDeliveryNotices == noticeLines)
        #expect(parser.counters.lines == lines.count)
        #expect(parser.counters.events == events.count)
        #expect(parser.counters.rejectedTotal == 0, "\(parser.counters.rejected)")
        #expect(parser.counters.ignored > 0)
        #expect(parser.counters.evictedMessages == 0)
        // Every queued message ended with `removed`: nothing is left open, nothing was incomplete.
        #expect(parser.openMessages == 0)
        var p = parser
        var none: EventBatch = []
        p.finish(into: &none)
        #expect(none.isEmpty)
        #expect(p.counters.incompleteMessages == 0)
    }

    @Test("Deferred recipients keep their first status across the retry and the expiry")
    func deferredThenExpired() throws {
        let (events, _) = Self.parse(try Self.fixture("postlogd-subset", "log"))
        let down = events.filter { $0.queueID == "70BE3FA246" }
        #expect(down.map(\.status) == [.deferred, .deferred])
        let grey = events.filter { $0.queueID == "716ECFA247" }.sorted { $0.recipient < $1.recipient }
        #expect(grey.map(\.recipient) == ["greylist.elif@mailbox.test", "wen.quentin@corp.example.net"])
        #expect(grey.map(\.status) == [.deferred, .sent])
    }
}
