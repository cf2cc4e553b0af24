internal import SendWatchCore

/// Text helpers for the page: escaping and the display forms of times, durations and indicator-marked text.
enum HTML {
    /// `s` with `& < > " '` replaced by entities, safe in element content and in quoted attribute values.
    ///
    /// Everything that comes from the input (account names, subjects, template text, ids, reasons) goes through
    /// this: an attacker controls most of it.
    static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return s
        }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `s` cut to `n` characters with a trailing `…`, then escaped.
    static func escape(_ s: String, max n: Int) -> String {
        escape(s.count > n ? String(s.prefix(n - 1)) + "…" : s)
    }

    /// `text` escaped, with each indicator wrapped in `<mark class="ind ind-KIND">`.
    static func marked(_ text: String) -> String {
        let matches = Indicators.scan(text)
        guard !matches.isEmpty else { return escape(text) }
        let scalars = Array(text.unicodeScalars)
        var out = ""
        var i = 0
        for m in matches {
            out += escape(String(String.UnicodeScalarView(scalars[i..<m.range.lowerBound])))
            let part = escape(String(String.UnicodeScalarView(scalars[m.range])))
            out += "<mark class=\"ind ind-\(m.kind.rawValue)\" title=\"\(m.kind.rawValue): \(escape(m.normalized))\">"
            out += part + "</mark>"
            i = m.range.upperBound
        }
        out += escape(String(String.UnicodeScalarView(scalars[i...])))
        return out
    }

    /// A template text escaped, with `<*>` slots shown as slot chips and indicators in the fixed text marked.
    static func template(_ text: String) -> String {
        var parts: [String] = []
        var rest = Substring(text)
        while let r = rest.firstRange(of: "<*>") {
            parts.append(marked(String(rest[..<r.lowerBound])))
            rest = rest[r.upperBound...]
        }
        parts.append(marked(String(rest)))
        return parts.joined(separator: "<span class=\"slot\">&lt;*&gt;</span>")
    }

    /// `2026-11-29 07:27:55` (UTC; fractions dropped).
    static func time(_ t: EventTime) -> String {
        let s = t.description
        return s.prefix(10) + " " + s.dropFirst(11).prefix(8)
    }

    /// `07:27:55`, or the full time when `t` is on another day than `reference`.
    static func shortTime(_ t: EventTime, reference: EventTime) -> String {
        let full = time(t)
        return full.prefix(10) == time(reference).prefix(10) ? String(full.dropFirst(11)) : full
    }

    /// A duration in at most two units: `45s`, `12m 5s`, `3h 20m`, `2d 4h`.
    static func duration(seconds: Int64) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m \(s % 60)s" }
        if s < 86_400 { return (s % 3600) / 60 == 0 ? "\(s / 3600)h" : "\(s / 3600)h \((s % 3600) / 60)m" }
        return (s % 86_400) / 3600 == 0 ? "\(s / 86_400)d" : "\(s / 86_400)d \((s % 86_400) / 3600)h"
    }

    /// A number with thousands separators: `10,000`.
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (k, c) in digits.enumerated() {
            if k > 0, (digits.count - k) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// `1 account`, `3 accounts`.
    static func plural(_ n: Int, _ word: String) -> String { "\(count(n)) \(word)\(n == 1 ? "" : "s")" }

    /// A fixed colour per alert kind: the bundled rules' kinds have their own, others one of a palette by a
    /// stable hash of the name (the same kind always gets the same colour).
    static func colour(kind: String) -> String {
        switch kind {
        case "template_swarm": return "#7048e8"
        case "slot_content": return "#1c7ed6"
        case "young_account_burst": return "#0ca678"
        default:
            let palette = ["#f08c00", "#d6336c", "#5c940d", "#1098ad", "#ae3ec9", "#495057"]
            return palette[Int(StableHash.of(kind) % UInt64(palette.count))]
        }
    }
}
