import SendWatchCore

/// The lure artefacts in a slot value: what a victim is asked to call, visit or pay, normalised so that the
/// same artefact written differently is one key. A phone number is its digits (`phone:18885550110` for
/// `+1 (888) 555-0110`); a URL, an e-mail address or a bare domain is its host, lower-cased, without `www.`
/// (`domain:paypa1-secure.com`); a crypto wallet address is itself (`wallet:0x…`, lower-cased where its
/// encoding ignores case).
///
/// Extraction reads bytes, at most ``maxScannedBytes`` of a value, and returns at most ``maxPerValue``
/// artefacts; it allocates only the strings it returns. It leaves out what a name field legitimately holds
/// (short numbers, words without a dot). A disguised value (look-alike or full-width characters, invisible
/// characters, defanged links, `O` for `0` in a phone number) is read in its ``LureText`` normalisation, so
/// the same artefact disguised differently is still one key.
///
/// Besides these, a value has a **lure text** (``lureText(_:anchor:)``): the three words before its first
/// artefact, normalised, and `#` for the artefact (`text:refund pending call #`), so that a campaign that gives
/// each account its own phone number still shares one key. The caller links on it only when the value also
/// names an artefact that is not too common (a lure asks the victim to call, visit or pay something), and it
/// needs ``lureTextMinWords`` words of two letters or more and ``lureTextMinLetters`` letters, so a brand or a
/// common phrase (`Acme Support`, `call us at`) never links.
enum LureArtefact {
    /// Bytes of a slot value scanned.
    static let maxScannedBytes = 512
    /// Artefacts returned per slot value.
    static let maxPerValue = 4
    /// Digits of a phone number: E.164 allows 15; fewer than 9 is more often an order number or a date.
    static let phoneDigits = 9...15

    /// Words (of at least 2 letters) before its first artefact that make a value's lure text: fewer is a
    /// name (`Acme Support 0800…`).
    static let lureTextMinWords = 3
    /// Letters the words of a lure text need: `call us at` (8) is too common a phrase to link on.
    static let lureTextMinLetters = 12
    /// The longest word kept in a lure text, in bytes (longer ones are cut).
    static let lureTextMaxWordBytes = 32

    /// The artefacts of `value`, without repeats, and its lure text (``lureText(_:anchor:)``) when enough
    /// words precede the first.
    ///
    /// - Complexity: O(min(bytes, ``maxScannedBytes``)).
    static func extract(from value: String) -> (artefacts: [String], text: String?) {
        extract(from: value, normalized: LureText.normalize(value)?.text)
    }

    /// ``extract(from:)`` for a `value` whose ``LureText`` normalisation the caller already has: `normalized` is
    /// `LureText.normalize(value)?.text` (`nil` when normalising changes nothing).
    static func extract(from value: String, normalized: String?) -> (artefacts: [String], text: String?) {
        (normalized ?? value).withUTF8Bytes { all in
            let bytes = UnsafeBufferPointer(rebasing: all.prefix(maxScannedBytes))
            let (artefacts, anchor) = artefacts(in: bytes)
            return (artefacts, anchor.flatMap { lureText(bytes, anchor: $0) })
        }
    }

    /// Words of letters a bare phone number may come with (`Tel 1-866-555-0197`): more is a name with a number
    /// in it (`Acme Plumbing 0800 555 0123`).
    static let barePhoneMaxWords = 1

    /// Whether `value`, whose artefacts are `artefacts`, is a bare phone number: its one artefact is a phone
    /// number and, besides it, the value has at most ``barePhoneMaxWords`` words with letters (read in its
    /// ``LureText`` normalisation, so `1-8OO-555-0197` is a number, not a word). A name field that holds
    /// nothing but a number to call is a lure on its own.
    ///
    /// - Complexity: O(min(bytes, ``maxScannedBytes``)), no allocation for ASCII text.
    static func isBarePhone(_ value: String, artefacts: [String]) -> Bool {
        isBarePhone(value, normalized: LureText.normalize(value)?.text, artefacts: artefacts)
    }

