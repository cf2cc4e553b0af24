import Foundation
import SendWatchCore
import SendWatchTesting
import Testing

@testable import SendWatchWindows

@Suite("SlidingDistinct")
struct SlidingDistinctTests {
    @Test(
        "Exact mode matches a naive list of sightings, with late events within and beyond the horizon",
        arguments: [UInt64(1), 2, 3])
    func exactMatchesNaiveModel(seed: UInt64) {
        let horizon: Int64 = 600_000_000
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: horizon, exactCapacity: 4096))
        var sightings: [(item: UInt64, time: Int64)] = []
        var head: Int64? = nil
        var dropped: UInt32 = 0
        var rng = SplitMix64(seed: seed)
        var clock = ManualEventTime()
        for step in 0..<2_000 {
            clock.advance(microseconds: Int64(rng.next() % 2_000_000))
            if rng.next() % 200 == 0 { clock.advance(seconds: 86_400) }
            var t = clock.now.microseconds
            if rng.next() % 4 == 0 { t -= Int64(rng.next() % UInt64(horizon + horizon / 2)) }
            let item = rng.next() % 300
            distinct.insert(item, at: EventTime(microseconds: t))
            head = max(head ?? t, t)
            if let h = head, h - t >= horizon { dropped += 1 } else { sightings.append((item, t)) }
            // Query at the newest event and a little after it (the exact answer for any now >= head).
            for now in [head!, head! + Int64(rng.next() % UInt64(horizon))] {
                var seen = Set<UInt64>()
                for s in sightings where s.time > now - horizon && s.time <= now { seen.insert(s.item) }
                let value = distinct.value(at: EventTime(microseconds: now))
                #expect(
                    value == DistinctCount(value: UInt64(seen.count), isExact: true, relativeStandardError: 0),
                    "step \(step)")
            }
            if internalChecks || step % 250 == 0 { distinct._checkInvariants() }
        }
        #expect(distinct.droppedLate == dropped)
        #expect(distinct.isExact)
        distinct._checkInvariants()
    }

    @Test(
        "A bulk insert leaves exactly the state of the same items inserted one by one: expiry, capacity, sketch, late",
        arguments: [(UInt64(1), 8), (2, 8), (3, 16), (4, 128), (5, 4)])
    func bulkInsertMatchesSingleInserts(seed: UInt64, capacity: Int) throws {
        let horizon: Int64 = 600_000_000
        let configuration = SlidingDistinct.Configuration(horizonMicroseconds: horizon, exactCapacity: capacity)
        var bulk = SlidingDistinct(configuration: configuration)
        var single = bulk
        var rng = SplitMix64(seed: seed)
        var clock = ManualEventTime()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var switches = 0
        var backToExact = 0
        for step in 0..<3_000 {
            // Mostly small steps; now and then a gap of half to one and a half horizons (some held pairs expire
            // and are refreshed or purged), or past the horizon (everything expires; a sketch returns to exact).
            switch rng.next() % 10 {
            case 0, 1: clock.advance(microseconds: horizon / 2 + Int64(rng.next() % UInt64(horizon)))
            case 2 where rng.next() % 8 == 0: clock.advance(microseconds: horizon + Int64(rng.next() % 1_000_000))
            default: clock.advance(microseconds: Int64(rng.next() % 30_000_000))
            }
            var t = clock.now.microseconds
            // Late batches, within and beyond the horizon.
            if rng.next() % 8 == 0 { t -= Int64(rng.next() % UInt64(horizon + horizon / 2)) }
            // Items from a universe of twice the capacity, so batches repeat held items, repeat themselves and fill
            // the array; mostly up to the capacity, now and then up to three times it.
            let universe = UInt64(2 * capacity + 4)
            let most = UInt64(rng.next() % 10 == 0 ? 3 * capacity + 1 : capacity + 3)
            let items = (0..<Int(rng.next() % most)).map { _ in (rng.next() % universe) &* 0x9E37_79B9_7F4A_7C15 }
            let wasExact = bulk.isExact
            let time = EventTime(microseconds: t)
            let new = bulk.insert(contentsOf: items, at: time)
            var expected = 0
            for item in items where single.insert(item, at: time) { expected += 1 }
            #expect(new == expected, "step \(step)")
            let sameInline: Bool
            switch (bulk._storage, single._storage) {
            case (.one, .one), (.many, .many), (.sketch, .sketch): sameInline = true
            default: sameInline = false
            }
            #expect(sameInline, "step \(step)")
            #expect(try encoder.encode(bulk) == encoder.encode(single), "step \(step)")
            if wasExact && !bulk.isExact { switches += 1 }
            if !wasExact && bulk.isExact { backToExact += 1 }
            if internalChecks || step % 250 == 0 { bulk._checkInvariants() }
        }
        // The sequences reached the capacity bound and came back from the sketch.
        #expect(switches > 0)
        #expect(backToExact > 0)
        #expect(bulk.droppedLate > 0)
    }

    @Test(
        "The oldest sighting kept with the pairs equals a recount after every operation, and answers equal a scan",
        arguments: [(UInt64(1), 4), (2, 16), (3, 64), (4, 1)])
    func oldestSightingIsConsistent(seed: UInt64, capacity: Int) throws {
        let horizon: Int64 = 600_000_000
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: horizon, exactCapacity: capacity))
        var rng = SplitMix64(seed: seed)
        var clock = ManualEventTime()
        func held(_ d: SlidingDistinct) -> [SlidingDistinct.Entry] { d.withExactEntries { Array($0) } ?? [] }
        var fastAnswers = 0
        var scans = 0
        for step in 0..<4_000 {
            switch rng.next() % 16 {
            case 0: clock.advance(microseconds: horizon / 2 + Int64(rng.next() % UInt64(horizon)))
            case 1 where rng.next() % 4 == 0: clock.advance(microseconds: horizon + Int64(rng.next() % 1_000_000))
            default: clock.advance(microseconds: Int64(rng.next() % 20_000_000))
            }
            var t = clock.now.microseconds
            if rng.next() % 6 == 0 { t -= Int64(rng.next() % UInt64(horizon + horizon / 4)) }
            // Few items, so that held pairs are seen again (the oldest among them too) as often as new ones join.
            let universe = UInt64(capacity + capacity / 2 + 2)
            switch rng.next() % 8 {
            case 0:
                let items = (0..<Int(rng.next() % UInt64(capacity + 2))).map { _ in rng.next() % universe }
                distinct.insert(contentsOf: items, at: EventTime(microseconds: t))
            case 1:
                // A checkpoint round trip: the oldest sighting is derived again, not saved.
                distinct = try StateCoding.decode(SlidingDistinct.self, from: StateCoding.encode(distinct))
            default:
                distinct.insert(rng.next() % universe, at: EventTime(microseconds: t))
            }
            distinct._checkInvariants()
            guard distinct.isExact else { continue }
            let head = distinct._head
            for now in [head, head + Int64(rng.next() % UInt64(horizon)), head - Int64(rng.next() % UInt64(horizon))] {
                let live = held(distinct).filter { $0.lastSeen > now - horizon && $0.lastSeen <= now }
                let at = EventTime(microseconds: now)
                #expect(distinct.value(at: at).value == UInt64(live.count), "step \(step)")
                let limit = Int(rng.next() % UInt64(capacity + 2)) + 1
                let sample =
                    live.count <= limit
                    ? live.map(\.item)
                    : live.sorted { $0.lastSeen != $1.lastSeen ? $0.lastSeen > $1.lastSeen : $0.item < $1.item }
                        .prefix(limit).map(\.item)
                #expect(distinct.sampleItems(limit: limit, at: at) == sample, "step \(step)")
                if distinct.allExactLive(at: now) { fastAnswers += 1 } else { scans += 1 }
            }
            #expect(distinct.isEmpty == !held(distinct).contains { $0.lastSeen > head - horizon }, "step \(step)")
        }
        // Both paths were taken: answers read from the oldest sighting, and scans.
        #expect(fastAnswers > 300 && scans > 300, "\(fastAnswers) answered without a scan, \(scans) with")
    }

    @Test("One item is held inline, two or more in an array; the instance stays 48 bytes and reports the same bytes")
    func oneItemInline() throws {
        #expect(MemoryLayout<SlidingDistinct>.size <= 48 && MemoryLayout<SlidingDistinct?>.stride == 48)
        let horizon: Int64 = 600_000_000
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: horizon, exactCapacity: 2))
        func isInline(_ d: SlidingDistinct) -> Bool {
            if case .one = d._storage { return true }
            return false
        }
        let new1 = distinct.insert(7, at: EventTime(microseconds: 1))
        #expect(new1)
        #expect(isInline(distinct) && distinct.approximateHeapBytes == 48)
        let new2 = distinct.insert(7, at: EventTime(microseconds: 2))
        #expect(!new2)
        #expect(distinct.value(at: EventTime(microseconds: 2)).value == 1)
        #expect(distinct.sampleItems(limit: 5, at: EventTime(microseconds: 2)) == [7])
        let restored = try StateCoding.decode(SlidingDistinct.self, from: StateCoding.encode(distinct))
        #expect(isInline(restored) && restored.value(at: EventTime(microseconds: 2)).value == 1)
        let new3 = distinct.insert(8, at: EventTime(microseconds: 3))
        #expect(new3)
        #expect(!isInline(distinct) && distinct.approximateHeapBytes == 64)
        #expect(distinct.value(at: EventTime(microseconds: 3)).value == 2)
        // Full with 7 expired: it is dropped, 8 stays inline, and 9 joins it.
        let new4 = distinct.insert(9, at: EventTime(microseconds: horizon + 2))
        #expect(new4)
        #expect(distinct.sampleItems(limit: 5, at: EventTime(microseconds: horizon + 2)) == [8, 9])
        let new5 = distinct.insert(10, at: EventTime(microseconds: 4 * horizon))
        #expect(new5)
        #expect(distinct.sampleItems(limit: 5, at: EventTime(microseconds: 4 * horizon)) == [10])
        #expect(isInline(distinct))
        distinct._checkInvariants()
    }

    @Test("Switches from exact to sketch one item past capacity, and says so")
    func exactToSketchTransition() {
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: 3_600_000_000, exactCapacity: 64))
        let clock = ManualEventTime()
        for i: UInt64 in 0..<64 { distinct.insert(i, at: clock.now) }
        #expect(distinct.value(at: clock.now) == DistinctCount(value: 64, isExact: true, relativeStandardError: 0))
        #expect(distinct.sampleItems(limit: 3, at: clock.now) == [0, 1, 2])
        distinct.insert(64, at: clock.now)
        let v = distinct.value(at: clock.now)
        #expect(!v.isExact)
        #expect(v.description.hasPrefix("≈"))
        #expect(abs(Double(v.value) - 65) <= 3)
        #expect(distinct.switchesToSketch == 1)
        #expect(distinct.sampleItems(limit: 3, at: clock.now).isEmpty)
        distinct._checkInvariants()
    }

    @Test("sampleItems sorts by recency only when it has to choose: up to the limit, the live items as held")
    func sampleItemsChoosesByRecencyOnlyOverTheLimit() {
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: 60_000_000, exactCapacity: 16))
        var clock = ManualEventTime()
        for i: UInt64 in [7, 3, 5] {
            distinct.insert(i, at: clock.now)
            clock.advance(seconds: 1)
        }
        // Every live item fits: no recency sort, the order held (first sighting first).
        #expect(distinct.sampleItems(limit: 3, at: clock.now) == [7, 3, 5])
        // More live items than the limit: the newest sightings, newest first.
        #expect(distinct.sampleItems(limit: 2, at: clock.now) == [5, 3])
        // An item past the horizon is left out either way.
        clock.advance(seconds: 57)
        #expect(distinct.sampleItems(limit: 3, at: clock.now) == [3, 5])
    }

    @Test("Expired items are purged before switching, so a stream of few live items stays exact")
    func expiryKeepsExact() {
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: 60_000_000, exactCapacity: 16))
        var clock = ManualEventTime()
        for i: UInt64 in 0..<1_000 {
            distinct.insert(i, at: clock.now)
            clock.advance(seconds: 10)  // at most 6 live at a time
        }
        #expect(distinct.isExact)
        #expect(distinct.value(at: clock.now).value == 5)
        #expect(distinct.sampleItems(limit: 2, at: clock.now) == [999, 998])
        distinct._checkInvariants()
    }

    @Test(
        "Sketch relative error within 3 standard errors at 10^5 and 10^6 items",
        arguments: [
            (100_000, 10), (1_000_000, 12),
        ])
    func sketchRelativeError(n: Int, precision: Int) {
        let horizon: Int64 = 3_600_000_000
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: horizon, precision: precision))
        var clock = ManualEventTime(seconds: 1_800_000_000 / 3600 * 3600)
        var rng = SplitMix64(seed: UInt64(n))
        let step = (horizon - 1) / Int64(n)  // all inside one horizon
        for _ in 0..<n {
            distinct.insert(rng.next(), at: clock.now)
            clock.advance(microseconds: step)
        }
        let v = distinct.value(at: clock.now)
        let err = (Double(v.value) - Double(n)) / Double(n)
        #expect(!v.isExact)
        #expect(abs(err) <= 3 * v.relativeStandardError, "error \(err)")
        distinct._checkInvariants()
    }

    @Test("Sketch mode slides: old sub-buckets leave the window, and an empty horizon returns to exact mode")
    func sketchSlides() {
        let horizon: Int64 = 800_000_000  // 8 sub-buckets of 100 s
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: horizon, exactCapacity: 32))
        var clock = ManualEventTime(seconds: 1_800_000_000)
        var rng = SplitMix64(seed: 77)
        for _ in 0..<4_000 { distinct.insert(rng.next(), at: clock.now) }  // sub-bucket 0
        clock.advance(seconds: 400)
        for _ in 0..<1_000 { distinct.insert(rng.next(), at: clock.now) }  // sub-bucket 4
        let both = distinct.value(at: clock.now)
        #expect(abs(Double(both.value) / 5_000 - 1) < 0.1)
        // Eight sub-buckets later only the second batch is in the window.
        let later = distinct.value(at: EventTime(seconds: clock.now.seconds + 400))
        #expect(abs(Double(later.value) / 1_000 - 1) < 0.1, "\(later)")
        // A late event for the first sub-bucket is still counted (held), one older than the ring is dropped.
        distinct.insert(1, at: EventTime(seconds: clock.now.seconds - 400))
        distinct.insert(2, at: EventTime(seconds: clock.now.seconds - 900))
        #expect(distinct.droppedLate == 1)
        distinct._checkInvariants()
        // After a gap longer than the horizon, the next item finds everything empty: back to exact.
        clock.advance(seconds: 86_400)
        distinct.insert(42, at: clock.now)
        #expect(distinct.isExact)
        #expect(distinct.value(at: clock.now) == DistinctCount(value: 1, isExact: true, relativeStandardError: 0))
        #expect(distinct.approximateHeapBytes < 100)
        distinct._checkInvariants()
    }

    @Test("Copies are independent values, also in sketch mode")
    func valueSemantics() {
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: 800_000_000, exactCapacity: 4))
        let t = EventTime(seconds: 1_800_000_000)
        for i: UInt64 in 0..<100 { distinct.insert(i, at: t) }
        let copy = distinct
        for i: UInt64 in 100..<200 { distinct.insert(i, at: t) }
        #expect(abs(Double(copy.value(at: t).value) - 100) <= 10)
        #expect(abs(Double(distinct.value(at: t).value) - 200) <= 20)
        copy._checkInvariants()
        distinct._checkInvariants()
    }
}
