public import SendWatchCore

/// Decodes RFC 2047 encoded words (`=?utf-8?q?Gr=C3=BC=C3=9Fe?=`, `=?UTF-8?B?w5xiZXJzaWNodA==?=`) in raw header
/// text, as mail logs print it (Postfix `header_checks` WARN/INFO lines log the header undecoded).
///
/// Supported: the `Q` and `B` encodings (either case), and the charsets UTF-8, US-ASCII, ISO-8859-1 (Latin-1),
/// ISO-8859-15 and Windows-1252, matched case-insensitively, with an optional RFC 2231 language suffix
/// (`utf-8*en`). Whitespace between two adjacent encoded words is dropped, as RFC 2047 section 6.2 says.
///
/// Other charsets (`iso-2022-jp`, `shift_jis`, `gb2312`, `gbk`, `gb18030`, `big5`, `koi8-r`, `euc-kr`,
/// `iso-8859-5`, `windows-1251`, ...) are converted with glibc's iconv (``IconvCache``), on that rare path only:
/// a word in one of the built-in charsets above, and text without encoded words, never reach it. Bytes invalid
/// in the charset become U+FFFD. A word whose charset iconv does not know is kept literally (raw `=?...?=`
/// text) and counted in ``UndecodedWords``.
/// Folding: logs print a folded header's line break as `?` (Postfix `header_checks` replaces the newline; the CR
/// is gone already), so `Rücksendu?=\r\n =?utf-8?q?ngen` is logged `Rücksendu?=? =?utf-8?q?ngen`. A `?` right
/// after an encoded word and followed by a blank is such a line break and is removed: RFC 2047 section 5 requires
/// an encoded word to be followed by whitespace, so a literal `?` cannot stand there. What follows is then
/// unfolded as usual (the blanks between two encoded words are dropped, so the word is whole again; before plain
/// text they stay). Deliberately left out: a `?` and a blank elsewhere (`and? going`) is kept, because it reads
/// the same as a literal question mark (`Coming? Reply`); guessing would damage ordinary subjects.
///
/// Cut text (``Ending/cut``): Postfix logs at most 200 bytes of a header, which can end inside an encoded word.
/// With ``Ending/cut``, a last word whose charset and encoding are complete but whose `?=` is missing is decoded
/// as far as it goes: an unfinished `=X` escape, left-over base64 bits and an unfinished UTF-8 sequence at its
/// end are dropped.
///
/// Invalid input is never an error: a word that is malformed (bad base64 or `=XX` escape, no closing `?=`,
/// whitespace inside, unknown encoding, longer than ``maxEncodedWordBytes``) is kept literally. Bytes that
/// are not valid UTF-8 (raw 8-bit text, a header cut mid-character, a `utf-8` word holding Latin-1) become
/// U+FFFD.
///
/// Usage:
/// ```swift
/// let subject = RFC2047.decode(Array("Re: =?iso-8859-1?q?K=F6ln?= plain".utf8))  // "Re: Köln plain"
/// ```
public enum RFC2047 {
    /// The longest encoded word (from `=?` to `?=`) the decoder tries to read. RFC 2047 allows 75 bytes; real
    /// mailers exceed that, so the bound is generous, but it keeps the work per `=?` bounded.
    public static let maxEncodedWordBytes = 1024

    /// How the text ends: as written, or cut by a length limit of the log.
    public enum Ending: Sendable {
        /// The whole header value: an encoded word without `?=` is kept literally.
        case whole
        /// The value was cut (Postfix's 200-byte limit): a last encoded word without `?=` is decoded as far
        /// as it goes.
        case cut
    }

    /// Decodes the encoded words in `bytes` and returns the text as a `String`.
    ///
    /// - Parameter ending: whether `bytes` may end inside an encoded word (``Ending/cut``).
    /// - Complexity: O(n × min(n, ``maxEncodedWordBytes``)) in the worst case of many unterminated `=?`,
    ///   O(n) for ordinary text; text without `=?` costs one `memchr` pass and one `String` creation.
    public static func decode(_ bytes: UnsafeRawBufferPointer, ending: Ending = .whole) -> String {
        var undecoded = UndecodedWords()
        return decode(bytes, ending: ending, undecoded: &undecoded)
    }

