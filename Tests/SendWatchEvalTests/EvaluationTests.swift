import SendWatchCore
import SendWatchEval
import Testing

@Suite("Evaluation metrics")
struct EvaluationTests {
    @Test("Perfect detection: precision and recall 1, every incident detected, latency from its start")
    func perfect() throws {
        let report = try evaluate(
            [
                alertLine("a1", at: "2026-11-29T08:04:00Z", accounts: ["t-1", "t-2"]),
                alertLine("a1", "update", at: "2026-11-29T08:10:00Z", accounts: ["t-1", "t-2", "t-3", "t-4"]),
                alertLine("a2", at: "2026-11-29T09:02:30Z", accounts: ["u-1"], kind: "young_burst"),
            ], labels: try handLabels())
        #expect(report.flaggedAccounts == 5)
        #expect(report.truePositiveAccounts == 5)
        #expect(report.precision == 1)
        #expect(report.recall == 1)
        #expect(report.incidentsDetected == 2)
        #expect(report.incidents[0].latencySeconds == 240)
        #expect(report.incidents[0].accountsFlagged == 4)
        #expect(report.incidents[0].shareFlagged == 1)
        // burst-1 starts at 10:00+01:00 = 09:00Z.
        #expect(report.incidents[1].latencySeconds == 150)
        #expect(report.incidents[1].firstAlertKind == "young_burst")
        #expect(report.medianLatencySeconds == 195)
        #expect(report.latencyByKind.map(\.kind) == ["tenant-swarm", "young-burst"])
        #expect(report.lookAlikeAccountsFlagged == 0)
        #expect(report.unlabelledAccountsFlagged == 0)
        #expect(report.cleanAlerts == 0)
        #expect(report.cleanAlertsPerDay == 0)
        #expect(report.badLines == 0)
    }

    @Test("A missed incident lowers recall and is not in the median latency")
    func misses() throws {
        let report = try evaluate(
            [alertLine("a1", at: "2026-11-29T08:30:00Z", accounts: ["t-1", "t-3"])], labels: try handLabels())
        #expect(report.recall == 0.4)
        #expect(report.precision == 1)
        #expect(report.incidentsDetected == 1)
        #expect(report.incidents[1].detected == false)
        #expect(report.incidents[1].latencySeconds == nil)
        #expect(report.incidents[0].accountsFlagged == 2)
        #expect(report.incidents[0].shareFlagged == 0.5)
        #expect(report.medianLatencySeconds == 1800)
        #expect(report.latencyByKind[1].medianLatencySeconds == nil)
        #expect(report.latencyByKind[1].detected == 0)
    }

    @Test("False positives are split into look-alike groups and unlabelled accounts")
    func falsePositives() throws {
        let report = try evaluate(
            [
                alertLine("a1", at: "2026-11-29T08:30:00Z", accounts: ["t-1", "t-50", "news@shop.example"]),
                alertLine("a2", at: "2026-11-29T12:00:00Z", accounts: ["t-51", "stranger", "zed"], kind: "rate"),
            ], labels: try handLabels())
        #expect(report.flaggedAccounts == 6)
        #expect(report.truePositiveAccounts == 1)
        #expect(report.precision == 1.0 / 6)
        #expect(report.lookAlikeAccountsFlagged == 3)
        #expect(report.lookAlikes.map(\.flagged) == [1, 2])
        #expect(report.lookAlikes[1].flaggedSample == ["t-50", "t-51"])
        #expect(report.unlabelledAccountsFlagged == 2)
        #expect(report.unlabelledSample == ["stranger", "zed"])
        // a1 lists an abusive account, a2 does not: one clean alert over one labelled day.
        #expect(report.cleanAlerts == 1)
        #expect(report.cleanAlertsPerDay == 1)
    }

    @Test("Alerts before warmup_end are counted separately and not scored")
    func warmup() throws {
        let report = try evaluate(
            [
                alertLine("w1", at: "2026-11-29T06:59:59.999Z", accounts: ["t-1", "old"]),
                alertLine("w1", "close", at: "2026-11-29T06:59:59.999Z", accounts: ["t-1", "old"]),
                alertLine("a1", at: "2026-11-29T07:00:00Z", accounts: ["t-2"]),
            ], labels: try handLabels())
        #expect(report.warmupRecords == 2)
        #expect(report.warmupAlerts == 1)
        #expect(report.warmupAccounts == 2)
        #expect(report.warmupAbusiveAccounts == 1)
        #expect(report.scoredRecords == 1)
        #expect(report.flaggedAccounts == 1)
        #expect(report.unlabelledAccountsFlagged == 0)
        // An alert at exactly warmup_end is scored; its latency is negative (before the labelled start).
        #expect(report.incidents[0].latencySeconds == -3600)
    }

