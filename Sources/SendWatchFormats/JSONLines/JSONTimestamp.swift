import SendWatchCore

/// Reads the time forms JSON-lines records use, without Foundation and without trapping on any input.
///
/// - An RFC 3339 string (`2026-03-02T09:15:04.120+01:00`, `...Z`, fraction optional) read by
///   ``Timestamps/readDateTime(_:at:zone:)``; the whole string must be consumed. A time without an offset is
///   local time in the configured zone.
/// - A number, or a string holding a number in JSON number syntax (`1772439304`, `"1772439304.12"`,
///   `1.772439304e9`): epoch **seconds** if its magnitude is at most 1e11 (which is the year 5138), otherwise
///   epoch **milliseconds** (1e11 ms is 1973). Both readings of any number near the boundary are far outside
///   ``Timestamps/plausibleYears``, so the rule never picks the wrong unit for a plausible time. Fractions are
///   kept to the microsecond and truncated below it.
///
/// Outcomes: a time outside ``Timestamps/plausibleYears`` (by its UTC year), or a number too large for
/// microseconds in an `Int64` (`1e999`, 30-digit integers), is `timestamp_out_of_range`; anything else that is
/// not one of the forms is `bad_timestamp`.
enum JSONTimestamp {
    /// The first microsecond of the first plausible year.
    static let lowestMicros =
        CivilDate(year: Timestamps.plausibleYears.lowerBound, month: 1, day: 1).daysSinceEpoch * 86_400_000_000
    /// The first microsecond after the last plausible year.
    static let endMicros =
        CivilDate(year: Timestamps.plausibleYears.upperBound + 1, month: 1, day: 1).daysSinceEpoch * 86_400_000_000

    /// Reads the time in a scanned value (a string or a number; any other kind is `bad_timestamp`).
    ///
    /// - Complexity: O(length of the value); allocates only for a string with escapes.
    static func read(
        _ p: UnsafeRawBufferPointer, _ value: JSONScanner.Value, zone: inout LocalTimeZone
    ) -> Result<EventTime, RejectReason> {
        guard value.range.lowerBound >= 0, value.range.upperBound <= p.count else { return .failure(.badTimestamp) }
        switch value.kind {
        case .number:
            return readEpoch(UnsafeRawBufferPointer(rebasing: p[value.range]))
        case .string where value.hasEscapes:
            // Escapes in a timestamp are odd but legal JSON (`"2026\u002d03-02..."`).
            var bytes: [UInt8] = []
            JSONScanner.appendUnescaped(p, value.range, to: &bytes)
            return bytes.withUnsafeBytes { readText($0, zone: &zone) }
        case .string:
            return readText(UnsafeRawBufferPointer(rebasing: p[value.range]), zone: &zone)
        default:
            return .failure(.badTimestamp)
        }
    }

    /// Reads an RFC 3339 date-time or a numeric epoch time from the text of a string.
    static func readText(_ t: UnsafeRawBufferPointer, zone: inout LocalTimeZone) -> Result<EventTime, RejectReason> {
        if t.count >= 5 && t[0] &- 0x30 < 10 && t[1] &- 0x30 < 10 && t[2] &- 0x30 < 10 && t[3] &- 0x30 < 10
            && t[4] == UInt8(ascii: "-")
        {
            return readDateTime(t, zone: &zone)
        }
        return readEpoch(t)
    }

    private static func readDateTime(
        _ t: UnsafeRawBufferPointer, zone: inout LocalTimeZone
    ) -> Result<EventTime, RejectReason> {
        if let (time, end) = Timestamps.readDateTime(t, at: 0, zone: &zone), end == t.count {
            return inRange(time.microseconds) ? .success(time) : .failure(.timestampOutOfRange)
        }
        // `readDateTime` refuses implausible years along with garbage; tell them apart by reading the same text
        // with a plausible year.
        let year = (0..<4).reduce(0) { $0 * 10 + Int(t[$1] &- 0x30) }
        guard !Timestamps.plausibleYears.contains(year) else { return .failure(.badTimestamp) }
        var copy = Array(t)
        copy.replaceSubrange(0..<4, with: Array("2000".utf8))
        let parses = copy.withUnsafeBytes { c -> Bool in
            guard let (_, end) = Timestamps.readDateTime(c, at: 0, zone: &zone) else { return false }
            return end == c.count
        }
        return .failure(parses ? .timestampOutOfRange : .badTimestamp)
    }

    /// Reads epoch seconds or milliseconds in JSON number syntax (the whole of `t`).
    static func readEpoch(_ t: UnsafeRawBufferPointer) -> Result<EventTime, RejectReason> {
        guard !t.isEmpty, JSONScanner.scanNumber(t, from: 0) == t.count else { return .failure(.badTimestamp) }
        var i = 0
        let negative = t[0] == UInt8(ascii: "-")
        if negative { i += 1 }
        // The value is significand × 10^exponent. Up to 18 significant digits are kept (enough for microseconds
        // of any plausible millisecond time); further integer digits only raise the exponent.
        var significand: UInt64 = 0
        var exponent = 0
        var kept = 0
        while i < t.count && t[i] &- 0x30 < 10 {
            if kept < 18 {
                significand = significand * 10 + UInt64(t[i] &- 0x30)
                if significand != 0 { kept += 1 }
            } else {
                exponent += 1
            }
            i += 1
        }
        if i < t.count && t[i] == UInt8(ascii: ".") {
            i += 1
            while i < t.count && t[i] &- 0x30 < 10 {
                if kept < 18 {
                    significand = significand * 10 + UInt64(t[i] &- 0x30)
                    exponent -= 1
                    if significand != 0 { kept += 1 }
                }
                i += 1
            }
        }
        if i < t.count && (t[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < t.count && (t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-")) {
                expNegative = t[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            while i < t.count && t[i] &- 0x30 < 10 {
                // Clamped: any exponent beyond this over- or underflows the result anyway.
                if e < 100_000 { e = e * 10 + Int(t[i] &- 0x30) }
                i += 1
            }
            exponent += expNegative ? -e : e
        }
        // Seconds unless the magnitude exceeds 1e11, i.e. unless the value in microseconds exceeds 1e17.
        var micros: UInt64
        if let asSeconds = scaled(significand, exponent + 6), asSeconds <= 100_000_000_000_000_000 {
            micros = asSeconds
        } else if let asMillis = scaled(significand, exponent + 3) {
            micros = asMillis
        } else {
            return .failure(.timestampOutOfRange)
        }
        guard micros <= UInt64(Int64.max) else { return .failure(.timestampOutOfRange) }
        let signed = negative ? -Int64(micros) : Int64(micros)
        return inRange(signed) ? .success(EventTime(microseconds: signed)) : .failure(.timestampOutOfRange)
    }

    /// ⌊significand × 10^exponent⌋, or `nil` when it does not fit a `UInt64`.
    private static func scaled(_ significand: UInt64, _ exponent: Int) -> UInt64? {
        guard significand != 0 else { return 0 }
        var v = significand
        if exponent >= 0 {
            for _ in 0..<min(exponent, 20) {
                let (r, overflow) = v.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                v = r
            }
            return exponent > 20 ? nil : v
        }
        if exponent < -19 { return 0 }
        for _ in 0..<(-exponent) { v /= 10 }
        return v
    }

    @inline(__always)
    static func inRange(_ micros: Int64) -> Bool { micros >= lowestMicros && micros < endMicros }
}
