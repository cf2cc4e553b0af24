public import SendWatchCore

/// Writes an Exim 4.96 main log (`YYYY-MM-DD HH:MM:SS`, UTC, old-style 16-character message ids) with
/// `log_selector = +subject +received_recipients +sender_on_delivery +delivery_size +smtp_confirmation
/// +incoming_port` and `X-Account-Id` logged by an ACL `logwrite` before the arrival.
///
/// Per message: `ID X-Account-Id: VALUE` (when the header is present); `ID <= SENDER H=(HELO) [IP]:PORT
/// P=esmtpa A=plain_server:USER S=SIZE id=MSGID T="SUBJECT" for R1 R2`; per destination domain `=>` for the first
/// recipient delivered and `->` for the others of the same delivery, `**` for a bounce and `==` for a deferral
/// (retried on a later queue run, framed by `Start queue run`/`End queue run`); a bounce message
/// `NEWID <= <> R=ID U=Debian-exim P=local ... T="Mail delivery failed: returning message to sender"` with its
/// own delivery; `ID Completed`. The subject is escaped like Exim's `string_printing`: `\"`, `\\`, and
/// non-ASCII bytes in octal.
public struct EximLogWriter: LogWriter, Sendable {
    private var rng: SimulationRandom
    private var time = TimestampRenderer()
    private var pid: Int

    /// Creates a writer whose process and message ids derive from `seed`.
    public init(seed: UInt64) {
        var r = SimulationRandom(seed: seed, stream: 3)
        pid = r.int(in: 2_000...40_000)
        rng = r
    }

    public func eventTimes(of message: SimulatedMessage) -> (first: EventTime, last: EventTime) {
        let attempts = message.recipients.map(\.firstAttempt)
        return (floorSeconds(attempts.min() ?? message.queued), floorSeconds(attempts.max() ?? message.queued))
    }

    private mutating func nextPID() -> Int {
        pid += rng.int(in: 1...60)
        if pid > 4_000_000 { pid = 1_000 + pid % 1_000 }
        return pid
    }

    /// An Exim 4.96 message id: base-62 seconds (6), process id (6), sub-second fraction (2).
    private mutating func messageID(at t: EventTime) -> [UInt8] {
        var id: [UInt8] = []
        id.reserveCapacity(16)
        TextBytes.appendBase62(UInt64(max(0, t.seconds)), width: 6, to: &id)
        id.append(UInt8(ascii: "-"))
        TextBytes.appendBase62(UInt64(nextPID()), width: 6, to: &id)
        id.append(UInt8(ascii: "-"))
        TextBytes.appendBase62(UInt64((t.microseconds - t.seconds * 1_000_000) / 500), width: 2, to: &id)
        return id
    }

