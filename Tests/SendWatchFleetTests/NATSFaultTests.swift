import Foundation
import SendWatchFleet
import SendWatchTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The broker itself dies: nats-server is killed with SIGKILL at random moments while two `ship` agents publish
/// the two halves of mixed-s11, while `detect` reads them and publishes alerts, and while `sink` writes them out,
/// and is restarted each time on its store directory. At the end the events stream holds each event once, the
/// sink's file is one `replay` of the logs (or, when a repeated publish left some of a host's events out of log
/// order in the stream, the alerts of a worker without faults on the same stream), and the alerts stream holds
/// each record once. A second test kills the agents and the workers (a holder and a standby) too, in one run, with
/// the same checks at the end; a third (NATSChaosTests.swift) kills any process of the fleet of several workers
/// (agents, forward workers, second stage, sink, server) in one run. One run of each by default;
/// `SENDWATCH_NATS_FAULT_RUNS=N` makes N runs with other kill times, each on a new server. Skipped, saying why,
/// without nats-server.
@Suite(.serialized)
struct NATSFaultTests {
    /// Kills the server at random moments (`SIGKILL` 0.1 to 0.6 s after the start, then 0.5 to 3 s after it came
    /// up again; restarted 0.1 to 1 s later) on a thread of its own until stopped; leaves it running.
    final class ServerKiller: Sendable {
        let server: NATSTestServer
        let seed: UInt64
        private let stopping = Atomic<Bool>(false)
        private let killCount = Atomic<Int>(0)
        private let finished = Mutex<Bool>(false)

        init(server: NATSTestServer, seed: UInt64) {
            self.server = server
            self.seed = seed
        }

        /// Kills so far.
        var kills: Int { killCount.load(ordering: .relaxed) }

        /// Seconds until the next kill: the first one soon (shipping both logs takes about a second when nothing
        /// fails), the others 0.5 to 3 s after the restart.
        static func delay(first: Bool, _ random: inout SplitMix64) -> Double {
            let thousandths = Double(random.next() % 2500) / 1000
            return first ? 0.1 + thousandths / 5 : 0.5 + thousandths
        }

        /// Starts `server` again on its port and store; a restart that fails (the port taken for a moment) is
        /// tried again every 0.1 s.
        static func restart(_ server: NATSTestServer) {
            while (try? server.start()) == nil { usleep(100_000) }
        }

        func start() {
            let thread = Thread { [self] in
                var random = SplitMix64(seed: seed)
                var first = true
                while !stopping.load(ordering: .relaxed) {
                    let deadline = Date().addingTimeInterval(Self.delay(first: first, &random))
                    first = false
                    while Date() < deadline && !stopping.load(ordering: .relaxed) { usleep(10_000) }
                    if stopping.load(ordering: .relaxed) { break }
                    server.kill()
                    killCount.add(1, ordering: .relaxed)
                    usleep(useconds_t(100_000 + random.next() % 900_000))
                    Self.restart(server)
                }
                finished.withLock { $0 = true }
            }
            thread.start()
        }

        /// Stops killing and waits until the server runs.
        func stop() throws {
            stopping.store(true, ordering: .relaxed)
            while !finished.withLock({ $0 }) { usleep(10_000) }
            try server.start()
        }
    }

    /// The standard error file of each child the fault tests started (by process id; a process id is not reused
    /// while its child is unreaped, and every entry is looked up before the child is replaced), so that a child
    /// that ends abnormally says why. At most the children of one run: the map is emptied at each run's start.
    static let childLogs = Mutex<[Int32: String]>([:])
    /// Children started so far, to name their standard error files.
    static let childCount = Atomic<Int>(0)

    /// A new file in `directory` for the standard error of a child called `name` (`ship-mx1`, `detect`, `sink`).
    static func childLog(_ directory: String, _ name: String) -> String {
        "\(directory)/\(name)-\(childCount.add(1, ordering: .relaxed).newValue).stderr"
    }

    /// How `p` (exited) ended, with the last 3,000 characters of its standard error when it ended otherwise than
    /// with status 0: a signal (status 11 is SIGSEGV, 6 SIGABRT, 4 or 5 a Swift trap) or an error status.
    static func outcome(_ p: Process) -> String {
        let how =
            p.terminationReason == .uncaughtSignal
            ? "killed by signal \(p.terminationStatus)" : "exit status \(p.terminationStatus)"
        guard let log = childLogs.withLock({ $0[p.processIdentifier] }) else { return how }
        return "\(how); the end of its standard error (\(log)):\n\(fileText(atPath: log).suffix(3000))"
    }

    /// Prints how `p` ended if that was not exit status 0 (for a child the test did not kill itself).
    static func reportAbnormal(_ p: Process, _ what: String) {
        guard p.terminationReason != .exit || p.terminationStatus != 0 else { return }
        print("\(what) ended abnormally: \(outcome(p))")
    }