    /// ``isBarePhone(_:artefacts:)`` for a `value` whose ``LureText`` normalisation the caller already has
    /// (`LureText.normalize(value)?.text`).
    static func isBarePhone(_ value: String, normalized: String?, artefacts: [String]) -> Bool {
        guard artefacts.count == 1, artefacts[0].hasPrefix("phone:") else { return false }
        return (normalized ?? value).withUTF8Bytes { all in
            var words = 0
            var inWord = false
            var hasLetter = false
            for b in all.prefix(maxScannedBytes) {
                if b == 0x20 || b == 0x09 {
                    if inWord && hasLetter { words += 1 }
                    inWord = false
                    hasLetter = false
                } else {
                    inWord = true
                    if isWordByte(b) { hasLetter = true }
                }
            }
            if inWord && hasLetter { words += 1 }
            return words <= barePhoneMaxWords
        }
    }

    /// `value` with the template text on both sides of its slot (slot `slot`, 0-based, of `template`, whose
    /// slots are written `<*>`), up to the neighbouring slots or the ends: the value in its context when the
    /// template miner made a campaign's constant words part of the template. Just `value` when the template
    /// has no such slot.
    ///
    /// - Complexity: O(template bytes + value bytes); allocates the result.
    static func around(slot: Int, of template: String, _ value: String) -> String {
        var parts = template.split(separator: "<*>", omittingEmptySubsequences: false)
        guard slot + 1 < parts.count else { return value }
        parts = Array(parts[slot...(slot + 1)])
        return String(parts[0]) + value + String(parts[1])
    }

