/// How an input's bytes are encoded, decided by the magic bytes at its start - never by the file name.
///
/// A rotated `mail.log.1` that happens to be gzip-compressed is decompressed, and a `mail.log.zst` that
/// is actually plain text is read as it is.
public enum Compression: Hashable, Sendable, CustomStringConvertible {
    /// Plain bytes, passed through unchanged.
    case none
    /// Zstandard frames (starting with `28 B5 2F FD`) or skippable frames (`50...5F 2A 4D 18`).
    case zstd
    /// gzip members (starting with `1F 8B`).
    case gzip

    /// The number of leading bytes ``detect(magic:)`` needs to decide; fewer are fine at end of input.
    public static let magicByteCount = 4

    /// Decides the compression from the first bytes of an input.
    ///
    /// Recognises the zstd frame magic `28 B5 2F FD`, the zstd skippable-frame magics `0x184D2A50...0x184D2A5F`
    /// (little-endian on disk: a first byte `50...5F`, then `2A 4D 18`) and the gzip magic `1F 8B`. Anything
    /// else, including inputs shorter than the magic, is ``none``.
    ///
    /// - Parameter magic: the first bytes of the input (up to ``magicByteCount`` are looked at).
    /// - Returns: the detected compression.
    /// - Complexity: O(1).
    public static func detect(magic: UnsafeRawBufferPointer) -> Compression {
        if magic.count >= 4 {
            let b0 = magic[0]
            let b1 = magic[1]
            let b2 = magic[2]
            let b3 = magic[3]
            if b0 == 0x28 && b1 == 0xB5 && b2 == 0x2F && b3 == 0xFD { return .zstd }
            if b0 & 0xF0 == 0x50 && b1 == 0x2A && b2 == 0x4D && b3 == 0x18 { return .zstd }
        }
        if magic.count >= 2 && magic[0] == 0x1F && magic[1] == 0x8B { return .gzip }
        return .none
    }

    /// `none`, `zstd` or `gzip`.
    public var description: String {
        switch self {
        case .none: return "none"
        case .zstd: return "zstd"
        case .gzip: return "gzip"
        }
    }
}
