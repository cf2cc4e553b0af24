import Foundation
import SendWatchFleet
import SendWatchTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Chaos on the whole fleet of several workers in one run: two `ship --once` agents ship the two halves of
/// mixed-s11, three `forward` workers share the four partitions, two `detect --forwarded-partitions 4` workers (a
/// holder and a standby) read what they forward and a live `sink` writes the alerts out, while one killer picks a
/// random live process (an agent, a forward worker, a second-stage worker, the sink or nats-server) at random
/// moments, kills it with SIGKILL and starts it again after a short random pause (nats-server on its port and
/// store). Then the killer stops, everything runs to its end, and the checks are the fault tests': each event once
/// in the events stream and once in the forwarded stream, the sink's file replay's records (or a calm worker's on
/// the same stream), each record once on the alerts stream.
///
/// Seeded: `SENDWATCH_NATS_CHAOS_SEED` (default 4515; run `r` takes seed + `r`); every run prints its seed first and
/// its kill schedule at the end, so that a failing run can be made again. One run of 20 s of chaos by default;
/// `SENDWATCH_NATS_CHAOS_RUNS=N` (else `SENDWATCH_NATS_FAULT_RUNS`) makes N runs, `SENDWATCH_NATS_CHAOS_SECONDS=S`
/// longer chaos. Skipped, saying why, without nats-server.
extension NATSFaultTests {
    /// What the chaos killer kills.
    enum ChaosKind: String, CaseIterable {
        case ship, forward, detect, sink, server
    }

    /// One process of a chaos run.
    struct ChaosMember {
        /// What it is.
        let kind: ChaosKind
        /// Which one of its kind (a host's index for an agent).
        let index: Int
        /// Its process while it runs (nil for the server, which ``NATSTestServer`` runs, and while it is down).
        var process: Process?
        /// When it is started again after a kill; nil while it runs.
        var restartAt: Date?
        /// An agent that finished (status 0): not started again.
        var done = false

        /// `ship mx1`, `forward 2`, `detect 0`, `sink`, `nats-server`.
        func name(hosts: [String]) -> String {
            switch kind {
            case .ship: "ship \(hosts[index])"
            case .forward, .detect: "\(kind.rawValue) \(index)"
            case .sink: "sink"
            case .server: "nats-server"
            }
        }
    }

    /// A number from the environment variable `name`, or nil.
    static func environmentNumber(_ name: String) -> Double? {
        ProcessInfo.processInfo.environment[name].flatMap { Double($0) }
    }

    /// The first run's seed: `SENDWATCH_NATS_CHAOS_SEED`, default 4515.
    static var chaosSeed: UInt64 {
        ProcessInfo.processInfo.environment["SENDWATCH_NATS_CHAOS_SEED"].flatMap { UInt64($0) } ?? 4_515
    }

    /// Chaos runs: `SENDWATCH_NATS_CHAOS_RUNS`, else ``runs`` (`SENDWATCH_NATS_FAULT_RUNS`, default 1).
    static var chaosRuns: Int { max(1, environmentNumber("SENDWATCH_NATS_CHAOS_RUNS").map { Int($0) } ?? runs) }

    /// Seconds of chaos per run (kills keep coming until the agents are done too): `SENDWATCH_NATS_CHAOS_SECONDS`,
    /// default 20.
    static var chaosSeconds: Double { max(1, environmentNumber("SENDWATCH_NATS_CHAOS_SECONDS") ?? 20) }

