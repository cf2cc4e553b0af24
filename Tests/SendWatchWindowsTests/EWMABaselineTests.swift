import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("EWMABaseline")
struct EWMABaselineTests {
    let hour: Int64 = 3_600_000_000

    @Test("A constant rate converges to that rate with vanishing variance")
    func constantRateConverges() {
        var baseline = EWMABaseline(configuration: .init(intervalMicroseconds: hour, halfLifeIntervals: 5))
        var clock = ManualEventTime(seconds: 1_800_000_000 / 3600 * 3600)
        for _ in 0..<100 {
            for _ in 0..<10 { baseline.add(at: clock.now) }
            clock.advance(seconds: 3600)
        }
        let s = baseline.snapshot(at: clock.now)
        #expect(abs(s.mean - 10) < 1e-9)
        #expect(s.variance < 1e-9)
        #expect(s.completedIntervals == 100)
        #expect(s.isWarm)
        #expect(s.zScore(42) == 32)  // deviation floored at 1
        baseline._checkInvariants()
    }

    @Test("Empty intervals decay the mean by 2^(-k / half-life), also across a jump of days")
    func decaysOverGaps() {
        var baseline = EWMABaseline(configuration: .init(intervalMicroseconds: hour, halfLifeIntervals: 24))
        var clock = ManualEventTime(seconds: 1_800_000_000 / 3600 * 3600)
        for _ in 0..<10 { baseline.add(at: clock.now) }
        clock.advance(seconds: 24 * 3600)
        // Interval 0 (10 events) seeds the mean; intervals 1 ... 23 are empty; interval 24 is open.
        let s = baseline.snapshot(at: clock.now)
        #expect(abs(s.mean - 10 * exp2(-23.0 / 24)) < 1e-9)
        #expect(s.completedIntervals == 24)
        clock.advance(seconds: 30 * 86_400)
        let later = baseline.snapshot(at: clock.now)
        #expect(later.mean < 1e-3 && later.mean >= 0)
        #expect(later.variance >= 0)
    }

    @Test("Closed-form gaps match folding every interval one by one", arguments: [UInt64(1), 2, 3])
    func matchesIterativeModel(seed: UInt64) {
        let config = EWMABaseline.Configuration(intervalMicroseconds: hour, halfLifeIntervals: 3.5, warmUpIntervals: 4)
        var baseline = EWMABaseline(configuration: config)
        var rng = SplitMix64(seed: seed)
        let start: Int64 = 1_800_000_000 / 3600 * 3600 * 1_000_000
        var counts = [UInt32](repeating: 0, count: 400)
        var interval = 0
        while interval < 399 {
            let n = rng.next() % 20
            for _ in 0..<n {
                let t = start + Int64(interval) * hour + Int64(rng.next() % UInt64(hour))
                counts[interval] += 1
                baseline.add(at: EventTime(microseconds: t))
            }
            // Sometimes skip several intervals.
            interval += rng.next() % 5 == 0 ? Int(1 + rng.next() % 40) : 1
        }
        let last = min(interval, 399)
        // The model folds intervals 0 ..< last one by one.
        let beta = exp2(-1 / 3.5)
        var mean = Double(counts[0])
        var variance = 0.0
        for i in 1..<last {
            let diff = Double(counts[i]) - mean
            mean += (1 - beta) * diff
            variance = beta * (variance + (1 - beta) * diff * diff)
        }
        let s = baseline.snapshot(at: EventTime(microseconds: start + Int64(last) * hour))
        #expect(s.completedIntervals == UInt32(last))
        #expect(abs(s.mean - mean) <= 1e-9 * max(1, mean))
        #expect(abs(s.variance - variance) <= 1e-9 * max(1, variance))
        baseline._checkInvariants()
    }

    @Test("Cold until the warm-up intervals complete")
    func warmUp() {
        var baseline = EWMABaseline(configuration: .init(intervalMicroseconds: hour, warmUpIntervals: 6))
        var clock = ManualEventTime(seconds: 1_800_000_000 / 3600 * 3600)
        for i in 0..<6 {
            baseline.add(at: clock.now)
            #expect(!baseline.snapshot(at: clock.now).isWarm, "interval \(i)")
            #expect(baseline.snapshot(at: clock.now).zScore(5) == nil)
            clock.advance(seconds: 3600)
        }
        #expect(baseline.snapshot(at: clock.now).isWarm)
    }

    @Test("Events within the allowed lateness count in their own interval; later ones are dropped")
    func lateness() {
        let config = EWMABaseline.Configuration(intervalMicroseconds: hour, allowedLatenessMicroseconds: 600_000_000)
        var baseline = EWMABaseline(configuration: config)
        let t0: Int64 = 1_800_000_000 / 3600 * 3600 * 1_000_000
        baseline.add(at: EventTime(microseconds: t0))
        baseline.add(at: EventTime(microseconds: t0 + hour + 300_000_000))  // 5 min into interval 1
        baseline.add(at: EventTime(microseconds: t0 + hour - 1))  // late, interval 0 still open (watermark 55 min)
        #expect(baseline.snapshot(at: EventTime(microseconds: t0 + hour + 300_000_000)).currentIntervalCount == 1)
        baseline.add(at: EventTime(microseconds: t0 + hour + 900_000_000))  // watermark passes the end of interval 0
        baseline.add(at: EventTime(microseconds: t0 + 10))  // too late now
        #expect(baseline.droppedLate == 1)
        let s = baseline.snapshot(at: EventTime(microseconds: t0 + hour + 900_000_000))
        #expect(s.mean == 2)
        #expect(s.currentIntervalCount == 2)
        #expect(s.completedIntervals == 1)
    }
}
