import SendWatchFormats
import Testing

@Suite("Bytes word scans and strings")
struct BytesScanTests {
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
}
