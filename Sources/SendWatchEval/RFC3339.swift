public import SendWatchCore

/// Reads RFC 3339 date-times such as `2026-11-29T07:15:00Z`, `2026-11-29T07:15:00.250Z` or
/// `2026-11-29T08:15:00+01:00`.
///
/// The date and time separator may be `T`, `t` or a space; the fraction has 1 to 9 digits (kept to the
/// microsecond, further digits truncated); the zone is `Z`, `z` or `±HH:MM`. A leap second (`:60`) is read as
/// the first second of the next minute. Anything else, including a missing zone, is refused: a time without a
/// zone is ambiguous and a hand-written label must not be silently shifted.
public enum RFC3339 {
    /// The time `text` denotes, or nil when it is not an RFC 3339 date-time.
    ///
    /// - Complexity: O(n) in the length of `text`, no allocation.
    public static func parse(_ text: String) -> EventTime? {
        text.withUTF8Bytes { parse(bytes: $0) }
    }

    private static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> EventTime? {
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                let c = b[k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2)
        else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ")
        else { return nil }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
            let second = digits(2)
        else { return nil }
        let date = CivilDate(year: year, month: month, day: day)
        guard date.isValid, hour <= 23, minute <= 59, second <= 60 else { return nil }
        var micros: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if n < 6 { micros = micros * 10 + Int64(b[i] - 0x30) }
                n += 1
                i += 1
            }
            guard n >= 1, n <= 9 else { return nil }
            for _ in n..<max(n, 6) { micros *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetSeconds = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2), expect(UInt8(ascii: ":")), let om = digits(2), oh <= 23, om <= 59 else {
                return nil
            }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let seconds =
            date.daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        return EventTime(microseconds: seconds * 1_000_000 + micros)
    }
}
