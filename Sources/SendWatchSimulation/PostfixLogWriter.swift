public import SendWatchCore

/// Writes Postfix 3.7 log lines as `postlogd` (`maillog_file`) does: `Mmm dd HH:MM:SS host postfix/daemon[pid]:`,
/// year-less timestamps in UTC, short (10 hex digit) queue ids.
///
/// Per message: `smtpd` (or `submission/smtpd` for port 587) `connect from`, `client=... sasl_username=`;
/// `cleanup` `message-id=` and the `header_checks` WARN lines for `Subject` (RFC 2047 Q-encoded when not
/// ASCII, header cut at 200 bytes like Postfix's `%.200s`) and `X-Account-Id`; `qmgr` `from=, size=, nrcpt=
/// (queue active)`; `smtpd` `disconnect` with the command counts; one `smtp` `to=, relay=, delay=, delays=, dsn=,
/// status=` line per recipient (recipients of one domain in one delivery); greylisted recipients `deferred`
/// and retried by `qmgr` later; bounces followed by the non-delivery notice's own lines (`cleanup`
/// message-id, `bounce` `sender non-delivery notification: NEWID`, `qmgr`, `smtp`, `removed`); `qmgr removed`.
public struct PostfixLogWriter: LogWriter, Sendable {
    private let host: String
    private let myHostname: String
    private var rng: SimulationRandom
    private var time = TimestampRenderer()
    private var inode: UInt64
    private let qmgrPID: Int
    private let smtpdPIDs: [Int]
    private let submissionPIDs: [Int]
    private let cleanupPIDs: [Int]
    private let smtpPIDs: [Int]
    private let bouncePID: Int

    /// Creates a writer for host `host` whose process ids and queue ids derive from `seed`.
    public init(host: String = "mx1", seed: UInt64) {
        self.host = host
        myHostname = "\(host).example.net"
        var r = SimulationRandom(seed: seed, stream: 2)
        inode = UInt64(r.int(in: 0x10000...0xEFFFF))
        var pid = r.int(in: 2_000...30_000)
        func pids(_ n: Int) -> [Int] {
            (0..<n).map { _ in
                pid += r.int(in: 1...40)
                return pid
            }
        }
        qmgrPID = pids(1)[0]
        smtpdPIDs = pids(6)
        submissionPIDs = pids(4)
        cleanupPIDs = pids(3)
        smtpPIDs = pids(8)
        bouncePID = pids(1)[0]
        rng = r
    }

    public func eventTimes(of message: SimulatedMessage) -> (first: EventTime, last: EventTime) {
        let attempts = message.recipients.map(\.firstAttempt)
        return (floorSeconds(attempts.min() ?? message.queued), floorSeconds(attempts.max() ?? message.queued))
    }

    private mutating func queueID(at t: EventTime) -> [UInt8] {
        inode = (inode + UInt64(rng.int(in: 1...3))) & 0xFFFFF
        if inode < 0x10000 { inode += 0x10000 }
        var id: [UInt8] = []
        id.reserveCapacity(10)
        TextBytes.appendHex(UInt64(t.microseconds - t.seconds * 1_000_000), width: 5, upper: true, to: &id)
        TextBytes.appendHex(inode, width: 5, upper: true, to: &id)
        return id
    }

