import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

/// The naive model: a list of every kept event, and the same bucket rule the ring uses.
private struct NaiveSlidingCount {
    let width: Int64
    let n: Int64
    var events: [(bucket: Int64, amount: UInt64)] = []
    var head: Int64? = nil
    var dropped: UInt32 = 0

    static func bucket(_ t: Int64, _ w: Int64) -> Int64 { t >= 0 || t % w == 0 ? t / w : t / w - 1 }

    mutating func add(_ amount: UInt32, at t: Int64) {
        let b = Self.bucket(t, width)
        if let h = head, b <= h - n {
            dropped += 1
            return
        }
        head = max(head ?? b, b)
        events.append((b, UInt64(amount)))
    }

    func value(at now: Int64) -> UInt64 {
        guard let h = head else { return 0 }
        let nb = Self.bucket(now, width)
        var s: UInt64 = 0
        for e in events where e.bucket > nb - n && e.bucket <= nb && e.bucket > h - n { s += e.amount }
        return s
    }
}

@Suite("SlidingCount")
struct SlidingCountTests {
    @Test(
        "Matches a naive event list on random sequences with late events within and beyond the horizon",
        arguments: [(UInt64(1), 60, Int64(10_000_000)), (2, 7, 3_000_000), (3, 1, 5_000_000), (4, 24, 1)])
    func matchesNaiveModel(seed: UInt64, buckets: Int, width: Int64) {
        var rng = SplitMix64(seed: seed)
        let horizon = width * Int64(buckets)
        var count = SlidingCount(horizonMicroseconds: horizon, bucketCount: buckets)
        var model = NaiveSlidingCount(width: width, n: Int64(buckets))
        var clock = ManualEventTime()
        for step in 0..<2_000 {
            // Mostly forward, sometimes late by up to 1.5 horizons, now and then a jump of days.
            let r = rng.next() % 100
            if r < 60 {
                clock.advance(microseconds: Int64(rng.next() % UInt64(max(width / 2, 1))))
            } else if r == 60 {
                clock.advance(seconds: 86_400 * Int64(1 + rng.next() % 3))
            }
            var t = clock.now.microseconds
            if r >= 80 { t -= Int64(rng.next() % UInt64(horizon + horizon / 2 + 1)) }
            let amount = UInt32(1 + rng.next() % 3)
            count.add(amount, at: EventTime(microseconds: t))
            model.add(amount, at: t)
            // Query at the event time, at the clock, a little later and a little earlier.
            let probes = [
                t, clock.now.microseconds, clock.now.microseconds + Int64(rng.next() % UInt64(horizon * 2)),
                clock.now.microseconds - Int64(rng.next() % UInt64(horizon + 1)),
            ]
            for p in probes {
                #expect(count.value(at: EventTime(microseconds: p)) == model.value(at: p), "step \(step) at \(p)")
            }
            if internalChecks || step % 100 == 0 { count._checkInvariants() }
        }
        #expect(count.droppedLate == model.dropped)
        #expect(model.dropped > 0)
        count._checkInvariants()
    }

    @Test("An event exactly at now - horizon is out, one bucket later is in (aligned times)")
    func horizonEdges() {
        var count = SlidingCount(horizon: .seconds(600), bucketCount: 60)
        let now: Int64 = 1_800_000_000_000_000
        count.add(at: EventTime(microseconds: now - 600_000_000))  // exactly now - horizon
        count.add(at: EventTime(microseconds: now - 590_000_000))  // one bucket later
        count.add(at: EventTime(microseconds: now))
        #expect(count.value(at: EventTime(microseconds: now)) == 2)
        #expect(count.value(at: EventTime(microseconds: now - 10_000_000)) == 1)  // the event at now is after
        #expect(count.value(at: EventTime(microseconds: now + 10_000_000)) == 1)
        #expect(count.value(at: EventTime(microseconds: now + 600_000_000)) == 0)
        count._checkInvariants()
    }

    @Test("A jump of days clears the ring in bounded work and later events count from zero")
    func timeJumpOfDays() {
        var count = SlidingCount(horizon: .seconds(3600), bucketCount: 60)
        var clock = ManualEventTime()
        for _ in 0..<100 {
            count.add(at: clock.now)
            clock.advance(seconds: 1)
        }
        #expect(count.value(at: clock.now) == 100)
        clock.advance(seconds: 3 * 86_400)
        #expect(count.value(at: clock.now) == 0)
        count.add(at: clock.now)
        #expect(count.value(at: clock.now) == 1)
        #expect(count.total == 1)
        // The old events are now far too late.
        count.add(at: EventTime(seconds: clock.now.seconds - 86_400))
        #expect(count.droppedLate == 1)
        count._checkInvariants()
    }

