import SendWatchCore
import SendWatchEval
import SendWatchSimulation
import Testing

@Suite("Evaluation report: requirements, rendering, end to end")
struct ReportTests {
    /// swarm-1 detected after 4 min with 2 of 4 accounts, burst-1 missed, one look-alike and one unlabelled
    /// account flagged, one warm-up alert, one bad line.
    static func sampleReport() throws -> EvaluationReport {
        try evaluate(
            [
                alertLine("w", at: "2026-11-29T06:30:00Z", accounts: ["old"]),
                alertLine("a1", at: "2026-11-29T08:04:00Z", accounts: ["t-1", "t-2"], total: 4),
                alertLine("a1", "close", at: "2026-11-29T08:40:00Z", accounts: ["t-1", "t-2"], total: 4),
                "{oops",
                alertLine("a2", at: "2026-11-29T12:00:00Z", accounts: ["news@shop.example", "stranger"], kind: "rate"),
            ], labels: try handLabels())
    }

    @Test(
        "Requirements pass or fail with a message naming each unmet one",
        arguments: [
            ("recall>=0.4", nil),
            ("recall>=0.95", "unmet: recall>=0.95 (actual 0.4000)"),
            ("precision>=0.5", nil),
            ("precision >= 0.95", "unmet: precision>=0.95 (actual 0.5000)"),
            ("incidents=all", "unmet: incidents=all (actual 1: burst-1)"),
            ("incidents>=1", nil),
            ("missed<=1", nil),
            ("latency<=240", nil),
            ("latency<4m", "unmet: latency<4m (actual 240.0s)"),
            ("latency:tenant-swarm<=10m", nil),
            ("latency:young-burst<=600", "unmet: latency:young-burst<=600 (the value is n/a)"),
            ("latency:swarm<=600", "unmet: latency:swarm<=600 (no incident of kind 'swarm' in the labels)"),
            ("lookalikes=0", "unmet: lookalikes=0 (actual 1)"),
            ("lookalikes<=1", nil),
            ("unlabelled<=0", "unmet: unlabelled<=0 (actual 1)"),
            ("clean_per_day<=1", nil),
            ("clean_per_day<1", "unmet: clean_per_day<1 (actual 1.00)"),
        ] as [(String, String?)])
    func requirements(spec: String, message: String?) throws {
        let report = try Self.sampleReport()
        let requirements = try Requirement.parseList(spec)
        #expect(requirements.count == 1)
        #expect(report.unmet(requirements) == (message.map { [$0] } ?? []))
    }

