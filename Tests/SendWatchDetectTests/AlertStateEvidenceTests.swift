import SendWatchCore
import SendWatchDetect
import Testing

/// The `state` object that ends every alert's evidence: table evictions so far and whether a figure is estimated.
@Suite struct AlertStateEvidenceTests {
    /// One small scenario per rule, each firing that rule with no table pressure.
    enum Rule: String, CaseIterable, CustomTestStringConvertible {
        case burst = "young_account_burst"
        case swarm = "template_swarm"
        case fanIn = "recipient_fanin"
        case
            rate = "account_rate"
        var testDescription: String { rawValue }

        func run() -> Scenario {
            var config = DetectionConfiguration()
            if self == .rate { config[AccountRateRule.self].enabled = true }
            var s = Scenario(config)
            s.warmUp(accounts: ["old"])
            switch self {
            case .burst:
                for i in 0..<120 { s.send("signup", to: "v\(i)@m\(i % 5).example", subject: nil, at: 4000 + Int64(i)) }
            case .swarm:
                for t in 0..<12 {
                    for k in 0..<3 {
                        s.send(
                            "trial-\(t)", to: "p\(t)-\(k)@w\(k).example",
                            subject: "Refund of $\(100 + t) approved, call +1 888 555 01\(10 + t) sent you a document",
                            at: 4000 + Int64(t * 60 + k))
                    }
                }
            case .fanIn:
                for a in 0..<5 {
                    s.send("young-\(a)", to: "ceo@target.example", subject: nil, at: 4000 + Int64(a * 10))
                }
            case .rate:
                for i in 0..<110 { s.send("old", to: "r\(i)@m.example", subject: nil, at: 4000 + Int64(i)) }
            }
            s.finish()
            return s
        }
    }

    static func state(_ alert: Alert) -> (evicted: Int, approximate: Bool)? {
        guard let last = alert.evidence.last, last.0 == "state", case .object(let fields) = last.1,
            fields.count == 2, fields[0].0 == "evicted_keys", case .int(let n) = fields[0].1,
            fields[1].0 == "approximate", case .bool(let a) = fields[1].1
        else { return nil }
        return (n, a)
    }

    @Test("Every rule's alerts end their evidence with state: no evictions, exact figures", arguments: Rule.allCases)
    func everyRule(rule: Rule) {
        let s = rule.run()
        let alerts = s.alerts.filter { $0.kind == rule.rawValue }
        #expect(!alerts.isEmpty)
        for alert in s.alerts {
            let state = Self.state(alert)
            #expect(state?.evicted == 0, "\(alert.kind) \(alert.action)")
            #expect(state?.approximate == false, "\(alert.kind) \(alert.action)")
        }
        var w = JSONWriter()
        alerts[0].writeJSONLine(to: &w)
        #expect(String(decoding: w.bytes, as: UTF8.self).contains(#""state":{"evicted_keys":0,"approximate":false}}"#))
    }

    @Test("Under a tiny memory budget the alerts count the evictions that happened before them")
    func evictionsCounted() {
        var config = DetectionConfiguration()
        config.memoryBudgetBytes = 1 << 20
        var s = Scenario(config)
        s.warmUp(accounts: ["old"])
        // A flood of distinct young accounts and recipients without subjects overflows the account and recipient
        // tables.
        for i in 0..<30_000 {
            s.send("flood-\(i)", to: "r\(i)@d\(i % 997).example", subject: nil, at: 3600 + Int64(i / 20))
        }
        let before = s.engine.counters.evictions
        #expect(before > 0)
        for t in 0..<12 {
            for k in 0..<3 {
                s.send(
                    "trial-\(t)", to: "p\(t)-\(k)@w\(k).example",
                    subject: "Your payment of $499 is pending, call +1 888 555 01\(10 + t) sent you a document",
                    at: 5200 + Int64(t * 60 + k))
            }
        }
        s.finish()
        let swarm = s.alerts.filter { $0.kind == "template_swarm" || $0.kind == "slot_content" }
        #expect(!swarm.isEmpty)
        var previous = 0
        for alert in s.alerts {
            guard let state = Self.state(alert) else {
                Issue.record("no state in \(alert.kind) \(alert.action)")
                continue
            }
            // Counted at the time the finding was built: never decreasing, never above the final count.
            #expect(state.evicted >= previous)
            #expect(UInt64(state.evicted) <= s.engine.counters.evictions)
            previous = state.evicted
        }
        for alert in swarm { #expect(Self.state(alert).map { UInt64($0.evicted) >= before } == true) }
    }

    @Test("A distinct count past the exact capacity marks the alert approximate")
    func approximate() {
        var config = DetectionConfiguration()
        config.maxAlertAccounts = 16
        var s = Scenario(config)
        s.warmUp(accounts: ["old"])
        for t in 0..<40 {
            for k in 0..<3 {
                s.send(
                    "trial-\(t)", to: "p\(t)-\(k)@w\(k).example", subject: "Org \(t) GmbH sent you a document",
                    at: 4000 + Int64(t * 30 + k))
            }
        }
        s.finish()
        let swarm = s.alerts.filter { $0.kind == "template_swarm" }
        #expect(!swarm.isEmpty)
        let exact = swarm.compactMap { alert -> Bool? in
            guard case .bool(let b)? = alert.evidence.first(where: { $0.0 == "exact" })?.1 else { return nil }
            return b
        }
        #expect(exact.contains(false))
        for alert in swarm {
            guard case .bool(let b)? = alert.evidence.first(where: { $0.0 == "exact" })?.1 else { continue }
            #expect(Self.state(alert)?.approximate == !b)
        }
    }
}
