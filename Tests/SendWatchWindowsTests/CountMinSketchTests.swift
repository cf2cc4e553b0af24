import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

@Suite("CountMinSketch")
struct CountMinSketchTests {
    @Test("Never underestimates, and stays within ε N on a Zipf stream (conservative update)")
    func zipfBound() {
        let epoch: Int64 = 3_600_000_000
        var cms = CountMinSketch(epsilon: 0.001, delta: 0.01, epochMicroseconds: epoch)
        #expect(cms.width == 4096 && cms.depth == 5)
        let zipf = ZipfSampler(n: 50_000, s: 1.1)
        var rng = SplitMix64(seed: 11)
        var truth = [UInt64](repeating: 0, count: 50_000)
        let start = EventTime(seconds: 1_800_000_000 / 3600 * 3600)
        for i in 0..<200_000 {
            let k = zipf.sample(using: &rng)
            truth[k] += 1
            cms.add(UInt64(k) &* 0x9e37_79b9, at: EventTime(microseconds: start.microseconds + Int64(i) * 10_000))
        }
        let now = EventTime(microseconds: start.microseconds + 2_000_000_000)
        let bound = cms.epsilon * Double(cms.totalCount)
        var over = 0
        var sumOverestimate = 0.0
        for k in 0..<50_000 {
            let e = cms.estimate(UInt64(k) &* 0x9e37_79b9, at: now)
            #expect(e >= truth[k])
            if Double(e - truth[k]) > bound { over += 1 }
            sumOverestimate += Double(e - truth[k])
        }
        // At most δ of the items may exceed the bound; in practice none do with conservative update.
        #expect(over <= 500, "\(over) items over the bound")
        #expect(sumOverestimate / 50_000 < bound / 10)
        cms._checkInvariants()
    }

    @Test("Epochs rotate: the previous epoch still counts, two epochs later it is gone, older events drop")
    func epochRotation() {
        var cms = CountMinSketch(width: 256, depth: 4, epochMicroseconds: 1_000_000)
        var clock = ManualEventTime()
        for _ in 0..<5 { cms.add(7, at: clock.now) }
        clock.advance(seconds: 1)
        cms.add(7, count: 2, at: clock.now)
        #expect(cms.estimate(7, at: clock.now) == 7)
        // A late event for the previous epoch still lands.
        cms.add(7, at: EventTime(seconds: clock.now.seconds - 1))
        #expect(cms.estimate(7, at: clock.now) == 8)
        // Queried one epoch on, only the current epoch's 2 remain; two on, nothing.
        #expect(cms.estimate(7, at: EventTime(seconds: clock.now.seconds + 1)) == 2)
        #expect(cms.estimate(7, at: EventTime(seconds: clock.now.seconds + 2)) == 0)
        clock.advance(seconds: 1)
        cms.add(9, at: clock.now)
        #expect(cms.estimate(7, at: clock.now) == 2)
        cms.add(7, at: EventTime(seconds: clock.now.seconds - 2))
        #expect(cms.droppedLate == 1)
        clock.advance(seconds: 86_400)
        cms.add(9, at: clock.now)
        #expect(cms.estimate(7, at: clock.now) == 0)
        #expect(cms.totalCount == 1)
        #expect(cms.approximateHeapBytes == 32 + 2 * 256 * 4 * 4)
        cms._checkInvariants()
    }
}
