import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

/// Round trips of every window structure: build a state from a seeded random operation sequence, save and
/// restore it, then feed the same further operations to the original and the copy and compare every answer
/// and the final state.
@Suite struct StateCodingTests {
    static let seeds: [UInt64] = [1, 2, 3, 0xfeed]

    /// A random walk of event times: mostly forward by up to `step` µs, sometimes late, sometimes a long jump.
    static func nextTime(_ t: inout Int64, _ rng: inout SplitMix64, step: Int64) -> EventTime {
        let r = rng.next() % 100
        if r < 80 {
            t += Int64(rng.next() % UInt64(step))
            return EventTime(microseconds: t)
        } else if r < 97 {
            return EventTime(microseconds: t - Int64(rng.next() % UInt64(step * 20)))
        }
        t += step * 200
        return EventTime(microseconds: t)
    }

    @Test("SlidingCount continues identically after a round trip", arguments: seeds)
    func slidingCount(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_800_000_000_000_000
        var a = SlidingCount(horizonMicroseconds: 600_000_000, bucketCount: 50)
        for _ in 0..<2000 { a.add(UInt32(rng.next() % 3), at: Self.nextTime(&t, &rng, step: 2_000_000)) }
        var b = try roundTrip(a)
        b._checkInvariants()
        for _ in 0..<2000 {
            let time = Self.nextTime(&t, &rng, step: 2_000_000)
            let n = UInt32(rng.next() % 3)
            a.add(n, at: time)
            b.add(n, at: time)
            let q = EventTime(microseconds: t - Int64(rng.next() % 900_000_000))
            #expect(a.value(at: q) == b.value(at: q))
            #expect(a.value(at: time) == b.value(at: time))
        }
        b._checkInvariants()
        #expect(try encodedState(a) == encodedState(b))
    }

    @Test("MultiHorizonCount continues identically after a round trip", arguments: seeds)
    func multiHorizon(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_800_000_000_000_000
        var a = MultiHorizonCount()
        for _ in 0..<2000 { a.add(1, at: Self.nextTime(&t, &rng, step: 20_000_000)) }
        var b = try roundTrip(a)
        b._checkInvariants()
        #expect(b.layout == a.layout)
        for _ in 0..<2000 {
            let time = Self.nextTime(&t, &rng, step: 20_000_000)
            a.add(2, at: time)
            b.add(2, at: time)
            for h in 0..<a.layout.horizonCount {
                #expect(a.value(horizon: h, at: time) == b.value(horizon: h, at: time))
            }
        }
        #expect(a.droppedLate == b.droppedLate)
        #expect(try encodedState(a) == encodedState(b))
    }