    @Test("A requirement list reports every unmet requirement in order")
    func requirementList() throws {
        let report = try Self.sampleReport()
        let unmet = report.unmet(
            try Requirement.parseList(
                "recall>=0.95,precision>=0.95,incidents=all,latency:tenant-swarm<=600,lookalikes=0"))
        #expect(
            unmet == [
                "unmet: recall>=0.95 (actual 0.4000)", "unmet: precision>=0.95 (actual 0.5000)",
                "unmet: incidents=all (actual 1: burst-1)", "unmet: lookalikes=0 (actual 1)",
            ])
    }

    @Test(
        "Unreadable requirements are refused",
        arguments: [
            ("recall", "expected METRIC"), ("recall>=", "missing value"), ("recall>=high", "not a number"),
            ("recall>=1.5", "between 0 and 1"), ("speed<=3", "unknown metric 'speed'"),
            ("incidents>=all", "use incidents=all"), ("latency:<=60", "missing incident kind"),
            ("latency<=soon", "not a duration"), ("recall=>0.9", "not a number"),
        ])
    func badRequirement(spec: String, message: String) {
        #expect {
            _ = try Requirement.parseList(spec)
        } throws: { error in
            guard let e = error as? EvaluationError else { return false }
            return e.code == .invalidRequirement && e.message.contains(message) && e.message.contains(spec)
        }
    }

    @Test("JSON output is stable (golden)")
    func jsonGolden() throws {
        let json = String(decoding: try Self.sampleReport().jsonBytes(), as: UTF8.self)
        let golden = """
            {"v":1,"accounts":{"flagged":4,"abusive":5,"true_positive":2,"precision":0.5,"recall":0.4},\
            "incidents_detected":1,"incidents_total":2,"incidents_split":0,"incidents_sharing":0,"incidents":[{"id":"swarm-1","kind":"tenant-swarm",\
            "detected":true,"start":"2026-11-29T08:00:00Z","first_alert_time":"2026-11-29T08:04:00Z",\
            "latency_seconds":240,"first_alert_id":"a1","first_alert_kind":"template_swarm","accounts":4,\
            "accounts_flagged":2,"share_flagged":0.5,"sendwatch_incidents":1,"shares_incident_with":[]},{"id":"burst-1","kind":"young-burst","detected":false,\
            "start":"2026-11-29T09:00:00Z","first_alert_time":null,"latency_seconds":null,"first_alert_id":null,\
            "first_alert_kind":null,"accounts":1,"accounts_flagged":0,"share_flagged":0,"sendwatch_incidents":0,\
            "shares_incident_with":[]}],\
            "median_latency_seconds":{"all":240,"by_kind":[{"kind":"tenant-swarm","incidents":1,"detected":1,\
            "median_latency_seconds":240},{"kind":"young-burst","incidents":1,"detected":0,\
            "median_latency_seconds":null}]},"false_positives":{"lookalike_accounts":1,"lookalikes":[{"id":"news-1",\
            "kind":"newsletter","accounts":1,"flagged":1,"flagged_sample":["news@shop.example"]},{"id":"onboard-1",\
            "kind":"tenant-onboarding","accounts":2,"flagged":0,"flagged_sample":[]}],"unlabelled_accounts":1,\
            "unlabelled_sample":["stranger"]},"clean_alerts":{"alerts":1,"duration_seconds":86400,\
            "duration_source":"labels_end","per_day":1},"input":{"lines":5,"records":4,"bad_lines":1,\
            "bad_line_examples":[{"line":4,"reason":"not valid JSON"}],"scored_records":3,"scored_alerts":2,\
            "warmup_records":1,"warmup_alerts":1,"warmup_accounts":1,"warmup_abusive_accounts":0},\
            "labels":{"warmup_end":"2026-11-29T07:00:00Z","end":"2026-11-30T07:00:00Z","metadata":\
            {"end":"2026-11-30T07:00:00Z","notes":"{1 keys}","scenario":"hand","seed":"1"}},"warnings":[]}

            """
        #expect(json == golden)
    }

    @Test("The text report names every section and fits 100 columns")
    func textReport() throws {
        var labels = try handLabels()
        labels.incidents[0].id = String(repeating: "very-long-incident-id-", count: 6)
        labels.hardNegatives[0].kind = String(repeating: "k", count: 200)
        let report = try evaluate(
            [
                alertLine("a1", at: "2026-11-29T08:04:00Z", accounts: ["t-1", "t-2"]),
                String(repeating: "x", count: 500),
            ], labels: labels)
        let text = report.text()
        for section in [
            "Accounts", "Incidents: 1 of 2 detected", "Median latency", "Look-alikes", "Clean alerts",
            "Input:", "Labels:",
        ] {
            #expect(text.contains(section))
        }
        #expect(text.contains("  tenant-swarm "))
        #expect(text.contains("4m00s"))
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(line.count <= 100, "\(line)")
        }
    }

    @Test("End to end: simulated labels, synthetic alerts for the abusive accounts")
    func endToEnd() throws {
        // Safe to force unwrap: a known scenario name.
        var scenario = Scenario.named("mixed")!
        scenario.incidents = scenario.incidents.map { plan in
            var p = plan
            p.accounts = min(p.accounts, 10)
            p.messagesPerAccount = min(p.messagesPerAccount, 4)
            return p
        }
        var simulator = try Simulator(
            configuration: SimulationConfiguration(scenario: scenario, seed: 11, scale: 0.05, format: .jsonl))
        while simulator.nextLine() != nil {}
        let simulated = simulator.labels()
        let labels = try Labels.parse(simulated.jsonBytes())
        #expect(labels.incidents.count == simulated.incidents.count)
        #expect(labels.abusiveAccounts == simulated.abusiveAccounts)
        #expect(labels.metadata.map(\.key) == ["end", "format", "scenario", "seed", "start"])
        #expect(labels.warnings.isEmpty)

        // Each incident is caught 5 minutes after its start, listing all its accounts, with
        // create/update/close records; one clean alert on a look-alike account.
        var lines: [String] = []
        for (i, incident) in labels.incidents.enumerated() {
            let at = EventTime(microseconds: incident.start.microseconds + 300_000_000).description
            for action in ["create", "update", "close"] {
                lines.append(alertLine("inc-\(i)", action, at: at, accounts: incident.accounts))
            }
        }
        let lookAlike = try #require(labels.hardNegatives.first?.accounts.first)
        lines.append(alertLine("fp", at: labels.incidents[0].start.description, accounts: [lookAlike]))
        var evaluation = Evaluation(labels: labels)
        try evaluation.consume(Array(lines.joined(separator: "\n").utf8))
        let report = try evaluation.finish()

        #expect(report.recall == 1)
        #expect(report.precision == Double(labels.abusiveAccounts.count) / Double(labels.abusiveAccounts.count + 1))
        #expect(report.incidentsDetected == labels.incidents.count)
        #expect(report.incidents.allSatisfy { $0.latencySeconds == 300 })
        #expect(report.medianLatencySeconds == 300)
        #expect(report.lookAlikeAccountsFlagged == 1)
        #expect(report.cleanAlerts == 1)
        #expect(report.durationSource == .labelsEnd)
        #expect(
            report.unmet(try Requirement.parseList("recall>=0.95,incidents=all,latency:tenant-swarm<=600,lookalikes=0"))
                == ["unmet: lookalikes=0 (actual 1)"])
    }
}
