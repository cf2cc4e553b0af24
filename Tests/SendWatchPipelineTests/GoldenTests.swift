import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline
import SendWatchSimulation
import Testing

/// End-to-end goldens: a small simulated log, replayed with the default configuration, must give exactly the
/// alerts in `Goldens/<case>.alerts.jsonl`, byte for byte. Update on purpose with `SENDWATCH_UPDATE_GOLDENS=1`.
@Suite struct GoldenTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var format: SimulationFormat
        var plan: BurstPlan
        var seed: UInt64
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "small-swarm.postfix", format: .postfix,
            plan: BurstPlan(
                kind: .tenantSwarm, accounts: 14, messagesPerAccount: 4, startAfterWarmupSeconds: 600,
                spreadSeconds: 900, gapSeconds: 120), seed: 9),
        Case(
            name: "young-burst.exim", format: .exim,
            plan: BurstPlan(
                kind: .youngBurst, accounts: 1, messagesPerAccount: 160, startAfterWarmupSeconds: 900,
                spreadSeconds: 0, gapSeconds: 2), seed: 10),
        Case(
            name: "trial-welcome.jsonl", format: .jsonl,
            plan: BurstPlan(
                kind: .trialWelcome, accounts: 12, messagesPerAccount: 6, startAfterWarmupSeconds: 600,
                spreadSeconds: 1200, gapSeconds: 90), seed: 11),
    ]

    /// Simulates the case into `dir` and replays it; returns the alert bytes and the labels.
    static func replay(_ c: Case, in dir: URL) throws -> (alerts: Data, labels: SimulationLabels) {
        let scenario = Scenario(name: c.name, incidents: [c.plan], defaultDurationSeconds: 3 * 3600)
        var simulator = try Simulator(
            configuration: SimulationConfiguration(
                scenario: scenario, seed: c.seed, scale: 0.05, format: c.format))
        var lines: [UInt8] = []
        while let line = simulator.nextLine() {
            lines.append(contentsOf: line.bytes)
            lines.append(0x0A)
        }
        let log = dir.appendingPathComponent("\(c.name).log")
        try Data(lines).write(to: log)
        var configuration = Configuration()
        configuration.year = 2026
        let (alerts, summary) = try replayToFile(
            [log.path], configuration: configuration, out: dir.appendingPathComponent("\(c.name).alerts.jsonl"))
        #expect(summary.skipped.isEmpty)
        return (alerts, simulator.labels())
    }

    @Test("Replay of a small simulated log gives the golden alerts, twice", arguments: cases)
    func golden(_ c: Case) throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (alerts, labels) = try Self.replay(c, in: dir)
        let again = try Self.replay(c, in: dir.appendingPathComponent("again", isDirectory: true).creatingDirectory())
        #expect(alerts == again.alerts, "replay is not deterministic")
        #expect(!alerts.isEmpty)

        // Every flagged account is abusive, and every abusive account is flagged.
        var flagged = Set<String>()
        for line in alerts.split(separator: 0x0A) {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            flagged.formUnion(obj["accounts"] as? [String] ?? [])
        }
        #expect(flagged == Set(labels.abusiveAccounts))

        let golden = TestPaths.repositoryRoot.appendingPathComponent(
            "Tests/SendWatchPipelineTests/Goldens/\(c.name).alerts.jsonl")
        if ProcessInfo.processInfo.environment["SENDWATCH_UPDATE_GOLDENS"] == "1" {
            try alerts.write(to: golden)
        }
        let expected = try Data(contentsOf: golden)
        #expect(
            alerts == expected,
            "alerts differ from \(golden.lastPathComponent); rerun with SENDWATCH_UPDATE_GOLDENS=1 if the change is intended"
        )
    }
}

/// The golden of the bundled `datasets/mixed-s11.postfix.log.zst` (92,119 lines, the quick start's example):
/// its replay with the default configuration writes about 1.3 MB of alerts, too large to keep, so the golden is a
/// digest of one line per record: event time, action, kind, id, incident, accounts total, the accounts it adds,
/// and a hash of the whole record. A change to any record (its evidence or reasons too) changes its line, and
/// the line says which alert it is. Update on purpose with `SENDWATCH_UPDATE_GOLDENS=1`.
@Suite struct DatasetGoldenTests {
    /// One line per alert record of `alerts` (JSON lines), as described above.
    static func digest(_ alerts: Data) throws -> String {
        var out = ""
        for line in alerts.split(separator: 0x0A) {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            func field(_ key: String) -> String { "\(record[key] ?? "-")" }
            let added = ((record["added"] as? [String: Any])?["accounts"] as? [String])?.count ?? 0
            var hash = StableHash()
            Data(line).withUnsafeBytes { hash.combine(bytes: $0) }
            out +=
                [
                    field("event_time"), field("action"), field("kind"), field("id"), field("incident"),
                    "accounts=\(field("accounts_total"))", "+\(added)", hash.hex,
                ].joined(separator: " ") + "\n"
        }
        return out
    }

    @Test("Replay of the bundled mixed-s11 log gives the golden digest of its alerts")
    func mixedS11() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var configuration = Configuration()
        // The log's Postfix timestamps have no year; a checkout's modification time must not choose it.
        configuration.year = 2026
        let (alerts, summary) = try replayToFile(
            [TestPaths.dataset("mixed-s11.postfix.log.zst")], configuration: configuration,
            out: dir.appendingPathComponent("alerts.jsonl"))
        #expect(summary.failures.isEmpty)
        let digest = try Self.digest(alerts)
        let golden = TestPaths.repositoryRoot.appendingPathComponent(
            "Tests/SendWatchPipelineTests/Goldens/mixed-s11.postfix.digest.txt")
        if ProcessInfo.processInfo.environment["SENDWATCH_UPDATE_GOLDENS"] == "1" {
            try Data(digest.utf8).write(to: golden)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        let hint = "rerun with SENDWATCH_UPDATE_GOLDENS=1 if the change is intended"
        #expect(digest == expected, "alert records differ from \(golden.lastPathComponent); \(hint)")
    }
}

extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
