/// Encoded words the RFC 2047 decoder (`SendWatchFormats.RFC2047`) left literal because their charset is one neither it nor iconv knows, with the
/// charset names (lowercased).
///
/// Bounds: at most ``maxCharsetNames`` names are kept, with a count each; words of further names are only in
/// ``count``.
public struct UndecodedWords: Hashable, Sendable {
    /// The most charset names kept.
    public static let maxCharsetNames = 16
    /// All words left literal for an unknown charset.
    public var count = 0
    /// Words per charset name (lowercased), for at most ``maxCharsetNames`` names.
    public var charsets: [String: Int] = [:]

    public init() {}

    /// Counts one word of charset `charset` (its name's bytes as written).
    public mutating func note(charset: [UInt8]) {
        count += 1
        let name = String(decoding: charset.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        if charsets[name] != nil || charsets.count < Self.maxCharsetNames { charsets[name, default: 0] += 1 }
    }

    /// Adds `other` into `self`, keeping the bound on names.
    public mutating func merge(_ other: UndecodedWords) {
        count += other.count
        for (name, n) in other.charsets.sorted(by: { $0.key < $1.key })
        where charsets[name] != nil || charsets.count < Self.maxCharsetNames {
            charsets[name, default: 0] += n
        }
    }
}
