import SendWatchCore
import SendWatchDetect
import Testing

@Suite("Time jumps")
struct TimeJumpTests {
    func event(_ seconds: Int64, account: String = "acct", recipient: String = "r@example.org") -> SendEvent {
        SendEvent(
            time: EventTime(seconds: seconds), account: account, accountSource: .header,
            sender: account + "@example.com", recipient: recipient, subject: "Hello", status: .sent)
    }

    @Test("One event years ahead neither moves event time nor makes later events late")
    func loneOutlier() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let base: Int64 = 1_795_000_000
        engine.process(event(base), into: &alerts)
        engine.process(event(base + 20 * 365 * 86_400), into: &alerts)
        engine.process(event(base + 10), into: &alerts)
        engine.process(event(base + 20), into: &alerts)
        #expect(engine.counters.timeOutliers == 1)
        #expect(engine.counters.lateEvents == 0)
        #expect(engine.counters.events == 3)
        #expect(engine.watermark == EventTime(seconds: base + 20))
    }

    @Test("A real gap in the logs moves event time once three events in a row agree on it")
    func confirmedGap() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let base: Int64 = 1_795_000_000
        engine.process(event(base), into: &alerts)
        let later = base + 3 * 86_400
        for i in 0..<5 { engine.process(event(later + Int64(i)), into: &alerts) }
        #expect(engine.counters.timeOutliers == 2)
        #expect(engine.counters.events == 4)
        #expect(engine.watermark == EventTime(seconds: later + 4))
    }

    @Test("Outliers that disagree with each other never move event time")
    func scatteredOutliers() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let base: Int64 = 1_795_000_000
        engine.process(event(base), into: &alerts)
        for i in 1...10 {
            engine.process(event(base + Int64(i) * 86_400 * 30), into: &alerts)
            engine.process(event(base + Int64(i)), into: &alerts)
        }
        #expect(engine.counters.timeOutliers == 10)
        #expect(engine.watermark == EventTime(seconds: base + 10))
    }
}
