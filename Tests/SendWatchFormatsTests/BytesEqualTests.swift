import SendWatchFormats
import Testing

@Suite("Bytes.equal")
struct BytesEqualTests {
    /// Compares `a` and `b` at unaligned offsets, so the word loads are tested where they are not aligned.
    private static func equal(_ a: [UInt8], _ b: [UInt8], offsetA: Int, offsetB: Int) -> Bool {
        let bufferA = [UInt8](repeating: 0xEE, count: offsetA) + a
        let bufferB = [UInt8](repeating: 0xDD, count: offsetB) + b
        return bufferA.withUnsafeBytes { pa in
            bufferB.withUnsafeBytes { pb in
                Bytes.equal(pa.baseAddress! + offsetA, pb.baseAddress! + offsetB, count: a.count)
            }
        }
    }

    @Test("Equal bytes are equal and one differing byte at any position is seen, for lengths 0 to 40")
    func everyPosition() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: 0x30 &+ $0 &* 11) }
            for offset in [0, 1, 3] {
                #expect(Self.equal(bytes, bytes, offsetA: offset, offsetB: 0), "length \(length), equal")
                for position in 0..<length {
                    for flip: UInt8 in [0x01, 0x80] {
                        var other = bytes
                        other[position] ^= flip
                        #expect(
                            !Self.equal(bytes, other, offsetA: offset, offsetB: 2),
                            "length \(length), difference at \(position), bit \(flip)")
                    }
                }
            }
        }
    }

    @Test("Only the first count bytes are compared")
    func countBounds() {
        let a: [UInt8] = Array("abcdefghijklmnop".utf8)
        var b = a
        b[a.count - 1] = UInt8(ascii: "Z")
        a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                for count in 0..<a.count { #expect(Bytes.equal(pa.baseAddress!, pb.baseAddress!, count: count)) }
                #expect(!Bytes.equal(pa.baseAddress!, pb.baseAddress!, count: a.count))
            }
        }
    }
}
