import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

@testable import SendWatchDetect

@Suite("young_account_burst's per-account windows")
struct BurstWindowsTests {
    static func features(short: Int64, long: Int64) -> FeatureSettings {
        var f = FeatureSettings()
        f.recentWindowSeconds = short
        f.longRecentWindowSeconds = long
        return f
    }

    static func at(_ seconds: Int64) -> EventTime { EventTime(microseconds: seconds * 1_000_000) }

    @Test("The windows count an account's recipients over the rule's short and long windows")
    func counts() {
        var w = YoungAccountBurstRule.Windows(Self.features(short: 600, long: 3600))
        for s in 0..<5 { w.record(at: Self.at(Int64(s))) }
        #expect(w.recipients(at: Self.at(10)) == (short: 5, long: 5))
        // Past the short window, inside the long one.
        #expect(w.recipients(at: Self.at(1200)) == (short: 0, long: 5))
        #expect(w.recipients(at: Self.at(7200)) == (short: 0, long: 0))
        #expect(w.approximateHeapBytes >= 2 * DetectionEngine.windowBuckets * 4)
    }

    @Test("Saved windows fit only the window lengths the configuration makes")
    func fits() throws {
        var w = YoungAccountBurstRule.Windows(Self.features(short: 600, long: 3600))
        w.record(at: Self.at(1))
        let saved = try roundTrip(w)
        #expect(saved.fits(Self.features(short: 600, long: 3600)))
        #expect(saved.recipients(at: Self.at(2)) == (short: 1, long: 1))
        #expect(!saved.fits(Self.features(short: 1200, long: 3600)))
        #expect(!saved.fits(Self.features(short: 600, long: 7200)))
    }

    @Test("The young-account entry's checkpoint layout is unchanged: the windows are the two counts, in order")
    func layout() throws {
        var w = YoungAccountBurstRule.Windows(Self.features(short: 600, long: 3600))
        w.record(at: Self.at(3))
        #expect(try encodedState(w) == encodedState(w.short) + encodedState(w.long))
    }
}
