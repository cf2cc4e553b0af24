import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Converts the bytes of an RFC 2047 encoded word in a charset the decoder does not know itself
/// (`iso-2022-jp`, `shift_jis`, `gb18030`, `big5`, `koi8-r`, `euc-kr`, `iso-8859-5`, `windows-1251`, ...) to
/// UTF-8 with the C library's iconv.
///
/// Only ``RFC2047`` uses it, and only for such a word: text without encoded words and words in UTF-8, US-ASCII,
/// Latin-1, Latin-9 or Windows-1252 never reach it.
///
/// Bounds: at most ``maxCharsets`` descriptors are open at a time, one per charset name (case-insensitive), the
/// least recently used one closed when another is needed; a charset iconv does not know takes a place too (as a
/// remembered failure, so that `iconv_open` is not retried on every word). Names longer than
/// ``maxCharsetNameBytes`` are not tried.
///
/// Thread safety: an `iconv_t` keeps conversion state and must not be used by two threads at once, so the
/// table and every conversion run under one lock (``shared``). Parsers on different threads then take turns
/// on this path; it is the rare one, so the lock is not contended in practice.
///
/// Conversion: the descriptor's state is reset before each word (ISO-2022-JP's shift state does not leak from
/// one word into the next); a byte sequence invalid in the charset becomes U+FFFD and conversion continues after
/// its first byte; for a word cut by the log's length limit an unfinished sequence at the end is dropped, for a
/// whole word it becomes U+FFFD.
final class IconvCache: Sendable {
    /// The most charset names with an open descriptor (or a remembered failure) at a time.
    static let maxCharsetNames = 16
    /// The longest charset name tried, in bytes (IANA names are at most 40).
    static let maxCharsetNameBytes = 40
    /// The one cache all parsers share.
    static let shared = IconvCache()

    /// One charset name and its descriptor (`nil`: iconv does not know the name).
    private struct Entry {
        var name: [UInt8]
        var descriptor: iconv_t?
        var lastUse: UInt64
    }

    private struct Table {
        var entries: [Entry] = []
        var clock: UInt64 = 0
    }

    private let table = Mutex(Table())

    deinit {
        table.withLock { t in
            for e in t.entries { if let d = e.descriptor { iconv_close(d) } }
        }
    }

    /// Whether `p[r]` can be a charset name worth giving to iconv: 1 to ``maxCharsetNameBytes`` bytes of
    /// letters, digits and `-_.:+()`.
    static func isPlausibleName(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        guard !r.isEmpty, r.count <= maxCharsetNameBytes else { return false }
        for i in r {
            let b = p[i]
            let ok =
                (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x2D || b == 0x5F
                || b == 0x2E || b == 0x3A || b == 0x2B || b == 0x28 || b == 0x29
            if !ok { return false }
        }
        return true
    }

    /// Appends `bytes`, in charset `charset` (a name as the word gives it), converted to UTF-8 to `out`.
    ///
    /// - Parameter cut: the bytes may end inside a multibyte sequence (the word was cut): such an end is dropped.
    /// - Returns: `false`, with `out` unchanged, when iconv does not know the charset.
    func convert(_ bytes: [UInt8], charset: [UInt8], cut: Bool, into out: inout [UInt8]) -> Bool {
        let name = charset.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        return table.withLock { t -> Bool in
            guard let cd = Self.descriptor(for: name, in: &t) else { return false }
            Self.run(cd, bytes, cut: cut, into: &out)
            return true
        }
    }

    /// The descriptor for `name` (lowercased), opened and cached on first use; `nil` when iconv does not know it.
    private static func descriptor(for name: [UInt8], in t: inout Table) -> iconv_t? {
        t.clock &+= 1
        if let i = t.entries.firstIndex(where: { $0.name == name }) {
            t.entries[i].lastUse = t.clock
            return t.entries[i].descriptor
        }
        let opened: iconv_t? = String(decoding: name, as: UTF8.self).withCString { from in
            let cd = iconv_open("UTF-8", from)
            // iconv_open reports failure as (iconv_t)-1.
            return cd == iconv_t(bitPattern: -1) ? nil : cd
        }
        if t.entries.count >= maxCharsetNames,
            let oldest = t.entries.indices.min(by: { t.entries[$0].lastUse < t.entries[$1].lastUse })
        {
            if let d = t.entries[oldest].descriptor { iconv_close(d) }
            t.entries.remove(at: oldest)
        }
        t.entries.append(Entry(name: name, descriptor: opened, lastUse: t.clock))
        return opened
    }

    /// U+FFFD in UTF-8.
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Converts `bytes` with `cd` (state reset first), appending UTF-8 to `out`.
    private static func run(_ cd: iconv_t, _ bytes: [UInt8], cut: Bool, into out: inout [UInt8]) {
        _ = iconv(cd, nil, nil, nil, nil)
        var input = bytes
        var chunk = [UInt8](repeating: 0, count: 256)
        input.withUnsafeMutableBufferPointer { inBuf in
            var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress)?
                .assumingMemoryBound(to: CChar.self)
            var inLeft = inBuf.count
            var flushed = inLeft == 0
            while true {
                let (status, err, produced) = chunk.withUnsafeMutableBytes { o -> (Int, Int32, Int) in
                    var outPtr: UnsafeMutablePointer<CChar>? = o.baseAddress?.assumingMemoryBound(to: CChar.self)
                    var outLeft = o.count
                    // A flush call (nil input) when the input is used up writes any closing shift sequence.
                    let r =
                        inLeft > 0
                        ? iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) : iconv(cd, nil, nil, &outPtr, &outLeft)
                    return (r, errno, o.count - outLeft)
                }
                out.append(contentsOf: chunk[0..<produced])
                if status != -1 {
                    // The input used up: one flush call (above, nil input) still writes what a converter holds
                    // back (a closing shift sequence; Windows-1258 and TCVN keep the last letter for a combining
                    // mark that may follow); after the flush, done.
                    if inLeft == 0 && flushed { return }
                    if inLeft == 0 { flushed = true }
                    continue
                }
                switch err {
                case E2BIG:
                    continue  // the chunk is full: go on with the rest
                case EILSEQ:
                    guard inLeft > 0 else { return }  // not from a flush; defensive
                    out.append(contentsOf: replacement)
                    inPtr = inPtr.map { $0 + 1 }
                    inLeft -= 1
                default:  // EINVAL: an unfinished sequence at the end
                    if !cut { out.append(contentsOf: replacement) }
                    return
                }
            }
        }
    }
}
