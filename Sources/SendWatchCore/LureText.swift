import Foundation

/// Undoes the disguises that make a lure slip past simple byte patterns, so that the indicator scans (slot
/// content, shared artefacts, the report's highlights) see `Call 1-888-555-0134` in every spelling of it.
///
/// The steps, in order:
/// 1. **Compatibility forms**: each non-ASCII scalar is replaced by its NFKC form (full-width `１８８８` and
///    `ｐａｙ`, mathematical bold letters, ligatures, non-breaking and other spaces; Foundation's
///    `precomposedStringWithCompatibilityMapping`). Scalars are mapped one at a time, so each output scalar
///    knows the input scalar it came from (the report highlights the original text).
/// 2. **Invisible characters** are removed: format characters (general category Cf: zero-width space and
///    joiners, word joiner, soft hyphen, bidi controls, byte-order mark), variation selectors, the combining
///    grapheme joiner and the Hangul and braille blanks.
/// 3. **Look-alikes**: a curated table maps Cyrillic, Greek, Armenian and other letters that look like Latin
///    letters or digits to them (`р`→`p`, `а`→`a`, `ο`→`o`, `З`→`3`), and dashes, dots, tildes and slashes of
///    other blocks to their ASCII forms; decimal digits of every script become ASCII digits. The idea is the
///    confusables skeleton of Unicode Technical Standard #39 (Unicode Security Mechanisms); the table here is
///    our own, short list of the characters that matter for URLs, phone numbers and lure words, not Unicode's
///    data file.
/// 4. **Defanged links**: `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}` become `.`, `[:]` becomes `:`,
///    `[@]`, `(at)`, `[at]` become `@`, and a lone ` . ` between a word and a lower-case label
///    (`example . com`) becomes `.`.
/// 5. **Disguised digit groups**: in a word made only of digits, `O`/`o` (for 0), `l`/`I` (for 1) and the
///    separators `- . ~ ( ) +`, with at least one real digit, the letters become digits and `~` becomes `-`
///    (`1-8OO-555~Ol34` → `1-800-555-0134`). A word with any other letter (`1-800-Flowers`) is left alone.
///
/// Cost: ASCII text without `[`, `(`, `{`, `~`, ` . ` and without a digit next to `O o l I` is recognised in
/// one byte pass and returned as `nil` without allocating; only other text is rewritten. At most
/// ``maxScalars`` scalars are read; the rest of a longer text is dropped from the normalised form.
///
/// Deliberately left out: whole-string NFKC composition (a base letter and a separate combining mark stay
/// two scalars; the scans ignore marks anyway), confusables of scripts other than those listed, and spelled
/// digits (`one eight hundred`).
public enum LureText {
    /// The most scalars normalised; longer text is cut there (slot values are far shorter).
    public static let maxScalars = 2048

    /// A normalised text and, for each of its Unicode scalars, the index of the input scalar it came from.
    public struct Normalized: Sendable, Hashable {
        /// The normalised text.
        public var text: String
        /// `origins[k]` is the index (in Unicode scalars) of the input scalar that output scalar `k` came from;
        /// non-decreasing.
        public var origins: [Int]
    }

    /// The normalised form of `text`, or `nil` when normalising changes nothing.
    ///
    /// - Complexity: O(n) in the length of `text`; no allocation when the result is `nil` for ASCII text.
    public static func normalize(_ text: String) -> Normalized? {
        guard needsWork(text) else { return nil }
        var scalars: [Unicode.Scalar] = []
        var origins: [Int] = []
        scalars.reserveCapacity(min(text.unicodeScalars.count, maxScalars))
        var index = 0
        for s in text.unicodeScalars {
            guard scalars.count < maxScalars else { break }
            defer { index += 1 }
            if s.value < 0x80 {
                scalars.append(s)
                origins.append(index)
                continue
            }
            for m in compatibility(s) where !isInvisible(m) {
                scalars.append(lookAlike(m))
                origins.append(index)
            }
        }
        undoDefanging(&scalars, &origins)
        undoDigitDisguise(&scalars)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        let result = String(view)
        return result == text ? nil : Normalized(text: result, origins: origins)
    }

