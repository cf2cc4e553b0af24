import SendWatchFormats
import Testing

@Suite("Bytes.hexValue")
struct BytesHexTests {
    /// The readers of hex digits (IPv6 groups, RFC 2047 Q-encoding, JSON `\u` escapes) are tested in their own
    /// suites; this pins the shared digit table itself.
    @Test("Every byte: the digit's value for 0-9, A-F and a-f, nil for the other 234")
    func everyByte() {
        for b in UInt8.min...UInt8.max {
            let expected = UInt8(String(UnicodeScalar(b)), radix: 16)
            #expect(Bytes.hexValue(b) == expected, "byte \(b)")
        }
    }
}
