import Foundation
import SendWatchFleet
import SendWatchPipeline
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The fleet end to end against a real nats-server: the bundled labelled Postfix log split into two hosts' logs,
/// two `ship --once` agents, one `detect` worker and `sink`, compared with one `sendwatch replay` of the two
/// logs. Skipped, saying why, without nats-server.
@Suite(.serialized)
struct DetectTests {
    static let shared: Result<NATSTestServer, any Error> = Result { try NATSTestServer() }

    /// mixed-s11 (9 h, four attack waves) split by queue id into two logs: `mx1` and, renamed, `mx2`.
    static let hostLogs: Result<[String], any Error> = Result {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../datasets/mixed-s11.postfix.log.zst"
        ).standardized.path
        let dir = try ShipTests.tempDirectory()
        guard try runQuietly(["/usr/bin/env", "zstd", "-d", "-q", "-f", "-o", dir + "/all.log", source]) == 0 else {
            throw NATSTestServerError(message: "zstd failed")
        }
        var a = ""
        var b = ""
        let text = try String(contentsOfFile: dir + "/all.log", encoding: .utf8)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            // `Nov 29 06:00:37 mx1 postfix/smtpd[16478]: 5D6CECB791: ...`: the queue id decides the host, so
            // that every line of a message stays in one log.
            var toB = false
            if let colon = line.range(of: "]: ") {
                let rest = line[colon.upperBound...]
                if let end = rest.firstIndex(of: ":"), let last = rest[..<end].last,
                    rest[..<end].allSatisfy({ $0.isHexDigit && !$0.isLowercase }), let digit = last.hexDigitValue
                {
                    toB = digit % 2 == 1
                }
            }
            if toB {
                b += line.replacingOccurrences(of: " mx1 postfix/", with: " mx2 postfix/") + "\n"
            } else {
                a += line + "\n"
            }
        }
        try a.write(toFile: dir + "/mx1.log", atomically: true, encoding: .utf8)
        try b.write(toFile: dir + "/mx2.log", atomically: true, encoding: .utf8)
        return [dir + "/mx1.log", dir + "/mx2.log"]
    }

    /// The reference: `sendwatch replay` of both logs (merged by time), one alert record per line.
    static let reference: Result<[String], any Error> = Result {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let output = try ShipTests.tempDirectory() + "/replay.jsonl"
        let status = try runQuietly([exe.path, "replay", "--year", "2026", "--output", output] + (try hostLogs.get()))
        guard status == 0 else { throw NATSTestServerError(message: "replay failed: \(status)") }
        return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// A new, empty file at `path`, open for writing (a child's standard error: a file, not a pipe, so that no other
    /// test's child can hold it open against the test).
    static func newFile(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw NATSTestServerError(message: "cannot create \(path)") }
        return handle
    }

    /// Starts `p` with standard input and output on `/dev/null` and standard error into the file `stderr` (made
    /// anew) or nowhere. The child has its own descriptor once started: the test's is closed (tests start many).
    static func start(_ p: Process, stderr: String?) throws {
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        guard let stderr else {
            p.standardError = FileHandle.nullDevice
            return try p.run()
        }
        let handle = try newFile(stderr)
        defer { try? handle.close() }
        p.standardError = handle
        try p.run()
    }

    /// Runs a command to its end with no pipes (its output goes to files it is told of, or nowhere): the exit
    /// status. No pipe, so no other test's child can hold one open.
    /// With `stderr`, its standard error goes into that file (made anew).
    static func runQuietly(_ argv: [String], stderr: String? = nil) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        try start(p, stderr: stderr)
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Both logs shipped, once, by two agents running side by side to the stream `FLEET_EVENTS` (`fleet.events.*`,
    /// 4 partitions); the number of events.
    static let shipped: Result<UInt64, any Error> = Result {
        try ship(url: try shared.get().url, stream: "FLEET_EVENTS", prefix: "fleet.events")
    }

    /// Both logs shipped, once, by two agents running side by side to `stream` (`prefix.*`, 4 partitions); the
    /// number of messages the stream holds.
    static func ship(url: String, stream: String, prefix: String) throws -> UInt64 {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        var agents: [(process: Process, errors: String)] = []
        for (host, log) in zip(["mx1", "mx2"], try hostLogs.get()) {
            let p = Process()
            p.executableURL = exe
            let state = try ShipTests.tempDirectory()
            p.arguments = [
                "ship", "--nats", url, "--stream", stream, "--subject-prefix", prefix,
                "--partitions", "4", "--state", state, "--once", "--host", host, "--year",
                "2026", "--log-level", "warning", log,
            ]
            // Its standard error into a file (not a pipe: no other test's child can hold a file open against
            // it), so that a failure says why.
            let errors = state + "/ship.stderr"
            let handle = try newFile(errors)
            p.standardInput = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            p.standardError = handle
            try p.run()
            try handle.close()
            agents.append((p, errors))
        }
        for (p, errors) in agents {
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                let said = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
                throw NATSTestServerError(
                    message: "ship failed (exit \(p.terminationStatus)): \(said.suffix(2000))")
            }
        }
        return try JetStreamClient(url: url).streamState(stream).messages
    }

    /// Starts `sendwatch detect`, with `--once` unless `once` is false (not waited for), with `--state state`
    /// unless it is nil, its standard error into the file `log` (if given).
    static func startDetect(
        url: String, name: String, state: String?, extra: [String] = [], log: String? = nil, once: Bool = true
    ) throws -> Process {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let p = Process()
        p.executableURL = exe
        p.arguments =
            [
                "detect", "--nats", url, "--stream", "FLEET_EVENTS", "--subject-prefix", "fleet.events", "--consumer",
                name, "--alerts-stream", name.uppercased(), "--alerts-subject", name + ".alerts", "--log-level",
                "warning",
            ] + (once ? ["--once"] : []) + (state.map { ["--state", $0] } ?? []) + extra
        try start(p, stderr: log)
        return p
    }

    /// Runs `sendwatch sink --once` of the alerts of `name` into `output`, its standard error into the file `log`
    /// (if given).
    static func sink(url: String, name: String, output: String, state: String, log: String? = nil) throws -> Int32 {
        let p = try startSink(url: url, name: name, output: output, state: state, log: log)
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Starts `sendwatch sink` of the alerts of `name` into `output`, with `--once` unless `once` is false (not
    /// waited for), its standard error into the file `log` (if given).
    static func startSink(
        url: String, name: String, output: String, state: String, log: String? = nil, once: Bool = true
    ) throws -> Process {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let p = Process()
        p.executableURL = exe
        p.arguments =
            [
                "sink", "--nats", url, "--alerts-stream", name.uppercased(), "--alerts-subject", name + ".alerts",
                "--output", output, "--state", state, "--log-level", "warning",
            ] + (once ? ["--once"] : [])
        try start(p, stderr: log)
        return p
    }

    /// Create ids with their account sets (the accounts of an alert's last record), from alert records.
    static func createsAndAccounts(_ lines: [String]) throws -> [String: [String]] {
        var creates: Set<String> = []
        var accounts: [String: [String]] = [:]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = try #require(object["id"] as? String)
            if object["action"] as? String == "create" { creates.insert(id) }
            accounts[id] = object["accounts"] as? [String] ?? []
        }
        return accounts.filter { creates.contains($0.key) }
    }

    /// The sink's file holds the reference's alerts (replay's without a registry unless `reference` is given), each
    /// once.
    static func expectSameAlerts(
        output: String, alertsStream: String, url: String, reference given: [String]? = nil
    ) throws {
        let reference = try given ?? Self.reference.get()
        let got = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(try createsAndAccounts(reference).count >= 4, "the reference has alerts to compare")
        #expect(try createsAndAccounts(got) == createsAndAccounts(reference))
        // Stronger than the promise (create ids and account sets): each record is the reference's, in order.
        let firstDifference = zip(got, reference).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "record \(firstDifference?.offset ?? -1) differs from replay's")
        #expect(got.count == reference.count)
        // None twice on the alerts stream itself.
        #expect(try JetStreamClient(url: url).streamState(alertsStream).messages == UInt64(reference.count))
    }

    @Test func twoAgentsOneWorkerAndSinkGiveReplaysAlerts() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        #expect(try Self.shipped.get() > 10_000)
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let detect = try Self.startDetect(url: server.url, name: "equal", state: state + "/detect")
        detect.waitUntilExit()
        #expect(detect.terminationStatus == 0)
        #expect(
            try Self.sink(url: server.url, name: "equal", output: state + "/alerts.jsonl", state: state + "/sink") == 0)
        try Self.expectSameAlerts(output: state + "/alerts.jsonl", alertsStream: "EQUAL", url: server.url)
        // Again on the same states: nothing new, nothing twice.
        let again = try Self.startDetect(url: server.url, name: "equal", state: state + "/detect")
        again.waitUntilExit()
        #expect(again.terminationStatus == 0)
        #expect(
            try Self.sink(url: server.url, name: "equal", output: state + "/alerts.jsonl", state: state + "/sink") == 0)
        try Self.expectSameAlerts(output: state + "/alerts.jsonl", alertsStream: "EQUAL", url: server.url)
    }

    @Test func workerKilledMidwayAndRestartedStillGivesEachAlertOnce() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        #expect(try Self.shipped.get() > 10_000)
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var random = SplitMix64(seed: 15)
        // Told there are two hosts, the worker merges from its start (not only after the backlog), so kills land
        // while alerts are being made and published.
        var kills = 0
        // Four SIGKILLs 0.5 to 2.5 s after a start, then a run to the end. A debug build's worker took about 25 s
        // for the 14,641 events, but since template_swarm keeps its account lists it can finish within 6 s, so
        // kills 2 to 6 s after a start could all come too late (a clean-clone CI run saw no kill at all).
        while true {
            let detect = try Self.startDetect(
                url: server.url, name: "killed", state: state + "/detect",
                extra: ["--hosts", "2", "--checkpoint-interval", "300ms", "--lease-time", "2s"])
            let wait = kills < 4 ? 0.5 + Double(random.next() % 2000) / 1000 : 600
            let deadline = Date().addingTimeInterval(wait)
            while detect.isRunning && Date() < deadline { usleep(5_000) }
            if detect.isRunning {
                kill(detect.processIdentifier, SIGKILL)
                detect.waitUntilExit()
                kills += 1
                // The sink catches up part way now and then, so that its last run resumes from a checkpoint.
                if kills == 2 {
                    _ = try Self.sink(
                        url: server.url, name: "killed", output: state + "/alerts.jsonl", state: state + "/sink")
                }
                continue
            }
            #expect(detect.terminationStatus == 0)
            break
        }
        print("detect was killed \(kills) times before it finished")
        #expect(kills >= 1, "detect finished before any kill: the test did not exercise a restart")
        #expect(
            try Self.sink(url: server.url, name: "killed", output: state + "/alerts.jsonl", state: state + "/sink") == 0
        )
        try Self.expectSameAlerts(output: state + "/alerts.jsonl", alertsStream: "KILLED", url: server.url)
    }

    @Test("A standby worker takes over from a holder killed with SIGKILL within the lease time, each alert once")
    func standbyTakesOverFromKilledHolder() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        // Both on one state directory.
        try Self.failover(
            name: "failover", holder: ["--state", state + "/detect"], standby: ["--state", state + "/detect"])
    }

    @Test(
        "With the checkpoint in JetStream, a standby without the holder's state directory takes over, each alert once")
    func standbyWithoutSharedStateTakesOverFromJetStream() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        // Neither has a state directory: the standby can only resume from the stream.
        let store = ["--state-store", "nats", "--state-stream", "FAILOVERKV_STATE"]
        let log = try ShipTests.tempDirectory() + "/standby.log"
        try Self.failover(name: "failoverkv", holder: store, standby: store + ["--log-level", "info"], standbyLog: log)
        // It resumed from the holder's checkpoint, not from the stream's start (which would give the same records,
        // all dropped as repeats).
        let said = try String(contentsOfFile: log, encoding: .utf8)
        #expect(
            said.contains("resuming from the detect checkpoint in sendwatch.state.FAILOVERKV_STATE.failoverkv"),
            "\(said)")
        // The checkpoint is in the stream: the last generation's pieces and its manifest.
        let stored = try JetStreamClient(url: try Self.shared.get().url).streamState("FAILOVERKV_STATE").messages
        #expect(stored >= 2 && stored <= 1 + UInt64(ChunkedCheckpointStore.defaultMaxChunks))
    }

    /// A holder started with `holder`'s flags, killed with SIGKILL once it has published 40 alert records and
    /// checkpointed twice; a standby (`standby`'s flags) takes over and finishes; the sink's file equals replay's.
    static func failover(
        name: String, holder holderFlags: [String], standby standbyFlags: [String], standbyLog: String? = nil
    ) throws {
        let server = try Self.shared.get()
        #expect(try Self.shipped.get() > 10_000)
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let leaseSeconds = 5.0
        let common = ["--hosts", "2", "--checkpoint-interval", "300ms", "--lease-time", "\(Int(leaseSeconds))s"]
        let holderPort = try ShipMetricsTests.freePort()
        let standbyPort = try ShipMetricsTests.freePort()
        let holder = try Self.startDetect(
            url: server.url, name: name, state: nil, extra: common + holderFlags + ["--metrics", "\(holderPort)"])
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        let held = FleetMetricsTests.scrape(port: holderPort, seconds: 60) { $0["sendwatch_detect_lease_held"] == 1 }
        #expect(held["sendwatch_detect_lease_held"] == 1, "the first worker holds the lease")
        // The second worker, same name, waits.
        let standby = try Self.startDetect(
            url: server.url, name: name, state: nil, extra: common + standbyFlags + ["--metrics", "\(standbyPort)"],
            log: standbyLog)
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        let waiting = FleetMetricsTests.scrape(port: standbyPort, seconds: 60) {
            $0["sendwatch_detect_lease_held"] == 0 && ($0["sendwatch_detect_lease_revision"] ?? 0) > 0
        }
        #expect(waiting["sendwatch_detect_lease_held"] == 0, "the second worker stands by")
        // Killed mid-run: once it has published alert records and checkpointed, so the standby resumes halfway.
        let before = FleetMetricsTests.scrape(port: holderPort, seconds: 120) {
            ($0["sendwatch_detect_alert_records_total{result=\"stored\"}"] ?? 0) >= 40
                && ($0["sendwatch_checkpoints_total"] ?? 0) >= 2
        }
        #expect(holder.isRunning, "the holder was still running when it was killed")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let killedAt = Date()
        let after = FleetMetricsTests.scrape(port: standbyPort, seconds: 60) { $0["sendwatch_detect_lease_held"] == 1 }
        let takeover = Date().timeIntervalSince(killedAt)
        print(
            "standby took the lease \(String(format: "%.2f", takeover)) s after the holder was killed (lease time "
                + "\(leaseSeconds) s; the holder had published \(before["sendwatch_detect_alert_records_total{result=\"stored\"}"] ?? 0) records)"
        )
        #expect(after["sendwatch_detect_lease_held"] == 1)
        #expect(after["sendwatch_detect_lease_changes_total"] == 1)
        // It waits for the lease time after the holder's last renewal, and one poll (at most 1 s) more.
        #expect(takeover < leaseSeconds + 3)
        standby.waitUntilExit()
        #expect(standby.terminationStatus == 0)
        #expect(
            try Self.sink(url: server.url, name: name, output: state + "/alerts.jsonl", state: state + "/sink") == 0)
        try Self.expectSameAlerts(output: state + "/alerts.jsonl", alertsStream: name.uppercased(), url: server.url)
    }

    @Test("A worker that lost its lease while paused takes it back when the new holder dies, and finishes")
    func workerTakesItsLeaseBackAfterLosingIt() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        #expect(try Self.shipped.get() > 10_000)
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let common = ["--hosts", "2", "--checkpoint-interval", "300ms", "--lease-time", "2s"]
        let portA = try ShipMetricsTests.freePort()
        let portB = try ShipMetricsTests.freePort()
        let a = try Self.startDetect(
            url: server.url, name: "regain", state: state + "/detect", extra: common + ["--metrics", "\(portA)"])
        defer { if a.isRunning { kill(a.processIdentifier, SIGKILL) } }
        let running = FleetMetricsTests.scrape(port: portA, seconds: 120) {
            $0["sendwatch_detect_lease_held"] == 1 && ($0["sendwatch_checkpoints_total"] ?? 0) >= 1
        }
        #expect(running["sendwatch_detect_lease_held"] == 1, "the first worker holds the lease and checkpointed")
        let b = try Self.startDetect(
            url: server.url, name: "regain", state: state + "/detect", extra: common + ["--metrics", "\(portB)"])
        defer { if b.isRunning { kill(b.processIdentifier, SIGKILL) } }
        // A pauses longer than the lease (a stopped VM): B takes over; A, resumed, finds its lease gone.
        kill(a.processIdentifier, SIGSTOP)
        let taken = FleetMetricsTests.scrape(port: portB, seconds: 60) { $0["sendwatch_detect_lease_held"] == 1 }
        kill(a.processIdentifier, SIGCONT)
        #expect(taken["sendwatch_detect_lease_held"] == 1, "the second worker took the lease")
        let lost = FleetMetricsTests.scrape(port: portA, seconds: 60) {
            $0["sendwatch_detect_lease_held"] == 0 && ($0["sendwatch_detect_lease_changes_total"] ?? 0) >= 2
        }
        #expect(lost["sendwatch_detect_lease_held"] == 0, "the resumed first worker stands by")
        // B dies: A takes the lease back, opens the state directory again and finishes.
        kill(b.processIdentifier, SIGKILL)
        b.waitUntilExit()
        #expect(NATSFaultTests.wait(a, seconds: 300) == 0, "the first worker finished with its lease back")
        #expect(
            try Self.sink(url: server.url, name: "regain", output: state + "/alerts.jsonl", state: state + "/sink") == 0
        )
        try Self.expectSameAlerts(output: state + "/alerts.jsonl", alertsStream: "REGAIN", url: server.url)
    }
}