    /// Whether `text` may need normalising: a non-ASCII byte, a bracket or brace, a tilde, ` . `, or a word
    /// with both a digit and one of `O o l I`.
    static func needsWork(_ text: String) -> Bool {
        text.withUTF8Bytes { p in
            var previous: UInt8 = 0x20
            var wordDigit = false
            var wordLookAlike = false
            for (k, b) in p.enumerated() {
                if b >= 0x80 || b == UInt8(ascii: "[") || b == UInt8(ascii: "(") || b == UInt8(ascii: "{")
                    || b == UInt8(ascii: "~")
                {
                    return true
                }
                if b == 0x20 {
                    wordDigit = false
                    wordLookAlike = false
                    if previous == UInt8(ascii: ".") && k >= 2 && p[k - 2] == 0x20 { return true }
                } else if isDigit(b) {
                    wordDigit = true
                } else if isDigitLookAlike(b) {
                    wordLookAlike = true
                }
                if wordDigit && wordLookAlike { return true }
                previous = b
            }
            return false
        }
    }

    // MARK: - Scalars

    /// The NFKC form of one scalar (the scalar itself when it has none).
    private static func compatibility(_ s: Unicode.Scalar) -> [Unicode.Scalar] {
        // Latin-1 letters and most scripts' letters are their own NFKC form; asking Foundation only for the
        // blocks with compatibility mappings keeps the common non-ASCII case (accented names) cheap.
        let v = s.value
        let hasMapping =
            v == 0xA0 || (0x2000...0x33FF).contains(v) || (0xFB00...0xFB4F).contains(v) || (0xFE30...0xFFEF).contains(v)
            || (0x1D400...0x1D7FF).contains(v) || (0x1F100...0x1F1FF).contains(v) || (0x00B2...0x00BE).contains(v)
            || (0x02B0...0x02FF).contains(v) || (0x1D2C...0x1D6A).contains(v)
        guard hasMapping else { return [s] }
        return Array(String(s).precomposedStringWithCompatibilityMapping.unicodeScalars)
    }

    /// Whether a scalar is invisible in running text.
    private static func isInvisible(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if s.properties.generalCategory == .format { return true }
        return (0xFE00...0xFE0F).contains(v) || (0xE0100...0xE01EF).contains(v) || v == 0x034F || v == 0x115F
            || v == 0x1160 || v == 0x3164 || v == 0xFFA0 || v == 0x2800 || v == 0x180E
    }

    /// The ASCII letter, digit or punctuation a scalar imitates, or the scalar itself.
    private static func lookAlike(_ s: Unicode.Scalar) -> Unicode.Scalar {
        if let ascii = lookAlikes[s.value] { return Unicode.Scalar(ascii) }
        if s.properties.numericType == .decimal, let n = s.properties.numericValue, n >= 0, n <= 9 {
            return Unicode.Scalar(UInt8(ascii: "0") + UInt8(n))
        }
        return s
    }

