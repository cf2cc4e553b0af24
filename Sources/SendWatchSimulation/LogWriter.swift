public import SendWatchCore

/// Renders a ``SimulatedMessage`` as the log lines one mail system writes for it.
///
/// A writer schedules each line at the time the real system would write it (lines of one message are spread
/// over the submission, the delivery attempts, retries minutes later and a bounce's own lines); the
/// ``LineScheduler`` merges the lines of all messages in flight into one time-ordered log.
public protocol LogWriter {
    /// Renders `message` and schedules its lines.
    ///
    /// - Complexity: O(recipients) lines, each O(line length).
    mutating func write(_ message: SimulatedMessage, to lines: inout LineScheduler)

    /// The event times SendWatch will read for `message`: its earliest and latest event, at the precision of
    /// the format's timestamps (seconds for Postfix and Exim, milliseconds for JSON lines).
    func eventTimes(of message: SimulatedMessage) -> (first: EventTime, last: EventTime)
}

/// FNV-1a 64 of a string's bytes: a fixed hash for values derived from names (never Swift's `Hasher`).
func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in s.utf8 {
        h ^= UInt64(b)
        h &*= 0x0000_0100_0000_01B3
    }
    return h
}

/// The receiving mail exchanger of a recipient domain: `mx1.DOMAIN` at a documentation-range address.
struct MailExchanger: Sendable {
    var name: String
    var ip: String

    init(domain: String) {
        let h = fnv1a(domain)
        let nets = ["192.0.2.", "198.51.100.", "203.0.113."]
        name = (h >> 20) % 2 == 0 ? "mx1.\(domain)" : "mail.\(domain)"
        ip = nets[Int(h % 3)] + String(2 + Int((h >> 8) % 250))
    }
}

func domainOf(_ address: String) -> String {
    guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return address }
    return String(address[address.index(after: at)...])
}

@inline(__always)
func floorSeconds(_ t: EventTime) -> EventTime { EventTime(seconds: t.seconds) }
