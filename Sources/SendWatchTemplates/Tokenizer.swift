/// Splits a text into tokens (byte ranges over its UTF-8) and pre-masks obviously variable tokens.
///
/// Rules (documented in the DocC catalog, article "Tokens"):
/// - Words are separated by ASCII whitespace (space, tab, CR, LF, VT, FF). Other bytes, including non-ASCII
///   spaces and zero-width characters, belong to words; slot values keep them as they are.
/// - A run of ASCII opening punctuation at the start of a word (`( [ { " ' < ` and backtick) and a run of
///   closing punctuation at its end (`. , ; : ! ? ) ] } " ' >` and backtick) become separate *attached*
///   tokens, so `"pending."` is `pending` + `.` and `"Bob!"` is `Bob` + `!`; this lets `Welcome to <*>, <*>!`
///   keep its punctuation as constants. A word made only of punctuation stays one token.
/// - The core of a word is *masked* (a variable position) if it contains an ASCII digit (numbers, dates, times,
///   phone numbers, ids, amounts like `$499` or `499,00`), contains `://` or starts with `www.` (URLs), has an
///   `@` with a `.` after it (e-mail addresses), is a lone currency symbol (`$ € £ ¥ ₹`), or is a hex-like
///   run of at least 8 characters (`[0-9a-fA-F-]`).
/// - At most `maxTokens` tokens: when more content follows the last allowed token, the last token becomes a
///   masked token spanning the rest of the text (so the tail is part of the last slot) and the text is counted
///   as truncated.
struct TokenBuffer: Sendable {
    /// Start byte offset of each token.
    var start: [Int] = []
    /// End byte offset (exclusive) of each token.
    var end: [Int] = []
    /// FNV-1a of the token's bytes (0 for masked tokens).
    var hash: [UInt64] = []
    /// Bit flags, see `TokenFlag`.
    var flags: [UInt8] = []
    /// Whether the last tokenisation hit `maxTokens`.
    var truncated = false

    var count: Int { start.count }

    init(capacity: Int) {
        start.reserveCapacity(capacity)
        end.reserveCapacity(capacity)
        hash.reserveCapacity(capacity)
        flags.reserveCapacity(capacity)
    }

    mutating func removeAll() {
        start.removeAll(keepingCapacity: true)
        end.removeAll(keepingCapacity: true)
        hash.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        truncated = false
    }

    /// Tokenises `p`, keeping at most `maxTokens` tokens.
    ///
    /// - Complexity: O(*n*) in the bytes scanned; scanning stops at the token bound (the rest is one range).
    mutating func tokenize(_ p: UnsafeRawBufferPointer, maxTokens: Int) {
        removeAll()
        let n = p.count
        var contentEnd = n
        while contentEnd > 0 && TokenBuffer.isSpace(p[contentEnd - 1]) { contentEnd -= 1 }
        var i = 0
        // The start of the text counts as a space: if a slot is later inserted before the first token, the
        // template text reads "<*> Your ..." rather than "<*>Your ...".
        var spaceBefore = true
        while i < contentEnd {
            while i < contentEnd && TokenBuffer.isSpace(p[i]) {
                i += 1
                spaceBefore = true
            }
            if i >= contentEnd { break }
            let ws = i
            var we = i
            while we < contentEnd && !TokenBuffer.isSpace(p[we]) { we += 1 }
            var ls = ws
            while ls < we && TokenBuffer.isOpening(p[ls]) { ls += 1 }
            var te = we
            while te > ls && TokenBuffer.isClosing(p[te - 1]) { te -= 1 }
            if ls == te {
                // Only punctuation: one token.
                if !append(p, ws, we, kind: .punctuation, spaceBefore: spaceBefore, contentEnd, maxTokens) { return }
            } else {
                if ls > ws {
                    if !append(p, ws, ls, kind: .punctuation, spaceBefore: spaceBefore, contentEnd, maxTokens) {
                        return
                    }
                    spaceBefore = false
                }
                if !append(p, ls, te, kind: .core, spaceBefore: spaceBefore, contentEnd, maxTokens) { return }
                if we > te {
                    if !append(p, te, we, kind: .punctuation, spaceBefore: false, contentEnd, maxTokens) { return }
                }
            }
            spaceBefore = false
            i = we
        }
    }