    @Test("Holds its ring only while two buckets of it have counts, and answers as the naive list throughout")
    func ringOnlyWhenNeeded() throws {
        let width: Int64 = 10_000_000
        var count = SlidingCount(horizonMicroseconds: 6 * width, bucketCount: 6)
        var model = NaiveSlidingCount(width: width, n: 6)
        let start: Int64 = 1_800_000_000_000_000
        func add(_ t: Int64, _ amount: UInt32 = 1) {
            count.add(amount, at: EventTime(microseconds: start + t))
            model.add(amount, at: start + t)
            for p in [t - 7 * width, t - width, t, t + width, t + 5 * width, t + 6 * width] {
                #expect(count.value(at: EventTime(microseconds: start + p)) == model.value(at: start + p), "at \(p)")
            }
            count._checkInvariants()
        }
        // Events in one bucket, then one a whole horizon later: the head bucket alone, no ring.
        add(0)
        add(width / 2, 2)
        #expect(!count._holdsRing)
        add(6 * width)
        #expect(!count._holdsRing)
        #expect(count.total == 1)
        // A late event further back than the ring is dropped without making it.
        add(0)
        #expect(!count._holdsRing && count.droppedLate == 1)
        // A second bucket inside the horizon, later or earlier than the head: the ring.
        add(8 * width)
        #expect(count._holdsRing)
        add(7 * width)
        #expect(count.total == 3)
        // A step of a whole horizon with nothing between frees the ring again.
        add(14 * width, 3)
        #expect(!count._holdsRing)
        #expect(count.total == 3)
        // A round trip of a count without its ring writes the ring out and reads back the same count.
        let restored = try roundTrip(count)
        #expect(!restored._holdsRing)
        for p in [13 * width, 14 * width, 19 * width, 20 * width] {
            #expect(restored.value(at: EventTime(microseconds: start + p)) == model.value(at: start + p))
        }
        // The budget figure is the ring's either way.
        #expect(count.approximateHeapBytes == 32 + 4 * 6)
    }

    @Test("Buckets saturate at UInt32.max and the saturation is counted")
    func saturation() {
        var count = SlidingCount(horizonMicroseconds: 10, bucketCount: 1)
        count.add(.max, at: EventTime(microseconds: 0))
        count.add(5, at: EventTime(microseconds: 0))
        #expect(count.value(at: EventTime(microseconds: 0)) == UInt64(UInt32.max))
        #expect(count.saturatedAdds == 1)
        count._checkInvariants()
    }

    @Test("MultiHorizonCount matches one SlidingCount per horizon")
    func multiHorizonMatchesSingles() {
        var multi = MultiHorizonCount(layout: .standard)
        var singles = [
            SlidingCount(horizonMicroseconds: 60_000_000, bucketCount: 6),
            SlidingCount(horizonMicroseconds: 600_000_000, bucketCount: 10),
            SlidingCount(horizonMicroseconds: 3_600_000_000, bucketCount: 12),
            SlidingCount(horizonMicroseconds: 86_400_000_000, bucketCount: 24),
        ]
        var rng = SplitMix64(seed: 9)
        var clock = ManualEventTime()
        for _ in 0..<5_000 {
            clock.advance(microseconds: Int64(rng.next() % 30_000_000))
            var t = clock.now.microseconds
            if rng.next() % 5 == 0 { t -= Int64(rng.next() % 7_200_000_000) }
            multi.add(at: EventTime(microseconds: t))
            for i in singles.indices { singles[i].add(at: EventTime(microseconds: t)) }
            let probe = EventTime(microseconds: clock.now.microseconds + Int64(rng.next() % 120_000_000))
            for i in singles.indices {
                #expect(multi.value(horizon: i, at: probe) == singles[i].value(at: probe))
            }
        }
        #expect(multi.droppedLate == singles[3].droppedLate)
        #expect(multi.approximateHeapBytes == 32 + 52 * 4)
        multi._checkInvariants()
    }
}
