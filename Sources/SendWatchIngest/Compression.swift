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
    /// xz streams (starting with `FD 37 7A 58 5A 00`), as `xz` and logrotate's `compresscmd xz` write them.
    case xz
    /// bzip2 streams (starting with `BZh` and a block-size digit `1`...`9`).
    case bzip2
    /// LZ4 frames (starting with `04 22 4D 18`), as the `lz4` command writes them; skippable frames inside are
    /// skipped.
    case lz4
    /// A compressed format SendWatch recognises but does not read: `compress` (`.Z`, `1F 9D`), lzip (`LZIP`)
    /// and LZ4's legacy format (`02 21 4C 18`, `lz4 -l`). Opening such an input fails with a message naming the
    /// format, instead of reading compressed bytes as text.
    case unsupported(name: String)

    /// The number of leading bytes ``detect(magic:)`` needs to decide; fewer are fine at end of input.
    public static let magicByteCount = 6

    /// Decides the compression from the first bytes of an input.
    ///
    /// Recognises the zstd frame magic `28 B5 2F FD`, the zstd skippable-frame magics `0x184D2A50...0x184D2A5F`
    /// (little-endian on disk: a first byte `50...5F`, then `2A 4D 18`), the gzip magic `1F 8B`, the xz magic
    /// `FD 37 7A 58 5A 00`, the bzip2 magic `BZh1`...`BZh9` and the LZ4 frame magic `04 22 4D 18`; and, as
    /// ``unsupported(name:)``, `compress`, lzip and legacy LZ4. Anything else, including inputs shorter than
    /// a magic, is ``none``.
    ///
    /// - Parameter magic: the first bytes of the input (up to ``magicByteCount`` are looked at).
    /// - Returns: the detected compression.
    /// - Complexity: O(1).
    public static func detect(magic: UnsafeRawBufferPointer) -> Compression {
        func starts(with bytes: [UInt8]) -> Bool {
            magic.count >= bytes.count && zip(magic, bytes).allSatisfy { $0 == $1 }
        }
        if magic.count >= 4 {
            let b0 = magic[0]
            let b1 = magic[1]
            let b2 = magic[2]
            let b3 = magic[3]
            if b0 == 0x28 && b1 == 0xB5 && b2 == 0x2F && b3 == 0xFD { return .zstd }
            if b0 & 0xF0 == 0x50 && b1 == 0x2A && b2 == 0x4D && b3 == 0x18 { return .zstd }
            if b0 == 0x04 && b1 == 0x22 && b2 == 0x4D && b3 == 0x18 { return .lz4 }
            if b0 == 0x02 && b1 == 0x21 && b2 == 0x4C && b3 == 0x18 { return .unsupported(name: "legacy lz4 (lz4 -l)") }
            if starts(with: Array("BZh".utf8)) && b3 >= 0x31 && b3 <= 0x39 { return .bzip2 }
            if starts(with: Array("LZIP".utf8)) { return .unsupported(name: "lzip") }
        }
        if starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if magic.count >= 2 && magic[0] == 0x1F && magic[1] == 0x8B { return .gzip }
        if magic.count >= 2 && magic[0] == 0x1F && magic[1] == 0x9D { return .unsupported(name: "compress (.Z)") }
        return .none
    }

    /// `none`, `zstd`, `gzip`, `xz`, `bzip2`, `lz4`, or the unsupported format's name.
    public var description: String {
        switch self {
        case .none: return "none"
        case .zstd: return "zstd"
        case .gzip: return "gzip"
        case .xz: return "xz"
        case .bzip2: return "bzip2"
        case .lz4: return "lz4"
        case .unsupported(let name): return name
        }
    }
}