    enum PieceKind { case core, punctuation }

    /// Appends one token; returns `false` when the token bound was reached (the rest became one masked token).
    @inline(__always)
    private mutating func append(
        _ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int, kind: PieceKind, spaceBefore: Bool, _ contentEnd: Int,
        _ maxTokens: Int
    ) -> Bool {
        let sp: UInt8 = spaceBefore ? TokenFlag.spaceBefore : 0
        if start.count == maxTokens - 1 && e < contentEnd {
            start.append(s)
            end.append(contentEnd)
            hash.append(0)
            flags.append(TokenFlag.masked | sp)
            truncated = true
            return false
        }
        start.append(s)
        end.append(e)
        if kind == .core && TokenBuffer.isVariable(p, s, e) {
            hash.append(0)
            flags.append(TokenFlag.masked | sp)
        } else {
            hash.append(FNV1a.hash(p, s, e))
            flags.append((kind == .core ? TokenFlag.word : 0) | sp)
        }
        return true
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    @inline(__always)
    static func isOpening(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "\""), UInt8(ascii: "'"),
            UInt8(ascii: "<"), UInt8(ascii: "`"):
            return true
        default: return false
        }
    }

    @inline(__always)
    static func isClosing(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
            UInt8(ascii: "?"), UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "\""),
            UInt8(ascii: "'"), UInt8(ascii: ">"), UInt8(ascii: "`"):
            return true
        default: return false
        }
    }

    /// Whether the word core `p[s..<e]` is obviously variable (see the type's rules).
    static func isVariable(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        let len = e - s
        var hexLike = len >= 8
        var at = -1
        var dotAfterAt = false
        var i = s
        while i < e {
            let b = p[i]
            if b >= 0x30 && b <= 0x39 { return true }
            if b == UInt8(ascii: "@") {
                if at < 0 && i > s { at = i }
            } else if b == UInt8(ascii: ".") && at >= 0 && i > at + 1 && i + 1 < e {
                dotAfterAt = true
            } else if b == UInt8(ascii: ":") && i + 2 < e && p[i + 1] == UInt8(ascii: "/")
                && p[i + 2] == UInt8(ascii: "/")
            {
                return true
            }
            if hexLike {
                let isHex = (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) || b == UInt8(ascii: "-")
                if !isHex { hexLike = false }
            }
            i += 1
        }
        if dotAfterAt || hexLike { return true }
        if len >= 4 && (p[s] | 0x20) == UInt8(ascii: "w") && (p[s + 1] | 0x20) == UInt8(ascii: "w")
            && (p[s + 2] | 0x20) == UInt8(ascii: "w") && p[s + 3] == UInt8(ascii: ".")
        {
            return true
        }
        // Lone currency symbols: $ (24), £ (C2 A3), ¥ (C2 A5), € (E2 82 AC), ₹ (E2 82 B9).
        if len == 1 { return p[s] == 0x24 }
        if len == 2 { return p[s] == 0xC2 && (p[s + 1] == 0xA3 || p[s + 1] == 0xA5) }
        if len == 3 { return p[s] == 0xE2 && p[s + 1] == 0x82 && (p[s + 2] == 0xAC || p[s + 2] == 0xB9) }
        return false
    }
}

/// Token flag bits.
enum TokenFlag {
    /// A pre-masked variable token (a slot position).
    static let masked: UInt8 = 1
    /// Whitespace preceded the token in the text.
    static let spaceBefore: UInt8 = 2
    /// A word (not punctuation-only); only words go into the inverted index.
    static let word: UInt8 = 4
}