    /// Look-alikes of ASCII letters, digits and separators (after NFKC), in the spirit of the UTS #39
    /// confusables skeleton: Cyrillic, Greek, Armenian and Latin-extension letters that render like Latin
    /// ones, and other blocks' dashes, dots, tildes and slashes.
    static let lookAlikes: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        func add(_ pairs: [(UInt32, Character)]) {
            // Safe to force unwrap: every target below is an ASCII character literal.
            for (scalar, ascii) in pairs { table[scalar] = ascii.asciiValue! }
        }
        // Cyrillic.
        add([
            (0x0430, "a"), (0x0435, "e"), (0x043E, "o"), (0x0440, "p"), (0x0441, "c"), (0x0443, "y"), (0x0445, "x"),
            (0x0455, "s"), (0x0456, "i"), (0x0458, "j"), (0x0501, "d"), (0x04BB, "h"), (0x051B, "q"), (0x051D, "w"),
            (0x04CF, "l"), (0x0432, "b"), (0x043A, "k"), (0x043D, "h"), (0x0442, "t"), (0x0457, "i"),
            (0x0410, "A"), (0x0412, "B"), (0x0415, "E"), (0x041A, "K"), (0x041C, "M"), (0x041D, "H"), (0x041E, "O"),
            (0x0420, "P"), (0x0421, "C"), (0x0422, "T"), (0x0423, "Y"), (0x0425, "X"), (0x0405, "S"), (0x0406, "I"),
            (0x0408, "J"), (0x051A, "Q"), (0x051C, "W"), (0x04C0, "l"), (0x0417, "3"), (0x0431, "6"),
        ])
        // Greek.
        add([
            (0x03B1, "a"), (0x03BF, "o"), (0x03BD, "v"), (0x03C1, "p"), (0x03B9, "i"), (0x03BA, "k"), (0x03C5, "u"),
            (0x03C7, "x"), (0x03B3, "y"), (0x03F2, "c"), (0x03F3, "j"),
            (0x0391, "A"), (0x0392, "B"), (0x0395, "E"), (0x0396, "Z"), (0x0397, "H"), (0x0399, "I"), (0x039A, "K"),
            (0x039C, "M"), (0x039D, "N"), (0x039F, "O"), (0x03A1, "P"), (0x03A4, "T"), (0x03A5, "Y"), (0x03A7, "X"),
            (0x03F9, "C"),
        ])
        // Armenian, Latin extensions, letter-like symbols.
        add([
            (0x0585, "o"), (0x057D, "u"), (0x0570, "h"), (0x0578, "n"), (0x0566, "q"), (0x0561, "w"),
            (0x0131, "i"), (0x0237, "j"), (0x0251, "a"), (0x0261, "g"), (0x01C0, "l"), (0x0269, "i"),
        ])
        // Separators: dashes and minus, dots, tildes, slashes, colons.
        add([
            (0x2010, "-"), (0x2011, "-"), (0x2012, "-"), (0x2013, "-"), (0x2014, "-"), (0x2015, "-"), (0x2212, "-"),
            (0x2043, "-"), (0x30FC, "-"), (0x3002, "."), (0x00B7, "."), (0x2022, "."), (0x2219, "."), (0x223C, "~"),
            (0x301C, "~"), (0x02DC, "~"), (0x2044, "/"), (0x2215, "/"), (0x02D0, ":"), (0x0589, ":"),
        ])
        return table
    }()

    // MARK: - ASCII rewrites

    /// Replaces defanged dots, colons and at signs (see the type's discussion, step 4).
    private static func undoDefanging(_ s: inout [Unicode.Scalar], _ origins: inout [Int]) {
        var out: [Unicode.Scalar] = []
        var outOrigins: [Int] = []
        out.reserveCapacity(s.count)
        outOrigins.reserveCapacity(s.count)
        var i = 0
        let n = s.count
        func ascii(_ k: Int) -> UInt8 { k >= 0 && k < n && s[k].value < 0x80 ? UInt8(s[k].value) : 0 }
        func lowerASCII(_ k: Int) -> UInt8 { let b = ascii(k); return b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
        func matches(_ k: Int, _ word: StaticString) -> Bool {
            word.withUTF8Buffer { w in
                for j in 0..<w.count where lowerASCII(k + j) != w[j] { return false }
                return true
            }
        }
        while i < n {
            let b = ascii(i)
            if b == UInt8(ascii: "[") || b == UInt8(ascii: "(") || b == UInt8(ascii: "{") {
                let close =
                    b == UInt8(ascii: "[")
                    ? UInt8(ascii: "]") : b == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "}")
                var replacement: UInt8 = 0
                var length = 0
                for (word, r) in defangWords
                where matches(i + 1, word) && ascii(i + 1 + word.utf8CodeUnitCount) == close {
                    replacement = r
                    length = word.utf8CodeUnitCount + 2
                    break
                }
                // Only between two word characters: `(at)` in prose or a bracketed `[.]` list item stays. Spaces
                // around a defanged dot or colon go too (`example [dot] com`); an `@` must touch both words.
                if length > 0 {
                    let spaced = replacement != UInt8(ascii: "@")
                    var before = out.count
                    while spaced && before > 0 && out[before - 1] == " " { before -= 1 }
                    var after = i + length
                    while spaced && ascii(after) == 0x20 { after += 1 }
                    // `hxxps[:]//`: a defanged colon may be followed by the slashes of a scheme.
                    let follows =
                        after < n && (isWordScalar(s[after]) || (replacement == UInt8(ascii: ":") && s[after] == "/"))
                    if before > 0 && isWordScalar(out[before - 1]) && follows {
                        out.removeLast(out.count - before)
                        outOrigins.removeLast(outOrigins.count - before)
                        out.append(Unicode.Scalar(replacement))
                        outOrigins.append(origins[i])
                        i = after
                        continue
                    }
                }
            }
            // `example . com`: a lone dot between spaces, a word before and a lower-case label of 2 to 12
            // letters after it.
            if b == UInt8(ascii: ".") && ascii(i - 1) == 0x20 && ascii(i + 1) == 0x20,
                let last = out.last(where: { $0 != " " }),
                isWordScalar(last)
            {
                var end = i + 2
                while end < n && ascii(end) >= 0x61 && ascii(end) <= 0x7A { end += 1 }
                let label = end - (i + 2)
                if label >= 2 && label <= 12 && (end == n || !isWordScalar(s[end])) {
                    while out.last == " " {
                        out.removeLast()
                        outOrigins.removeLast()
                    }
                    out.append(".")
                    outOrigins.append(origins[i])
                    i += 2
                    continue
                }
            }
            out.append(s[i])
            outOrigins.append(origins[i])
            i += 1
        }
        s = out
        origins = outOrigins
    }

    /// The bracketed words of defanged text and what they stand for.
    private static let defangWords: [(StaticString, UInt8)] = [
        (".", UInt8(ascii: ".")), ("dot", UInt8(ascii: ".")), (":", UInt8(ascii: ":")), ("@", UInt8(ascii: "@")),
        ("at", UInt8(ascii: "@")),
    ]

    /// Rewrites letters posing as digits in digit groups (see the type's discussion, step 5). Changes no length.
    private static func undoDigitDisguise(_ s: inout [Unicode.Scalar]) {
        var i = 0
        let n = s.count
        while i < n {
            while i < n && s[i] == " " { i += 1 }
            let start = i
            var digits = 0
            var disguised = false
            var other = false
            while i < n && s[i] != " " {
                let v = s[i].value
                if v < 0x80 && isDigit(UInt8(v)) {
                    digits += 1
                } else if v < 0x80 && isDigitLookAlike(UInt8(v)) {
                    disguised = true
                } else if v == 0x7E {
                    disguised = true
                } else if !(v < 0x80 && "-.()+,:;!?".utf8.contains(UInt8(v))) {
                    other = true
                }
                i += 1
            }
            guard digits > 0 && disguised && !other else { continue }
            for k in start..<i {
                switch s[k] {
                case "O", "o": s[k] = "0"
                case "l", "I": s[k] = "1"
                case "~": s[k] = "-"
                default: break
                }
            }
        }
    }

    @inline(__always)
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// `O`, `o`, `l`, `I`: letters written for digits.
    @inline(__always)
    private static func isDigitLookAlike(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "O") || b == UInt8(ascii: "o") || b == UInt8(ascii: "l") || b == UInt8(ascii: "I")
    }

    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || s.properties.numericType != nil || s == "-"
    }
}