    @Test("Latency is the earliest record listing any incident account, whatever the line order")
    func latencyEarliest() throws {
        let report = try evaluate(
            [
                alertLine("a2", at: "2026-11-29T08:20:00Z", accounts: ["t-4"]),
                alertLine("a1", at: "2026-11-29T08:07:30.250Z", accounts: ["t-3"]),
                alertLine("a3", at: "2026-11-29T08:09:00Z", accounts: ["t-1"]),
            ], labels: try handLabels())
        #expect(report.incidents[0].latencySeconds == 450.25)
        #expect(report.incidents[0].firstAlertID == "a1")
    }

    @Test("Records of one alert id (create, update, close) count once for alerts per day")
    func alertIDsCountedOnce() throws {
        let lines = ["create", "update", "update", "close"].enumerated().map { i, action in
            alertLine("x", action, at: "2026-11-29T1\(i):00:00Z", accounts: ["clean-\(i)"])
        }
        let report = try evaluate(lines, labels: try handLabels())
        #expect(report.scoredRecords == 4)
        #expect(report.scoredAlerts == 1)
        #expect(report.cleanAlerts == 1)
        #expect(report.flaggedAccounts == 4)
        #expect(report.durationSource == .labelsEnd)
        #expect(report.cleanAlertsPerDay == 1)
    }

    @Test("An alert becomes unclean when a later record of the same id lists an abusive account")
    func alertTurnsAbusive() throws {
        let report = try evaluate(
            [
                alertLine("x", at: "2026-11-29T08:00:00Z", accounts: ["someone"]),
                alertLine("x", "update", at: "2026-11-29T08:10:00Z", accounts: ["someone", "t-1"]),
            ], labels: try handLabels())
        #expect(report.cleanAlerts == 0)
    }

    @Test("Without labels end, the duration runs to the last alert")
    func durationFromLastAlert() throws {
        var labels = try handLabels()
        labels.end = nil
        let report = try evaluate(
            [
                alertLine("c1", at: "2026-11-29T13:00:00Z", accounts: ["a"]),
                alertLine("c2", at: "2026-11-29T19:00:00Z", accounts: ["b"]),
            ], labels: labels)
        #expect(report.durationSource == .lastAlert)
        #expect(report.durationSeconds == 43_200)
        #expect(report.cleanAlertsPerDay == 4)
    }

    @Test("Only listed accounts count, never accounts_total")
    func cappedAccounts() throws {
        let report = try evaluate(
            [alertLine("a1", at: "2026-11-29T08:30:00Z", accounts: ["t-1", "t-2"], total: 250)],
            labels: try handLabels())
        #expect(report.flaggedAccounts == 2)
        #expect(report.recall == 0.4)
        #expect(report.incidents[0].accountsFlagged == 2)
    }

    @Test(
        "Precision and recall with empty sets",
        arguments: [
            // (abusive accounts, alert accounts, precision, recall)
            ([String](), [String](), 1.0 as Double?, 1.0 as Double?),
            ([], ["x"], 0, nil),
            (["t-1"], [], nil, 0),
        ] as [([String], [String], Double?, Double?)])
    func emptySets(abusive: [String], flagged: [String], precision: Double?, recall: Double?) throws {
        let labels = Labels(
            warmupEnd: time("2026-11-29T07:00:00Z"), incidents: [], hardNegatives: [], abusiveAccounts: abusive)
        let lines = flagged.isEmpty ? [] : [alertLine("a", at: "2026-11-29T08:00:00Z", accounts: flagged)]
        let report = try evaluate(lines, labels: labels)
        #expect(report.precision == precision)
        #expect(report.recall == recall)
    }

    @Test("The median of an even number of latencies is the mean of the middle two")
    func evenMedian() throws {
        let labels = Labels(
            warmupEnd: time("2026-11-29T07:00:00Z"),
            incidents: (1...4).map {
                Labels.Incident(id: "i\($0)", kind: "k", accounts: ["a\($0)"], start: time("2026-11-29T08:00:00Z"))
            },
            hardNegatives: [], abusiveAccounts: ["a1", "a2", "a3", "a4"])
        let lines = [10, 20, 40, 100].enumerated().map { i, s in
            alertLine(
                "x\(i)", at: "2026-11-29T08:0\(s / 60):\(s % 60 < 10 ? "0" : "")\(s % 60)Z", accounts: ["a\(i + 1)"])
        }
        let report = try evaluate(lines, labels: labels)
        #expect(report.incidents.compactMap(\.latencySeconds) == [10, 20, 40, 100])
        #expect(report.medianLatencySeconds == 30)
    }
}
