import SendWatchCore

/// Finds the lure indicators in a piece of attacker-written text: phone numbers, URLs, domains, money amounts.
///
/// The report marks them in template slot values and subjects, and links accounts to the phone numbers and
/// domains they share. The scan is a hand-written left-to-right pass over Unicode scalars (no regular
/// expressions): every position is looked at once, so it is linear in the text length.
///
/// What counts:
/// - **URL**: `http://`, `https://`, their defanged forms `hxxp://`, `hxxps://`, or `www.`, up to white space or
///   a quote or angle bracket; its artefact is the host, lower-cased, with `[.]` read as `.` and a leading
///   `www.` dropped.
/// - **Domain**: two or more dot-separated labels of letters, digits and `-` whose last label is at least two
///   letters (`coin-bonus.example`, the part after `@` in an address); common file extensions (`invoice.pdf`)
///   are not domains.
/// - **Phone**: a run of digits with spaces, `-`, `.` and parentheses, 7 to 15 digits, that starts with `+` or
///   `(` or has at least 10 digits, and is not a date (`2026-11-29`); its artefact is the digits alone.
/// - **Money**: a currency sign (`$ € £ ¥ ₹`) before a number, or a number followed or preceded by a currency
///   code (`USD`, `EUR`, `GBP`, `BTC`) or word (`dollars`, `euros`). Marked, but not an artefact: amounts are
///   not specific enough to link accounts by.
///
/// Disguised text (full-width or look-alike letters, invisible characters, defanged `example[.]com` or
/// `example(dot)com`, `O` for `0` in a phone number) is scanned in its `LureText` normalisation, the one the
/// detector scores, and the marks are placed on the characters as written.
///
/// Deliberately left out: internationalised domain names in other scripts than Latin (marked only if they are
/// written in punycode), IP-address URLs without dots in the host, and phone numbers written in words.
public enum Indicators {
    /// What an indicator is.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Comparable {
        case phone, url, domain, money

        /// Text order of the kinds: phone, url, domain, money.
        public static func < (a: Kind, b: Kind) -> Bool { a.rank < b.rank }

