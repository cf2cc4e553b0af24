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
}