    /// The lure text of normalised bytes whose first artefact starts at `anchor`: `text:`, the
    /// ``lureTextMinWords`` words right before it, lower-cased (ASCII letters; other scripts' bytes as they
    /// are), one space apart, and `#` for the artefact; numbers, one-letter words and punctuation between them
    /// are skipped, a word is cut at ``lureTextMaxWordBytes``. `nil` when fewer words precede the artefact or
    /// they have fewer than ``lureTextMinLetters`` letters.
    ///
    /// The words before the number are the lure's own wording wherever the campaign puts it: in a slot of
    /// its own (`Refund pending, call +1 (888) 555-0110 today` → `text:refund pending call #`) or, when the
    /// template miner made them part of a template of their own, in that template's text.
    ///
    /// - Complexity: O(bytes before `anchor`).
    static func lureText(_ bytes: UnsafeBufferPointer<UInt8>, anchor: Int) -> String? {
        var words: [Range<Int>] = []
        var i = min(anchor, bytes.count)
        while i > 0 && words.count < lureTextMinWords {
            guard isWordByte(bytes[i - 1]) else {
                i -= 1
                continue
            }
            let end = i
            while i > 0 && isWordByte(bytes[i - 1]) { i -= 1 }
            // A word glued to digits (`INV-` aside, `abc123`) is an id, not wording.
            let glued = (i > 0 && isDigit(bytes[i - 1])) || (end < bytes.count && isDigit(bytes[end]))
            if end - i >= 2 && !glued { words.append(i..<min(end, i + lureTextMaxWordBytes)) }
        }
        let letters = words.reduce(0) { $0 + $1.count }
        guard words.count == lureTextMinWords && letters >= lureTextMinLetters else { return nil }
        var out: [UInt8] = Array("text:".utf8)
        for word in words.reversed() {
            for k in word { out.append(isLetter(bytes[k]) ? bytes[k] | 0x20 : bytes[k]) }
            out.append(0x20)
        }
        out.append(UInt8(ascii: "#"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The phone, host and wallet artefacts of normalised bytes, and where the first of them (in the text)
    /// starts: a host's or wallet's token, a phone number's first digit or `+`.
    private static func artefacts(in bytes: UnsafeBufferPointer<UInt8>) -> ([String], first: Int?) {
        var found: [String] = []
        var first: Int?
        func add(_ artefact: String, at start: Int) {
            guard found.count < maxPerValue && !found.contains(artefact) else { return }
            found.append(artefact)
            first = min(first ?? start, start)
        }
        var i = 0
        while i < bytes.count && found.count < maxPerValue {
            if isTokenBreak(bytes[i]) {
                i += 1
                continue
            }
            var end = i
            while end < bytes.count && !isTokenBreak(bytes[end]) { end += 1 }
            let token = UnsafeBufferPointer(rebasing: bytes[i..<end])
            if let host = hostArtefact(in: token) {
                add(host, at: i)
            } else if let wallet = wallet(in: token) {
                add("wallet:" + wallet, at: i)
            }
            i = end
        }
        // Phone numbers span spaces and brackets, so they are read over the whole value.
        i = 0
        while i < bytes.count && found.count < maxPerValue {
            guard
                isDigit(bytes[i]) || (bytes[i] == UInt8(ascii: "+") && i + 1 < bytes.count && isDigit(bytes[i + 1]))
            else {
                i += 1
                continue
            }
            var digits: [UInt8] = []
            var j = i
            var afterDigit = i
            while j < bytes.count && (isDigit(bytes[j]) || isPhoneSeparator(bytes[j]))
                && digits.count <= phoneDigits.upperBound
            {
                if isDigit(bytes[j]) {
                    digits.append(bytes[j])
                    afterDigit = j + 1
                }
                j += 1
            }
            // A digit run glued to letters or to a host is part of a word or a domain, and one that runs into
            // a `:` is a date and time, not a number.
            let k = afterDigit
            let glued =
                k < bytes.count
                && (isLetter(bytes[k]) || bytes[k] == UInt8(ascii: ":")
                    || (bytes[k] == UInt8(ascii: ".") && k + 1 < bytes.count && isLetter(bytes[k + 1])))
            if phoneDigits.contains(digits.count) && !glued {
                add("phone:" + String(decoding: digits, as: UTF8.self), at: i)
            }
            i = max(j, i + 1)
        }
        return (found, first)
    }

    /// Last labels that end file names and are no top-level domain: a bare token such as `q3-plan.pdf` or
    /// `jaso-42621.docx` (what a document-sharing template puts in its slot) names a file, not a host. Only
    /// extensions that are not delegated top-level domains are listed (`.zip`, `.mov` and `.md` are domains);
    /// with a scheme (`https://x.pdf`) or an `@` the token is still read as a host.
    static let fileExtensions: [[UInt8]] = [
        "pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "odt", "ods", "odp", "rtf", "txt",
        "csv", "tsv", "json", "xml", "yaml", "yml", "htm", "html", "eml", "msg", "ics", "vcf", "log", "png", "jpg",
        "jpeg", "gif", "bmp", "tif", "tiff", "heic", "webp", "svg", "mp3", "mp4", "wav", "avi", "mkv", "rar", "tar",
        "tgz", "exe", "dmg", "apk", "iso", "key", "pages", "numbers", "indd", "psd", "sketch", "fig",
    ].map { Array($0.utf8) }

    /// The host a token names (`https://x.example/p`, `user@x.example`, `www.x.example`, `x.example/path`),
    /// lower-cased without `www.`, as its artefact (`domain:x.example`), or `nil` when it names none: the host
    /// needs a dot, only letters, digits, hyphens and dots, and a last label of 2 to 24 letters; a bare token
    /// ending in one of ``fileExtensions`` is a file name.
    ///
    /// - Complexity: O(token bytes); reads the token in place and allocates only the returned string (most
    ///   tokens, words without a dot, are rejected without it).
    static func hostArtefact(in token: UnsafeBufferPointer<UInt8>) -> String? {
        var start = 0
        var bare = false
        if let scheme = find(token, "://") {
            start = scheme + 3
        } else if let at = token.lastIndex(of: UInt8(ascii: "@")) {
            start = at + 1
        } else {
            bare = true
        }
        var end = start
        while end < token.count, !isHostEnd(token[end]) { end += 1 }
        while end > start && token[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end - start >= 4 && end - start <= 253 else { return nil }
        // Validated in place: the host's bytes, lower-cased, are letters, digits, `-` and `.`, no dot first or
        // after a dot; `lastDot` is the last dot's offset from `start`.
        var lastDot = -1
        for k in start..<end {
            let b = lowered(token[k])
            guard isLetter(b) || isDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { return nil }
            if b == UInt8(ascii: ".") {
                guard k > start, token[k - 1] != UInt8(ascii: ".") else { return nil }
                lastDot = k - start
            }
        }
        let count = end - start
        let tld = count - lastDot - 1
        guard lastDot > 0, (2...24).contains(tld) else { return nil }
        for k in (start + lastDot + 1)..<end where !isLetter(token[k]) { return nil }
        let www =
            count >= 4 && lowered(token[start]) == UInt8(ascii: "w") && lowered(token[start + 1]) == UInt8(ascii: "w")
            && lowered(token[start + 2]) == UInt8(ascii: "w") && token[start + 3] == UInt8(ascii: ".")
        if bare && !www && isFileExtension(UnsafeBufferPointer(rebasing: token[(start + lastDot + 1)..<end])) {
            return nil
        }
        let from = www && count > 4 + 3 ? start + 4 : start
        let prefix: StaticString = "domain:"
        let prefixCount = prefix.utf8CodeUnitCount
        return String(unsafeUninitializedCapacity: prefixCount + end - from) { out in
            prefix.withUTF8Buffer { p in
                for k in 0..<prefixCount { out[k] = p[k] }
            }
            for k in from..<end { out[prefixCount + k - from] = lowered(token[k]) }
            return prefixCount + end - from
        }
    }

    /// Whether the letters `label` (a last label) are, lower-cased, one of ``fileExtensions``.
    private static func isFileExtension(_ label: UnsafeBufferPointer<UInt8>) -> Bool {
        fileExtensions.contains { ext in
            ext.count == label.count && zip(ext, label).allSatisfy { $0 == lowered($1) }
        }
    }

    /// An ASCII upper-case letter lowered; any other byte as it is.
    private static func lowered(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// Whether `b` ends a host in a token: `/`, `:`, `?` or `#`.
    private static func isHostEnd(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "?"), UInt8(ascii: "#"): true
        default: false
        }
    }

    /// The crypto wallet address a token is (as ``SlotContent`` recognises one: Bitcoin base58 or bech32,
    /// Ethereum), without trailing punctuation, or `nil`. Bech32 and Ethereum addresses are case-insensitive and
    /// lower-cased; base58 is kept as written.
    private static func wallet(in token: UnsafeBufferPointer<UInt8>) -> String? {
        var end = token.count
        while end > 0 && isTrailingPunctuation(token[end - 1]) { end -= 1 }
        guard end >= 26 else { return nil }
        let trimmed = UnsafeBufferPointer(rebasing: token[..<end])
        let digits = trimmed.reduce(0) { $0 + (isDigit($1) ? 1 : 0) }
        let letters = trimmed.reduce(0) { $0 + (isLetter($1) ? 1 : 0) }
        guard SlotContent.isWallet(UnsafeRawBufferPointer(trimmed), 0, end, digits: digits, letters: letters) else {
            return nil
        }
        let caseless = trimmed[0] != UInt8(ascii: "1") && trimmed[0] != UInt8(ascii: "3")
        return String(decoding: trimmed.map { caseless && $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// The offset of the first occurrence of `needle` in `bytes`, or `nil`.
    private static func find(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard n > 0, bytes.count >= n else { return nil }
        return needle.withUTF8Buffer { pattern -> Int? in
            let first = pattern[0]
            var i = 0
            while i <= bytes.count - n {
                if bytes[i] == first {
                    var k = 1
                    while k < n && bytes[i + k] == pattern[k] { k += 1 }
                    if k == n { return i }
                }
                i += 1
            }
            return nil
        }
    }

    private static func isTokenBreak(_ b: UInt8) -> Bool {
        switch b {
        case 0...0x20, UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "<"),
            UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "|"):
            true
        default: false
        }
    }

    /// `.`, `,`, `:`, `;`, `!` or `?`: what a wallet address may be followed by in text.
    private static func isTrailingPunctuation(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "!"),
            UInt8(ascii: "?"):
            true
        default: false
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    /// A letter of a word: an ASCII letter or a byte of a non-ASCII scalar (after normalisation, other
    /// scripts' letters).
    private static func isWordByte(_ b: UInt8) -> Bool { isLetter(b) || b >= 0x80 }
    private static func isPhoneSeparator(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"): true
        default: false
        }
    }
}