    /// Splits at several points, so that both modes (exact and sketch) and the switches are saved.
    @Test("SlidingDistinct continues identically after a round trip, in both modes", arguments: seeds)
    func slidingDistinct(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_800_000_000_000_000
        var a = SlidingDistinct(
            configuration: .init(
                horizonMicroseconds: 3_600_000_000, exactCapacity: 24,
                subBucketCount: 8, precision: 8))
        var modes: Set<Bool> = []
        for round in 0..<12 {
            var b = try roundTrip(a)
            b._checkInvariants()
            #expect(b.approximateHeapBytes == a.approximateHeapBytes)
            modes.insert(a.isExact)
            // Alternate between few and many items so that the counter switches back and forth.
            let universe: UInt64 = round % 3 == 2 ? 8 : 400
            for _ in 0..<300 {
                let time = Self.nextTime(&t, &rng, step: round % 4 == 3 ? 60_000_000 : 5_000_000)
                let item = rng.next() % universe
                a.insert(item, at: time)
                b.insert(item, at: time)
                #expect(a.value(at: time) == b.value(at: time))
                #expect(a.approximateHeapBytes == b.approximateHeapBytes)
            }
            let q = EventTime(microseconds: t - 1_000_000_000)
            #expect(a.value(at: q) == b.value(at: q))
            #expect(
                a.sampleItems(limit: 10, at: EventTime(microseconds: t))
                    == b.sampleItems(limit: 10, at: EventTime(microseconds: t)))
            #expect(a.droppedLate == b.droppedLate && a.switchesToSketch == b.switchesToSketch)
            #expect(try encodedState(a) == encodedState(b))
            b._checkInvariants()
        }
        #expect(modes == [true, false])
    }

    @Test("HyperLogLog round-trips", arguments: seeds)
    func hyperLogLog(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var a = HyperLogLog(precision: 10)
        for _ in 0..<5000 { a.insert(rng.next()) }
        var b = try roundTrip(a)
        b._checkInvariants()
        #expect(a == b)
        for _ in 0..<5000 {
            let x = rng.next()
            #expect(a.insert(x) == b.insert(x))
        }
        #expect(a.estimate == b.estimate)
    }

    @Test("CountMinSketch continues identically after a round trip", arguments: seeds)
    func countMin(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_800_000_000_000_000
        var a = CountMinSketch(width: 256, depth: 4, epochMicroseconds: 600_000_000)
        for _ in 0..<3000 { a.add(rng.next() % 500, count: 1, at: Self.nextTime(&t, &rng, step: 1_000_000)) }
        var b = try roundTrip(a)
        b._checkInvariants()
        for _ in 0..<3000 {
            let time = Self.nextTime(&t, &rng, step: 1_000_000)
            let item = rng.next() % 500
            a.add(item, count: 2, at: time)
            b.add(item, count: 2, at: time)
            #expect(a.estimate(item, at: time) == b.estimate(item, at: time))
        }
        #expect(a.totalCount == b.totalCount && a.droppedLate == b.droppedLate)
        #expect(try encodedState(a) == encodedState(b))
    }

    @Test("SpaceSaving continues identically after a round trip", arguments: seeds)
    func spaceSaving(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let zipf = ZipfSampler(n: 2000, s: 1.1)
        var a = SpaceSaving(capacity: 50)
        for _ in 0..<5000 { a.add(UInt64(zipf.sample(using: &rng))) }
        var b = try roundTrip(a)
        b._checkInvariants()
        for _ in 0..<5000 {
            let item = UInt64(zipf.sample(using: &rng))
            a.add(item)
            b.add(item)
            #expect(a.counter(for: item) == b.counter(for: item))
        }
        b._checkInvariants()
        #expect(a.top(50) == b.top(50))
        #expect(a.minimumCount == b.minimumCount && a.totalCount == b.totalCount)
    }

    @Test("EWMABaseline continues identically after a round trip", arguments: seeds)
    func ewma(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_800_000_000_000_000
        let configuration = EWMABaseline.Configuration(
            intervalMicroseconds: 60_000_000, halfLifeIntervals: 5, warmUpIntervals: 3,
            allowedLatenessMicroseconds: 10_000_000)
        var a = EWMABaseline(configuration: configuration)
        for _ in 0..<500 { a.add(UInt32(rng.next() % 4), at: Self.nextTime(&t, &rng, step: 3_000_000)) }
        var b = try roundTrip(a)
        b._checkInvariants()
        #expect(b.alpha == a.alpha)
        for _ in 0..<500 {
            let time = Self.nextTime(&t, &rng, step: 3_000_000)
            a.add(1, at: time)
            b.add(1, at: time)
            #expect(a.snapshot(at: time) == b.snapshot(at: time))
        }
        #expect(a.droppedLate == b.droppedLate)
        #expect(try encodedState(a) == encodedState(b))
    }

    @Test(
        "BoundedKeyTable continues identically after a round trip: slots, recency, bytes, evictions",
        arguments: seeds)
    func boundedKeyTable(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_800_000_000_000_000
        var a = BoundedKeyTable<SlidingCount>(maxEntries: 40, maxBytes: 9_000)
        func step(_ a: inout BoundedKeyTable<SlidingCount>, _ r: UInt64, _ key: UInt64, _ time: EventTime) -> [Int] {
            switch r % 10 {
            case 0..<5:
                let slot =
                    a.find(key)
                    ?? a.insert(
                        key: key, name: key % 3 == 0 ? "a-rather-long-account-name-\(key)" : "k\(key)",
                        value: SlidingCount(
                            horizonMicroseconds: 60_000_000, bucketCount: [1, 2, 4, 5, 8, 10][Int(key % 6)]),
                        at: time)
                a.touch(slot, at: time)
                a[slot].add(1, at: time)
                return [Int(a[slot].value(at: time))]
            case 5..<7:
                a.enforceBudget()
                return [a.count]
            case 7:
                return [
                    a.expireIdle(notUpdatedSince: EventTime(microseconds: time.microseconds - 30_000_000), limit: 3)
                ]
            case 8:
                a.remove(key)
                return [a.count]
            default:
                return [a.find(key).map { Int(a[$0].total) } ?? -1]
            }
        }
        for _ in 0..<1500 {
            let time = Self.nextTime(&t, &rng, step: 400_000)
            _ = step(&a, rng.next(), rng.next() % 120, time)
        }
        var b = try roundTrip(a)
        b._checkInvariants()
        #expect(b.keysByRecency() == a.keysByRecency())
        for _ in 0..<1500 {
            let time = Self.nextTime(&t, &rng, step: 400_000)
            let r = rng.next()
            let key = rng.next() % 120
            #expect(step(&a, r, key, time) == step(&b, r, key, time))
            #expect(a.find(key) == b.find(key))
        }
        b._checkInvariants()
        #expect(a.keysByRecency() == b.keysByRecency())
        #expect(a.approximateBytes == b.approximateBytes)
        #expect(
            a.evictedForCount == b.evictedForCount && a.evictedForBytes == b.evictedForBytes && a.expired == b.expired)
        #expect(try encodedState(a) == encodedState(b))
    }

    @Test("MemoryBudget round-trips its recorded figures in order")
    func memoryBudget() throws {
        var a = MemoryBudget(totalBytes: 1 << 30)
        a.record("accounts", bytes: 3 << 20)
        a.record("templates", bytes: 1 << 20)
        a.record("accounts", bytes: 5 << 20)
        let b = try roundTrip(a)
        #expect(b.summary == a.summary)
        #expect(b.components.map(\.name) == ["accounts", "templates"])
    }

    // MARK: - Damaged snapshots

    @Test("A SlidingCount whose total is not its bucket sum, or without buckets, is rejected")
    func damagedSlidingCount() {
        var a = SlidingCount(horizonMicroseconds: 600_000_000, bucketCount: 50)
        a.add(5, at: EventTime(seconds: 1_800_000_000))
        #expect(throws: DecodingError.self) { try decodeDamaged(a) { $0["total"] = 4 } }
        #expect(throws: DecodingError.self) { try decodeDamaged(a) { $0["buckets"] = [UInt32]() } }
        #expect(throws: DecodingError.self) { try decodeDamaged(a) { $0["head"] = Int64.min } }
        #expect(throws: DecodingError.self) { try decodeDamaged(a) { $0["bucketWidth"] = 0 } }
    }

    @Test("A SlidingDistinct with truncated arrays, a pair after its head or a mismatched sketch is rejected")
    func damagedSlidingDistinct() throws {
        var a = SlidingDistinct(configuration: .init(horizonMicroseconds: 3_600_000_000, exactCapacity: 8))
        for i in 0..<5 { a.insert(UInt64(i), at: EventTime(seconds: 1_800_000_000 + Int64(i))) }
        #expect(throws: DecodingError.self) {
            try decodeDamaged(a) { $0["lastSeen"] = [Int64](repeating: 0, count: 4) }
        }
        // A pair dated after the newest event (only a damaged or crafted checkpoint has one).
        #expect(throws: DecodingError.self) {
            try decodeDamaged(a) { $0["lastSeen"] = [Int64](repeating: 1_800_000_010 * 1_000_000, count: 5) }
        }
        for i in 0..<50 { a.insert(UInt64(100 + i), at: EventTime(seconds: 1_800_000_100)) }
        #expect(!a.isExact)
        #expect(throws: DecodingError.self) {
            try decodeDamaged(a) { object in
                var sketch = object["sketch"] as! [String: Any]
                sketch["registers"] = [UInt8](repeating: 0, count: 100)
                object["sketch"] = sketch
            }
        }
        #expect(throws: DecodingError.self) {
            try decodeDamaged(a) { object in
                var sketch = object["sketch"] as! [String: Any]
                sketch["precision"] = 11
                object["sketch"] = sketch
            }
        }
        #expect(throws: DecodingError.self) {
            try decodeDamaged(a) {
                $0["items"] = [UInt64(1)]; $0["lastSeen"] = [Int64(1)]
            }
        }
    }

    @Test("Damaged HyperLogLog, CountMinSketch, SpaceSaving and EWMABaseline snapshots are rejected")
    func damagedSketches() {
        var h = HyperLogLog(precision: 6)
        h.insert(42)
        #expect(throws: DecodingError.self) {
            try decodeDamaged(h) { $0["registers"] = [UInt8](repeating: 0, count: 63) }
        }
        #expect(throws: DecodingError.self) {
            try decodeDamaged(h) { $0["registers"] = [UInt8](repeating: 99, count: 64) }
        }
        var cms = CountMinSketch(width: 16, depth: 2, epochMicroseconds: 60_000_000)
        cms.add(1, at: EventTime(seconds: 1_800_000_000))
        #expect(throws: DecodingError.self) { try decodeDamaged(cms) { $0["width"] = 12 } }
        #expect(throws: DecodingError.self) {
            try decodeDamaged(cms) { $0["counters"] = [UInt32](repeating: 0, count: 63) }
        }
        #expect(throws: DecodingError.self) { try decodeDamaged(cms) { $0["currentHalf"] = 2 } }
        var top = SpaceSaving(capacity: 4)
        for i in 0..<10 { top.add(UInt64(i % 6)) }
        #expect(throws: DecodingError.self) {
            try decodeDamaged(top) { $0["errors"] = [UInt64](repeating: 99, count: 4) }
        }
        #expect(throws: DecodingError.self) {
            try decodeDamaged(top) { $0["items"] = [UInt64](repeating: 7, count: 4) }
        }
        #expect(throws: DecodingError.self) { try decodeDamaged(top) { $0["counts"] = [UInt64(1)] } }
        var e = EWMABaseline()
        e.add(at: EventTime(seconds: 1_800_000_000))
        #expect(throws: DecodingError.self) { try decodeDamaged(e) { $0["mean"] = -1.0 } }
        #expect(throws: DecodingError.self) { try decodeDamaged(e) { $0["firstOpen"] = Int64.max } }
    }

    @Test("A BoundedKeyTable with broken links, free list or arrays is rejected")
    func damagedTable() throws {
        var a = BoundedKeyTable<SlidingCount>(maxEntries: 8, maxBytes: 1 << 20)
        for k in 0..<6 {
            a.insert(
                key: UInt64(k), name: "k\(k)", value: SlidingCount(horizonMicroseconds: 60_000_000, bucketCount: 4),
                at: EventTime(seconds: 1_800_000_000 + Int64(k)))
        }
        a.remove(3)
        _ = try roundTrip(a)
        let edits: [(inout [String: Any]) -> Void] = [
            { $0["next"] = [Int32](repeating: 99, count: 6) },
            { $0["next"] = [Int32](repeating: 0, count: 6) },  // a cycle
            { $0["prev"] = [Int32](repeating: -1, count: 6) },
            { $0["free"] = [Int32(7)] },
            { $0["free"] = [Int32]() },
            { $0["keys"] = [UInt64](repeating: 1, count: 6) },
            { $0["keys"] = [UInt64(1), 2, 3] },
            { $0["oldest"] = Int32(-7) },
            { $0["newest"] = Int32(0) },
            { $0["bytes"] = Int64(5) },
            { $0["accounted"] = [Int64](repeating: -1, count: 6) },
            { $0["maxEntries"] = 0 },
        ]
        for edit in edits {
            #expect(throws: DecodingError.self) { try decodeDamaged(a, edit) }
        }
    }
}
