import SendWatchCore
import SendWatchWindows
import Testing

@Suite("Extreme event times")
struct ExtremeTimeTests {
    static let times: [Int64] = [.min, .min + 1, -1, 0, 1, 1_800_000_000_000_000, .max - 1, .max]

    @Test("No structure traps on absurd times from damaged lines, in any order", arguments: times)
    func noTrap(first: Int64) {
        var count = SlidingCount(horizonMicroseconds: 60, bucketCount: 60)
        var multi = MultiHorizonCount()
        var distinct = SlidingDistinct(configuration: .init(horizonMicroseconds: 80, exactCapacity: 2))
        var cms = CountMinSketch(width: 16, depth: 2, epochMicroseconds: 1)
        var baseline = EWMABaseline(configuration: .init(intervalMicroseconds: 1))
        for (i, t) in ([first] + Self.times).enumerated() {
            let time = EventTime(microseconds: t)
            count.add(at: time)
            multi.add(at: time)
            distinct.insert(UInt64(i), at: time)
            cms.add(UInt64(i), at: time)
            baseline.add(at: time)
            _ = count.value(at: time)
            _ = multi.value(horizon: 3, at: time)
            _ = distinct.value(at: time)
            _ = cms.estimate(UInt64(i), at: time)
            _ = baseline.snapshot(at: time)
        }
        count._checkInvariants()
        multi._checkInvariants()
        distinct._checkInvariants()
        cms._checkInvariants()
        baseline._checkInvariants()
    }
}
