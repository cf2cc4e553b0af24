import Testing

@testable import SendWatchTemplates

@Suite struct TemplateCacheMemoryTests {
    @Test("A cache entry keeps only its own slot ranges, not a buffer the size of the scratch array")
    func cacheEntriesAreSmall() {
        var miner = TemplateMiner(configuration: .init(cacheSize: 1024))
        // Distinct texts (cache misses) with a few slots each: every miss stores one entry.
        for i in 0..<600 {
            _ = miner.mine("Org\(i % 7) Team sent you a document number \(i)", explicitTemplate: nil)
            _ = miner.mine("Word\(i) alpha\(i) beta\(i) gamma\(i)", explicitTemplate: nil)
        }
        #expect(!miner.cacheRanges.isEmpty)
        // The scratch array is sized for 2 × maxTokens + 2 ranges (130 by default); an entry needs 2 per slot.
        let largest = miner.cacheRanges.map(\.capacity).max() ?? 0
        #expect(largest <= 32, "largest cache entry capacity \(largest)")
    }
}
