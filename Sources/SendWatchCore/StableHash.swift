/// A fixed 64-bit hash (FNV-1a) for ids and keys that must be the same in every process and on every run.
///
/// Swift's `Hasher` is seeded randomly per process, so it must never decide an id or an output order.
public struct StableHash: Sendable {
    /// The hash so far.
    public var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Mixes in bytes.
    @inlinable
    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        value = h
    }

    /// Mixes in a string's UTF-8 bytes, then a separator byte so that ("ab","c") and ("a","bc") differ.
    public mutating func combine(_ text: String) {
        text.withUTF8Bytes { combine(bytes: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0xFF)) { combine(bytes: $0) }
    }

    /// Mixes in an integer (little-endian bytes).
    public mutating func combine(_ n: Int64) {
        withUnsafeBytes(of: n.littleEndian) { combine(bytes: $0) }
    }

    /// The hash as 16 lower-case hex digits.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        var v = value
        for i in (0..<16).reversed() {
            out[i] = digits[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hash of one string.
    public static func of(_ text: String) -> UInt64 {
        var h = StableHash()
        h.combine(text)
        return h.value
    }
}
