import SendWatchCore
import SendWatchDetect
import Testing

@Suite("Time jumps")
struct TimeJumpTests {
    func event(
        _ seconds: Int64, account: String = "acct", recipient: String = "r@example.org", host: String? = nil,
        messageID: String? = nil
    ) -> SendEvent {
        SendEvent(
            time: EventTime(seconds: seconds), host: host, account: account, accountSource: .header,
            sender: account + "@example.com", recipient: recipient, subject: "Hello", messageID: messageID,
            status: .sent)
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

    @Test("A batch bounded by a latest time sets aside the later events in its one pass, touching no state")
    func batchBound() {
        let base: Int64 = 1_795_000_000
        var batch = [
            event(base), event(base + 7_200, account: "future"), event(base + 10),
            event(base + 3_601, account: "future"), event(base + 20),
        ]
        var bounded = DetectionEngine()
        var alerts: [Alert] = []
        let setAside = bounded.process(&batch, notAfter: EventTime(seconds: base + 3_600), into: &alerts)
        #expect(setAside == 2)
        #expect(batch.count == 5, "the batch is left as it was")
        var plain = DetectionEngine()
        var kept = batch.filter { $0.account != "future" }
        plain.process(&kept, into: &alerts)
        #expect(bounded.counters.events == 3)
        #expect(bounded.counters.timeOutliers == 0)
        #expect(bounded.watermark == plain.watermark)
        #expect(bounded.counters == plain.counters)
    }

    @Test("A real gap in the logs moves event time once 16 lines in a row agree on it")
    func confirmedGap() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let base: Int64 = 1_795_000_000
        engine.process(event(base), into: &alerts)
        let later = base + 3 * 86_400
        for i in 0..<20 { engine.process(event(later + Int64(i)), into: &alerts) }
        #expect(engine.counters.timeOutliers == 15)
        #expect(engine.counters.events == 6)
        #expect(engine.watermark == EventTime(seconds: later + 19))
    }

    @Test("Three far-future lines in a row, one of them with 50 recipients, do not move event time")
    func threeForgedLines() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let base: Int64 = 1_795_000_000
        engine.process(event(base, host: "mx1"), into: &alerts)
        let future = base + 5 * 365 * 86_400
        for r in 0..<50 {
            engine.process(
                event(future, recipient: "v\(r)@example.org", host: "mx1", messageID: "forged-1"), into: &alerts)
        }
        engine.process(event(future + 1, host: "mx1", messageID: "forged-2"), into: &alerts)
        engine.process(event(future + 2, host: "mx1", messageID: "forged-3"), into: &alerts)
        for i in 1...100 { engine.process(event(base + Int64(i), host: "mx1"), into: &alerts) }
        #expect(engine.counters.timeOutliers == 52)
        #expect(engine.counters.lateEvents == 0)
        #expect(engine.counters.events == 101)
        #expect(engine.watermark == EventTime(seconds: base + 100))
    }

    @Test("A clock step of the only host writing the log is followed after 16 lines")
    func oneHostStep() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let base: Int64 = 1_795_000_000
        for i in 0..<10 { engine.process(event(base + Int64(i), host: "mx1", messageID: "m\(i)"), into: &alerts) }
        let stepped = base + 2 * 86_400
        for i in 0..<30 {
            engine.process(event(stepped + Int64(i) * 30, host: "mx1", messageID: "s\(i)"), into: &alerts)
        }
        #expect(engine.counters.timeOutliers == 15)
        #expect(engine.counters.events == 10 + 15)
        #expect(engine.watermark == EventTime(seconds: stepped + 29 * 30))
    }

    @Test("One host's clock step does not move event time while another host keeps writing")
    func stepAmongHosts() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let base: Int64 = 1_795_000_000
        let stepped = base + 2 * 86_400
        for i in 0..<200 {
            let s = Int64(i)
            engine.process(event(base + s, host: "mx2", messageID: "b\(i)"), into: &alerts)
            if i % 10 == 0 {
                // A burst of 10 lines from mx1 each time: never 16 in a row.
                for j in 0..<10 {
                    engine.process(
                        event(stepped + s * 10 + Int64(j), host: "mx1", messageID: "a\(i).\(j)"), into: &alerts)
                }
            }
        }
        #expect(engine.counters.timeOutliers == 200)
        #expect(engine.counters.lateEvents == 0)
        #expect(engine.counters.events == 200)
        #expect(engine.watermark == EventTime(seconds: base + 199))
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
