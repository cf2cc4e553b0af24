import SendWatchCore
import Testing

@testable import SendWatchPipeline

@Suite("Open alerts for the policy service")
struct OpenAlertTrackerTests {
    func record(_ id: String, _ action: AlertAction, _ accounts: [String]) -> Alert {
        Alert(
            id: id, action: action, kind: "young_account_burst", severity: .medium, score: 1,
            eventTime: EventTime(microseconds: 0), firstEventTime: EventTime(microseconds: 0), accounts: accounts,
            accountsTotal: accounts.count, template: nil, evidence: [], reasons: [])
    }

    @Test("create flags its accounts, update adds accounts and keeps the opening time, close unflags")
    func lifecycle() {
        var tracker = OpenAlertTracker()
        let changed1 = tracker.take([record("sw-1", .create, ["a"])], now: 100)
        #expect(changed1)
        #expect(tracker.accounts().flags == ["a": .init(alertID: "sw-1", openedAt: 100)])
        let changed2 = tracker.take([record("sw-1", .update, ["a"])], now: 200)
        #expect(!changed2, "nothing changed: no new table")
        let changed3 = tracker.take([record("sw-1", .update, ["a", "b"])], now: 300)
        #expect(changed3)
        #expect(tracker.accounts().flags["b"] == .init(alertID: "sw-1", openedAt: 100))
        let changed4 = tracker.take([record("sw-1", .close, ["a", "b"])], now: 400)
        #expect(changed4)
        #expect(tracker.accounts().flags.isEmpty)
        let changed5 = tracker.take([record("sw-9", .close, ["z"])], now: 500)
        #expect(!changed5, "an unknown alert's close changes nothing")
    }

    @Test("An account in two open alerts is flagged by the newer until it closes")
    func newestAlertWins() {
        var tracker = OpenAlertTracker()
        _ = tracker.take([record("sw-1", .create, ["a"])], now: 100)
        _ = tracker.take([record("sw-2", .create, ["a", "c"])], now: 200)
        #expect(tracker.accounts().flags["a"] == .init(alertID: "sw-2", openedAt: 200))
        _ = tracker.take([record("sw-2", .close, ["a", "c"])], now: 300)
        #expect(tracker.accounts().flags == ["a": .init(alertID: "sw-1", openedAt: 100)])
    }

    @Test("A restore starts from the open alerts' last records, dated back by their age in event time")
    func restore() {
        var tracker = OpenAlertTracker()
        _ = tracker.take([record("sw-old", .create, ["gone"])], now: 10)
        var recent = record("sw-2", .update, ["a", "b"])
        recent.firstEventTime = EventTime(microseconds: 3_600_000_000)
        var ahead = record("sw-3", .create, ["c"])
        ahead.firstEventTime = EventTime(microseconds: 9_000_000_000)
        tracker.restore([recent, ahead], watermark: EventTime(microseconds: 7_200_000_000), now: 100_000)
        #expect(
            tracker.accounts().flags == [
                "a": .init(alertID: "sw-2", openedAt: 96_400), "b": .init(alertID: "sw-2", openedAt: 96_400),
                "c": .init(alertID: "sw-3", openedAt: 100_000),
            ], "what the tracker held before is replaced; an age is never negative")
        let changed = tracker.take([record("sw-2", .update, ["a", "b", "d"])], now: 100_500)
        #expect(changed)
        #expect(tracker.accounts().flags["d"] == .init(alertID: "sw-2", openedAt: 96_400), "the restored date is kept")
    }
}
