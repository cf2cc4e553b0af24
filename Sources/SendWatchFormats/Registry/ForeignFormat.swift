/// A mail server's log that SendWatch does not read but recognises, so that a run without events can say what
/// it was given instead of reporting nothing.
///
/// Recognised by content:
/// - ``sendmail``: a syslog line of `sendmail` or `sm-mta` (`sm-msp-queue`) whose message is
///   `QUEUEID: from=…` or `QUEUEID: to=…`;
/// - ``exchangeMessageTracking``: the header lines of an Exchange message tracking log
///   (`#Software: Microsoft Exchange Server`, `#Log-type: Message Tracking Log`, or `#Fields: date-time,…`).
public enum ForeignFormat: String, Hashable, Sendable, CaseIterable {
    /// Sendmail through syslog.
    case sendmail
    /// Microsoft Exchange message tracking (CSV with `#` header lines).
    case exchangeMessageTracking = "exchange_message_tracking"

    /// The name to show a user.
    public var displayName: String {
        switch self {
        case .sendmail: return "Sendmail"
        case .exchangeMessageTracking: return "Microsoft Exchange message tracking"
        }
    }

    /// The foreign format of a syslog line with `header`, or `nil`.
    init?(syslog p: UnsafeRawBufferPointer, header: SyslogHeader) {
        let program = header.program
        guard Bytes.equals("sendmail", in: p, program) || Bytes.hasPrefix("sm-", in: p, at: program.lowerBound),
            let colon = Bytes.find(
                UInt8(ascii: ":"), in: p, from: header.messageStart, to: min(p.count, header.messageStart + 32)),
            Bytes.hasPrefix(" from=", in: p, at: colon + 1) || Bytes.hasPrefix(" to=", in: p, at: colon + 1)
        else { return nil }
        self = .sendmail
    }

    /// The foreign format of a line by its own layout (from `start`), or `nil`.
    init?(layoutOf p: UnsafeRawBufferPointer, at start: Int) {
        guard start < p.count, p[start] == UInt8(ascii: "#") else { return nil }
        guard
            Bytes.hasPrefix("#Software: Microsoft Exchange Server", in: p, at: start)
                || Bytes.hasPrefix("#Log-type: Message Tracking Log", in: p, at: start)
                || Bytes.hasPrefix("#Fields: date-time,", in: p, at: start)
        else { return nil }
        self = .exchangeMessageTracking
    }
}
