import SendWatchCore

/// What a template slot value carries that a name field should not: the signal of scam text typed into a
/// tenant or display name and echoed by a notification template.
///
/// The classifier is deliberately simple and explainable: each indicator is a byte-level pattern, and the
/// score is a fixed weight per indicator, so an alert can say exactly what was found.
public struct SlotIndicators: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `http://`, `https://`, `hxxp://`, `www.`.
    public static let url = SlotIndicators(rawValue: 1 << 0)
    /// A domain name (`refund-portal.example`, `bit.ly`).
    public static let domain = SlotIndicators(rawValue: 1 << 1)
    /// An e-mail address.
    public static let email = SlotIndicators(rawValue: 1 << 2)
    /// A phone number: at least 9 digits written with only spaces, `+`, `-`, `.`, `(`, `)` between them.
    public static let phone = SlotIndicators(rawValue: 1 << 3)
    /// A Bitcoin (base58 or bech32) or Ethereum address.
    public static let cryptoWallet = SlotIndicators(rawValue: 1 << 4)
    /// A money amount: a currency sign or code next to a number (`$499`, `499,00 €`, `USD 20`).
    public static let money = SlotIndicators(rawValue: 1 << 5)
    /// Urgency or lure words (`urgent`, `suspended`, `verify`, `refund`, `call`, ...).
    public static let urgency = SlotIndicators(rawValue: 1 << 6)
    /// Longer than a name: more than 6 words or 48 bytes.
    public static let longText = SlotIndicators(rawValue: 1 << 7)

    /// The indicator names, in a fixed order, for evidence.
    public var names: [String] {
        var out: [String] = []
        for (flag, name) in Self.named where contains(flag) { out.append(name) }
        return out
    }

    static let named: [(SlotIndicators, String)] = [
        (.url, "url"), (.domain, "domain"), (.email, "email"), (.phone, "phone"), (.cryptoWallet, "crypto_wallet"),
        (.money, "money"), (.urgency, "urgency_words"), (.longText, "long_text"),
    ]
}

/// Classifies slot values. Stateless; every method is O(length) and allocation-free for ASCII input.
public enum SlotContent {
    /// Words that lure or pressure, matched as whole words, case-insensitively. The payment verbs (`pay`, `fee`,
    /// `deposit`, `transfer`) make a wallet address a whole lure (`Pay fee to bc1q…`), as `call` does a number.
    static let urgencyWords: [[UInt8]] = [
        "urgent", "immediately", "suspended", "locked", "verify", "pending", "refund", "payment", "call", "claim",
        "prize", "winner", "bitcoin", "crypto", "giftcard", "gift", "expired", "expires", "overdue", "billing",
        "helpdesk", "support", "security", "alert", "unusual", "confirm", "wallet", "invoice", "charged",
        "cancel", "dispute", "paypal", "bank", "pay", "fee", "fees", "deposit", "transfer",
    ].map { Array($0.utf8) }

    /// The indicators found in `text` or in its ``LureText`` normalisation (full-width and look-alike
    /// characters, invisible characters, defanged links and disguised digit groups undone).
    ///
    /// Most text needs no normalising, which one byte pass tells; disguised text is scanned twice, as written
    /// and normalised, and gets the indicators of both.
    public static func indicators(of text: String) -> SlotIndicators {
        indicators(of: text, normalized: LureText.normalize(text)?.text)
    }

    /// ``indicators(of:)`` for a `text` whose ``LureText`` normalisation the caller already has: `normalized` is
    /// `LureText.normalize(text)?.text` (`nil` when normalising changes nothing).
    public static func indicators(of text: String, normalized: String?) -> SlotIndicators {
        let found = text.withUTF8Bytes { indicators(bytes: UnsafeRawBufferPointer($0)) }
        guard let normalized else { return found }
        return found.union(normalized.withUTF8Bytes { indicators(bytes: UnsafeRawBufferPointer($0)) })
    }

    /// The score of a set of indicators: strong signals (URL, e-mail, phone, wallet) 2 each, domain and money
    /// 1.5, urgency words 1, long text 0.5.
    public static func score(_ i: SlotIndicators) -> Double {
        var s = 0.0
        if i.contains(.url) { s += 2 }
        if i.contains(.email) { s += 2 }
        if i.contains(.phone) { s += 2 }
        if i.contains(.cryptoWallet) { s += 2 }
        if i.contains(.domain) { s += 1.5 }
        if i.contains(.money) { s += 1.5 }
        if i.contains(.urgency) { s += 1 }
        if i.contains(.longText) { s += 0.5 }
        return s
    }