    /// Waits for `p` at most `seconds`; its exit status, or nil (then it is killed). An end other than exit
    /// status 0 is reported with the end of the child's standard error.
    static func wait(_ p: Process, seconds: Double, _ what: String = "a child") -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            // Killed before its outcome is read: Foundation traps on the end of a process still running.
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            print("\(what) did not finish within \(Int(seconds)) s: killed; \(outcome(p))")
            return nil
        }
        reportAbnormal(p, what)
        return p.terminationStatus
    }

    /// Starts `sendwatch ship --once` of `log` as `host` into the stream `FLEET_EVENTS` of `url`, its standard
    /// error into a new file in `logs`.
    static func startShip(url: String, host: String, log: String, state: String, logs: String) throws -> Process {
        let p = Process()
        let executable: URL = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        p.executableURL = executable
        p.arguments = [
            "ship", "--nats", url, "--stream", "FLEET_EVENTS", "--subject-prefix", "fleet.events", "--partitions",
            "4", "--state", state, "--once", "--host", host, "--year", "2026", "--log-level", "warning", log,
        ]
        let errors = childLog(logs, "ship-" + host)
        try DetectTests.start(p, stderr: errors)
        childLogs.withLock { $0[p.processIdentifier] = errors }
        return p
    }

    /// `DetectTests.startDetect` with its standard error into a new file in `logs` (registered for ``outcome(_:)``).
    static func startDetect(
        url: String, name: String, state: String, extra: [String], once: Bool = true, logs: String
    ) throws -> Process {
        let errors = childLog(logs, "detect")
        let p = try DetectTests.startDetect(url: url, name: name, state: state, extra: extra, log: errors, once: once)
        childLogs.withLock { $0[p.processIdentifier] = errors }
        return p
    }

    /// `DetectTests.sink` with its standard error into a new file in `logs`, printed when it fails.
    static func sink(url: String, name: String, output: String, state: String, logs: String) throws -> Int32 {
        let errors = childLog(logs, "sink")
        let status = try DetectTests.sink(url: url, name: name, output: output, state: state, log: errors)
        if status != 0 { print("sink ended with status \(status); its standard error:\n\(fileText(atPath: errors))") }
        return status
    }

    /// The event records of each host (`mx1`, `mx2`), in stream order.
    static func perHost(_ records: [String]) -> [[String]] {
        ["mx1", "mx2"].map { host in
            let field = "\"host\":\"\(host)\""
            return records.filter { $0.contains(field) }
        }
    }

    /// The lines of a file.
    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Fault runs made by default (one) or by `SENDWATCH_NATS_FAULT_RUNS`.
    static var runs: Int {
        max(1, ProcessInfo.processInfo.environment["SENDWATCH_NATS_FAULT_RUNS"].flatMap { Int($0) } ?? 1)
    }

    /// The end of a fault run on `server`: the events stream `FLEET_EVENTS` holds the events of a run without
    /// faults, each once; the sink's `output` holds the alert records of `name`'s worker(s), and the alerts stream
    /// `name` (upper case) as many, each once: `replay`'s records, or, when a repeated publish left some of a
    /// host's events out of log order in the stream, those of a worker without faults on the same stream.
    static func expectEachEventAndAlertOnce(
        server: NATSTestServer, state: String, output: String, name: String, shipped: UInt64, run: Int
    ) throws {
        let faulted = try ShipTests.readBack(url: server.url, prefix: "fleet.events", expected: Int(shipped))
            .map { String(decoding: $0.payload, as: UTF8.self) }
        let calm = try ShipTests.readBack(
            url: try DetectTests.shared.get().url, prefix: "fleet.events", expected: Int(shipped)
        ).map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(faulted.count == calm.count, "as many events as without faults")
        #expect(faulted.sorted() == calm.sorted(), "each event once")
        // A publish repeated after a lost acknowledgement lands after later ones of its window: a host's events
        // may then be out of log order in the stream (docs/fleet.md), and the worker's alerts may differ from
        // replay's. Then the reference is a worker without faults on the same stream.
        if perHost(faulted) == perHost(calm) {
            try DetectTests.expectSameAlerts(output: output, alertsStream: name.uppercased(), url: server.url)
            return
        }
        print("fault run \(run): some events are out of log order in the stream; the reference is a calm worker")
        let reference = try startDetect(
            url: server.url, name: "calm", state: state + "/calm-detect", extra: ["--hosts", "2"], logs: state)
        #expect(wait(reference, seconds: 600, "the reference worker") == 0, "the reference worker finished")
        let calmOutput = state + "/calm.jsonl"
        #expect(
            try sink(url: server.url, name: "calm", output: calmOutput, state: state + "/calm-sink", logs: state) == 0)
        let want = try lines(calmOutput)
        let got = try lines(output)
        #expect(try DetectTests.createsAndAccounts(want).count >= 4, "the reference has alerts to compare")
        #expect(try DetectTests.createsAndAccounts(got) == DetectTests.createsAndAccounts(want))
        let firstDifference = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "record \(firstDifference?.offset ?? -1) differs from the reference's")
        #expect(got.count == want.count)
        #expect(try JetStreamClient(url: server.url).streamState(name.uppercased()).messages == UInt64(want.count))
    }

    /// Makes `runs` fault runs (default ``runs``), each on a new server with a new state directory (removed after the
    /// run) and the children's standard error files of the run before forgotten; `body` gets the run's number, its
    /// server and directory, and when it started.
    static func eachRun(
        runs: Int = NATSFaultTests.runs,
        _ body: (_ run: Int, _ server: NATSTestServer, _ state: String, _ started: Date) throws -> Void
    ) throws {
        for run in 0..<runs {
            let started = Date()
            let server = try NATSTestServer()
            let state = try ShipTests.tempDirectory()
            defer { try? FileManager.default.removeItem(atPath: state) }
            childLogs.withLock { $0.removeAll() }
            try body(run, server, state, started)
        }
    }

    @Test("nats-server killed with SIGKILL at random times during ship, detect and sink: no alert missing or twice")
    func brokerKilledDuringTheRun() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let logs = try DetectTests.hostLogs.get()
        let shipped = try DetectTests.shipped.get()
        try Self.eachRun { run, server, state, started in
            let killer = ServerKiller(server: server, seed: 1_500 + UInt64(run))
            killer.start()
            // Two agents side by side, then the worker, then the sink, the server killed all along.
            let agents = try zip(["mx1", "mx2"], logs).map { host, log in
                try Self.startShip(url: server.url, host: host, log: log, state: state + "/ship-" + host, logs: state)
            }
            for agent in agents { #expect(Self.wait(agent, seconds: 300, "ship") == 0, "ship finished") }
            let whileShipping = killer.kills
            let detect = try Self.startDetect(
                url: server.url, name: "fault", state: state + "/detect",
                extra: ["--hosts", "2", "--lease-time", "2s"],
                logs: state)
            #expect(Self.wait(detect, seconds: 600, "detect") == 0, "detect finished")
            let whileDetecting = killer.kills - whileShipping
            let output = state + "/alerts.jsonl"
            #expect(
                try Self.sink(url: server.url, name: "fault", output: output, state: state + "/sink", logs: state) == 0)
            try killer.stop()
            let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
            print(
                "fault run \(run): nats-server killed \(killer.kills) times (\(whileShipping) while shipping, "
                    + "\(whileDetecting) while detecting, the rest while sinking), \(seconds) s")
            #expect(whileShipping >= 1 && whileDetecting >= 1, "killed while shipping and while detecting")

            try Self.expectEachEventAndAlertOnce(
                server: server, state: state, output: output, name: "fault", shipped: shipped, run: run)
        }
    }

    /// Messages the stream `FLEET_EVENTS` of `url` holds; 0 while the server is down or the stream missing.
    static func eventsStored(url: String) -> UInt64 {
        var quick = JetStreamClient.Settings()
        quick.connectTimeoutMilliseconds = 200
        quick.requestTimeoutMilliseconds = 500
        return (try? JetStreamClient(url: url, settings: quick).streamState("FLEET_EVENTS").messages) ?? 0
    }

    /// Waits a random 0.3 to 1.5 s (or until `stop` says so, checked every 10 ms).
    static func pause(_ random: inout SplitMix64, until stop: () -> Bool) {
        let deadline = Date().addingTimeInterval(0.3 + Double(random.next() % 1200) / 1000)
        while Date() < deadline && !stop() { usleep(10_000) }
    }

    @Test("Agents, workers and nats-server killed with SIGKILL at random times in one run: no alert missing or twice")
    func everythingKilledDuringOneRun() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let logs = try DetectTests.hostLogs.get()
        let shipped = try DetectTests.shipped.get()
        let hosts = ["mx1", "mx2"]
        for run in 0..<Self.runs {
            let started = Date()
            let server = try NATSTestServer()
            let state = try ShipTests.tempDirectory()
            defer { try? FileManager.default.removeItem(atPath: state) }
            Self.childLogs.withLock { $0.removeAll() }
            let killer = ServerKiller(server: server, seed: 2_500 + UInt64(run))
            killer.start()
            var random = SplitMix64(seed: 3_500 + UInt64(run))
            func ship(_ i: Int) throws -> Process {
                try Self.startShip(
                    url: server.url, host: hosts[i], log: logs[i], state: state + "/ship-" + hosts[i], logs: state)
            }
            // Two workers with one consumer name and state: a holder and a standby. While the agents ship they run
            // without `--once` (they would end at a moment the stream has nothing more), told there are two hosts
            // (so they merge and publish from the start) and never passing over an idle host (an agent restarting
            // while the server is down is silent for seconds); once the agents are done, with `--once`.
            func worker(once: Bool) throws -> Process {
                try Self.startDetect(
                    url: server.url, name: "all", state: state + "/detect",
                    extra: [
                        "--hosts", "2", "--lease-time", "2s", "--checkpoint-interval", "300ms", "--idle-after", "1h",
                    ],
                    once: once, logs: state)
            }
            var agents: [Process?] = try (0..<2).map { try ship($0) }
            var workers = [try worker(once: false), try worker(once: false)]
            defer {
                for p in workers + agents.compactMap({ $0 }) where p.isRunning { kill(p.processIdentifier, SIGKILL) }
            }
            var agentKills = 0
            var workerKills = 0
            // While the agents ship: an agent as soon as the events stream holds anything (so that the first kill
            // comes while they publish however fast they are: a run once saw both done before a first pause of up
            // to 1.5 s ended), then every 0.3 to 1.5 s an agent (two in three) or a worker.
            while agents.contains(where: { $0 != nil }) {
                if agentKills == 0 {
                    #expect(
                        waitUntil(seconds: 120) {
                            agents.allSatisfy { $0?.isRunning != true } || Self.eventsStored(url: server.url) > 0
                        }, "the agents published")
                } else {
                    Self.pause(&random) { agents.allSatisfy { $0?.isRunning != true } }
                }
                for i in agents.indices {
                    if let agent = agents[i], !agent.isRunning {
                        Self.reportAbnormal(agent, "ship \(hosts[i])")
                        #expect(agent.terminationStatus == 0, "ship \(hosts[i]) finished")
                        agents[i] = nil
                    }
                }
                let running = agents.indices.filter { agents[$0] != nil }
                if running.isEmpty { break }
                if agentKills == 0 || random.next() % 3 != 0 {
                    let i = running[Int(random.next() % UInt64(running.count))]
                    kill(agents[i]!.processIdentifier, SIGKILL)
                    agents[i]!.waitUntilExit()
                    agentKills += 1
                    agents[i] = try ship(i)
                } else {
                    let i = Int(random.next() % 2)
                    if !workers[i].isRunning { Self.reportAbnormal(workers[i], "a worker without --once") }
                    #expect(workers[i].isRunning, "a worker without --once runs until killed")
                    kill(workers[i].processIdentifier, SIGKILL)
                    workers[i].waitUntilExit()
                    workerKills += 1
                    workers[i] = try worker(once: false)
                }
            }
            let serverKillsWhileShipping = killer.kills
            // The agents are done: both workers are killed and come back with `--once`; up to three more kills of
            // one of them 1 to 5 s apart, the sink catching up part way after the first; then both run to the end.
            for i in workers.indices {
                kill(workers[i].processIdentifier, SIGKILL)
                workers[i].waitUntilExit()
                workerKills += 1
                workers[i] = try worker(once: true)
            }
            let output = state + "/alerts.jsonl"
            for kills in 0..<3 {
                let deadline = Date().addingTimeInterval(1 + Double(random.next() % 4000) / 1000)
                while Date() < deadline && workers.contains(where: \.isRunning) { usleep(10_000) }
                let i = Int(random.next() % 2)
                guard workers[i].isRunning else { break }
                kill(workers[i].processIdentifier, SIGKILL)
                workers[i].waitUntilExit()
                workerKills += 1
                workers[i] = try worker(once: true)
                if kills == 0 {
                    #expect(
                        try Self.sink(url: server.url, name: "all", output: output, state: state + "/sink", logs: state)
                            == 0)
                }
            }
            // The faults end here (as the chaos test's): the workers run to the end on a server that stays up. With
            // the server still killed every 0.5-3 s, a standby's watch of the lease restarts at every outage (a
            // read that times out says nothing about the holder) and the client reconnects only seconds later,
            // so under load neither worker took the lease of a killed holder for 10 minutes.
            try killer.stop()
            for p in workers { #expect(Self.wait(p, seconds: 600, "detect") == 0, "detect finished") }
            #expect(
                try Self.sink(url: server.url, name: "all", output: output, state: state + "/sink", logs: state) == 0)
            let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
            print(
                "all-faults run \(run): ship killed \(agentKills) times, detect \(workerKills) times, nats-server "
                    + "\(killer.kills) times (\(serverKillsWhileShipping) while shipping), \(seconds) s")
            #expect(agentKills >= 1 && workerKills >= 3 && killer.kills >= 2, "each kind killed during the run")
            try Self.expectEachEventAndAlertOnce(
                server: server, state: state, output: output, name: "all", shipped: shipped, run: run)
        }
    }
}
