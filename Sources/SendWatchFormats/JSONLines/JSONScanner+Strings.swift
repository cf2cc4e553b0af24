extension JSONScanner {
    /// Decodes a scanned string value into a `String`: escapes resolved, invalid UTF-8 and lone surrogate
    /// escapes replaced by U+FFFD, `\u0000` kept as a NUL character. A number or literal value gives its text;
    /// a container gives its raw bytes.
    ///
    /// - Complexity: O(length); one copy when the string has escapes, none beyond the `String` otherwise.
    package static func decodeString(_ p: UnsafeRawBufferPointer, _ value: Value) -> String {
        guard value.range.lowerBound >= 0, value.range.upperBound <= p.count else { return "" }
        guard value.kind == .string, value.hasEscapes else {
            return String(decoding: UnsafeRawBufferPointer(rebasing: p[value.range]), as: UTF8.self)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.range.count)
        appendUnescaped(p, value.range, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the unescaped bytes of the string body `p[range]` to `out`. Escapes of lone surrogates become
    /// U+FFFD; other bytes are copied as they are (UTF-8 is repaired later, by `String(decoding:)`).
    ///
    /// Malformed escapes (which ``scan(_:)`` would have rejected) are copied literally rather than trapping.
    static func appendUnescaped(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, to out: inout [UInt8]) {
        var i = max(0, range.lowerBound)
        let end = min(range.upperBound, p.count)
        var runStart = i
        while i < end {
            guard p[i] == UInt8(ascii: "\\"), i + 1 < end else {
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[runStart..<i])) }
            let e = p[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard i + 4 <= end, let unit = hex4(p, i) else {
                    out.append(contentsOf: [UInt8(ascii: "\\"), e])
                    break
                }
                i += 4
                var scalar = unit
                if unit >= 0xD800 && unit <= 0xDBFF {
                    // A high surrogate counts only when a low surrogate escape follows directly.
                    if i + 6 <= end, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u"),
                        let low = hex4(p, i + 2), low >= 0xDC00 && low <= 0xDFFF
                    {
                        scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if unit >= 0xDC00 && unit <= 0xDFFF {
                    scalar = 0xFFFD
                }
                appendUTF8(scalar, to: &out)
            default:
                // `\"`, `\\`, `\/` stand for themselves; anything else cannot pass the scanner.
                out.append(e)
            }
            runStart = i
        }
        if runStart < end { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[runStart..<end])) }
    }

    /// Appends the UTF-8 form of a scalar value (assumed valid: not a surrogate, at most U+10FFFF).
    private static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        switch s {
        case 0..<0x80:
            out.append(UInt8(s))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (s >> 6)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (s >> 12)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        default:
            out.append(UInt8(0xF0 | ((s >> 18) & 0x07)))
            out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        }
    }
}
