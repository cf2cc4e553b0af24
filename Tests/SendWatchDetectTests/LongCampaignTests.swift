import SendWatchCore
import SendWatchDetect
import Testing

@Suite("Long campaigns")
struct LongCampaignTests {
    @Test("A template swarm lasting four swarm windows stays reported: the baseline does not learn from it")
    func longSwarm() {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let start: Int64 = 1_795_000_000
        var n = 0
        func send(_ t: Int64, _ account: String, _ template: String) {
            n += 1
            let e = SendEvent(
                time: EventTime(seconds: t), account: account, accountSource: .header,
                sender: "no-reply@notify.example", recipient: "user\(n)@domain\(n % 17).example",
                subject: "Someone sent you a document", template: template, status: .sent)
            engine.process(e, into: &alerts)
        }
        // Two hours of established traffic on the template (warm-up, baseline seeding).
        for i in 0..<240 { send(start + Int64(i) * 30, "est-\(i % 40)", i % 10 == 0 ? "doc-shared" : "welcome") }
        // Then four hours of campaign: a new account every two minutes, each sending three messages.
        let campaign = start + 7200
        for k in 0..<120 {
            let t = campaign + Int64(k) * 120
            for j in 0..<3 { send(t + Int64(j) * 20, "tenant-\(k)", "doc-shared") }
        }
        let swarm = alerts.filter { $0.kind == "template_swarm" }
        let created = swarm.filter { $0.action == .create }
        #expect(created.count == 1)
        // Still open at the end of the campaign: findings kept coming (a steady count gives no updates, only
        // keeps the alert open), so no close in between.
        #expect(!swarm.contains { $0.action == .close })
        // After the campaign, quiet time closes it.
        var closing: [Alert] = []
        engine.advance(to: EventTime(seconds: campaign + 6 * 3600), into: &closing)
        #expect(closing.contains { $0.kind == "template_swarm" && $0.action == .close })
    }

    @Test("A day-long slot-content campaign lists every new account within 15 minutes, long after its window filled")
    func rateShapedSlotCampaign() {
        var s = Scenario()
        s.warmUp(accounts: (0..<20).map { "tenant-old-\($0)" })
        for i in 0..<20 {
            s.send(
                "tenant-old-\(i)", to: "u\(i)@corp\(i).example", subject: "Org \(i) GmbH sent you a private message",
                at: 100 + Int64(i))
        }
        // 24 hours, a new tenant every 15 minutes, three messages each 5 minutes apart, each to one mailbox
        // domain (no swarm of spread senders: only the slot text gives the campaign away). The 6-hour window
        // holds a steady 24 accounts after its first 6 hours.
        var firstSend: [String: Int64] = [:]
        let start: Int64 = 4000
        for t in 0..<96 {
            let account = "slow-\(t)"
            firstSend[account] = start + Int64(t) * 900
            for k in 0..<3 {
                s.send(
                    account, to: "person\(t * 3 + k)@mail\(t % 5).example",
                    subject: "Call +1 (888) 555-0134 now sent you a private message",
                    at: start + Int64(t) * 900 + Int64(k) * 300)
            }
        }
        s.finish()
        let slot = s.alerts.filter { $0.kind == "slot_content" }
        var listed: [String: Int64] = [:]
        for a in slot {
            for account in a.accounts where listed[account] == nil { listed[account] = a.eventTime.seconds - s.t0 }
        }
        // Accounts that sent before the alert existed are listed by its first record (the detection latency
        // of the campaign); every later one within 15 minutes of its first send.
        let created = slot.first.map { $0.eventTime.seconds - s.t0 } ?? .max
        let late = firstSend.filter { account, first in
            (listed[account] ?? .max) > max(first, created) + 15 * 60
        }.keys.sorted()
        #expect(created <= start + 45 * 60)
        #expect(late.isEmpty, "\(late.count) of 96 accounts listed late or never: \(late.prefix(8))")
        #expect(Set(slot.map(\.id)).count == 1)
    }
}
