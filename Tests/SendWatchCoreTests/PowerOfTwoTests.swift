import SendWatchCore
import Testing

@Suite("Int.powerOfTwo(atLeast:)")
struct PowerOfTwoTests {
    /// Doubling from 1 while below `value`, stopping at 2^62: the loops the helper replaced.
    private static func doubling(atLeast value: Int) -> Int {
        var p = 1
        while p < value && p < 1 << 62 { p <<= 1 }
        return p
    }

    @Test("Gives what doubling from 1 gives, from below 1 up to Int.max")
    func matchesDoubling() {
        var values = Array(-3...5000) + [Int.min, Int.max, (1 << 62) + 1, Int.max - 1]
        for k in 0...62 { values += [(1 << k) - 1, 1 << k, (1 << k) + 1] }
        for v in values {
            #expect(Int.powerOfTwo(atLeast: v) == Self.doubling(atLeast: v), "value \(v)")
        }
    }

    @Test("Each result is a power of two at or above the value (capped at 2^62)")
    func isPowerOfTwo() {
        for v in [1, 2, 3, 1000, 16_384, 16_385, 1 << 40, (1 << 40) + 7] {
            let p = Int.powerOfTwo(atLeast: v)
            #expect(p.nonzeroBitCount == 1 && p >= v && (p == 1 || p / 2 < v), "value \(v)")
        }
    }
}
