import SendWatchFormats
import Testing

@Suite("Bytes word scans and strings")
struct BytesScanTests {
    @Test("scanBackward finds the last of two bytes in every range of buffers of 0 to 20 bytes")
    func scanBackwardEveryRange() {
        for length in 0...20 {
            // Bytes that include the targets, their neighbours and bytes above 0x7F.
            let bytes = (0..<length).map { k -> UInt8 in [0x20, 0x5B, 0x41, 0xA0, 0xDB, 0x21, 0x5A][k * 5 % 7] }
            bytes.withUnsafeBytes { p in
                for lower in 0...length {
                    for upper in lower...length {
                        let expected = (lower..<upper).last { bytes[$0] == 0x5B || bytes[$0] == 0x20 }
                        #expect(
                            Bytes.scanBackward(to: 0x5B, 0x20, in: p, from: lower, to: upper) == expected,
                            "length \(length), range \(lower)..<\(upper)")
                    }
                }
            }
        }
    }

    @Test("inRange marks exactly the bytes below 0x80 inside the range")
    func inRangeEveryByte() {
        for (low, high) in [(UInt8(0x30), UInt8(0x39)), (0x41, 0x46), (0x00, 0x7F), (0x5A, 0x5A)] {
            for b in 0..<128 {
                // The byte in every lane, with different bytes beside it.
                for lane in 0..<8 {
                    var w: UInt64 = 0x7F00_FF80_4645_3A39
                    w &= ~(0xFF << UInt64(8 * lane))
                    w |= UInt64(b) << UInt64(8 * lane)
                    let marked = Bytes.inRange(w, low, high) >> UInt64(8 * lane + 7) & 1 == 1
                    #expect(marked == (low...high).contains(UInt8(b)), "byte \(b) lane \(lane)")
                }
            }
        }
    }

    @Test("string gives String(decoding:as:)'s result for short and long, valid and invalid UTF-8")
    func stringAsDecoding() {
        let samples: [[UInt8]] = [
            [], Array("a".utf8), Array("203.0.113.7".utf8), Array("fifteen bytes!!".utf8),
            Array("sixteen bytes!!!".utf8), Array("Grüße".utf8), [0x61, 0xFF, 0x62], [0xC3], [0xE2, 0x82],
            Array(repeating: 0x80, count: 15), Array("ünïcödé ünïcödé".utf8),
        ]
        for sample in samples {
            let line = Array("<".utf8) + sample + Array(">".utf8)
            line.withUnsafeBytes { p in
                let made = Bytes.string(p, 1..<1 + sample.count)
                let expected = String(decoding: sample, as: UTF8.self)
                #expect(made == expected)
                #expect(Array(made.utf8) == Array(expected.utf8))
            }
        }
    }
}
