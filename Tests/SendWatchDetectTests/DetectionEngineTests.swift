import SendWatchCore
import SendWatchDetect
import Testing

/// Builds events and runs them through an engine.
struct Scenario {
    var engine: DetectionEngine
    var alerts: [Alert] = []
    var serial = 0
    /// The stream starts at t0; the default warm-up is 1 h.
    let t0: Int64 = 1_800_000_000

    init(_ configuration: DetectionConfiguration = .init()) {
        engine = DetectionEngine(configuration: configuration)
    }

    mutating func send(
        _ account: String, to recipient: String, subject: String?, at seconds: Int64,
        template: String? = nil, created: Int64? = nil
    ) {
        serial += 1
        let e = SendEvent(
            time: EventTime(seconds: t0 + seconds), account: account, accountSource: .header,
            accountCreated: created.map { EventTime(seconds: t0 + $0) }, sender: "no-reply@platform.example",
            recipient: recipient, subject: subject, template: template, messageID: "m\(serial)@platform.example",
            status: .sent)
        engine.process(e, into: &alerts)
    }

    /// Established background: accounts that send during the warm-up.
    mutating func warmUp(accounts: [String]) {
        for (i, a) in accounts.enumerated() {
            send(a, to: "colleague\(i)@corp.example", subject: "Weekly report \(i)", at: Int64(i % 3000))
        }
    }

    mutating func finish() { engine.finish(into: &alerts) }

    func kinds() -> [String] { Array(Set(alerts.map(\.kind))).sorted() }
    func flagged() -> Set<String> { Set(alerts.flatMap(\.accounts)) }
}

@Suite struct DetectionEngineTests {
    @Test("A young account blasting hundreds of recipients fires young_account_burst; an old one does not")
    func burst() {
        var s = Scenario()
        s.warmUp(accounts: ["old-newsletter"])
        for i in 0..<150 {
            s.send(
                "signup-1", to: "victim\(i)@mail\(i % 7).example", subject: "Your parcel is on hold",
                at: 4000 + Int64(i))
            s.send(
                "old-newsletter", to: "reader\(i)@mail\(i % 7).example", subject: "Our November news",
                at: 4000 + Int64(i))
        }
        s.engine.advance(to: EventTime(seconds: s.t0 + 4150 + 1800), into: &s.alerts)
        #expect(s.kinds() == ["young_account_burst"])
        #expect(s.flagged() == ["signup-1"])
        let first = s.alerts.first
        #expect(first?.action == .create)
        #expect(first?.evidence.first { $0.0 == "recipients_short_window" }?.1 == .int(100))
        #expect(s.alerts.last?.action == .close)
        #expect(s.alerts.last?.evidence.first { $0.0 == "recipients_short_window" }?.1 == .int(150))
    }

    @Test(
        "Many young tenants on one template with spread recipients fire template_swarm; scam text fires slot_content, and its phone and money make it a lone lure (shared_artefact)"
    )
    func swarm() {
        var s = Scenario()
        s.warmUp(accounts: (0..<20).map { "tenant-old-\($0)" })
        // Established tenants use the template during warm-up, with ordinary names.
        for i in 0..<20 {
            s.send(
                "tenant-old-\(i)", to: "u\(i)@corp\(i).example", subject: "Org \(i) GmbH sent you a private message",
                at: 100 + Int64(i))
        }
        for t in 0..<30 {
            for k in 0..<4 {
                s.send(
                    "trial-\(t)", to: "person\(t * 4 + k)@webmail\(k).example",
                    subject:
                        "Your payment of $499 is pending. Call +1 (888) 555-0\(100 + t) sent you a private message",
                    at: 4000 + Int64(t * 60 + k))
            }
        }
        s.finish()
        #expect(s.kinds() == ["shared_artefact", "slot_content", "template_swarm"])
        #expect(s.flagged() == Set((0..<30).map { "trial-\($0)" }))
        let swarm = s.alerts.first { $0.kind == "template_swarm" }
        #expect(swarm?.template?.text.hasSuffix("sent you a private message") == true)
        #expect(s.alerts.allSatisfy { !$0.accounts.contains { $0.hasPrefix("tenant-old") } })
    }

    @Test("A swarm whose victims all sit at one webmail domain still fires; the domain is public")
    func swarmAtOneWebmailDomain() {
        var s = Scenario()
        // Established accounts mail the webmail provider during the warm-up.
        for i in 0..<60 {
            s.send("old-\(i % 6)", to: "friend\(i)@webmail.example", subject: "Weekly report \(i)", at: Int64(i * 50))
        }
        for t in 0..<15 {
            for k in 0..<3 {
                s.send(
                    "trial-\(t)", to: "victim\(t * 3 + k)@webmail.example",
                    subject: "Org \(t) Team sent you a private message", at: 4000 + Int64(t * 60 + k))
            }
        }
        s.finish()
        // Each trial account mails only never-seen addresses at the one provider: concentrated strangers too.
        #expect(s.kinds() == ["concentrated_strangers", "template_swarm"])
        #expect(s.flagged() == Set((0..<15).map { "trial-\($0)" }))
    }

    @Test("New tenants inviting colleagues on their own domain and an established tenant's reset storm stay silent")
    func lookAlikes() {
        var s = Scenario()
        s.warmUp(accounts: ["tenant-big"])
        for t in 0..<25 {
            for k in 0..<6 {
                s.send(
                    "new-tenant-\(t)", to: "colleague\(k)@company\(t).example",
                    subject: "Anna invited you to join Company \(t)",
                    at: 4000 + Int64(t * 30 + k))
            }
        }
        for i in 0..<400 {
            s.send(
                "tenant-big", to: "user\(i)@mail\(i % 9).example", subject: "Password reset for user\(i)",
                at: 5000 + Int64(i))
        }
        s.finish()
        #expect(s.alerts.isEmpty)
    }

