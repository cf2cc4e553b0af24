import SendWatchCore

/// Byte-level text helpers for rendering log lines without Foundation formatters.
enum TextBytes {
    @inline(__always)
    static func append(_ s: String, to bytes: inout [UInt8]) { bytes.append(contentsOf: s.utf8) }

    @inline(__always)
    static func append(_ s: StaticString, to bytes: inout [UInt8]) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a non-negative integer, zero-padded to `width` (negative values print as 0).
    @inline(__always)
    static func appendDigits(_ value: Int, width: Int = 1, to bytes: inout [UInt8]) {
        SendWatchCore.appendDigits(max(0, value), width: width, to: &bytes)
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends the low `width` hex digits of `value` (lower case unless `upper`).
    static func appendHex(_ value: UInt64, width: Int, upper: Bool = false, to bytes: inout [UInt8]) {
        var shift = (width - 1) * 4
        while shift >= 0 {
            let d = Int((value >> UInt64(shift)) & 0xF)
            bytes.append(upper ? upperHex[d] : lowerHex[d])
            shift -= 4
        }
    }

    private static let base62: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Appends `value` in base 62 (`0-9A-Za-z`), `width` digits (Exim's message id alphabet).
    static func appendBase62(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        var digits: [UInt8] = Array(repeating: UInt8(ascii: "0"), count: width)
        var v = value
        var i = width - 1
        while i >= 0 {
            digits[i] = base62[Int(v % 62)]
            v /= 62
            i -= 1
        }
        bytes.append(contentsOf: digits)
    }

    /// `YYYYMMDDHHMMSS` of a UTC time.
    static func appendCompactDate(micros: Int64, to bytes: inout [UInt8]) {
        let t = EventTime(microseconds: micros)
        let secs = t.seconds
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let c = CivilDate(daysSinceEpoch: days)
        let sod = Int(secs - days * 86_400)
        appendDigits(c.year, width: 4, to: &bytes)
        appendDigits(c.month, width: 2, to: &bytes)
        appendDigits(c.day, width: 2, to: &bytes)
        appendDigits(sod / 3600, width: 2, to: &bytes)
        appendDigits(sod / 60 % 60, width: 2, to: &bytes)
        appendDigits(sod % 60, width: 2, to: &bytes)
    }

    /// A Postfix delay in seconds as Postfix prints it: up to two decimals below 10 s (trailing zeros and a
    /// bare `.` dropped, `0` for nothing), whole seconds from 10 s on.
    static func appendDelay(micros: Int64, to bytes: inout [UInt8]) {
        let m = max(0, micros)
        if m >= 10_000_000 {
            appendDigits(Int((m + 500_000) / 1_000_000), to: &bytes)
            return
        }
        let hundredths = Int(m / 10_000)
        appendDigits(hundredths / 100, to: &bytes)
        let frac = hundredths % 100
        if frac != 0 {
            bytes.append(UInt8(ascii: "."))
            if frac % 10 == 0 {
                appendDigits(frac / 10, to: &bytes)
            } else {
                appendDigits(frac, width: 2, to: &bytes)
            }
        }
    }
}

/// The text of a log line, written by string interpolation straight into UTF-8 bytes, e.g.
/// `"from=<\(m.sender)>, size=\(m.size)"`: literal parts and `String` values are copied as they are, an `Int`
/// is written in decimal (a negative one as 0, as ``TextBytes/appendDigits(_:width:to:)`` does), a byte array
/// (a queue or message id) as its bytes, `\(hex:width:)` in upper-case hex and `\(delay:)` as Postfix prints a
/// delay. The parts are evaluated from left to right, so random draws in them keep their order.
struct LineText: ExpressibleByStringInterpolation {
    /// The UTF-8 bytes of the text.
    var bytes: [UInt8]

    init(stringLiteral value: String) { bytes = Array(value.utf8) }

    init(stringInterpolation: StringInterpolation) { bytes = stringInterpolation.bytes }

    struct StringInterpolation: StringInterpolationProtocol {
        var bytes: [UInt8] = []

        init(literalCapacity: Int, interpolationCount: Int) {
            bytes.reserveCapacity(literalCapacity + 32 * interpolationCount)
        }

        mutating func appendLiteral(_ literal: String) { bytes.append(contentsOf: literal.utf8) }

        mutating func appendInterpolation(_ value: String) { bytes.append(contentsOf: value.utf8) }

        mutating func appendInterpolation(_ value: Int) { TextBytes.appendDigits(value, to: &bytes) }

        mutating func appendInterpolation(_ value: [UInt8]) { bytes.append(contentsOf: value) }

        mutating func appendInterpolation(hex value: UInt64, width: Int) {
            TextBytes.appendHex(value, width: width, upper: true, to: &bytes)
        }

        mutating func appendInterpolation(delay micros: Int64) { TextBytes.appendDelay(micros: micros, to: &bytes) }
    }
}

extension [UInt8] {
    /// Appends the bytes of `text`.
    @inline(__always)
    mutating func append(_ text: LineText) { append(contentsOf: text.bytes) }
}

/// Renders timestamps, caching the calendar work for the last day seen.
struct TimestampRenderer: Sendable {
    private var cachedDay: Int64 = .min
    private var date = CivilDate(year: 1970, month: 1, day: 1)

    private static let months: [StaticString] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    private mutating func split(_ micros: Int64) -> (CivilDate, Int) {
        let secs = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let day = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        if day != cachedDay {
            cachedDay = day
            date = CivilDate(daysSinceEpoch: day)
        }
        return (date, Int(secs - day * 86_400))
    }

    private static func appendClock(_ sod: Int, to bytes: inout [UInt8]) {
        TextBytes.appendDigits(sod / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        TextBytes.appendDigits(sod / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        TextBytes.appendDigits(sod % 60, width: 2, to: &bytes)
    }

    /// Classic syslog `Mmm dd HH:MM:SS` (day padded with a space), no year.
    mutating func appendClassic(_ micros: Int64, to bytes: inout [UInt8]) {
        let (d, sod) = split(micros)
        TextBytes.append(TimestampRenderer.months[d.month - 1], to: &bytes)
        bytes.append(UInt8(ascii: " "))
        if d.day < 10 { bytes.append(UInt8(ascii: " ")) }
        TextBytes.appendDigits(d.day, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        TimestampRenderer.appendClock(sod, to: &bytes)
    }

    /// Exim's `YYYY-MM-DD HH:MM:SS`.
    mutating func appendExim(_ micros: Int64, to bytes: inout [UInt8]) {
        let (d, sod) = split(micros)
        TextBytes.appendDigits(d.year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        TextBytes.appendDigits(d.month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        TextBytes.appendDigits(d.day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        TimestampRenderer.appendClock(sod, to: &bytes)
    }
}