    /// The indicators found in UTF-8 `p`.
    public static func indicators(bytes p: UnsafeRawBufferPointer) -> SlotIndicators {
        var found: SlotIndicators = []
        let n = p.count
        if n > 48 { found.insert(.longText) }
        var words = 0
        var i = 0
        var previousNumeric = false
        var previousCurrency = false
        while i < n {
            while i < n && isSpace(p[i]) { i += 1 }
            guard i < n else { break }
            let start = i
            while i < n && !isSpace(p[i]) { i += 1 }
            words += 1
            classifyToken(p, start, i, into: &found)
            // A currency sign or code as its own word next to a number ("499,00 €", "EUR 20").
            let numeric = isNumber(p, start, i)
            let currency = isCurrency(p, start, i)
            if (numeric && previousCurrency) || (currency && previousNumeric) { found.insert(.money) }
            previousNumeric = numeric
            previousCurrency = currency
        }
        if words > 6 { found.insert(.longText) }
        if hasPhone(p) { found.insert(.phone) }
        return found
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    @inline(__always)
    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    static func hasPrefixLower(_ p: UnsafeRawBufferPointer, _ at: Int, _ end: Int, _ s: StaticString) -> Bool {
        s.withUTF8Buffer { sb in
            guard end - at >= sb.count else { return false }
            for k in 0..<sb.count where lower(p[at + k]) != sb[k] { return false }
            return true
        }
    }

    static func classifyToken(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int, into found: inout SlotIndicators) {
        // Trim surrounding punctuation for word-level checks.
        var s = start
        var e = end
        while s < e && !isAlnum(p[s]) && p[s] < 0x80 && p[s] != UInt8(ascii: "$") && p[s] != UInt8(ascii: "+") {
            s += 1
        }
        while e > s && !isAlnum(p[e - 1]) && p[e - 1] < 0x80 && p[e - 1] != UInt8(ascii: "/") { e -= 1 }
        guard s < e else { return }
        for k in start..<end {
            let c = p[k]
            if c == UInt8(ascii: "h") || c == UInt8(ascii: "H") {
                if hasPrefixLower(p, k, end, "http://") || hasPrefixLower(p, k, end, "https://")
                    || hasPrefixLower(p, k, end, "hxxp://") || hasPrefixLower(p, k, end, "hxxps://")
                {
                    found.insert(.url)
                }
            }
        }
        if hasPrefixLower(p, s, e, "www.") { found.insert(.url) }
        var at = -1
        var dots = 0
        var digits = 0
        var letters = 0
        for k in s..<e {
            let c = p[k]
            if c == UInt8(ascii: "@") { at = k }
            if c == UInt8(ascii: ".") { dots += 1 }
            if c >= 0x30 && c <= 0x39 { digits += 1 }
            if (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A { letters += 1 }
        }
        if at > s && at < e - 3 && dots > 0 && isDomain(p, at + 1, e) { found.insert(.email) }
        if at < 0 && dots > 0 {
            let host = hostRange(p, s, e)
            if isDomain(p, host.lowerBound, host.upperBound) { found.insert(.domain) }
        }
        if isWallet(p, s, e, digits: digits, letters: letters) { found.insert(.cryptoWallet) }
        if isMoney(p, start, end, digits: digits) { found.insert(.money) }
        if letters >= 3 && digits == 0 && isUrgencyWord(p, s, e) { found.insert(.urgency) }
    }

    /// The host part of a URL-like token: after a `scheme://`, before `/`, `:` or `?`.
    static func hostRange(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Range<Int> {
        var start = s
        var k = s
        while k + 2 < e {
            if p[k] == UInt8(ascii: ":") && p[k + 1] == UInt8(ascii: "/") && p[k + 2] == UInt8(ascii: "/") {
                start = k + 3
                break
            }
            k += 1
        }
        k = start
        while k < e && p[k] != UInt8(ascii: "/") && p[k] != UInt8(ascii: ":") && p[k] != UInt8(ascii: "?") { k += 1 }
        return start..<k
    }

    /// `label(.label)+` where the last label is 2–24 letters and every label is alphanumeric or `-`.
    static func isDomain(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        guard e - s >= 4 else { return false }
        var labels = 0
        var labelStart = s
        var k = s
        while k <= e {
            if k == e || p[k] == UInt8(ascii: ".") {
                let len = k - labelStart
                guard len >= 1 && len <= 63 else { return false }
                labels += 1
                if k == e {
                    guard len >= 2 && len <= 24 else { return false }
                    for m in labelStart..<k where !((p[m] | 0x20) >= 0x61 && (p[m] | 0x20) <= 0x7A) { return false }
                }
                labelStart = k + 1
            } else if !(isAlnum(p[k]) || p[k] == UInt8(ascii: "-")) {
                return false
            }
            k += 1
        }
        return labels >= 2
    }

    static func isWallet(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int, digits: Int, letters: Int) -> Bool {
        let n = e - s
        if n == 42 && p[s] == UInt8(ascii: "0") && (p[s + 1] | 0x20) == UInt8(ascii: "x") {
            for k in (s + 2)..<e where !isHex(p[k]) { return false }
            return true
        }
        if n >= 26 && n <= 35 && (p[s] == UInt8(ascii: "1") || p[s] == UInt8(ascii: "3")) && digits > 3 && letters > 10
        {
            for k in s..<e
            where !isAlnum(p[k]) || p[k] == UInt8(ascii: "0") || p[k] == UInt8(ascii: "O")
                || p[k] == UInt8(ascii: "I") || p[k] == UInt8(ascii: "l")
            {
                return false
            }
            return true
        }
        if n >= 42 && n <= 62 && hasPrefixLower(p, s, e, "bc1") {
            for k in s..<e where !isAlnum(p[k]) { return false }
            return digits > 3
        }
        return false
    }

    @inline(__always)
    static func isHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) }

    static func isMoney(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int, digits: Int) -> Bool {
        guard digits > 0 else {
            return false
        }
        // $, £ (C2 A3), € (E2 82 AC), ¥ (C2 A5) anywhere in a token with digits; or a currency code prefix/suffix.
        for k in s..<e {
            let c = p[k]
            if c == UInt8(ascii: "$") { return true }
            if c == 0xC2 && k + 1 < e && (p[k + 1] == 0xA3 || p[k + 1] == 0xA5) { return true }
            if c == 0xE2 && k + 2 < e && p[k + 1] == 0x82 && p[k + 2] == 0xAC { return true }
        }
        for code: StaticString in ["usd", "eur", "gbp", "btc", "usdt"] {
            let len = code.utf8CodeUnitCount
            if hasPrefixLower(p, s, e, code) && s + len < e && p[s + len] >= 0x30 && p[s + len] <= 0x39 { return true }
            // `374USD`: the code right after the number.
            if e - s > len && p[e - len - 1] >= 0x30 && p[e - len - 1] <= 0x39 && hasPrefixLower(p, e - len, e, code) {
                return true
            }
        }
        return false
    }

    /// Digits with `.`/`,` separators only.
    static func isNumber(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        var digits = 0
        for k in s..<e {
            let c = p[k]
            if c >= 0x30 && c <= 0x39 {
                digits += 1
            } else if c != UInt8(ascii: ".") && c != UInt8(ascii: ",") {
                return false
            }
        }
        return digits > 0
    }

    /// `$`, `€`, `£`, `¥`, a currency code or a currency word, alone, trailing `.`, `,`, `:` or `;` ignored
    /// (`USD`, `US$`, `U.S.`, `dollars`, `euros`).
    static func isCurrency(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        var e = e
        while e - s > 1, p[e - 1] == UInt8(ascii: ",") || p[e - 1] == UInt8(ascii: ":") || p[e - 1] == UInt8(ascii: ";")
        {
            e -= 1
        }
        let n = e - s
        if n == 1 { return p[s] == UInt8(ascii: "$") }
        if n == 2 { return p[s] == 0xC2 && (p[s + 1] == 0xA3 || p[s + 1] == 0xA5) }
        if n == 3 && p[s] == 0xE2 && p[s + 1] == 0x82 && p[s + 2] == 0xAC { return true }
        for code in currencyWords where code.count == n || (code.count == n - 1 && p[e - 1] == UInt8(ascii: ".")) {
            var k = 0
            while k < code.count && lower(p[s + k]) == code[k] { k += 1 }
            if k == code.count { return true }
        }
        return false
    }

    /// Currency codes and words, lower case.
    static let currencyWords: [[UInt8]] = [
        "usd", "eur", "gbp", "btc", "usdt", "us$", "u.s.", "dollar", "dollars", "euro", "euros",
    ].map { Array($0.utf8) }

    static func isUrgencyWord(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        let n = e - s
        for w in urgencyWords where w.count == n {
            var k = 0
            while k < n && lower(p[s + k]) == w[k] { k += 1 }
            if k == n { return true }
        }
        return false
    }

    /// At least 9 digits in a run of digits, spaces, `+`, `-`, `.`, `(`, `)`, starting with a digit, `+` or `(`.
    /// The run may be followed by more words (`call 1-866-555-0197 immediately`), but digits glued to letters
    /// (`0197immediately`, a hex id) or to a `:` (a date and time, `2026-11-29 10:00`) are not a phone number.
    static func hasPhone(_ p: UnsafeRawBufferPointer) -> Bool {
        var digits = 0
        var inRun = false
        var previous: UInt8 = 0x20
        var i = 0
        while i < p.count {
            let b = p[i]
            let isDigit = b >= 0x30 && b <= 0x39
            let isLetter = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A
            let isJoiner =
                b == 0x20 || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "(") || b == UInt8(ascii: ")")
            if isDigit && !inRun && ((previous | 0x20) >= 0x61 && (previous | 0x20) <= 0x7A) {
                // Digits glued to letters (hex ids, wallet addresses) are not a phone number: skip the token.
                while i < p.count && isAlnum(p[i]) { i += 1 }
                digits = 0
                previous = 0x41
                continue
            }
            if isDigit {
                digits += 1
                inRun = true
            } else if isJoiner && (inRun || b == UInt8(ascii: "+") || b == UInt8(ascii: "(")) {
                inRun = true
            } else {
                // A run glued to letters is a word; one that runs into a `:` is a date and a time
                // (`2026-11-29 10:00`), not a number to call.
                let glued = previous >= 0x30 && previous <= 0x39
                if inRun && digits >= 9 && !((isLetter || b == UInt8(ascii: ":")) && glued) { return true }
                digits = 0
                inRun = false
                if isLetter {
                    while i < p.count && isAlnum(p[i]) { i += 1 }
                    previous = 0x41
                    continue
                }
            }
            previous = b
            i += 1
        }
        return inRun && digits >= 9
    }
}
