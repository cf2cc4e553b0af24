import Foundation
import SendWatchSimulation
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Waits (bounded) until `condition` holds, checking every 50 ms.
func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// A simulated Postfix log in which one young account sends to many recipients (so one alert flags its SASL
/// login), with the logins it names.
struct FlaggingLog {
    /// Where the log was written.
    let path: String
    /// The logins the simulation labels abusive (a superset of what the alert lists).
    let abusive: Set<String>
    /// A login of the log that no alert can list: the first non-abusive one, by name.
    let unflagged: String

    /// Writes the log to `directory/mail.log`.
    init(directory: String) throws {
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
        path = directory + "/mail.log"
        try Data(log).write(to: URL(fileURLWithPath: path))
        abusive = Set(simulator.labels().abusiveAccounts)
        let text = String(decoding: log, as: UTF8.self)
        let logins = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                guard let r = line.range(of: "sasl_username=") else { return nil }
                return String(line[r.upperBound...].prefix { $0 != "," && $0 != " " })
            })
        unflagged = try #require(logins.subtracting(abusive).sorted().first)
    }
}

/// `sendwatch tail --policy` as a process over a ``FlaggingLog``, with a configuration whose alerts stay open
/// for the whole test. Terminated (SIGTERM) by ``stop()`` or when released.
final class FlaggingTail {
    let process = Process()
    let stderrPath: String
    let alertsPath: String

    /// Starts `tail --from-start --policy policy` on `log`, with the checkpoint in `state` when given.
    init(directory: String, log: FlaggingLog, policy: String, state: String? = nil) throws {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let config = directory + "/config.yaml"
        // A long cooldown: the alert is still open when the test asks, however far the log runs past it.
        try "input:\n  year: 2026\nalerts:\n  cooldown: 30d\n".write(toFile: config, atomically: true, encoding: .utf8)
        alertsPath = directory + "/alerts.jsonl"
        stderrPath = directory + "/stderr-\(UInt32.random(in: 0...UInt32.max)).txt"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = exe
        process.arguments =
            [
                "tail", "--config", config, "--from-start", "--output", alertsPath, "--poll", "--poll-interval", "50",
                "--policy", policy,
            ] + (state.map { ["--state", $0] } ?? []) + [log.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    deinit { if process.isRunning { process.terminate() } }

    /// What the process wrote to stderr so far.
    func stderrText() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The address the policy service says it listens on, once its start-up line is written (nil after 60 s).
    func policyAddress() -> String? {
        var found: String?
        _ = waitFor(seconds: 60) {
            guard let r = stderrText().range(of: "policy service on ") else { return false }
            found = String(stderrText()[r.upperBound...].prefix { !$0.isWhitespace && $0 != "," && $0 != "\"" })
            return true
        }
        return found
    }

    /// The accounts of every alert record written so far.
    func alertAccounts() -> Set<String> {
        let lines = ((try? String(contentsOfFile: alertsPath, encoding: .utf8)) ?? "").split(separator: "\n")
        var accounts = Set<String>()
        for line in lines {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                continue
            }
            accounts.formUnion(obj["accounts"] as? [String] ?? [])
        }
        return accounts
    }

    /// The first flagged account by name, once an alert is written (nil after 120 s).
    func flaggedAccount() -> String? {
        _ = waitFor(seconds: 120) { !alertAccounts().isEmpty }
        return alertAccounts().sorted().first
    }

    /// Sends SIGTERM and waits for the exit; the exit status.
    @discardableResult
    func stop() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }
}
