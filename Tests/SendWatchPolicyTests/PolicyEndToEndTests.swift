import Foundation
import SendWatchSimulation
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch tail --policy` as a process: a log that produces an alert, then smtpd's questions.
@Suite("Policy end to end", .serialized)
struct PolicyEndToEndTests {
    /// Waits (bounded) until `condition` holds, checking every 50 ms.
    func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    @Test("tail --policy holds the login of an open alert and lets an unflagged one through")
    func holdsFlaggedLogin() throws {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let dir = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // One young account sending to many recipients: its SASL login is its account.
        let plan = BurstPlan(
            kind: .youngBurst, accounts: 1, messagesPerAccount: 160, startAfterWarmupSeconds: 900, spreadSeconds: 0,
            gapSeconds: 2)
        var simulator = try Simulator(
            configuration: SimulationConfiguration(
                scenario: Scenario(name: "policy", incidents: [plan], defaultDurationSeconds: 3 * 3600), seed: 10,
                scale: 0.05, format: .postfix))
        var log: [UInt8] = []
        while let line = simulator.nextLine() {
            log += line.bytes
            log.append(0x0A)
        }
        let logPath = dir + "/mail.log"
        try Data(log).write(to: URL(fileURLWithPath: logPath))
        let abusive = Set(simulator.labels().abusiveAccounts)
        let text = String(decoding: log, as: UTF8.self)
        let logins = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                guard let r = line.range(of: "sasl_username=") else { return nil }
                return String(line[r.upperBound...].prefix { $0 != "," && $0 != " " })
            })
        let unflagged = try #require(logins.subtracting(abusive).sorted().first)

        let config = dir + "/config.yaml"
        // A long cooldown: the alert is still open when the test asks, however far the log runs past it.
        try "input:\n  year: 2026\nalerts:\n  cooldown: 30d\n".write(toFile: config, atomically: true, encoding: .utf8)
        let socket = dir + "/policy.sock"
        let alerts = dir + "/alerts.jsonl"
        let stderrPath = dir + "/stderr.txt"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = exe
        process.arguments = [
            "tail", "--config", config, "--from-start", "--output", alerts, "--poll", "--poll-interval", "50",
            "--policy", "unix:" + socket, logPath,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func stderrText() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        #expect(waitFor(seconds: 60) { stderrText().contains("policy service on unix:\(socket)") }, "\(stderrText())")

        func alertAccounts() -> Set<String> {
            let lines = ((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").split(separator: "\n")
            var accounts = Set<String>()
            for line in lines {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    continue
                }
                accounts.formUnion(obj["accounts"] as? [String] ?? [])
            }
            return accounts
        }
        #expect(waitFor(seconds: 120) { !alertAccounts().isEmpty }, "\(stderrText())")
        let flagged = try #require(alertAccounts().sorted().first)
        #expect(abusive.contains(flagged))

        let client = try PolicyClient(unixPath: socket)
        // The board is published before the alert is written, so it holds as soon as the alert is in the file.
        client.send(PolicyClient.request(login: flagged) + PolicyClient.request(login: unflagged))
        let held = client.readAnswer()
        #expect(held?.hasPrefix("action=HOLD SendWatch open alert, held for review [sw-") == true, "\(held ?? "none")")
        #expect(client.readAnswer() == "action=DUNNO\n\n")
        client.send(PolicyClient.request(login: nil, sender: flagged))
        #expect(client.readAnswer() == "action=DUNNO\n\n", "the envelope sender is not looked up")

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(stderrText())")
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket is removed at the end")
    }

    @Test(
        "A malformed --policy exits 64 (usage) with a message",
        arguments: [":10040", "10040x", "unix:relative.sock", "host:10040"])
    func malformed(value: String) throws {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let process = Process()
        process.executableURL = exe
        process.arguments = ["tail", "--policy", value, "/nonexistent/mail.log"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 64, "\(text)")
        #expect(text.contains("--policy '\(value)'"), "\(text)")
    }
}
