import Foundation

/// How local wall-clock timestamps (classic syslog, Exim without a zone, RFC 3339 without an offset) map to UTC.
///
/// Postfix's `postlogd`, classic syslog and Exim write the server's local time without saying which zone it
/// is. SendWatch assumes UTC unless told otherwise (`input.timezone` in the config, `--timezone` on the
/// command line), so that a replay does not depend on the machine it runs on.
public struct LocalTimeZone: Sendable {
    private enum Kind: Sendable {
        case fixed(Int64)
        case named(TimeZone)
    }
    private let kind: Kind
    /// The last local hour converted and its offset: a log's timestamps move slowly, so this hits almost always.
    private var cachedLocalHour: Int64 = .min
    private var cachedOffsetSeconds: Int64 = 0

    /// UTC.
    public static let utc = LocalTimeZone(kind: .fixed(0))

    private init(kind: Kind) { self.kind = kind }

    /// A fixed offset east of UTC, in seconds.
    public init(offsetSeconds: Int) { self.kind = .fixed(Int64(offsetSeconds)) }

    /// Parses `UTC`, `Z`, a fixed offset (`+01:00`, `-0530`) or an IANA zone name (`Europe/Berlin`).
    /// Returns `nil` for anything else.
    public init?(parsing text: String) {
        if text == "UTC" || text == "Z" || text == "utc" || text == "GMT" {
            self.kind = .fixed(0)
            return
        }
        let u = Array(text.utf8)
        if let first = u.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            let digits = u.dropFirst().filter { $0 != UInt8(ascii: ":") }
            guard digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let d = digits.map { Int64($0 - 0x30) }
            let h = d[0] * 10 + d[1]
            let m = d[2] * 10 + d[3]
            guard h <= 23, m <= 59 else { return nil }
            let off = (h * 3600 + m * 60) * (first == UInt8(ascii: "-") ? -1 : 1)
            self.kind = .fixed(off)
            return
        }
        guard let tz = TimeZone(identifier: text) else { return nil }
        self.kind = .named(tz)
    }

    /// Converts a local civil time (seconds since the epoch as if the local time were UTC) to UTC seconds.
    ///
    /// For a named zone, a local time that occurs twice (DST ends) maps to its first occurrence and one that
    /// does not occur (DST starts) is shifted by the offset in force before the change.
    ///
    /// - Complexity: O(1); Foundation is consulted once per local hour.
    public mutating func utcSeconds(fromLocal localSeconds: Int64) -> Int64 {
        switch kind {
        case .fixed(let off):
            return localSeconds - off
        case .named(let tz):
            let hour = localSeconds >= 0 ? localSeconds / 3600 : (localSeconds - 3599) / 3600
            if hour != cachedLocalHour {
                // Guess with the offset at the local instant read as UTC, then correct once.
                let guess = Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(hour * 3600))))
                let corrected = Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(hour * 3600 - guess))))
                cachedLocalHour = hour
                cachedOffsetSeconds = max(guess, corrected)
            }
            return localSeconds - cachedOffsetSeconds
        }
    }
}
