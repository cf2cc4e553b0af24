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
enum LureArtefact {
    /// Bytes of a slot value scanned.
    static let maxScannedBytes = 512
    /// Artefacts returned per slot value.
    static let maxPerValue = 4
    /// Digits of a phone number: E.164 allows 15; fewer than 9 is more often an order number or a date.
    static let phoneDigits = 9...15

    /// The artefacts of `value`, in the order they appear, without repeats.
    ///
    /// - Complexity: O(min(bytes, ``maxScannedBytes``)).
    static func extract(from value: String) -> [String] {
        (LureText.normalize(value)?.text ?? value).withUTF8Bytes { all in
            let bytes = UnsafeBufferPointer(rebasing: all.prefix(maxScannedBytes))
            var found: [String] = []
            func add(_ artefact: String) {
                if found.count < maxPerValue && !found.contains(artefact) { found.append(artefact) }
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
                if let host = host(in: token) {
                    add("domain:" + host)
                } else if let wallet = wallet(in: token) {
                    add("wallet:" + wallet)
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
                    add("phone:" + String(decoding: digits, as: UTF8.self))
                }
                i = max(j, i + 1)
            }
            return found
        }
    }

    /// The host a token names (`https://x.example/p`, `user@x.example`, `www.x.example`, `x.example/path`),
    /// lower-cased without `www.`, or `nil` when it names none: the host needs a dot, only letters, digits,
    /// hyphens and dots, and a last label of 2 to 24 letters.
    private static func host(in token: UnsafeBufferPointer<UInt8>) -> String? {
        var start = 0
        if let scheme = find(token, "://") {
            start = scheme + 3
        } else if let at = token.lastIndex(of: UInt8(ascii: "@")) {
            start = at + 1
        }
        var end = start
        while end < token.count, !"/:?#".utf8.contains(token[end]) { end += 1 }
        while end > start && token[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end - start >= 4 && end - start <= 253 else { return nil }
        var host = [UInt8]()
        host.reserveCapacity(end - start)
        var lastDot = -1
        for k in start..<end {
            var b = token[k]
            if b >= 0x41 && b <= 0x5A { b |= 0x20 }
            guard isLetter(b) || isDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { return nil }
            if b == UInt8(ascii: ".") {
                guard host.last != UInt8(ascii: "."), !host.isEmpty else { return nil }
                lastDot = host.count
            }
            host.append(b)
        }
        let tld = host.count - lastDot - 1
        guard lastDot > 0, (2...24).contains(tld), host[(lastDot + 1)...].allSatisfy(isLetter) else { return nil }
        if host.starts(with: "www.".utf8) && host.count > 4 + 3 { host.removeFirst(4) }
        return String(decoding: host, as: UTF8.self)
    }

    /// The crypto wallet address a token is (as ``SlotContent`` recognises one: Bitcoin base58 or bech32,
    /// Ethereum), without trailing punctuation, or `nil`. Bech32 and Ethereum addresses are case-insensitive and
    /// lower-cased; base58 is kept as written.
    private static func wallet(in token: UnsafeBufferPointer<UInt8>) -> String? {
        var end = token.count
        while end > 0 && ".,:;!?".utf8.contains(token[end - 1]) { end -= 1 }
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

    private static func find(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Int? {
        let n = needle.utf8CodeUnitCount
        guard bytes.count >= n else { return nil }
        return needle.withUTF8Buffer { pattern in
            (0...(bytes.count - n)).first { i in (0..<n).allSatisfy { bytes[i + $0] == pattern[$0] } }
        }
    }

    private static func isTokenBreak(_ b: UInt8) -> Bool {
        b <= 0x20 || ",;\"'<>()[]{}|".utf8.contains(b)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    private static func isPhoneSeparator(_ b: UInt8) -> Bool { " -.()".utf8.contains(b) }
}
