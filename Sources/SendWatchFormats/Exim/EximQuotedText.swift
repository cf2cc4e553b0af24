/// Reads Exim's quoted log values (`T="..."`, `C="..."`, `DN="..."`) and undoes Exim's escaping.
///
/// Exim prints a header value with `string_printing()`: `"` and `\` become `\"` and `\\`; a line break of a
/// folded header becomes `\n` (and CR `\r`); BS, VT, FF become `\b`, `\v`, `\f`; every other byte outside
/// printable ASCII, including each byte of a UTF-8 sequence, becomes a three-digit octal escape (`\303\274`).
/// A TAB is written raw in `T=` (and may be written `\t` elsewhere; both are accepted).
///
/// Decoding rules (the subject is stored as a `String`):
/// - octal escapes become bytes, and the byte string is decoded as UTF-8; when it is not valid UTF-8 (an 8-bit
///   Latin-1 subject that was never RFC 2047-encoded, `caf\351`), it is read as ISO-8859-1 instead, byte for
///   character, so `café` is kept rather than turned into U+FFFD. Latin-1 is the 8-bit charset mail software
///   most often sends raw, and every byte string is valid Latin-1, so the fallback never fails; a
///   Windows-1252 or Latin-9 subject shows its few differing characters (`€` is 0x80 resp. 0xA4) as the Latin-1
///   ones;
/// - `\n` and `\r` are **removed**: that is RFC 5322 unfolding (the whitespace that follows is kept), and it
///   gives the same string a mail reader shows, e.g. `"and\n going"` → `"and going"`;
/// - an unknown escape (`\q`) is kept as written, backslash included.
///
/// Exim has already RFC 2047-decoded `T=` and trims trailing whitespace from it; a very long subject may be cut
/// by Exim itself. Those are properties of the log, not of this decoder.
enum EximQuotedText {
    /// The index of the quote that closes a value whose opening quote is at `open`, or `nil` when the line
    /// ends first (a line cut short).
    ///
    /// A `"` is closing when it is preceded by an even number of backslashes (`\\` is an escaped backslash).
    ///
    /// - Complexity: O(length of the value); `memchr` jumps from quote to quote.
    static func closingQuote(_ p: UnsafeRawBufferPointer, open: Int, end: Int) -> Int? {
        var from = open + 1
        while let q = Bytes.find(UInt8(ascii: "\""), in: p, from: from, to: end) {
            var backslashes = 0
            var k = q - 1
            while k > open && p[k] == UInt8(ascii: "\\") {
                backslashes += 1
                k -= 1
            }
            if backslashes & 1 == 0 { return q }
            from = q + 1
        }
        return nil
    }

    /// Decodes the escaped text `p[range]` (without the quotes) into a `String`.
    ///
    /// - Parameter scratch: a reusable buffer, so that decoding an escaped value does not allocate per line
    ///   beyond the resulting `String`.
    /// - Complexity: O(length of the value).
    static func decode(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, scratch: inout [UInt8]) -> String {
        guard let firstEscape = Bytes.find(UInt8(ascii: "\\"), in: p, from: range.lowerBound, to: range.upperBound)
        else {
            return Bytes.string(p, range)
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[range.lowerBound..<firstEscape]))
        var i = firstEscape
        let end = range.upperBound
        while i < end {
            let b = p[i]
            guard b == UInt8(ascii: "\\"), i + 1 < end else {
                scratch.append(b)
                i += 1
                continue
            }
            let c = p[i + 1]
            if c == UInt8(ascii: "n") || c == UInt8(ascii: "r") {
                // Unfold: drop the line break, keep the whitespace after it.
                i += 2
            } else if let byte = singleEscape(c) {
                scratch.append(byte)
                i += 2
            } else if i + 3 < end, isOctal(c), isOctal(p[i + 2]), isOctal(p[i + 3]) {
                let v = (UInt32(c &- 0x30) << 6) | (UInt32(p[i + 2] &- 0x30) << 3) | UInt32(p[i + 3] &- 0x30)
                scratch.append(UInt8(truncatingIfNeeded: v))
                i += 4
            } else {
                scratch.append(b)
                i += 1
            }
        }
        if let text = String(validating: scratch, as: UTF8.self) { return text }
        return latin1(scratch)
    }

    /// `bytes` read as ISO-8859-1: each byte is the code point of the same value.
    ///
    /// - Complexity: O(n); one array of at most 2 n bytes and the `String`.
    static func latin1(_ bytes: [UInt8]) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.count * 2)
        for b in bytes {
            if b < 0x80 {
                utf8.append(b)
            } else {
                utf8.append(0xC0 | (b >> 6))
                utf8.append(0x80 | (b & 0x3F))
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The byte that a backslash and `letter` stand for: `\\`, `\"`, `\t`, `\b`, `\v` and `\f`; `nil` for any
    /// other letter (`\n` and `\r` are unfolded, not kept).
    @inline(__always)
    private static func singleEscape(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\\"), UInt8(ascii: "\""): letter
        case UInt8(ascii: "t"): 0x09
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "v"): 0x0B
        case UInt8(ascii: "f"): 0x0C
        default: nil
        }
    }

    @inline(__always)
    private static func isOctal(_ b: UInt8) -> Bool { (b &- 0x30) < 8 }
}