        private var rank: Int {
            switch self {
            case .phone: 0
            case .url: 1
            case .domain: 2
            case .money: 3
            }
        }
    }

    /// One indicator found in a text.
    public struct Match: Sendable, Hashable {
        /// What was found.
        public var kind: Kind
        /// Where it is, in Unicode scalars from the start of the text.
        public var range: Range<Int>
        /// The normalised value: the phone's digits, the URL's or domain's host, the money text as written.
        public var normalized: String
    }

    /// What accounts are linked by: a phone number (digits) or a host.
    public struct Artefact: Sendable, Hashable, Comparable {
        /// A phone number or a host (from a URL or a bare domain: the two are one artefact).
        public enum Kind: String, Sendable, Hashable {
            case phone, domain
        }

        /// What the artefact is.
        public var kind: Kind
        /// The digits of a phone number, or the lower-cased host.
        public var value: String

        /// Makes an artefact from an already normalised value.
        public init(kind: Kind, value: String) {
            self.kind = kind
            self.value = value
        }

        /// Hosts before phone numbers, then by value.
        public static func < (a: Artefact, b: Artefact) -> Bool {
            a.kind.rawValue != b.kind.rawValue ? a.kind.rawValue < b.kind.rawValue : a.value < b.value
        }

        /// How the artefact is shown: `+18885550178` for a phone, the host for a domain.
        public var label: String { kind == .phone ? "+" + value : value }
    }

    /// Every indicator in `text`, in text order, not overlapping.
    ///
    /// - Complexity: O(n) in the number of Unicode scalars of `text`.
    public static func scan(_ text: String) -> [Match] {
        // A disguised lure is scanned in its normalised form (the detector's `LureText`), and each match's
        // range is mapped back to the scalars of the text as written, so the report marks what the detector
        // found.
        guard let normalized = LureText.normalize(text) else { return scan(scalars: Array(text.unicodeScalars)) }
        let origins = normalized.origins
        return scan(scalars: Array(normalized.text.unicodeScalars)).map { m in
            var mapped = m
            mapped.range = origins[m.range.lowerBound]..<(origins[m.range.upperBound - 1] + 1)
            return mapped
        }
    }

    private static func scan(scalars s: [Unicode.Scalar]) -> [Match] {
        var out: [Match] = []
        var i = 0
        while i < s.count {
            if let m = url(s, at: i) ?? money(s, at: i) ?? phone(s, at: i) ?? domain(s, at: i) {
                out.append(m)
                i = m.range.upperBound
            } else if isAlnum(s[i]) {
                // Skip the rest of the word: digits inside `abc123` are not a phone number.
                while i < s.count, isAlnum(s[i]) { i += 1 }
            } else {
                i += 1
            }
        }
        return out
    }

    /// The phone numbers and hosts in `text`, each once, sorted.
    public static func artefacts(in text: String) -> [Artefact] {
        var set = Set<Artefact>()
        for m in scan(text) {
            switch m.kind {
            case .phone: set.insert(Artefact(kind: .phone, value: m.normalized))
            case .url, .domain: set.insert(Artefact(kind: .domain, value: m.normalized))
            case .money: break
            }
        }
        return set.sorted()
    }

    // MARK: - Recognisers: each returns a match starting at `i`, or nil.

    private static let schemes = ["https://", "http://", "hxxps://", "hxxp://", "www."]

    private static func url(_ s: [Unicode.Scalar], at i: Int) -> Match? {
        guard i == 0 || !isWordChar(s[i - 1]) else { return nil }
        guard let scheme = schemes.first(where: { hasPrefix(s, at: i, $0) }) else { return nil }
        var end = i + scheme.unicodeScalars.count
        while end < s.count, !isURLStop(s[end]) { end += 1 }
        while end > i, ".,;:!?)]'".unicodeScalars.contains(s[end - 1]) {
            // `[.]` is part of a defanged host; a lone closing bracket is punctuation.
            if s[end - 1] == "]", end - 3 >= i, s[end - 3] == "[", s[end - 2] == "." { break }
            end -= 1
        }
        let hostStart = scheme == "www." ? i : i + scheme.unicodeScalars.count
        var host = ""
        var k = hostStart
        while k < end {
            if hasPrefix(s, at: k, "[.]") {
                host += "."
                k += 3
                continue
            }
            let c = s[k]
            if c == "/" || c == "?" || c == "#" || c == ":" || c == "@" { break }
            host.unicodeScalars.append(lowercased(c))
            k += 1
        }
        while host.hasSuffix(".") { host.removeLast() }
        if host.hasPrefix("www.") { host.removeFirst(4) }
        guard host.contains("."), !host.hasPrefix(".") else { return nil }
        return Match(kind: .url, range: i..<end, normalized: host)
    }

    private static let fileExtensions: Set<String> = [
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "rar", "exe", "jpg", "jpeg", "png", "gif", "txt",
        "csv", "htm", "html", "js", "json", "xml", "mp3", "mp4",
    ]

    private static func domain(_ s: [Unicode.Scalar], at i: Int) -> Match? {
        guard isAlnum(s[i]), i == 0 || !(isWordChar(s[i - 1]) || s[i - 1] == ".") else { return nil }
        var labels: [String] = []
        var label = ""
        var k = i
        var end = i
        while k < s.count {
            let c = s[k]
            if isAlnum(c) || (c == "-" && !label.isEmpty) {
                label.unicodeScalars.append(lowercased(c))
                k += 1
                continue
            }
            let dotWidth = c == "." ? 1 : (hasPrefix(s, at: k, "[.]") ? 3 : 0)
            guard dotWidth > 0, !label.isEmpty, k + dotWidth < s.count, isAlnum(s[k + dotWidth]) else { break }
            labels.append(label)
            label = ""
            end = k
            k += dotWidth
        }
        if !label.isEmpty {
            labels.append(label)
            end = k
        }
        guard labels.count >= 2, let last = labels.last, last.count >= 2, !last.hasSuffix("-"),
            last.unicodeScalars.allSatisfy({ isLetter($0) }), !fileExtensions.contains(last),
            end >= s.count || !(isWordChar(s[end]) || s[end] == "@")
        else { return nil }
        return Match(kind: .domain, range: i..<end, normalized: labels.joined(separator: "."))
    }

    private static func phone(_ s: [Unicode.Scalar], at i: Int) -> Match? {
        let first = s[i]
        guard first == "+" || first == "(" || isDigit(first) else { return nil }
        if i > 0 {
            let p = s[i - 1]
            guard !isWordChar(p), !"./$€£¥₹,+".unicodeScalars.contains(p) else { return nil }
        }
        var digits = ""
        var lastDigit = -1
        // The separator just read, if the previous character was one. Two in a row end the number
        // (`555 - 1234` is two numbers), except `) ` and ` (` as in `+1 (888) 555-0178`.
        var previousSeparator: Unicode.Scalar? = first == "(" ? "(" : nil
        var k = isDigit(first) ? i : i + 1
        while k < s.count {
            let c = s[k]
            if isDigit(c) {
                digits.unicodeScalars.append(c)
                lastDigit = k
                previousSeparator = nil
            } else if c == " " || c == "-" || c == "." || c == "(" || c == ")" {
                if let p = previousSeparator, !(p == ")" && c == " "), !(p == " " && c == "(") { break }
                previousSeparator = c
            } else {
                break
            }
            k += 1
        }
        guard lastDigit >= 0 else { return nil }
        let end = lastDigit + 1
        guard end >= s.count || !(isWordChar(s[end]) || s[end] == "@") else { return nil }
        let count = digits.unicodeScalars.count
        let marked = first == "+" || first == "("
        guard count >= 7, count <= 15, marked || count >= 10 else { return nil }
        let text = String(String.UnicodeScalarView(s[i..<end]))
        if isDate(text) { return nil }
        return Match(kind: .phone, range: i..<end, normalized: digits)
    }

    /// `YYYY-MM-DD`, `YYYY.MM.DD` or `DD.MM.YYYY` (with or without a time next to it, which is cut off already).
    private static func isDate(_ text: String) -> Bool {
        let groups = text.split(whereSeparator: { $0 == "-" || $0 == "." || $0 == " " }).map(\.count)
        return groups.starts(with: [4, 2, 2]) || groups.starts(with: [2, 2, 4])
    }

    private static let currencyWords = [
        "u.s. dollars", "us$", "u.s.", "usd", "eur", "gbp", "btc", "dollars", "euros", "pounds",
    ]

    private static func money(_ s: [Unicode.Scalar], at i: Int) -> Match? {
        let c = s[i]
        if "$€£¥₹".unicodeScalars.contains(c) {
            var k = i + 1
            if k < s.count, s[k] == " " { k += 1 }
            guard let numberEnd = number(s, at: k) else { return nil }
            return moneyMatch(s, i..<numberEnd)
        }
        guard isAlnum(c), i == 0 || !isWordChar(s[i - 1]) else { return nil }
        if isDigit(c), let numberEnd = number(s, at: i), numberEnd < s.count, s[numberEnd] == " ",
            let wordEnd = currencyWord(s, at: numberEnd + 1)
        {
            return moneyMatch(s, i..<wordEnd)
        }
        if let wordEnd = currencyWord(s, at: i), wordEnd < s.count, s[wordEnd] == " ",
            let numberEnd = number(s, at: wordEnd + 1)
        {
            return moneyMatch(s, i..<numberEnd)
        }
        return nil
    }

    private static func moneyMatch(_ s: [Unicode.Scalar], _ range: Range<Int>) -> Match {
        Match(kind: .money, range: range, normalized: String(String.UnicodeScalarView(s[range])))
    }

    /// The end of a number such as `1000`, `1,000.50` or `5k` starting at `i`.
    private static func number(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        guard i < s.count, isDigit(s[i]) else { return nil }
        var k = i
        while k < s.count {
            if isDigit(s[k]) {
                k += 1
            } else if s[k] == "," || s[k] == ".", k + 1 < s.count, isDigit(s[k + 1]) {
                k += 1
            } else {
                break
            }
        }
        if k < s.count, s[k] == "k" || s[k] == "K", k + 1 >= s.count || !isWordChar(s[k + 1]) { k += 1 }
        guard k >= s.count || !isWordChar(s[k]) else { return nil }
        return k
    }

    private static func currencyWord(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        for w in currencyWords {
            let n = w.unicodeScalars.count
            guard i + n <= s.count, hasPrefix(s, at: i, w) else { continue }
            if i + n == s.count || !isWordChar(s[i + n]) { return i + n }
        }
        return nil
    }

    // MARK: - Character classes (ASCII: indicators are written in ASCII; other scripts end a token)

    /// Whether `s` continues at `i` with `p` (lower-case ASCII), ignoring case.
    private static func hasPrefix(_ s: [Unicode.Scalar], at i: Int, _ p: String) -> Bool {
        var k = i
        for c in p.unicodeScalars {
            guard k < s.count, lowercased(s[k]) == c else { return false }
            k += 1
        }
        return true
    }

    private static func isURLStop(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || c == "\"" || c == "'" || c == "<" || c == ">" || c == "`" || c.value < 0x20
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }
    private static func isLetter(_ c: Unicode.Scalar) -> Bool {
        (c.value >= 0x41 && c.value <= 0x5A) || (c.value >= 0x61 && c.value <= 0x7A)
    }
    private static func isAlnum(_ c: Unicode.Scalar) -> Bool { isDigit(c) || isLetter(c) }
    private static func isWordChar(_ c: Unicode.Scalar) -> Bool { isAlnum(c) || c == "_" || c == "-" }
    private static func lowercased(_ c: Unicode.Scalar) -> Unicode.Scalar {
        c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(UInt8(c.value + 0x20)) : c
    }
}
