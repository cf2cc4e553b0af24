public import SendWatchCore

/// Hand-written parsers for the fixed timestamp layouts mail logs use. They read bytes at an index and return
/// the parsed value and the index just past it, or `nil`; they never allocate.
public enum Timestamps {
    /// The earliest and latest years accepted: a timestamp outside them is rejected, so a forged or broken
    /// timestamp cannot move event time by centuries.
    public static let plausibleYears = 1990...2200

    /// Reads a classic syslog timestamp `Mmm dd HH:MM:SS` at `start`: the day padded with a space or a zero
    /// (`Dec  5`, `Dec 05`) or not padded at all (`Dec 5`, as some syslog daemons write it), and the seconds
    /// optionally followed by a fraction (`10:00:01.123456`, `journalctl -o short-precise`; digits beyond the
    /// sixth are read and dropped).
    ///
    /// - Returns: month (1–12), day, second of day, the fraction in microseconds, and the index after the
    ///   last byte read; `nil` if malformed.
    @inlinable
    public static func readClassicSyslog(
        _ p: UnsafeRawBufferPointer, at start: Int
    ) -> (month: Int, day: Int, secondOfDay: Int, microseconds: Int64, end: Int)? {
        guard start + 14 <= p.count else { return nil }
        let m = month(p[start], p[start + 1], p[start + 2])
        guard m > 0, p[start + 3] == 0x20 else { return nil }
        let d1 = p[start + 4]
        let d2 = p[start + 5]
        let day: Int
        var clock = start + 7
        if isDigit(d1) && d2 == 0x20 {
            // `Dec 5 10:00:01`: one digit, one space.
            day = Int(d1 &- 0x30)
            clock = start + 6
        } else if d1 == 0x20 && isDigit(d2) {
            day = Int(d2 &- 0x30)
        } else if isDigit(d1) && isDigit(d2) {
            day = Int(d1 &- 0x30) * 10 + Int(d2 &- 0x30)
        } else {
            return nil
        }
        guard day >= 1, day <= 31, p[clock - 1] == 0x20 else { return nil }
        guard let sod = readClock(p, at: clock) else { return nil }
        guard let (micros, end) = readFraction(p, at: clock + 8) else { return nil }
        return (m, day, sod, micros, end)
    }

