import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// The real Exim 4.96 capture (see `Fixtures/exim/README.md`): every accepted message of `sent.jsonl` must come
/// out of the parser with exactly its recipients, account, subject, Message-ID and first status.
@Suite struct EximCaptureTests {
    typealias SentRecord = CaptureRecord

    static func fixture(_ name: String) throws -> Data {
        let base = try #require(Bundle.module.resourceURL)
        return try Data(contentsOf: base.appending(path: "Fixtures/exim/\(name)"))
    }

    static func parseAll(_ data: Data, configuration: FormatConfiguration = .init()) -> (EximParser, [SendEvent]) {
        var parser = EximParser(configuration: configuration)
        var events: EventBatch = []
        parser.beginInput(yearHint: .none)
        data.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
            var start = 0
            while start < all.count {
                let nl = all[start...].firstIndex(of: 0x0A) ?? all.count
                _ = parser.parse(line: UnsafeRawBufferPointer(rebasing: all[start..<nl]), into: &events)
                start = nl + 1
            }
        }
        parser.finish(into: &events)
        return (parser, events)
    }

    static func status(_ expected: String) -> DeliveryStatus? {
        switch expected {
        case "sent", "delivered-local": return .sent
        case "bounced", "bounced-local": return .bounced
        case "deferred": return .deferred
        case "discarded": return .discarded
        default: return nil  // rejected-rcpt: refused at RCPT time, never queued
        }
    }

    /// Exim's own changes to a subject before logging it, which the parser cannot undo:
    /// it trims trailing whitespace (seq 148) and cuts a long subject, leaving a cut RFC 2047 word encoded
    /// (seq 151 and 152). For those the logged text must still agree with the start of the real subject.
    static func subjectMatches(logged: String?, sent: String?, seq: Int) -> Bool {
        guard let sent else { return logged == nil }
        guard let logged else { return false }
        if seq == 151 || seq == 152 { return sent.hasPrefix(String(logged.prefix(30))) && logged.count >= 30 }
        var trimmed = sent
        while trimmed.last == " " || trimmed.last == "\t" { trimmed.removeLast() }
        return logged == trimmed
    }

    @Test("Real Exim 4.96 capture: recipients, account, subject, message id and status per accepted message")
    func realCapture() throws {
        let (parser, events) = Self.parseAll(try Self.fixture("mainlog"))
        let records = try CaptureRecord.decodeLines(try Self.fixture("sent.jsonl"))

        var byQueue: [String: [SendEvent]] = [:]
        var byMessageID: [String: [SendEvent]] = [:]
        for e in events {
            byQueue[e.queueID ?? "", default: []].append(e)
            if let m = e.messageID { byMessageID[m, default: []].append(e) }
        }

        var checked = 0
        var expectedEventCount = 0
        var usedQueues: Set<String> = []
        for r in records {
            guard let expected = r.expected, !expected.isEmpty else { continue }
            let messageID = r.messageId.map { String($0.dropFirst().dropLast()) }
            let mine: [SendEvent]
            if let q = r.result?.queueId {
                mine = byQueue[q] ?? []
            } else if r.method == "sendmail", let m = messageID {
                // Local submissions print no queue id to the client: match them by Message-ID.
                mine = byMessageID[m] ?? []
            } else {
                continue
            }
            let wanted = expected.compactMapValues(Self.status)
            expectedEventCount += wanted.count
            if let q = mine.first?.queueID { usedQueues.insert(q) }

            let recipients = mine.map(\.recipient)
            #expect(recipients.count == Set(recipients).count, "seq \(r.seq): one event per recipient")
            #expect(Set(recipients) == Set(wanted.keys), "seq \(r.seq) \(r.scenario): recipients")

            let account: String
            let source: AccountSource
            if let a = r.accountIds?.first {
                (account, source) = (a, .header)
            } else if let a = r.saslUsername {
                (account, source) = (a, .authenticated)
            } else if let a = r.localUidUser {
                (account, source) = (a, .localUser)
            } else {
                (account, source) = (r.envelopeFrom ?? "", .sender)
            }
            for e in mine {
                #expect(e.account == account && e.accountSource == source, "seq \(r.seq): account \(e.account)")
                #expect(
                    Self.subjectMatches(logged: e.subject, sent: r.subject, seq: r.seq),
                    "seq \(r.seq): subject \(String(describing: e.subject)) vs \(String(describing: r.subject))")
                #expect(e.messageID == messageID, "seq \(r.seq): message id")
                #expect(e.sender == (r.envelopeFrom ?? ""), "seq \(r.seq): sender")
                #expect(e.status == wanted[e.recipient], "seq \(r.seq): status of \(e.recipient)")
                #expect(e.host == nil)
                if r.method == "sendmail" {
                    #expect(e.clientIP == nil)
                } else {
                    #expect(e.clientIP == r.clientIp, "seq \(r.seq): client ip")
                }
            }
            checked += 1
        }
        #expect(checked == 340)
        // Bounces (`<= <>`) and anything else the sender did not send produce no events.
        #expect(events.count == expectedEventCount)
        #expect(Set(byQueue.keys) == usedQueues)

        let c = parser.counters
        #expect(c.lines == 2692)
        #expect(c.events == events.count)
        #expect(c.rejectedTotal == 0)
        #expect(c.incompleteMessages == 0)
        #expect(c.evictedMessages == 0)
        let log = String(decoding: try Self.fixture("mainlog"), as: UTF8.self)
        let bounces = log.split(separator: "\n").filter { $0.contains(" <= <> ") }.count
        #expect(bounces > 0)
        #expect(c.nonDeliveryNotices == bounces)
    }

    @Test("Real capture with a table bound of 2 messages and a 1-second timeout: no crash, counts add up")
    func realCaptureTightBounds() throws {
        let config = FormatConfiguration(maxOpenMessages: 2, openMessageTimeoutSeconds: 1)
        let (parser, events) = Self.parseAll(try Self.fixture("mainlog"), configuration: config)
        let c = parser.counters
        #expect(c.lines == 2692)
        #expect(c.events == events.count)
        #expect(c.evictedMessages <= c.incompleteMessages)
        #expect(events.count > 1000)
    }
}
