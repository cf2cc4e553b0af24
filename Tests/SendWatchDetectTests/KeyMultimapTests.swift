import Testing

@testable import SendWatchDetect

@Suite struct KeyMultimapTests {
    /// The values `map` holds under `key`, sorted.
    static func values(_ map: KeyMultimap, _ key: UInt64) -> [UInt64] {
        var out: [UInt64] = []
        map.forEach(key) { out.append($0) }
        return out.sorted()
    }

    @Test("A multimap returns every value added under a key, none removed, through growth and shrinking")
    func matchesReference() {
        var map = KeyMultimap()
        var pairs: [(key: UInt64, value: UInt64)] = []
        var random: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: UInt64) -> UInt64 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (random >> 33) % bound
        }
        // Few keys (long runs of one key), keys that differ only in their high bits, and many values; never
        // keys 0 and 1, which share cells (``keyZero()``).
        func key() -> UInt64 { next(4) == 0 ? (1 + next(7)) << 56 : 2 + next(300) }
        var largest = 0
        for step in 0..<20_000 {
            // Grow to a few thousand pairs, then drain to a few, so that the table shrinks again.
            let adding = step < 12_000 ? next(3) != 0 : next(5) == 0
            if adding || pairs.isEmpty {
                let pair = (key: key(), value: next(1 << 40))
                map.insert(pair.key, pair.value)
                pairs.append(pair)
            } else {
                let pair = pairs.remove(at: Int(next(UInt64(pairs.count))))
                let removed = map.remove(pair.key, pair.value)
                #expect(removed)
            }
            let absent = map.remove(1 << 50, 7)
            #expect(!absent, "a pair never added is not held")
            largest = max(largest, map.cellCount)
            if step % 500 == 0 || step == 19_999 {
                let reference = Dictionary(grouping: pairs, by: \.key)
                for (k, held) in reference {
                    #expect(Self.values(map, k) == held.map(\.value).sorted(), "step \(step): values of key \(k)")
                }
                #expect(map.count == pairs.count)
                #expect(map.cellCount <= max(KeyMultimap.minCells, 8 * map.count))
            }
        }
        #expect(largest >= 4096, "the table grew")
        #expect(map.cellCount < largest, "and shrank as it emptied")
    }

    @Test("Key 0 is held under key 1: a lookup of either finds both, and removal tells them apart by value")
    func keyZero() {
        var map = KeyMultimap()
        map.insert(0, 10)
        map.insert(1, 11)
        #expect(Self.values(map, 0) == [10, 11])
        #expect(Self.values(map, 1) == [10, 11])
        let first = map.remove(0, 10)
        #expect(first)
        #expect(Self.values(map, 1) == [11])
        let again = map.remove(0, 10)
        #expect(!again)
        #expect(map.count == 1)
    }
}
