/// A point in event time: microseconds since the Unix epoch, UTC.
///
/// Event time always comes from the log being read, never from the wall clock, so that replaying the same
/// input gives the same result. Microseconds are the finest resolution any supported log format carries
/// (rsyslog's high-precision format).
public struct EventTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    /// Creates an event time from microseconds since the Unix epoch.
    @inlinable
    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// Creates an event time from whole seconds since the Unix epoch.
    @inlinable
    public init(seconds: Int64) { self.microseconds = seconds &* 1_000_000 }

    /// Whole seconds since the Unix epoch (rounded towards negative infinity).
    @inlinable
    public var seconds: Int64 {
        microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
    }

    @inlinable
    public static func < (lhs: EventTime, rhs: EventTime) -> Bool { lhs.microseconds < rhs.microseconds }

    /// The RFC 3339 UTC form, e.g. `2026-11-29T05:13:14Z` or `2026-11-29T05:13:14.903175Z`.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the RFC 3339 UTC form to `bytes`: seconds always, a fraction only when it is not zero
    /// (three digits for whole milliseconds, six otherwise).
    ///
    /// - Complexity: O(1), no allocation beyond `bytes` growth.
    public func appendRFC3339(to bytes: inout [UInt8]) {
        let secs = seconds
        let micros = Int(microseconds - secs * 1_000_000)
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let secOfDay = Int(secs - days * 86_400)
        let civil = CivilDate(daysSinceEpoch: days)
        appendDigits(civil.year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secOfDay / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secOfDay / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secOfDay % 60, width: 2, to: &bytes)
        if micros != 0 {
            bytes.append(UInt8(ascii: "."))
            if micros % 1000 == 0 {
                appendDigits(micros / 1000, width: 3, to: &bytes)
            } else {
                appendDigits(micros, width: 6, to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "Z"))
    }
}

/// Appends `value` in decimal, zero-padded to `width` digits (at most 20), with a `-` for negatives.
/// Shared with the other modules of the package that render text without Foundation.
@inline(__always)
package func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
    var v = value.magnitude
    if value < 0 { bytes.append(UInt8(ascii: "-")) }
    // 20 digits hold any 64-bit magnitude.
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &tmp) { buf in
        repeat {
            buf[n] = UInt8(ascii: "0") &+ UInt8(v % 10)
            v /= 10
            n += 1
        } while v > 0 && n < 20
        while n < width && n < 20 {
            buf[n] = UInt8(ascii: "0")
            n += 1
        }
        while n > 0 {
            n -= 1
            bytes.append(buf[n])
        }
    }
}

/// A proleptic Gregorian calendar date, converted to and from days since 1970-01-01 without Foundation.
///
/// The algorithm is Howard Hinnant's `days_from_civil` / `civil_from_days` (public domain description at
/// howardhinnant.github.io/date_algorithms.html), valid for every year an `Int64` day count can hold.
public struct CivilDate: Hashable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.init(year: Int(y), month: Int(m), day: Int(d))
    }

    /// Days since 1970-01-01 (negative before it).
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mm = Int64(month)
        let doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Whether `day` exists in `month` of `year`.
    public var isValid: Bool {
        guard month >= 1 && month <= 12 && day >= 1 else { return false }
        return day <= CivilDate.daysIn(month: month, year: year)
    }

    /// The number of days in `month` of `year`.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
