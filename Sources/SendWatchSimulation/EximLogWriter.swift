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
            TextBytes.append("X-Account-Id: ", to: &b)
            TextBytes.append(account, to: &b)
            lines.add(b, at: m.accepted)
        }
        var b = begin(m.accepted, id)
        TextBytes.append("<= ", to: &b)
        TextBytes.append(m.sender, to: &b)
        TextBytes.append(" H=(", to: &b)
        TextBytes.append(m.helo, to: &b)
        TextBytes.append(") [", to: &b)
        TextBytes.append(m.clientIP, to: &b)
        TextBytes.append("]:", to: &b)
        TextBytes.appendDigits(rng.int(in: 32_768...60_999), to: &b)
        TextBytes.append(" P=esmtpa A=", to: &b)
        TextBytes.append(fnv1a(m.saslUser) % 5 == 0 ? "login_server:" : "plain_server:", to: &b)
        TextBytes.append(m.saslUser, to: &b)
        TextBytes.append(" S=", to: &b)
        TextBytes.appendDigits(m.size, to: &b)
        TextBytes.append(" id=", to: &b)
        TextBytes.append(m.messageID, to: &b)
        TextBytes.append(" T=\"", to: &b)
        EximLogWriter.appendEscaped(m.subject, to: &b)
        TextBytes.append("\" for", to: &b)
        for r in m.recipients {
            b.append(UInt8(ascii: " "))
            TextBytes.append(r.address, to: &b)
        }
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
                TextBytes.append("** ", to: &b)
                TextBytes.append(r.address, to: &b)
                TextBytes.append(" F=<", to: &b)
                TextBytes.append(m.sender, to: &b)
                TextBytes.append("> R=dnslookup T=remote_smtp", to: &b)
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
            TextBytes.append("<= <> R=", to: &b)
            b.append(contentsOf: id)
            TextBytes.append(" U=Debian-exim P=local S=", to: &b)
            TextBytes.appendDigits(2_200 + m.size % 1_000, to: &b)
            TextBytes.append(" T=\"Mail delivery failed: returning message to sender\" for ", to: &b)
            TextBytes.append(m.sender, to: &b)
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

    private func appendHost(_ mx: MailExchanger, to b: inout [UInt8]) {
        TextBytes.append(mx.name, to: &b)
        TextBytes.append(" [", to: &b)
        TextBytes.append(mx.ip, to: &b)
        b.append(UInt8(ascii: "]"))
    }

    /// Appends ` H=HOST [IP]: SMTP error from remote mail server after RCPT TO:<ADDRESS>: REPLY <ADDRESS>:
    /// Recipient address rejected: REASON`, how Exim logs a recipient the remote server refused.
    private func appendRejection(
        by mx: MailExchanger, of address: String, reply: StaticString, reason: StaticString, to b: inout [UInt8]
    ) {
        TextBytes.append(" H=", to: &b)
        appendHost(mx, to: &b)
        TextBytes.append(": SMTP error from remote mail server after RCPT TO:<", to: &b)
        TextBytes.append(address, to: &b)
        TextBytes.append(">: ", to: &b)
        TextBytes.append(reply, to: &b)
        TextBytes.append(" <", to: &b)
        TextBytes.append(address, to: &b)
        TextBytes.append(">: Recipient address rejected: ", to: &b)
        TextBytes.append(reason, to: &b)
    }

    /// Adds `TIME ID Completed` at `t`: the message left the queue.
    private mutating func addCompleted(id: [UInt8], at t: EventTime, to lines: inout LineScheduler) {
        var b = begin(t, id)
        TextBytes.append("Completed", to: &b)
        lines.add(b, at: t)
    }

    /// Adds `TIME Start queue run: pid=PID` or `TIME End queue run: pid=PID` (`phase` is `Start` or `End`) at `t`.
    private mutating func addQueueRun(
        _ phase: StaticString, pid runner: Int, at t: EventTime, to lines: inout LineScheduler
    ) {
        var b = begin(t, nil)
        TextBytes.append(phase, to: &b)
        TextBytes.append(" queue run: pid=", to: &b)
        TextBytes.appendDigits(runner, to: &b)
        lines.add(b, at: t)
    }

    private mutating func addDelivered(
        _ m: SimulatedMessage?, id: [UInt8], address: String, arrow: StaticString, size: Int, at t: EventTime,
        to lines: inout LineScheduler
    ) {
        let mx = MailExchanger(domain: domainOf(address))
        var b = begin(t, id)
        TextBytes.append(arrow, to: &b)
        TextBytes.append(address, to: &b)
        TextBytes.append(" F=<", to: &b)
        if let m { TextBytes.append(m.sender, to: &b) }
        TextBytes.append("> R=dnslookup T=remote_smtp S=", to: &b)
        TextBytes.appendDigits(size, to: &b)
        TextBytes.append(" H=", to: &b)
        appendHost(mx, to: &b)
        TextBytes.append(" C=\"250 2.0.0 Ok: queued as ", to: &b)
        TextBytes.appendHex(rng.next(), width: 11, upper: true, to: &b)
        b.append(UInt8(ascii: "\""))
        lines.add(b, at: t)
    }

    private mutating func addDeferred(address: String, id: [UInt8], at t: EventTime, to lines: inout LineScheduler) {
        let mx = MailExchanger(domain: domainOf(address))
        var b = begin(t, id)
        TextBytes.append("== ", to: &b)
        TextBytes.append(address, to: &b)
        TextBytes.append(" R=dnslookup T=remote_smtp defer (-44)", to: &b)
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
