/// Parses and prints the durations the config and flags use: `90s`, `10m`, `1h`, `7d`, `1w`, combinations like
/// `1h30m`, or a bare number of seconds.
public enum DurationText {
    /// Seconds in `text`, or `nil` when it is not a duration.
    public static func seconds(_ text: String) -> Int64? {
        let t = text.trimmingSpaces()
        guard !t.isEmpty else { return nil }
        var total: Int64 = 0
        var number: Int64 = 0
        var haveDigits = false
        var sawUnit = false
        for c in t.utf8 {
            if c >= 0x30 && c <= 0x39 {
                let (m, o1) = number.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
                guard !o1, !o2 else { return nil }
                number = a
                haveDigits = true
                continue
            }
            guard haveDigits else { return nil }
            let unit: Int64
            switch c {
            case UInt8(ascii: "s"): unit = 1
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "h"): unit = 3600
            case UInt8(ascii: "d"): unit = 86_400
            case UInt8(ascii: "w"): unit = 604_800
            default: return nil
            }
            let (m, o1) = number.multipliedReportingOverflow(by: unit)
            let (a, o2) = total.addingReportingOverflow(m)
            guard !o1, !o2 else { return nil }
            total = a
            number = 0
            haveDigits = false
            sawUnit = true
        }
        if haveDigits {
            // A trailing bare number is seconds only when it is the whole text.
            guard !sawUnit else { return nil }
            total = number
        }
        return total
    }

    /// The shortest text for `seconds` in the largest whole units, e.g. `3600` → `1h`, `90` → `90s`.
    public static func format(_ seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        for (unit, suffix) in [(Int64(604_800), "w"), (86_400, "d"), (3600, "h"), (60, "m")] where seconds % unit == 0 {
            return "\(seconds / unit)\(suffix)"
        }
        return "\(seconds)s"
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