    @Test("Old accounts still appearing for the first time after a cold start do not look like a swarm")
    func coldStartTrickle() {
        func run(trickleInWarmup: Bool) -> [String] {
            var s = Scenario()
            s.send("filler", to: "x@y.example", subject: "Weekly report", at: 0)
            // Accounts keep appearing at about 16 per hour, before and after the warm-up ends at 3600 s.
            let start = trickleInWarmup ? 0 : 3600
            for i in stride(from: start, to: 3600 + 3600, by: 225) {
                for k in 0..<2 {
                    s.send(
                        "acct-\(i)", to: "u\(i)\(k)@d\(k).example", subject: "Org \(i) invited you to join Team \(i)",
                        at: Int64(i + k))
                }
            }
            s.finish()
            return s.kinds()
        }
        #expect(run(trickleInWarmup: true) == [])
        // Without the same trickle during the warm-up there is no baseline, and the rule fires.
        #expect(run(trickleInWarmup: false) == ["template_swarm"])
    }

    @Test("One recipient receiving from several young accounts fires recipient_fanin")
    func fanIn() {
        var s = Scenario()
        s.warmUp(accounts: ["x"])
        for a in 0..<5 {
            s.send("young-\(a)", to: "ceo@target.example", subject: "Invoice \(a)", at: 4000 + Int64(a * 10))
        }
        s.finish()
        #expect(s.kinds() == ["recipient_fanin"])
        #expect(s.flagged() == Set((0..<5).map { "young-\($0)" }))
        #expect(s.alerts.first?.evidence.first { $0.0 == "target" }?.1 == .string("recipient:ceo@target.example"))
    }

    @Test("A creation time in the data makes an account young even during the warm-up")
    func createdTime() {
        var s = Scenario()
        for i in 0..<120 {
            s.send("fresh", to: "v\(i)@m\(i % 5).example", subject: "Hi", at: Int64(i), created: -3600)
        }
        #expect(s.kinds() == ["young_account_burst"])
    }

    @Test("Events further behind the newest than the allowed lateness are dropped and counted")
    func lateness() {
        var s = Scenario()
        s.send("a", to: "r@x.example", subject: "s", at: 1000)
        s.send("a", to: "r@x.example", subject: "s", at: 1000 - 299)
        s.send("a", to: "r@x.example", subject: "s", at: 1000 - 301)
        #expect(s.engine.counters.events == 2)
        #expect(s.engine.counters.lateEvents == 1)
    }

    @Test("The naive account rate is off by default and, when on, flags busy old accounts too")
    func accountRate() {
        var config = DetectionConfiguration()
        config[AccountRateRule.self].enabled = true
        for enabled in [false, true] {
            var s = Scenario(enabled ? config : .init())
            s.warmUp(accounts: ["old-newsletter"])
            for i in 0..<150 { s.send("old-newsletter", to: "r\(i)@m.example", subject: "News", at: 4000 + Int64(i)) }
            #expect(s.kinds() == (enabled ? ["account_rate"] : []))
        }
    }

    @Test("Under a flood of distinct young accounts and recipients the tables stay within the memory budget")
    func memoryBudget() {
        var config = DetectionConfiguration()
        config.memoryBudgetBytes = 4 << 20
        var s = Scenario(config)
        s.send("filler", to: "x@y.example", subject: "hello", at: 0)
        for i in 0..<60_000 {
            s.send(
                "acct-\(i)", to: "r\(i)@d\(i % 997).example", subject: "Org \(i % 50) sent you a private message",
                at: 3600 + Int64(i / 20))
            if i % 5000 == 0 { #expect(s.engine.approximateBytes <= config.memoryBudgetBytes + (256 << 10)) }
        }
        #expect(s.engine.approximateBytes <= config.memoryBudgetBytes + (256 << 10))
        #expect(s.engine.counters.evictions > 0)
    }

    @Test(
        "Odd window lengths from a configuration are accepted (no bucket arithmetic trap)",
        arguments: [
            Int64(1), 7, 61, 601, 86_399,
        ])
    func oddWindows(seconds: Int64) {
        var config = DetectionConfiguration()
        config[YoungAccountBurstRule.self].windowSeconds = seconds
        config[YoungAccountBurstRule.self].longWindowSeconds = seconds * 3
        config[TemplateSwarmRule.self].windowSeconds = seconds
        config[SlotContentRule.self].windowSeconds = seconds
        config[RecipientFanInRule.self].windowSeconds = seconds
        config[AccountRateRule.self].enabled = true
        config[AccountRateRule.self].windowSeconds = seconds
        var s = Scenario(config)
        for i in 0..<200 {
            s.send(
                "a\(i % 7)", to: "r\(i)@d\(i % 3).example", subject: "Org \(i) sent you a private message",
                at: 3600 + Int64(i))
        }
        #expect(s.engine.counters.events == 200)
    }

    @Test("The same events give byte-identical alerts")
    func determinism() {
        func run() -> [UInt8] {
            var s = Scenario()
            s.warmUp(accounts: (0..<5).map { "old\($0)" })
            for t in 0..<15 {
                for k in 0..<3 {
                    s.send(
                        "t\(t)", to: "p\(t)\(k)@w\(k).example",
                        subject: "Claim your refund at hxxps://refund.example/\(t) sent you a private message",
                        at: 4000 + Int64(t * 7 + k))
                }
            }
            s.finish()
            var w = JSONWriter()
            for a in s.alerts { a.writeJSONLine(to: &w) }
            return w.bytes
        }
        let a = run()
        #expect(!a.isEmpty)
        #expect(a == run())
    }
}
