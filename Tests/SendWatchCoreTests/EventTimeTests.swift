import SendWatchCore
import Testing

@Suite struct EventTimeTests {
    @Test(
        "RFC 3339 output for whole seconds, milliseconds and microseconds",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00Z"),
            (Int64(1_795_929_194_000_000), "2026-11-29T05:13:14Z"),
            (Int64(1_795_929_194_903_000), "2026-11-29T05:13:14.903Z"),
            (Int64(1_795_929_194_903_175), "2026-11-29T05:13:14.903175Z"),
            (Int64(-1_000_000), "1969-12-31T23:59:59Z"),
            (Int64(951_782_400_000_000), "2000-02-29T00:00:00Z"),
        ])
    func rfc3339(micros: Int64, expected: String) {
        #expect(EventTime(microseconds: micros).description == expected)
    }

    @Test("Civil date round trip over four centuries")
    func civilRoundTrip() {
        var day: Int64 = -146_097
        while day < 146_097 * 2 {
            let c = CivilDate(daysSinceEpoch: day)
            #expect(c.isValid)
            #expect(c.daysSinceEpoch == day)
            day += 13
        }
    }
}

@Suite struct DigitsTests {
    @Test(
        "Decimal digits: padding, negatives, 64-bit extremes",
        arguments: [
            (0, 1, "0"), (7, 3, "007"), (-42, 1, "-42"), (1_795_932_000_000, 1, "1795932000000"),
            (Int.max, 1, "9223372036854775807"), (Int.min, 1, "-9223372036854775808"),
        ])
    func digits(value: Int, width: Int, expected: String) {
        var bytes: [UInt8] = []
        appendDigits(value, width: width, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }
}
