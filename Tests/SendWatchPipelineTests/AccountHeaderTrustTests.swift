import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline
import SendWatchSimulation
import Testing

/// The account header names the account only when a trusted submitter wrote it: a new login cannot put its
/// phishing on an established tenant, nor invent tenants, and the alert names the login and its client.
@Suite("Account header trust, end to end")
struct AccountHeaderTrustTests {
    static let attackerLogin = "mallory@evil.test"
    static let attackerIP = "203.0.113.66"

    /// Three hours of simulated platform traffic (tenants send through the trusted service login), then
    /// `count` phishing messages from a new SASL login whose `X-Account-Id` is `header(n)`, two seconds apart.
    static func log(count: Int, header: (Int) -> String) throws -> [UInt8] {
        var simulator = try Simulator(
            configuration: SimulationConfiguration(
                scenario: Scenario(name: "quiet", incidents: [], defaultDurationSeconds: 3 * 3600), seed: 21,
                scale: 0.05, format: .postfix))
        var lines: [UInt8] = []
        var last = ""
        while let line = simulator.nextLine() {
            lines.append(contentsOf: line.bytes)
            lines.append(0x0A)
            last = String(decoding: line.bytes, as: UTF8.self)
        }
        // `Nov 29 HH:MM:SS host ...`: the attack starts a minute after the last simulated line.
        let clock = last.split(separator: " ")[2].split(separator: ":").compactMap { Int($0) }
        let start = try #require(clock.count == 3 ? clock[0] * 3600 + clock[1] * 60 + clock[2] + 60 : nil)
        for n in 0..<count {
            let t = start + 2 * n
            let stamp = String(format: "Nov 29 %02d:%02d:%02d mx1", t / 3600, t / 60 % 60, t % 60)
            let qid = String(format: "E%09X", n)
            let victim = "victim\(n)@mailbox\(n % 7).test"
            let trailer =
                " from unknown[\(attackerIP)]; from=<\(attackerLogin)> to=<\(victim)> proto=ESMTP helo=<x>"
            for text in [
                "postfix/submission/smtpd[9]: \(qid): client=unknown[\(attackerIP)], sasl_method=PLAIN, "
                    + "sasl_username=\(attackerLogin)",
                "postfix/cleanup[8]: \(qid): message-id=<att\(n)@evil.test>",
                "postfix/cleanup[8]: \(qid): warning: header Subject: Your account is suspended, verify at "
                    + "hxxps://secure-verify.example/login\(trailer)",
                "postfix/cleanup[8]: \(qid): warning: header X-Account-Id: \(header(n))\(trailer)",
                "postfix/qmgr[7]: \(qid): from=<\(attackerLogin)>, size=900, nrcpt=1 (queue active)",
                "postfix/smtp[6]: \(qid): to=<\(victim)>, relay=mx.test[192.0.2.9]:25, delay=1, dsn=2.0.0, "
                    + "status=sent (250 ok)",
                "postfix/qmgr[7]: \(qid): removed",
            ] {
                lines.append(contentsOf: Array("\(stamp) \(text)\n".utf8))
            }
        }
        return lines
    }

    /// Replays `log` with the default configuration; returns the alert records as JSON objects.
    static func alerts(_ log: [UInt8]) throws -> [[String: Any]] {
        try alertLines(log).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Replays `log` with the default configuration; returns the alert records as written.
    static func alertLines(_ log: [UInt8]) throws -> [String] {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("central.log")
        try Data(log).write(to: path)
        var configuration = Configuration()
        configuration.year = 2026
        let alerts = try replayToFile(
            [path.path], configuration: configuration, out: dir.appendingPathComponent("alerts.jsonl")
        ).alerts
        return alerts.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
    }

    static func accounts(_ alerts: [[String: Any]]) -> Set<String> {
        Set(alerts.flatMap { $0["accounts"] as? [String] ?? [] })
    }

    @Test("A new login sending phishing with an established tenant's id is blamed, with its login and client IP")
    func establishedTenantID() throws {
        let alerts = try Self.alerts(try Self.log(count: 150) { _ in "t-10001" })
        let flagged = Self.accounts(alerts)
        #expect(flagged.contains(Self.attackerLogin))
        #expect(!flagged.contains("t-10001"))
        let burst = try #require(
            alerts.first { ($0["accounts"] as? [String])?.contains(Self.attackerLogin) == true })
        let evidence = try #require(burst["evidence"] as? [String: Any])
        let submitters = try #require(evidence["submitters"] as? [String: Any])
        #expect(submitters["logins"] as? [String] == [Self.attackerLogin])
        #expect(submitters["client_ips"] as? [String] == [Self.attackerIP])
        #expect(submitters["claimed_accounts"] as? [String] == ["t-10001"])
    }

    @Test("The alert names what to search the logs for: sample recipients, their domains and queue ids, with totals")
    func deliveries() throws {
        let alerts = try Self.alerts(try Self.log(count: 150) { _ in "t-10001" })
        let burst = try #require(
            alerts.first { ($0["accounts"] as? [String])?.contains(Self.attackerLogin) == true })
        #expect(burst["v"] as? Int == Alert.schemaVersion)
        let evidence = try #require(burst["evidence"] as? [String: Any])
        let deliveries = try #require(evidence["deliveries"] as? [String: Any])
        // The young account keeps its first 4 of each; 150 recipients make the figures partial.
        #expect(
            deliveries["recipients"] as? [String] == (0..<4).map { "victim\($0)@mailbox\($0).test" })
        #expect(deliveries["recipients_total"] as? Int == 4)
        #expect(deliveries["recipient_domains"] as? [String] == (0..<4).map { "mailbox\($0).test" })
        #expect(deliveries["recipient_domains_total"] as? Int == 4)
        #expect(deliveries["queue_ids"] as? [String] == (0..<4).map { String(format: "E%09X", $0) })
        #expect(deliveries["queue_ids_total"] as? Int == 4)
        #expect(deliveries["exact"] as? Bool == false)
        // Right after the submitters, before the state, in every record.
        for line in try Self.alertLines(try Self.log(count: 150) { _ in "t-10001" }) {
            let submitters = try #require(line.range(of: #""submitters":{"#))
            let deliveries = try #require(line.range(of: #"},"deliveries":{"recipients":["#))
            let state = try #require(line.range(of: #"},"state":{"#))
            #expect(submitters.upperBound < deliveries.lowerBound && deliveries.upperBound < state.lowerBound)
        }
    }

    @Test("With a random id per message no tenants are invented: the login is the one account")
    func randomIDs() throws {
        let alerts = try Self.alerts(try Self.log(count: 150) { "t-\(90_000 + $0 * 7919 % 10_000)" })
        let flagged = Self.accounts(alerts)
        #expect(flagged == [Self.attackerLogin])
        let submitters = alerts.compactMap { ($0["evidence"] as? [String: Any])?["submitters"] as? [String: Any] }
        let claimed = try #require(submitters.last)
        // Each young account keeps its first 4 claims; the figure says it is not the whole story.
        #expect((claimed["claimed_accounts"] as? [String])?.count == 4)
        #expect(claimed["exact"] as? Bool == false)
        #expect(claimed["client_ips"] as? [String] == [Self.attackerIP])
    }
}