    /// Reads an optional fraction of a second (`.123456` or `,123456`) at `start`: its value in microseconds
    /// (digits beyond the sixth are read and dropped) and the index after it; `(0, start)` when there is none.
    /// `nil` for a separator without digits.
    @inlinable
    public static func readFraction(_ p: UnsafeRawBufferPointer, at start: Int) -> (Int64, Int)? {
        var i = start
        guard i < p.count && (p[i] == 0x2E || p[i] == 0x2C) else { return (0, start) }
        i += 1
        var micros: Int64 = 0
        var digits = 0
        while i < p.count && isDigit(p[i]) {
            if digits < 6 {
                micros = micros * 10 + Int64(p[i] &- 0x30)
                digits += 1
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        while digits < 6 {
            micros *= 10
            digits += 1
        }
        return (micros, i)
    }

    /// Reads `HH:MM:SS` at `start` and returns the second of day.
    @inlinable
    public static func readClock(_ p: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard start + 8 <= p.count, p[start + 2] == 0x3A, p[start + 5] == 0x3A else { return nil }
        guard let h = twoDigits(p, start), let mi = twoDigits(p, start + 3), let s = twoDigits(p, start + 6),
            h <= 23, mi <= 59, s <= 60
        else { return nil }
        return h * 3600 + mi * 60 + min(s, 59)
    }

    /// Reads a date and time `YYYY-MM-DD?HH:MM:SS[.fraction][zone]` at `start`, where `?` is `T` or a space
    /// (RFC 3339, rsyslog's high-precision format, Exim's `YYYY-MM-DD HH:MM:SS`).
    ///
    /// The zone may be `Z`, `±HH:MM` or `±HHMM`, directly after the time (RFC 3339) or after one space (Exim
    /// with `log_timezone`); without a zone the time is local and converted with `zone`.
    ///
    /// - Returns: the UTC event time and the index after the last byte read; `nil` if malformed or outside
    ///   ``plausibleYears``.
    public static func readDateTime(
        _ p: UnsafeRawBufferPointer, at start: Int, zone: inout LocalTimeZone
    ) -> (time: EventTime, end: Int)? {
        guard start + 19 <= p.count else { return nil }
        guard let y1 = twoDigits(p, start), let y2 = twoDigits(p, start + 2), p[start + 4] == 0x2D,
            let mo = twoDigits(p, start + 5), p[start + 7] == 0x2D, let d = twoDigits(p, start + 8)
        else { return nil }
        let sep = p[start + 10]
        guard sep == UInt8(ascii: "T") || sep == 0x20 || sep == UInt8(ascii: "t") else { return nil }
        guard let sod = readClock(p, at: start + 11) else { return nil }
        let year = y1 * 100 + y2
        let date = CivilDate(year: year, month: mo, day: d)
        guard plausibleYears.contains(year), date.isValid else { return nil }
        guard let (micros, i) = readFraction(p, at: start + 19) else { return nil }
        let local = date.daysSinceEpoch * 86_400 + Int64(sod)
        // Zone directly after the time (RFC 3339) or after one space (Exim's log_timezone).
        var j = i
        if j < p.count && p[j] == 0x20 && sep == 0x20 { j += 1 }
        if let (offset, end) = readZone(p, at: j) {
            return (EventTime(microseconds: (local - offset) * 1_000_000 + micros), end)
        }
        let utc = zone.utcSeconds(fromLocal: local)
        return (EventTime(microseconds: utc * 1_000_000 + micros), i)
    }

    /// Reads `SECONDS.MICROSECONDS` at `start`: seconds since the epoch (UTC) and a fraction, as
    /// `journalctl -o short-unix` writes the time (`1764928801.123456`). The seconds are 9 to 11 digits and the
    /// fraction is required (1 to 9 digits, beyond the sixth read and dropped), so no other layout a log line
    /// starts with (a date, an Exim message id, a number in a message) is taken for one.
    ///
    /// - Returns: the UTC event time and the index after the fraction; `nil` if malformed or outside
    ///   ``plausibleYears``.
    public static func readUnixTime(_ p: UnsafeRawBufferPointer, at start: Int) -> (time: EventTime, end: Int)? {
        var i = start
        var seconds: Int64 = 0
        while i < p.count && i - start < 12 && isDigit(p[i]) {
            seconds = seconds * 10 + Int64(p[i] &- 0x30)
            i += 1
        }
        guard (9...11).contains(i - start), i < p.count, p[i] == UInt8(ascii: "."),
            let (micros, end) = readFraction(p, at: i), end - i <= 10
        else { return nil }
        let year = CivilDate(daysSinceEpoch: seconds / 86_400).year
        guard plausibleYears.contains(year) else { return nil }
        return (EventTime(microseconds: seconds * 1_000_000 + micros), end)
    }

    /// Reads `Z`, `±HH:MM` or `±HHMM` at `start`; returns the offset east of UTC in seconds.
    @inlinable
    public static func readZone(_ p: UnsafeRawBufferPointer, at start: Int) -> (Int64, Int)? {
        guard start < p.count else { return nil }
        let c = p[start]
        if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
            // A 'Z' must end the token, so a word starting with Z after an Exim time is not read as a zone.
            if start + 1 == p.count || p[start + 1] == 0x20 { return (0, start + 1) }
            return nil
        }
        guard c == UInt8(ascii: "+") || c == UInt8(ascii: "-") else { return nil }
        guard let h = twoDigits(p, start + 1) else { return nil }
        var i = start + 3
        if i < p.count && p[i] == 0x3A { i += 1 }
        guard let m = twoDigits(p, i), h <= 23, m <= 59 else { return nil }
        i += 2
        if i < p.count && p[i] != 0x20 { return nil }
        let off = Int64(h * 3600 + m * 60)
        return (c == UInt8(ascii: "-") ? -off : off, i)
    }

    @inlinable
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    @inlinable
    static func twoDigits(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        guard i + 2 <= p.count else { return nil }
        let a = p[i] &- 0x30
        let b = p[i + 1] &- 0x30
        guard a < 10, b < 10 else { return nil }
        return Int(a) * 10 + Int(b)
    }

    /// The month number of a three-letter English month abbreviation (case-insensitive), or 0.
    @inlinable
    public static func month(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int {
        let key = (UInt32(a | 0x20) << 16) | (UInt32(b | 0x20) << 8) | UInt32(c | 0x20)
        switch key {
        case 0x6A_61_6E: return 1  // jan
        case 0x66_65_62: return 2  // feb
        case 0x6D_61_72: return 3  // mar
        case 0x61_70_72: return 4  // apr
        case 0x6D_61_79: return 5  // may
        case 0x6A_75_6E: return 6  // jun
        case 0x6A_75_6C: return 7  // jul
        case 0x61_75_67: return 8  // aug
        case 0x73_65_70: return 9  // sep
        case 0x6F_63_74: return 10  // oct
        case 0x6E_6F_76: return 11  // nov
        case 0x64_65_63: return 12  // dec
        default: return 0
        }
    }
}

/// Supplies the year of year-less (classic syslog) timestamps from the data, one input at a time.
///
/// The year starts from the ``YearHint``: a known year, or the input's modification time (the first line's
/// month later than the modification month means the log began in the year before). Inside an input the year
/// advances when the month drops by more than six (December → January), and a line whose month is more than
/// six above the current one (a late December line just after New Year) belongs to the previous year without
/// moving the current year back.
public struct YearResolver: Sendable {
    // Internal (not private) so that the checkpoint extension can save and restore them.
    var year: Int?
    var lastMonth = 0
    var hint: YearHint

    public init(hint: YearHint) { self.hint = hint }

    /// Whether a year can be resolved at all (false for ``YearHint/none``).
    public var hasHint: Bool {
        if case .none = hint { return false }
        return true
    }

    /// The year of a timestamp in `month` (1–12), or `nil` when there is no hint.
    public mutating func year(forMonth month: Int) -> Int? {
        guard let current = year else {
            switch hint {
            case .none:
                return nil
            case .year(let y):
                year = y
            case .modified(let t):
                let days = t.seconds >= 0 ? t.seconds / 86_400 : (t.seconds - 86_399) / 86_400
                let civil = CivilDate(daysSinceEpoch: days)
                year = month > civil.month ? civil.year - 1 : civil.year
            }
            lastMonth = month
            return year
        }
        if month < lastMonth - 6 {
            year = current + 1
            lastMonth = month
            return current + 1
        }
        if month > lastMonth + 6 {
            return current - 1
        }
        lastMonth = month
        return current
    }
}