    private mutating func begin(_ t: EventTime, _ id: [UInt8]?) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(256)
        time.appendExim(t.microseconds, to: &b)
        b.append(UInt8(ascii: " "))
        if let id {
            b.append(contentsOf: id)
            b.append(UInt8(ascii: " "))
        }
        return b
    }

    @inline(__always)
    private func plus(_ t: EventTime, _ micros: Int64) -> EventTime { EventTime(microseconds: t.microseconds + micros) }

    public mutating func write(_ m: SimulatedMessage, to lines: inout LineScheduler) {
        let id = messageID(at: m.accepted)
        if let account = m.accountHeader {
            var b = begin(m.accepted, id)
            b.append("X-Account-Id: \(account)")
            lines.add(b, at: m.accepted)
        }
        var b = begin(m.accepted, id)
        let authenticator = fnv1a(m.saslUser) % 5 == 0 ? "login_server" : "plain_server"
        b.append("<= \(m.sender) H=(\(m.helo)) [\(m.clientIP)]:\(rng.int(in: 32_768...60_999)) P=esmtpa ")
        b.append("A=\(authenticator):\(m.saslUser) S=\(m.size) id=\(m.messageID) T=\"")
        EximLogWriter.appendEscaped(m.subject, to: &b)
        b.append("\" for")
        for r in m.recipients { b.append(" \(r.address)") }
        lines.add(b, at: m.accepted)

        // First pass, grouped by destination domain in the order the domains first appear.
        var domains: [String] = []
        for r in m.recipients {
            let d = domainOf(r.address)
            if !domains.contains(d) { domains.append(d) }
        }
        let deliverySize = m.size + rng.int(in: 18...30)
        for d in domains {
            var first = true
            let group = m.recipients.filter { domainOf($0.address) == d }
            for r in group where r.outcome == .sent {
                addDelivered(
                    m, id: id, address: r.address, arrow: first ? "=> " : "-> ", size: deliverySize,
                    at: r.firstAttempt, to: &lines)
                first = false
            }
            for r in group where r.outcome == .bounced {
                let mx = MailExchanger(domain: d)
                var b = begin(r.firstAttempt, id)
                b.append("** \(r.address) F=<\(m.sender)> R=dnslookup T=remote_smtp")
                appendRejection(
                    by: mx, of: r.address, reply: "550 5.1.1", reason: "User unknown in virtual mailbox table", to: &b)
                lines.add(b, at: r.firstAttempt)
            }
            for r in group where r.outcome == .deferred {
                addDeferred(address: r.address, id: id, at: r.firstAttempt, to: &lines)
            }
        }

        let retries = m.recipients.first { !$0.retries.isEmpty }?.retries ?? []
        var end = plus(m.firstPassEnd, Int64(rng.int(in: 300...3_000)))
        if m.recipients.contains(where: { $0.outcome == .bounced }) {
            let ndrID = messageID(at: end)
            var b = begin(end, ndrID)
            b.append("<= <> R=\(id) U=Debian-exim P=local S=\(2_200 + m.size % 1_000) ")
            b.append("T=\"Mail delivery failed: returning message to sender\" for \(m.sender)")
            lines.add(b, at: end)
            let sentAt = plus(end, Int64(rng.int(in: 50_000...500_000)))
            addDelivered(
                nil, id: ndrID, address: m.sender, arrow: "=> ", size: 2_300 + m.size % 1_000, at: sentAt,
                to: &lines)
            addCompleted(id: ndrID, at: plus(sentAt, 500), to: &lines)
            end = plus(end, 200)
        }
        if retries.isEmpty { addCompleted(id: id, at: end, to: &lines) }
        for (k, retry) in retries.enumerated() {
            let runner = nextPID()
            addQueueRun("Start", pid: runner, at: retry, to: &lines)
            let at = plus(retry, Int64(rng.int(in: 50_000...400_000)))
            let final = k == retries.count - 1
            var first = true
            for r in m.recipients where r.outcome == .deferred {
                if final {
                    addDelivered(
                        m, id: id, address: r.address, arrow: first ? "=> " : "-> ", size: deliverySize,
                        at: at, to: &lines)
                    first = false
                } else {
                    addDeferred(address: r.address, id: id, at: at, to: &lines)
                }
            }
            let done = plus(at, Int64(rng.int(in: 300...3_000)))
            if final { addCompleted(id: id, at: done, to: &lines) }
            addQueueRun("End", pid: runner, at: plus(done, 200), to: &lines)
        }
    }

    /// Appends ` H=HOST [IP]: SMTP error from remote mail server after RCPT TO:<ADDRESS>: REPLY <ADDRESS>:
    /// Recipient address rejected: REASON`, how Exim logs a recipient the remote server refused.
    private func appendRejection(
        by mx: MailExchanger, of address: String, reply: String, reason: String, to b: inout [UInt8]
    ) {
        b.append(" H=\(mx.name) [\(mx.ip)]: SMTP error from remote mail server after RCPT TO:<\(address)>: ")
        b.append("\(reply) <\(address)>: Recipient address rejected: \(reason)")
    }

    /// Adds `TIME ID Completed` at `t`: the message left the queue.
    private mutating func addCompleted(id: [UInt8], at t: EventTime, to lines: inout LineScheduler) {
        var b = begin(t, id)
        b.append("Completed")
        lines.add(b, at: t)
    }

    /// Adds `TIME Start queue run: pid=PID` or `TIME End queue run: pid=PID` (`phase` is `Start` or `End`) at `t`.
    private mutating func addQueueRun(
        _ phase: String, pid runner: Int, at t: EventTime, to lines: inout LineScheduler
    ) {
        var b = begin(t, nil)
        b.append("\(phase) queue run: pid=\(runner)")
        lines.add(b, at: t)
    }

    private mutating func addDelivered(
        _ m: SimulatedMessage?, id: [UInt8], address: String, arrow: String, size: Int, at t: EventTime,
        to lines: inout LineScheduler
    ) {
        let mx = MailExchanger(domain: domainOf(address))
        var b = begin(t, id)
        b.append("\(arrow)\(address) F=<\(m?.sender ?? "")> R=dnslookup T=remote_smtp S=\(size) ")
        b.append("H=\(mx.name) [\(mx.ip)] C=\"250 2.0.0 Ok: queued as \(hex: rng.next(), width: 11)\"")
        lines.add(b, at: t)
    }

    private mutating func addDeferred(address: String, id: [UInt8], at t: EventTime, to lines: inout LineScheduler) {
        let mx = MailExchanger(domain: domainOf(address))
        var b = begin(t, id)
        b.append("== \(address) R=dnslookup T=remote_smtp defer (-44)")
        appendRejection(by: mx, of: address, reply: "451 4.7.1", reason: "Greylisted, try again later", to: &b)
        lines.add(b, at: t)
    }

    /// Exim's `string_printing` of a header value: `"` and `\` escaped, printable ASCII as is, other bytes as
    /// three-digit octal escapes.
    static func appendEscaped(_ text: String, to bytes: inout [UInt8]) {
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(c)
            case 0x20..<0x7F:
                bytes.append(c)
            default:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "0") + (c >> 6))
                bytes.append(UInt8(ascii: "0") + ((c >> 3) & 7))
                bytes.append(UInt8(ascii: "0") + (c & 7))
            }
        }
    }
}

extension EximLogWriter: SimulatedFormat {
    public static var formatName: String { "exim" }

    public init(configuration: SimulationConfiguration) { self.init(seed: configuration.seed) }
}

extension SimulationFormat {
    /// Exim 4.96 main log with `log_selector = +subject +received_recipients +sender_on_delivery
    /// +delivery_size +smtp_confirmation +incoming_port` and an ACL `logwrite` of `X-Account-Id`.
    public static var exim: SimulationFormat { SimulationFormat(EximLogWriter.self) }
}
