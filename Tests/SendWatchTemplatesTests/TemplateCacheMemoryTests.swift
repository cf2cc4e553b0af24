import Testing

@testable import SendWatchTemplates

@Suite struct TemplateCacheMemoryTests {
    @Test("A cache entry of up to six slots keeps its ranges inline; more slots spill, and both read back")
    func cacheEntriesAreSmall() {
        var miner = TemplateMiner(configuration: .init(cacheSize: 1024))
        // Distinct texts (cache misses) with a few slots each: every miss stores one entry.
        for i in 0..<600 {
            _ = miner.mine("Org\(i % 7) Team sent you a document number \(i)", explicitTemplate: nil)
            _ = miner.mine("Word\(i) alpha\(i) beta\(i) gamma\(i)", explicitTemplate: nil)
        }
        #expect(miner.cacheRanges.count > 0)
        #expect(miner.cacheRanges.spilledEntries == 0)
        // A repeated text is a cache hit and gives the slots of the miss that stored it.
        let first = miner.mine("Org3 Team sent you a document number 4242", explicitTemplate: nil)
        let again = miner.mine("Org3 Team sent you a document number 4242", explicitTemplate: nil)
        #expect(again.slots == first.slots && again.id == first.id)

        // Seven slots: the entry spills, and a hit still reads its fourteen offsets.
        var spilling = TemplateMiner(configuration: .init(cacheSize: 16))
        for i in 0..<20 {
            _ = spilling.mine("a \(i) b \(i) c \(i) d \(i) e \(i) f \(i) g \(i) h", explicitTemplate: nil)
        }
        let miss = spilling.mine("a 7 b 99 c 123 d 5 e 6 f 7 g 8 h", explicitTemplate: nil)
        let hit = spilling.mine("a 7 b 99 c 123 d 5 e 6 f 7 g 8 h", explicitTemplate: nil)
        #expect(miss.slots == ["7", "99", "123", "5", "6", "7", "8"])
        #expect(hit.slots == miss.slots)
        #expect(spilling.cacheRanges.spilledEntries > 0)
        #expect(spilling.counters.cacheHits > 0)
    }

    @Test("CachedSlotRanges: inline and spilled entries, cleared and reused")
    func rangesStorage() {
        var r = CachedSlotRanges()
        r.appendEntry()
        r.appendEntry()
        r.set(0, [1, 4, 6, 9])
        r.set(1, Array(0..<14))
        #expect(r.values(0) == [1, 4, 6, 9])
        #expect(r.values(1) == Array(0..<14))
        #expect(r.spilledEntries == 1)
        r.set(1, [2, 3])
        #expect(r.values(1) == [2, 3] && r.spilledEntries == 0)
        r.set(0, [Int(UInt16.max) + 1, Int(UInt16.max) + 2])
        #expect(r.values(0) == [Int(UInt16.max) + 1, Int(UInt16.max) + 2] && r.spilledEntries == 1)
        r.clear(0)
        #expect(r.count(0) == 0 && r.spilledEntries == 0)
    }
}