    private mutating func begin(_ t: EventTime, _ program: StaticString, _ pid: Int) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(256)
        time.appendClassic(t.microseconds, to: &b)
        b.append(UInt8(ascii: " "))
        b.append(contentsOf: host.utf8)
        b.append(UInt8(ascii: " "))
        TextBytes.append(program, to: &b)
        b.append(UInt8(ascii: "["))
        TextBytes.appendDigits(pid, to: &b)
        TextBytes.append("]: ", to: &b)
        return b
    }

    private mutating func beginQueue(_ t: EventTime, _ program: StaticString, _ pid: Int, _ qid: [UInt8]) -> [UInt8] {
        var b = begin(t, program, pid)
        b.append(contentsOf: qid)
        TextBytes.append(": ", to: &b)
        return b
    }

    @inline(__always)
    private func plus(_ t: EventTime, _ micros: Int64) -> EventTime { EventTime(microseconds: t.microseconds + micros) }

    public mutating func write(_ m: SimulatedMessage, to lines: inout LineScheduler) {
        let qid = queueID(at: m.accepted)
        let smtpdProgram: StaticString = m.port == 587 ? "postfix/submission/smtpd" : "postfix/smtpd"
        let smtpdPID = m.port == 587 ? rng.pick(submissionPIDs) : rng.pick(smtpdPIDs)
        let cleanupPID = rng.pick(cleanupPIDs)
        let client = "unknown[\(m.clientIP)]"

        var b = begin(m.connected, smtpdProgram, smtpdPID)
        b.append("connect from \(client)")
        lines.add(b, at: m.connected)

        let clientAt = plus(m.accepted, -Int64(rng.int(in: 2_000...20_000)))
        b = beginQueue(clientAt, smtpdProgram, smtpdPID, qid)
        let saslMethod = fnv1a(m.saslUser) % 5 == 0 ? "LOGIN" : "PLAIN"
        b.append("client=\(client), sasl_method=\(saslMethod), sasl_username=\(m.saslUser)")
        lines.add(b, at: clientAt)

        b = beginQueue(m.accepted, "postfix/cleanup", cleanupPID, qid)
        b.append("message-id=<\(m.messageID)>")
        lines.add(b, at: m.accepted)

        let firstRecipient = m.recipients.first?.address ?? ""
        var trailer: [UInt8] = []
        trailer.append(" from \(client); from=<\(m.sender)> to=<\(firstRecipient)> proto=ESMTP helo=<\(m.helo)>")

        b = beginQueue(m.accepted, "postfix/cleanup", cleanupPID, qid)
        b.append("warning: ")
        var header: [UInt8] = Array("header Subject: ".utf8)
        PostfixLogWriter.appendHeaderText(m.subject, to: &header)
        // Postfix logs the header (name included) with %.200s.
        let headerStart = "header ".utf8.count
        if header.count - headerStart > 200 { header.removeLast(header.count - headerStart - 200) }
        b.append(contentsOf: header)
        b.append(contentsOf: trailer)
        lines.add(b, at: m.accepted)

        if let account = m.accountHeader {
            b = beginQueue(m.accepted, "postfix/cleanup", cleanupPID, qid)
            b.append("warning: header X-Account-Id: \(account)")
            b.append(contentsOf: trailer)
            lines.add(b, at: m.accepted)
        }

        let nrcpt = m.recipients.count
        addQueueActive(m, qid: qid, at: m.queued, to: &lines)

        let disconnectAt = plus(m.queued, Int64(rng.int(in: 500...30_000)))
        b = begin(disconnectAt, smtpdProgram, smtpdPID)
        // Submission (587) adds STARTTLS and its second EHLO.
        let greeting = m.port == 587 ? "ehlo=2 starttls=1 auth=1" : "ehlo=1 auth=1"
        let commands = (m.port == 587 ? 7 : 5) + nrcpt
        b.append("disconnect from \(client) \(greeting) mail=1 rcpt=\(nrcpt) data=1 quit=1 commands=\(commands)")
        lines.add(b, at: disconnectAt)

        // First delivery pass: one smtp process per destination domain.
        var domainPIDs: [(String, Int)] = []
        for r in m.recipients {
            let domain = domainOf(r.address)
            let pid: Int
            if let known = domainPIDs.first(where: { $0.0 == domain }) {
                pid = known.1
            } else {
                pid = rng.pick(smtpPIDs)
                domainPIDs.append((domain, pid))
            }
            addDelivery(
                m, qid: qid, address: r.address, pid: pid, at: r.firstAttempt,
                status: r.outcome, to: &lines)
        }
        var end = m.firstPassEnd
        let retries = m.recipients.first { !$0.retries.isEmpty }?.retries ?? []
        if m.recipients.contains(where: { $0.outcome == .bounced }) {
            end = plus(end, Int64(rng.int(in: 1_000...30_000)))
            addNonDeliveryNotice(m, qid: qid, at: end, removeOriginal: retries.isEmpty, to: &lines)
        } else if retries.isEmpty {
            end = plus(end, Int64(rng.int(in: 200...5_000)))
            addRemoved(qid: qid, at: end, to: &lines)
        }
        for (k, retry) in retries.enumerated() {
            addQueueActive(m, qid: qid, at: retry, to: &lines)
            let at = plus(retry, Int64(rng.int(in: 50_000...400_000)))
            let final = k == retries.count - 1
            for r in m.recipients where r.outcome == .deferred {
                addDelivery(
                    m, qid: qid, address: r.address, pid: rng.pick(smtpPIDs), at: at,
                    status: final ? .sent : .deferred, to: &lines)
            }
            if final {
                addRemoved(qid: qid, at: plus(at, Int64(rng.int(in: 200...5_000))), to: &lines)
            }
        }
    }

    /// Adds `qmgr`'s `QID: removed` at `t`: the message left the queue.
    private mutating func addRemoved(qid: [UInt8], at t: EventTime, to lines: inout LineScheduler) {
        var b = beginQueue(t, "postfix/qmgr", qmgrPID, qid)
        b.append("removed")
        lines.add(b, at: t)
    }

    private mutating func addQueueActive(
        _ m: SimulatedMessage, qid: [UInt8], at t: EventTime, to lines: inout LineScheduler
    ) {
        var b = beginQueue(t, "postfix/qmgr", qmgrPID, qid)
        b.append("from=<\(m.sender)>, size=\(m.size), nrcpt=\(m.recipients.count) (queue active)")
        lines.add(b, at: t)
    }

    private mutating func addDelivery(
        _ m: SimulatedMessage, qid: [UInt8], address: String, pid: Int, at t: EventTime,
        status: SimulatedRecipient.Outcome, to lines: inout LineScheduler
    ) {
        let mx = MailExchanger(domain: domainOf(address))
        var b = beginQueue(t, "postfix/smtp", pid, qid)
        let total = t.microseconds - m.accepted.microseconds
        let a = max(0, min(total, m.queued.microseconds - m.accepted.microseconds))
        let rest = total - a
        let qd = rest / 10
        let conn = rest * 4 / 10
        b.append("to=<\(address)>, relay=\(mx.name)[\(mx.ip)]:25, delay=\(delay: total), ")
        b.append("delays=\(delay: a)/\(delay: qd)/\(delay: conn)/\(delay: rest - qd - conn)")
        /// The tail of a recipient the relay refused: `, dsn=D, status=S (host MX[IP] said: REPLY D <address>:
        /// Recipient address rejected: REASON (in reply to RCPT TO command))`.
        func appendRefusal(dsn: String, status: String, reply: String, reason: String) {
            b.append(", dsn=\(dsn), status=\(status) (host \(mx.name)[\(mx.ip)] said: \(reply) \(dsn) <\(address)>: ")
            b.append("Recipient address rejected: \(reason) (in reply to RCPT TO command))")
        }
        switch status {
        case .sent:
            b.append(", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as \(hex: rng.next(), width: 11))")
        case .bounced:
            appendRefusal(
                dsn: "5.1.1", status: "bounced", reply: "550", reason: "User unknown in virtual mailbox table")
        case .deferred:
            appendRefusal(dsn: "4.7.1", status: "deferred", reply: "451", reason: "Greylisted, try again later")
        }
        lines.add(b, at: t)
    }

    /// The bounce daemon's notice to the sender and its own life cycle.
    private mutating func addNonDeliveryNotice(
        _ m: SimulatedMessage, qid: [UInt8], at t: EventTime, removeOriginal: Bool, to lines: inout LineScheduler
    ) {
        let ndr = queueID(at: t)
        var b = beginQueue(t, "postfix/cleanup", rng.pick(cleanupPIDs), ndr)
        b.append("message-id=<")
        TextBytes.appendCompactDate(micros: t.microseconds, to: &b)
        b.append(".\(ndr)@\(myHostname)>")
        lines.add(b, at: t)

        let noticeAt = plus(t, Int64(rng.int(in: 200...3_000)))
        b = beginQueue(noticeAt, "postfix/bounce", bouncePID, qid)
        b.append("sender non-delivery notification: \(ndr)")
        lines.add(b, at: noticeAt)

        let activeAt = plus(noticeAt, Int64(rng.int(in: 200...3_000)))
        b = beginQueue(activeAt, "postfix/qmgr", qmgrPID, ndr)
        b.append("from=<>, size=\(2_400 + m.size % 1_000), nrcpt=1 (queue active)")
        lines.add(b, at: activeAt)

        if removeOriginal {
            addRemoved(qid: qid, at: plus(activeAt, Int64(rng.int(in: 100...2_000))), to: &lines)
        }

        let sentAt = plus(activeAt, Int64(rng.int(in: 40_000...600_000)))
        let mx = MailExchanger(domain: domainOf(m.sender))
        b = beginQueue(sentAt, "postfix/smtp", rng.pick(smtpPIDs), ndr)
        let total = sentAt.microseconds - t.microseconds
        b.append("to=<\(m.sender)>, relay=\(mx.name)[\(mx.ip)]:25, delay=\(delay: total), ")
        b.append("delays=0/0/\(delay: total / 2)/\(delay: total - total / 2), dsn=2.0.0, ")
        b.append("status=sent (250 2.0.0 Ok: queued as \(hex: rng.next(), width: 11))")
        lines.add(b, at: sentAt)

        addRemoved(qid: ndr, at: plus(sentAt, Int64(rng.int(in: 100...2_000))), to: &lines)
    }

    /// The header text as the client sent it: ASCII as is, anything else as one RFC 2047 Q-encoded word.
    static func appendHeaderText(_ text: String, to bytes: inout [UInt8]) {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            bytes.append(contentsOf: text.utf8)
            return
        }
        TextBytes.append("=?utf-8?q?", to: &bytes)
        for c in text.utf8 {
            if c == UInt8(ascii: " ") {
                bytes.append(UInt8(ascii: "_"))
            } else if c >= 0x21 && c < 0x7F && c != UInt8(ascii: "=") && c != UInt8(ascii: "?")
                && c != UInt8(ascii: "_")
            {
                bytes.append(c)
            } else {
                bytes.append(UInt8(ascii: "="))
                TextBytes.appendHex(UInt64(c), width: 2, upper: true, to: &bytes)
            }
        }
        TextBytes.append("?=", to: &bytes)
    }
}

extension PostfixLogWriter: SimulatedFormat {
    public static var formatName: String { "postfix" }

    public init(configuration: SimulationConfiguration) {
        self.init(host: configuration.host, seed: configuration.seed)
    }
}

extension SimulationFormat {
    /// Postfix through `postlogd` (`maillog_file`): classic year-less `Mmm dd HH:MM:SS` timestamps, host `mx1`,
    /// short queue ids, `header_checks` WARN lines for `Subject` and `X-Account-Id`.
    public static var postfix: SimulationFormat { SimulationFormat(PostfixLogWriter.self) }
}