    /// Decodes the encoded words in `bytes` and returns the text as a `String`, counting in `undecoded` the
    /// words left literal because their charset is one iconv does not know.
    ///
    /// - Parameter ending: whether `bytes` may end inside an encoded word (``Ending/cut``).
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, ending: Ending = .whole, undecoded: inout UndecodedWords
    ) -> String {
        let n = bytes.count
        guard let first = Bytes.find(UInt8(ascii: "="), in: bytes, from: 0), hasEncodedWordStart(bytes, from: first)
        else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(n + n / 2)
        var i = first
        var literalStart = 0
        // Whether an encoded word was decoded before `literalStart`: whitespace between it and the next word
        // is dropped.
        var afterWord = false
        while let eq = Bytes.find(UInt8(ascii: "="), in: bytes, from: i) {
            guard eq + 1 < n, bytes[eq + 1] == UInt8(ascii: "?") else {
                i = eq + 1
                continue
            }
            let mark = out.count
            guard let end = decodeWord(bytes, at: eq, ending: ending, into: &out, undecoded: &undecoded) else {
                // Not a word: the "=?" stays literal text (copied with the next literal run).
                i = eq + 2
                continue
            }
            // Insert the literal run before the decoded word unless it only separates two encoded words.
            // The run is consumed here, so the insertions cost O(n) in total.
            let between = UnsafeRawBufferPointer(rebasing: bytes[literalStart..<eq])
            if !between.isEmpty && !(afterWord && isAllWhitespace(between)) {
                out.insert(contentsOf: between, at: mark)
            }
            afterWord = true
            i = end
            literalStart = end
            // A logged line break right after the word (see the type's discussion on folding).
            if end + 1 < n, bytes[end] == UInt8(ascii: "?"), bytes[end + 1] == 0x20 || bytes[end + 1] == 0x09 {
                i = end + 1
                literalStart = end + 1
            }
        }
        if literalStart < n {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[literalStart..<n]))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes the encoded words in `bytes` and returns the text as a `String`.
    public static func decode(_ bytes: [UInt8], ending: Ending = .whole) -> String {
        bytes.withUnsafeBytes { decode($0, ending: ending) }
    }

    /// Decodes the encoded words in `bytes`, counting words of unknown charsets in `undecoded`.
    public static func decode(_ bytes: [UInt8], ending: Ending = .whole, undecoded: inout UndecodedWords) -> String {
        bytes.withUnsafeBytes { decode($0, ending: ending, undecoded: &undecoded) }
    }

    /// Decodes an encoded word at the very end of `text` whose `?=` is missing because a length limit cut it,
    /// as far as it goes (as ``Ending/cut`` does); everything before it, and any text whose end is not such a
    /// word, is returned unchanged.
    ///
    /// For logs whose MTA decoded the header itself but printed a cut last word raw: Exim's `T=`
    /// (`bitte  =?utf-8?q?pr=C3=BCfen=3A_=C3=84nderungen_an_Bestellunge`). Complete encoded words are left
    /// alone: the MTA kept them literal on purpose (or could not decode them).
    ///
    /// - Complexity: one `memchr` pass over `text` when it holds no `=`; O(length) otherwise.
    public static func decodeCutFinalWord(_ text: String, undecoded: inout UndecodedWords) -> String {
        // Read in place (no copy of the string, so no retain and release for every subject).
        let replaced: String? = text.withUTF8Bytes { u -> String? in
            let p = UnsafeRawBufferPointer(u)
            guard let firstEq = Bytes.find(UInt8(ascii: "="), in: p, from: 0), hasEncodedWordStart(p, from: firstEq)
            else { return nil }
            // The last "=?" that can start a word: the word runs to the end, so no blank may follow it.
            var start = p.count - 2
            while start >= 0 && !(p[start] == UInt8(ascii: "=") && p[start + 1] == UInt8(ascii: "?")) {
                if isSpaceOrControl(p[start]) { return nil }
                start -= 1
            }
            guard start >= 0 else { return nil }
            let tail = UnsafeRawBufferPointer(rebasing: p[start...])
            var scratch: [UInt8] = []
            var ignored = UndecodedWords()
            // A complete word is left as the MTA wrote it.
            if decodeWord(tail, at: 0, ending: .whole, into: &scratch, undecoded: &ignored) != nil { return nil }
            scratch.removeAll()
            guard decodeWord(tail, at: 0, ending: .cut, into: &scratch, undecoded: &undecoded) == tail.count
            else { return nil }
            var out = Array(UnsafeRawBufferPointer(rebasing: p[..<start]))
            out.append(contentsOf: scratch)
            return String(decoding: out, as: UTF8.self)
        }
        return replaced ?? text
    }

    // MARK: - Internals

    /// Whether an encoded word could start at or after the `=` at `from` (a cheap pre-check for the fast path).
    private static func hasEncodedWordStart(_ p: UnsafeRawBufferPointer, from: Int) -> Bool {
        var i = from
        while let eq = Bytes.find(UInt8(ascii: "="), in: p, from: i) {
            if eq + 1 < p.count && p[eq + 1] == UInt8(ascii: "?") { return true }
            i = eq + 1
        }
        return false
    }

    private static func isAllWhitespace(_ p: UnsafeRawBufferPointer) -> Bool {
        for b in p where !(b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A) { return false }
        return true
    }

    private enum Charset {
        case utf8, ascii, latin1, latin9, windows1252
        /// Any other charset: the word's bytes are collected as they are and converted by ``IconvCache``.
        case other
    }

    /// Reads one encoded word starting at the `=?` at `start`; on success appends its UTF-8 text to `out`
    /// and returns the index after `?=` (or the end of `p` for a word cut there, with ``Ending/cut``). On
    /// failure `out` is unchanged and the result is `nil`.
    private static func decodeWord(
        _ p: UnsafeRawBufferPointer, at start: Int, ending: Ending, into out: inout [UInt8],
        undecoded: inout UndecodedWords
    ) -> Int? {
        let n = p.count
        let limit = min(n, start + maxEncodedWordBytes)
        // charset
        let csStart = start + 2
        var i = csStart
        while i < limit && p[i] != UInt8(ascii: "?") {
            if isSpaceOrControl(p[i]) { return nil }
            i += 1
        }
        guard i < limit, i > csStart else { return nil }
        var csEnd = i
        if let star = Bytes.find(UInt8(ascii: "*"), in: p, from: csStart, to: csEnd) { csEnd = star }
        let charset: Charset
        if let builtIn = Self.charset(p, csStart..<csEnd) {
            charset = builtIn
        } else {
            guard IconvCache.isPlausibleName(p, csStart..<csEnd) else { return nil }
            charset = .other
        }
        // encoding
        i += 1
        guard i + 1 < limit, p[i + 1] == UInt8(ascii: "?") else { return nil }
        let enc = p[i] | 0x20
        guard enc == UInt8(ascii: "q") || enc == UInt8(ascii: "b") else { return nil }
        i += 2
        // text, up to "?="
        let textStart = i
        while i < limit && p[i] != UInt8(ascii: "?") {
            if isSpaceOrControl(p[i]) { return nil }
            i += 1
        }
        let text = textStart..<i
        let mark = out.count
        guard i + 1 < limit, p[i + 1] == UInt8(ascii: "=") else {
            // Cut by the log's length limit (inside the text, or between its `?` and `=`): decode what is there.
            guard ending == .cut, i >= n - 1, limit == n else { return nil }
            decodeCut(p, text, encoding: enc, charset: charset, into: &out)
            if charset == .other {
                guard convertOther(p, csStart..<csEnd, from: mark, cut: true, into: &out, undecoded: &undecoded)
                else { return nil }
            }
            return n
        }
        let ok: Bool
        if enc == UInt8(ascii: "q") {
            ok = decodeQ(p, text, charset: charset, into: &out)
        } else {
            ok = decodeB(p, text, charset: charset, into: &out)
        }
        guard ok else {
            out.removeSubrange(mark...)
            return nil
        }
        if charset == .other {
            guard convertOther(p, csStart..<csEnd, from: mark, cut: false, into: &out, undecoded: &undecoded)
            else { return nil }
        }
        return i + 2
    }

    /// Converts the raw bytes of a word in charset `p[name]` (appended to `out` from `mark`) to UTF-8 in place
    /// through ``IconvCache``. When iconv does not know the charset, the bytes are removed, the word is counted
    /// in `undecoded` and the result is `false` (the word stays literal text).
    private static func convertOther(
        _ p: UnsafeRawBufferPointer, _ name: Range<Int>, from mark: Int, cut: Bool, into out: inout [UInt8],
        undecoded: inout UndecodedWords
    ) -> Bool {
        let raw = Array(out[mark...])
        out.removeSubrange(mark...)
        let nameBytes = Array(UnsafeRawBufferPointer(rebasing: p[name]))
        guard IconvCache.shared.convert(raw, charset: nameBytes, cut: cut, into: &out) else {
            undecoded.note(charset: nameBytes)
            return false
        }
        return true
    }

    @inline(__always)
    private static func isSpaceOrControl(_ b: UInt8) -> Bool { b <= 0x20 || b == 0x7F }

    /// Decodes the text of a word cut at the end of the input: a trailing unfinished `=X` escape (Q) or
    /// unfinished base64 group is dropped, and so is an unfinished UTF-8 sequence at the end.
    private static func decodeCut(
        _ p: UnsafeRawBufferPointer, _ text: Range<Int>, encoding: UInt8, charset: Charset, into out: inout [UInt8]
    ) {
        var r = text
        if encoding == UInt8(ascii: "q") {
            // An escape is `=` and two hex digits: drop a cut one.
            if r.count >= 1 && p[r.upperBound - 1] == UInt8(ascii: "=") {
                r = r.lowerBound..<r.upperBound - 1
            } else if r.count >= 2 && p[r.upperBound - 2] == UInt8(ascii: "=") {
                r = r.lowerBound..<r.upperBound - 2
            }
        } else {
            // Whole base64 characters only; bits that do not make a byte are dropped.
            r = r.lowerBound..<r.lowerBound + r.count - r.count % 4
        }
        let mark = out.count
        let ok =
            encoding == UInt8(ascii: "q")
            ? decodeQ(p, r, charset: charset, into: &out) : decodeB(p, r, charset: charset, into: &out)
        guard ok else {
            out.removeSubrange(mark...)
            return
        }
        if charset == .utf8 { dropUnfinishedUTF8(&out, from: mark) }
    }

    /// Removes a UTF-8 sequence at the end of `out` (after `mark`) whose last bytes are missing.
    private static func dropUnfinishedUTF8(_ out: inout [UInt8], from mark: Int) {
        // Back over at most 3 continuation bytes to the lead byte.
        var k = out.count - 1
        var continuations = 0
        while k >= mark && continuations < 3 && out[k] & 0xC0 == 0x80 {
            k -= 1
            continuations += 1
        }
        guard k >= mark else { return }
        let lead = out[k]
        let length: Int
        switch lead {
        case 0xC0...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF7: length = 4
        default: return
        }
        if continuations + 1 < length { out.removeSubrange(k...) }
    }

    private static func charset(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Charset? {
        func named(_ names: String...) -> Bool {
            names.contains { Bytes.equalsIgnoringCase($0, in: p, r) }
        }
        if named("utf-8", "utf8") { return .utf8 }
        if named("us-ascii", "ascii") { return .ascii }
        if named("iso-8859-1", "iso_8859-1", "iso8859-1", "latin1") { return .latin1 }
        if named("iso-8859-15", "iso_8859-15", "iso8859-15", "latin9") { return .latin9 }
        if named("windows-1252", "cp1252") { return .windows1252 }
        return nil
    }

    private static func decodeQ(
        _ p: UnsafeRawBufferPointer, _ r: Range<Int>, charset: Charset, into out: inout [UInt8]
    ) -> Bool {
        var i = r.lowerBound
        while i < r.upperBound {
            let b = p[i]
            if b == UInt8(ascii: "_") {
                out.append(0x20)
                i += 1
            } else if b == UInt8(ascii: "=") {
                guard i + 2 < r.upperBound, let h = Bytes.hexValue(p[i + 1]), let l = Bytes.hexValue(p[i + 2]) else {
                    return false
                }
                appendByte(h << 4 | l, charset: charset, into: &out)
                i += 3
            } else {
                appendByte(b, charset: charset, into: &out)
                i += 1
            }
        }
        return true
    }

    private static func base64Value(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x41...0x5A: return b - 0x41
        case 0x61...0x7A: return b - 0x61 + 26
        case 0x30...0x39: return b - 0x30 + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    private static func decodeB(
        _ p: UnsafeRawBufferPointer, _ r: Range<Int>, charset: Charset, into out: inout [UInt8]
    ) -> Bool {
        var acc: UInt32 = 0
        var bits = 0
        var i = r.lowerBound
        var padding = false
        while i < r.upperBound {
            let b = p[i]
            i += 1
            if b == UInt8(ascii: "=") {
                padding = true
                continue
            }
            // Data after padding is invalid.
            guard !padding, let v = base64Value(b) else { return false }
            acc = (acc << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                appendByte(UInt8(truncatingIfNeeded: acc >> UInt32(bits)), charset: charset, into: &out)
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        // 6 leftover bits cannot come from a valid encoding (one base64 character alone).
        return bits < 6
    }

    /// Windows-1252 code points for bytes 0x80–0x9F (0 = undefined, kept as U+FFFD).
    private static let cp1252High: [UInt16] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
        0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0, 0x017E, 0x0178,
    ]

    @inline(__always)
    private static func appendByte(_ b: UInt8, charset: Charset, into out: inout [UInt8]) {
        if b < 0x80 {
            out.append(b)
            return
        }
        switch charset {
        case .utf8, .ascii, .other:
            // Raw bytes (for `.other`, converted afterwards); the final UTF-8 decode turns invalid sequences (and 8-bit "US-ASCII") into U+FFFD.
            out.append(b)
        case .latin1:
            appendScalar(UInt32(b), into: &out)
        case .latin9:
            let mapped: UInt32
            switch b {
            case 0xA4: mapped = 0x20AC
            case 0xA6: mapped = 0x0160
            case 0xA8: mapped = 0x0161
            case 0xB4: mapped = 0x017D
            case 0xB8: mapped = 0x017E
            case 0xBC: mapped = 0x0152
            case 0xBD: mapped = 0x0153
            case 0xBE: mapped = 0x0178
            default: mapped = UInt32(b)
            }
            appendScalar(mapped, into: &out)
        case .windows1252:
            if b <= 0x9F {
                let cp = cp1252High[Int(b - 0x80)]
                appendScalar(cp == 0 ? 0xFFFD : UInt32(cp), into: &out)
            } else {
                appendScalar(UInt32(b), into: &out)
            }
        }
    }

    @inline(__always)
    private static func appendScalar(_ v: UInt32, into out: inout [UInt8]) {
        if v < 0x80 {
            out.append(UInt8(v))
        } else if v < 0x800 {
            out.append(UInt8(0xC0 | (v >> 6)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        } else {
            out.append(UInt8(0xE0 | (v >> 12)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
