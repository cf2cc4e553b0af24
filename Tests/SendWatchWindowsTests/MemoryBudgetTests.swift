import SendWatchCore
import SendWatchWindows
import Testing

@Suite("MemoryBudget")
struct MemoryBudgetTests {
    @Test("Totals components against the budget and sizes tables from shares")
    func totals() {
        var budget = MemoryBudget(totalBytes: 100 << 20)
        #expect(budget.share(0.25) == 25 << 20)
        #expect(MemoryBudget.entries(fitting: budget.share(0.25), bytesPerEntry: 400) == (25 << 20) / 400)
        budget.record("accounts", bytes: 30 << 20)
        budget.record("templates", bytes: 5 << 20)
        budget.record("accounts", bytes: 40 << 20)
        #expect(budget.usedBytes == 45 << 20)
        #expect(!budget.isOverBudget)
        #expect(budget.summary == "accounts 40.0 MiB, templates 5.0 MiB; total 45.0 MiB of 100.0 MiB (45 %)")
        budget.record("recipients", bytes: 60 << 20)
        #expect(budget.isOverBudget)
        #expect(budget.remainingBytes == -(5 << 20))
    }

    @Test("Per-entry estimates in the documentation hold")
    func documentedSizes() {
        #expect(MemoryLayout<SlidingCount>.size <= 48)
        #expect(SlidingCount(horizonMicroseconds: 600_000_000, bucketCount: 60).approximateHeapBytes == 272)
        #expect(MemoryLayout<MultiHorizonCount>.size <= 32)
        #expect(MemoryLayout<SlidingDistinct>.size <= 48)
        #expect(MemoryLayout<EWMABaseline>.size <= 96)
        #expect(BoundedKeyTable<SlidingCount>.perEntryOverheadBytes == 72 + MemoryLayout<SlidingCount?>.stride)
        var d = SlidingDistinct(configuration: .init(horizonMicroseconds: 800_000_000, exactCapacity: 128))
        let t = EventTime(seconds: 1_800_000_000)
        for i: UInt64 in 0..<128 { d.insert(i, at: t) }
        #expect(d.approximateHeapBytes == 32 + 16 * 128)
        d.insert(1000, at: t)
        #expect(d.approximateHeapBytes <= 10 * 1024)
    }
}