    /// Kills `p` with SIGKILL and waits for it.
    static func killNow(_ p: Process) {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// Registers `p`'s standard error file `log` for ``outcome(_:)``; `p`.
    static func registered(_ p: Process, log: String) -> Process {
        childLogs.withLock { $0[p.processIdentifier] = log }
        return p
    }

    @Test("Chaos: agents, forward workers, second stage, sink and nats-server killed at random in one run, all once")
    func chaosOnTheWholeFleet() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let logs = try DetectTests.hostLogs.get()
        let shipped = try DetectTests.shipped.get()
        let hosts = ["mx1", "mx2"]
        // The events in `FLEET_EVENTS`, forwarded to `FLEET_FORWARDED`, alerts on `FLEETDETECT` (ForwardTests' names).
        let name = "fleet"
        try Self.eachRun(runs: Self.chaosRuns) { run, server, state, started in
            let seed = Self.chaosSeed &+ UInt64(run)
            print("chaos run \(run): seed \(seed) (SENDWATCH_NATS_CHAOS_SEED=\(seed) makes this run again)")
            var random = SplitMix64(seed: seed)
            let output = state + "/alerts.jsonl"
            var once = false  // second-stage workers start with --once (the end)
            var members: [ChaosMember] =
                (0..<2).map { ChaosMember(kind: .ship, index: $0) }
                + (0..<3).map { ChaosMember(kind: .forward, index: $0) }
                + (0..<2).map { ChaosMember(kind: .detect, index: $0) } + [
                    ChaosMember(kind: .sink, index: 0), ChaosMember(kind: .server, index: 0),
                ]
            defer {
                for p in members.compactMap(\.process) where p.isRunning { Self.killNow(p) }
            }
            func start(_ m: ChaosMember) throws -> Process? {
                switch m.kind {
                case .ship:
                    let host = hosts[m.index]
                    return try Self.startShip(
                        url: server.url, host: host, log: logs[m.index], state: state + "/ship-" + host, logs: state)
                case .forward:
                    let log = Self.childLog(state, "forward\(m.index)")
                    let worker = try ForwardTests.startWorker(name: name, url: server.url, log: log)
                    return Self.registered(worker.process, log: log)
                case .detect:
                    // Without --once while the chaos lasts (a --once worker would end once it caught up with a
                    // restarting agent), never passing over an idle host (an agent restarting while the server is
                    // down is silent for seconds). A holder and a standby: before the holder renewed between slices
                    // of a release, the two passed the lease back and forth for minutes without a checkpoint here
                    // (docs/fleet.md, Tests).
                    let log = Self.childLog(state, "detect\(m.index)")
                    let p = try ForwardTests.startSecondStage(
                        name: name, url: server.url, state: state, log: log,
                        extra: [
                            "--lease-time", "2s", "--checkpoint-interval", "300ms", "--idle-after", "1h",
                            "--log-level", "info",
                        ], once: once)
                    return Self.registered(p, log: log)
                case .sink:
                    let log = Self.childLog(state, "sink")
                    let p = try DetectTests.startSink(
                        url: server.url, name: name + "detect", output: output, state: state + "/sink", log: log,
                        once: false)
                    return Self.registered(p, log: log)
                case .server:
                    ServerKiller.restart(server)
                    return nil
                }
            }
            func isLive(_ m: ChaosMember) -> Bool {
                m.restartAt == nil && (m.kind == .server ? server.isRunning : m.process?.isRunning == true)
            }
            func clock() -> String { String(format: "%.2f s", Date().timeIntervalSince(started)) }

            for i in members.indices where members[i].kind != .server { members[i].process = try start(members[i]) }
            var schedule: [String] = []
            var kills: [ChaosKind: Int] = [:]
            var bag: [ChaosKind] = []
            let chaosEnd = Date().addingTimeInterval(Self.chaosSeconds)
            let giveUp = Date().addingTimeInterval(600)
            var nextKill: Date? = nil  // the first: an agent's as soon as the events stream holds anything
            while Date() < giveUp && (Date() < chaosEnd || members.contains { $0.kind == .ship && !$0.done }) {
                usleep(10_000)
                let now = Date()
                for i in members.indices {
                    if let at = members[i].restartAt, now >= at {
                        members[i].restartAt = nil
                        members[i].process = try start(members[i])
                        continue
                    }
                    guard let p = members[i].process, !p.isRunning else { continue }
                    // Ended on its own: an agent that finished is done; anything else is a failure (reported with
                    // the end of its standard error), started again so that the run can go on.
                    members[i].process = nil
                    if members[i].kind == .ship && p.terminationReason == .exit && p.terminationStatus == 0 {
                        members[i].done = true
                        schedule.append("\(clock()) \(members[i].name(hosts: hosts)) finished")
                        continue
                    }
                    let what = members[i].name(hosts: hosts)
                    Issue.record("\(what) ended on its own during the chaos: \(Self.outcome(p))")
                    schedule.append("\(clock()) \(what) ended on its own")
                    members[i].process = try start(members[i])
                }
                if nextKill == nil {
                    let agents = members.filter { $0.kind == .ship }
                    guard agents.allSatisfy({ $0.done }) || Self.eventsStored(url: server.url) > 0 else { continue }
                    bag = [.ship]
                    nextKill = now
                }
                guard let due = nextKill, now >= due else { continue }
                // The kind from a bag holding each kind with a live process once (in random order), refilled when
                // empty, so that every kind is killed within a few kills; then one of that kind at random.
                let live = members.indices.filter { isLive(members[$0]) }
                let kinds = Set(live.map { members[$0].kind })
                bag.removeAll { !kinds.contains($0) }
                if bag.isEmpty { bag = ChaosKind.allCases.filter { kinds.contains($0) }.shuffled(using: &random) }
                guard let kind = bag.popLast() else { continue }
                let i = random.pick(live.filter { members[$0].kind == kind })
                let down = 0.1 + Double(random.below(900)) / 1000
                if let p = members[i].process {
                    Self.killNow(p)
                    members[i].process = nil
                } else {
                    server.kill()
                }
                members[i].restartAt = Date().addingTimeInterval(down)
                kills[kind, default: 0] += 1
                schedule.append("\(clock()) kill \(members[i].name(hosts: hosts)), down \(Int(down * 1000)) ms")
                nextKill = Date().addingTimeInterval(0.2 + Double(random.below(800)) / 1000)
            }
            #expect(Date() < giveUp, "the agents finished within 10 minutes of chaos")
            let chaosTook = Date().timeIntervalSince(started)
            defer {
                let counts = ChaosKind.allCases.map {
                    "\($0 == .server ? "nats-server" : $0.rawValue) \(kills[$0] ?? 0)"
                }
                let total = kills.values.reduce(0, +)
                print(
                    "chaos run \(run) (seed \(seed)): \(total) kills (\(counts.joined(separator: ", ")))"
                        + " in \(String(format: "%.1f", chaosTook)) s of chaos, "
                        + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s in all; schedule:\n  "
                        + schedule.joined(separator: "\n  "))
            }

            // The killer stops: whatever is down comes back; the second stage stops (SIGTERM: a clean stop, its
            // last checkpoint and the lease released) and both run again with --once to the end; then the sink.
            for i in members.indices where members[i].restartAt != nil {
                members[i].restartAt = nil
                members[i].process = try start(members[i])
            }
            once = true
            for i in members.indices where members[i].kind == .detect {
                if let p = members[i].process {
                    kill(p.processIdentifier, SIGTERM)
                    #expect(Self.wait(p, seconds: 120, "detect \(i) stopping") == 0, "a stopped worker exits 0")
                }
                members[i].process = try start(members[i])
            }
            schedule.append("\(clock()) the killer stops; the second stage restarted with --once")
            for m in members where m.kind == .detect {
                #expect(Self.wait(m.process!, seconds: 600, "detect \(m.index)") == 0, "detect finished")
                schedule.append("\(clock()) detect \(m.index) finished")
            }
            if let sink = members.first(where: { $0.kind == .sink })?.process {
                kill(sink.processIdentifier, SIGTERM)
                #expect(Self.wait(sink, seconds: 60, "the live sink stopping") == 0, "a stopped sink exits 0")
            }
            #expect(
                try Self.sink(
                    url: server.url, name: name + "detect", output: output, state: state + "/sink", logs: state) == 0)
            for m in members where m.kind == .forward {
                guard let p = m.process else { continue }
                kill(p.processIdentifier, SIGTERM)
                #expect(
                    Self.wait(p, seconds: 60, "forward \(m.index) stopping") == 0, "a stopped forward worker exits 0")
            }
            for i in members.indices { members[i].process = nil }
            schedule.append("\(clock()) the sink and the forward workers finished")

            #expect(members.allSatisfy { $0.kind != .ship || $0.done }, "both agents finished")
            for kind in ChaosKind.allCases {
                #expect((kills[kind] ?? 0) >= 1, "\(kind.rawValue) killed at least once")
            }
            try ForwardTests.expectEachEventForwardedOnce(name: name, url: server.url, events: shipped)
            try Self.expectEachEventAndAlertOnce(
                server: server, state: state, output: output, name: name + "detect", shipped: shipped, run: run)
        }
    }
}
