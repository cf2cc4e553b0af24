import SendWatchTesting
import SendWatchWindows
import Testing

@Suite("HyperLogLog")
struct HyperLogLogTests {
    @Test(
        "Relative error stays within 3 standard errors across cardinalities",
        arguments: [
            (10, 10), (10, 100), (10, 1_000), (10, 3_000), (10, 10_000), (10, 100_000), (12, 1_000_000), (14, 50_000),
        ])
    func relativeError(precision: Int, n: Int) {
        var hll = HyperLogLog(precision: precision)
        var rng = SplitMix64(seed: UInt64(n &* 31 &+ precision))
        for _ in 0..<n { hll.insert(rng.next()) }
        let err = (hll.estimate - Double(n)) / Double(n)
        #expect(abs(err) <= 3 * hll.relativeStandardError, "n \(n) p \(precision) error \(err)")
        hll._checkInvariants()
    }

    @Test("Measured RMS relative error at precision 10 is close to 1.04 / sqrt(m)")
    func measuredStandardError() {
        // 40 independent sketches of 20 000 items each.
        var sumSquares = 0.0
        let trials = 40
        for trial in 0..<trials {
            var hll = HyperLogLog(precision: 10)
            var rng = SplitMix64(seed: 1000 + UInt64(trial))
            for _ in 0..<20_000 { hll.insert(rng.next()) }
            let err = hll.estimate / 20_000 - 1
            sumSquares += err * err
        }
        let rms = (sumSquares / Double(trials)).squareRoot()
        // Expected 0.0325; allow sampling noise of 40 trials.
        #expect(rms < 0.0325 * 1.5, "rms \(rms)")
    }

    @Test("Merge equals the sketch of the union, and duplicates do not count")
    func mergeEqualsUnion() {
        var a = HyperLogLog(precision: 11)
        var b = HyperLogLog(precision: 11)
        var all = HyperLogLog(precision: 11)
        var rng = SplitMix64(seed: 5)
        for i in 0..<30_000 {
            let x = rng.next()
            if i % 3 != 0 { a.insert(x) }
            if i % 3 == 0 || i % 2 == 0 { b.insert(x) }
            all.insert(x)
            all.insert(x)
        }
        #expect(a.union(b) == all, "union differs")
        a.formUnion(b)
        #expect(a.estimate == all.estimate)
        a._checkInvariants()
    }

    @Test("Empty is zero and small sets are nearly exact")
    func smallRange() {
        var hll = HyperLogLog(precision: 10)
        #expect(hll.estimate == 0)
        #expect(hll.isEmpty)
        for i: UInt64 in 1...20 { hll.insert(i) }
        #expect(abs(hll.estimate - 20) < 1.5)
        #expect(abs((hll.linearCountingEstimate ?? 0) - 20) < 1.5)
        #expect(hll.approximateHeapBytes == 32 + 1024)
    }
}
