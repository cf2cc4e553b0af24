import SendWatchFormats
import Testing

@Suite("Bytes.wordHash")
struct BytesWordHashTests {
    /// The hash as first written: eight bytes at a time, the last partial word byte by byte (big-endian).
    /// Checkpoints keep these values (Exim host hashes), so every way of reading a short tail must agree with it.
    private static func reference(_ bytes: [UInt8], _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(range.count)
        var i = range.lowerBound
        func word(_ k: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[k + $1]) << (8 * $1) } }
        while i + 8 <= range.upperBound {
            h = (h ^ word(i)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        if i < range.upperBound {
            let w =
                range.count >= 8
                ? word(range.upperBound - 8) : bytes[i..<range.upperBound].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        return (h ^ (h >> 32)) &* 0xBF58_476D_1CE4_E5B9
    }

    @Test("Equals the byte-by-byte value for every range of buffers of 0 to 20 bytes")
    func sameValues() {
        for length in 0...20 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: 0x41 &+ $0 &* 37) }
            bytes.withUnsafeBytes { p in
                for lower in 0...length {
                    for upper in lower...length {
                        #expect(
                            Bytes.wordHash(p, lower..<upper) == Self.reference(bytes, lower..<upper),
                            "length \(length), range \(lower)..<\(upper)")
                    }
                }
            }
        }
    }
}
