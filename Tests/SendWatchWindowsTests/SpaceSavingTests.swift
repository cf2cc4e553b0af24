import SendWatchTesting
import SendWatchWindows
import Testing

@Suite("SpaceSaving")
struct SpaceSavingTests {
    private func run(seed: UInt64) -> (SpaceSaving, [UInt64]) {
        var summary = SpaceSaving(capacity: 100)
        let zipf = ZipfSampler(n: 20_000, s: 1.2)
        var rng = SplitMix64(seed: seed)
        var truth = [UInt64](repeating: 0, count: 20_000)
        for _ in 0..<100_000 {
            let k = zipf.sample(using: &rng)
            truth[k] += 1
            summary.add(UInt64(k))
        }
        return (summary, truth)
    }

    @Test("Finds the true heavy hitters of a Zipf stream, and every counter brackets the truth")
    func zipfHeavyHitters() {
        let (summary, truth) = run(seed: 3)
        summary._checkInvariants()
        let n = summary.totalCount
        #expect(n == 100_000)
        // Every item above N / capacity must be monitored, with count - error <= truth <= count.
        for (k, t) in truth.enumerated() where t > n / 100 {
            #expect(summary.counter(for: UInt64(k)) != nil, "heavy item \(k) not monitored")
        }
        for c in summary.top(100) {
            let t = truth[Int(c.item)]
            #expect(c.guaranteedCount <= t && t <= c.count, "item \(c.item)")
        }
        #expect(summary.minimumCount <= n / 100)
        // The top 10 by count are the true top 10 (ranks 0 ... 9 of the Zipf law).
        let top = summary.top(10).map(\.item).sorted()
        #expect(top == Array(0..<10))
    }

    @Test("Same input gives the same summary (deterministic tie-breaking)")
    func deterministic() {
        let (a, _) = run(seed: 8)
        let (b, _) = run(seed: 8)
        #expect(a.top(100) == b.top(100))
        // Ties: with capacity 2 and three items of count 1, the smallest item hash is replaced first.
        var s = SpaceSaving(capacity: 2)
        s.add(5)
        s.add(3)
        s.add(9)
        #expect(s.top(2) == [.init(item: 9, count: 2, error: 1), .init(item: 5, count: 1, error: 0)])
        s._checkInvariants()
    }
}
