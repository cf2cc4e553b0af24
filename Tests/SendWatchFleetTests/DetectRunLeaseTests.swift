import Foundation
import Logging
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline
import Testing

/// ``DetectRun`` and its lease while alert records are published, on a scripted clock (no broker): the holder
/// renews before each record and while it repeats one in an outage of the broker, stops publishing once the
/// lease is taken over, publishes nothing while cut off from the lease store for two thirds of the lease, and
/// takes a release in slices that give the same records as one pass.
///
/// The clock moves with every publish, every call of the holder's lease store and every pause of the run, not
/// only with publishes, so a run that pauses still sees time pass. Every run is bounded (``Script/drive(_:)``):
/// past ``Script/limitSeconds`` of the scripted clock or ``Script/maxSteps`` looks at it, the run is stopped
/// (or its next publish refused) and the test fails instead of hanging.
@Suite
struct DetectRunLeaseTests {
    /// The scripted clock, the publisher's calls and what the test does at each.
    final class Script {
        /// Monotonic seconds, moved by the publisher (an acknowledgement's wait, an attempt's timeout), by each call
        /// of the holder's lease store (``secondsPerStoreCall``) and by each pause of the run (the seconds asked).
        private(set) var clock = 0.0
        /// Message ids in the order published (repeats included); when each call started, whether the lease was
        /// held then, whether the standby held it, and how old the holder's last write of the key was.
        var calls: [(id: String, at: Double, leaseHeld: Bool, standbyHeld: Bool, sinceRenewal: Double)] = []
        /// What the publisher answers to call `n` (0-based), after moving the clock.
        var respond: (Int) -> PublishOutcome = { _ in .acknowledged(duplicate: false) }
        /// Seconds each call takes on the clock.
        var secondsPerCall = 0.5
        /// Seconds each call of the holder's lease store takes while it cannot reach the key (a request timeout);
        /// a call that reaches it takes none.
        var secondsPerStoreCall = 0.0
        /// Whether the holder's lease store reaches the key at a time (the key's own ``WorkerLeaseTests/MemoryKey/reachable``
        /// also applies): a holder cut off from the store while a standby still reaches it.
        var holderReachesStore: (Double) -> Bool = { _ in true }
        /// Called whenever the clock moves, with the new time (an outage that starts or ends at a time).
        var onTime: (Double) -> Void = { _ in }
        /// When the holder's store last wrote the key (the clock after the write).
        var lastWriteAt = 0.0
        /// The lease whose state each call records.
        var lease: WorkerLease?
        /// A standby on the same key, which looks at it whenever the clock moves and whenever the holder reads it.
        var standby: WorkerLease?
        /// The bound of a run: past this many seconds of the clock, or ``maxSteps`` looks at it, waits and stop
        /// checks, ``overrun`` is set, the run asked to stop and any further publish refused.
        var limitSeconds = 600.0
        var maxSteps = 200_000
        /// The run is asked to stop once the clock reaches this (nil: never, before the bound).
        var stopAt: Double?
        private(set) var steps = 0
        private(set) var overrun = false
        /// The pauses the run took.
        private(set) var waits = 0

        /// Moves the clock by `seconds`; the standby looks at the key at the new time.
        func advance(_ seconds: Double) {
            clock += seconds
            onTime(clock)
            _ = standby?.tryAcquire(now: clock)
            step()
        }

        private func step() {
            steps += 1
            if steps > maxSteps || clock > limitSeconds { overrun = true }
        }

        /// The clock for the run: the standby looks at the key first.
        func now() -> Double {
            _ = standby?.tryAcquire(now: clock)
            step()
            return clock
        }

        /// The run's pause: the clock moves by the seconds asked (nothing really sleeps).
        func wait(_ seconds: Double) {
            #expect(seconds > 0 && seconds <= 1, "a pause of \(seconds) s")
            waits += 1
            advance(seconds)
        }

        /// Whether the run should stop: only once it overran its bound.
        func shouldStop() -> Bool {
            step()
            return overrun || stopAt.map { clock >= $0 } ?? false
        }

        /// Runs `run` on this clock, waits and bound; fails the test if the bound was reached.
        func drive<P: AlertPublisher>(_ run: DetectRun<DetectIdleTests.OneFetchFeed, P>, now: (() -> Double)? = nil)
            throws -> DetectRunEnd
        {
            let end = try run.run(now: now ?? self.now, wait: wait, shouldStop: shouldStop)
            #expect(!overrun, "the run did not end within \(limitSeconds) s of the clock or \(maxSteps) steps")
            return end
        }
    }

    /// A publisher whose acknowledgements take ``Script/secondsPerCall`` of the scripted clock.
    struct ScriptedPublisher: AlertPublisher {
        let script: Script

        mutating func publish(_ record: [UInt8], messageID: String) -> PublishOutcome {
            let n = script.calls.count
            script.calls.append(
                (
                    messageID, script.clock, script.lease?.held ?? true, script.standby?.held ?? false,
                    script.clock - script.lastWriteAt
                ))
            if script.overrun { return .refused("the test's bound was reached") }
            script.advance(script.secondsPerCall)
            return script.respond(n)
        }
    }

    /// The holder's ``LeaseStore``: the key, reached at the script's times (``Script/holderReachesStore``), each call
    /// cut off taking ``Script/secondsPerStoreCall`` of the clock.
    struct ScriptedStore: LeaseStore {
        var store: WorkerLeaseTests.MemoryStore
        let script: Script

        private mutating func call(_ write: Bool, _ body: (inout WorkerLeaseTests.MemoryStore) -> LeaseWrite)
            -> LeaseWrite
        {
            guard script.holderReachesStore(script.clock) && store.key.reachable else {
                if write { store.key.writes += 1 }
                script.advance(script.secondsPerStoreCall)
                return .unavailable("cut off")
            }
            let result = body(&store)
            if case .written = result { script.lastWriteAt = script.clock }
            return result
        }

        mutating func read() -> LeaseRead {
            guard script.holderReachesStore(script.clock) else {
                script.advance(script.secondsPerStoreCall)
                return .unavailable("cut off")
            }
            return store.read()
        }

        mutating func create(_ value: String) -> LeaseWrite { call(true) { $0.create(value) } }

        mutating func update(_ value: String, last: UInt64) -> LeaseWrite {
            call(true) { $0.update(value, last: last) }
        }
    }

    /// `account_rate` with a limit of 1: an account's second event within the hour makes an alert.
    static var configuration: Configuration {
        var c = Configuration()
        c.detection[AccountRateRule.self].enabled = true
        c.detection[AccountRateRule.self].limit = 1
        return c
    }

    /// Two events of each of `accounts` accounts of one host, a second apart: an alert record for each account.
    static func alertingMessages(accounts: Int) -> [FeedMessage] {
        var payloads: [[UInt8]] = []
        for i in 0..<accounts {
            for k in 0..<2 { payloads.append(DetectIdleTests.record(Int64(2 * i + k), host: "mx1", i)) }
        }
        return DetectIdleTests.messages(payloads)
    }

    /// A `--once` run on `messages` (one fetch) into the scripted publisher, checkpointing into `state`.
    static func run(
        _ messages: [FeedMessage], state: String?, script: Script, configuration: Configuration = configuration
    ) throws -> DetectRun<DetectIdleTests.OneFetchFeed, ScriptedPublisher> {
        var options = DetectOptions()
        options.stateDirectory = state
        options.once = true
        options.fetching.maxBackoffSeconds = 0.05  // an outage's real pauses: 50 ms each
        return try DetectRun(
            configuration: configuration, options: options, feed: DetectIdleTests.OneFetchFeed(messages: messages),
            publisher: ScriptedPublisher(script: script), logger: WorkerLeaseTests.quiet)
    }

    /// A key held by a worker `a` with a lease of 3 s (renewed every second, no publish once its last renewal is
    /// 2 s old) through the script's store, and a script recording that lease.
    static func holder() -> (WorkerLeaseTests.MemoryKey, WorkerLease, Script) {
        let key = WorkerLeaseTests.MemoryKey()
        let script = Script()
        let lease = WorkerLease(
            store: ScriptedStore(store: WorkerLeaseTests.MemoryStore(key: key), script: script), holder: "a",
            seconds: 3, logger: WorkerLeaseTests.quiet)
        #expect(lease.tryAcquire(now: 0) == .held)
        script.lease = lease
        return (key, lease, script)
    }

    /// What a run whose lease `b` took must show: ended with the loss, nothing written over `b`, no publish
    /// once the loss was seen, and no checkpoint (none in `state` either).
    static func expectStoppedAtTheLoss(
        _ end: DetectRunEnd, key: WorkerLeaseTests.MemoryKey, lease: WorkerLease, script: Script, checkpoints: Int,
        state: String
    ) {
        #expect(end == .leaseLost)
        #expect(key.value == "b" && !lease.held, "nothing written over the new holder's lease")
        #expect(script.calls.allSatisfy { $0.leaseHeld }, "nothing published once the loss was seen")
        #expect(checkpoints == 0)
        #expect(!FileManager.default.fileExists(atPath: state + "/detect-checkpoint"), "no checkpoint written")
    }

    @Test("A holder keeps its lease through a publish longer than the lease time, a standby watching the key")
    func longPublishKeepsTheLease() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (key, lease, script) = Self.holder()
        let standby = WorkerLeaseTests.lease(key, "b", seconds: 3)
        script.standby = standby
        let run = try Self.run(Self.alertingMessages(accounts: 40), state: state, script: script)
        run.lease = lease
        // Each record's acknowledgement takes 0.5 s: 40 records and more take over 20 s, the lease 3 s. The standby
        // looks at the key every 0.5 s.
        let end = try script.drive(run)
        #expect(end == .stopped, "the holder kept its lease through the publish (a takeover ends in leaseLost)")
        #expect(key.value == "a" && !standby.held)
        #expect(script.calls.count >= 40 && script.clock >= 20, "a publish of \(script.clock) s")
        #expect(run.totals.alertRecords == script.calls.count)
        #expect(run.totals.checkpoints == 1)
        #expect(key.revision >= 20, "renewed about once a second of the publish: \(key.revision)")
    }

    @Test("A lease taken over mid-publish ends the run: nothing published once the loss is seen, no checkpoint")
    func takeoverMidPublishStopsPublishing() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (key, lease, script) = Self.holder()
        script.respond = { n in
            if n == 9 {
                // Another worker took the lease (this one paused past it): its next renewal is refused.
                key.revision += 1
                key.value = "b"
            }
            return .acknowledged(duplicate: false)
        }
        let run = try Self.run(Self.alertingMessages(accounts: 40), state: state, script: script)
        run.lease = lease
        let end = try script.drive(run)
        Self.expectStoppedAtTheLoss(
            end, key: key, lease: lease, script: script, checkpoints: run.totals.checkpoints, state: state)
        // The loss is seen at the next renewal, due a third of the lease (1 s, two records) after the last one.
        #expect(script.calls.count >= 10 && script.calls.count <= 12, "\(script.calls.count) records published")
    }

    @Test("A holder renews while it repeats a record in an outage of the broker longer than the lease")
    func outageInPublishKeepsTheLease() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (key, lease, script) = Self.holder()
        let standby = WorkerLeaseTests.lease(key, "b", seconds: 3)
        script.standby = standby
        // The alerts stream cannot be reached for calls 2 to 21 (each a request timeout of 0.5 s: 10 s), the lease
        // store can.
        script.respond = { n in (2...21).contains(n) ? .unavailable("timeout") : .acknowledged(duplicate: false) }
        let run = try Self.run(Self.alertingMessages(accounts: 5), state: state, script: script)
        run.lease = lease
        let end = try script.drive(run)
        #expect(end == .stopped, "the holder kept its lease through the outage")
        #expect(key.value == "a" && !standby.held)
        #expect(run.totals.retries == 20)
        #expect(run.totals.alertRecords == script.calls.count - 20)
        #expect(run.totals.checkpoints == 1)
    }

    @Test("A lease taken over while a record is repeated in an outage ends the run without publishing more")
    func takeoverInOutageStopsPublishing() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (key, lease, script) = Self.holder()
        // The broker is unreachable for calls 2 to 29; at call 6 another worker takes the lease.
        script.respond = { n in
            if n == 6 {
                key.revision += 1
                key.value = "b"
            }
            return (2..<30).contains(n) ? .unavailable("timeout") : .acknowledged(duplicate: false)
        }
        let run = try Self.run(Self.alertingMessages(accounts: 5), state: state, script: script)
        run.lease = lease
        let end = try script.drive(run)
        Self.expectStoppedAtTheLoss(
            end, key: key, lease: lease, script: script, checkpoints: run.totals.checkpoints, state: state)
        #expect(script.calls.count <= 9, "the run ends at the loss, not when the broker is back: \(script.calls.count)")
    }

    @Test("With the lease store unreachable too, the holder tries it at most once a poll interval, and pauses")
    func renewalsPacedInAnOutageOfBoth() throws {
        let (key, lease, script) = Self.holder()  // renew every 1 s, poll every 0.75 s, publish until 2 s old
        script.secondsPerCall = 0.25
        script.secondsPerStoreCall = 0.25  // an attempt that cannot reach the key: a request timeout
        // From 0.25 s to 10.25 s of the clock the broker, alerts stream and lease key alike, cannot be reached.
        let outage = 0.25..<10.25
        var writesAtStart: Int?
        var writesAtEnd: Int?
        script.onTime = { t in
            if outage.contains(t) && writesAtStart == nil { writesAtStart = key.writes }
            if t >= outage.upperBound && writesAtEnd == nil { writesAtEnd = key.writes }
            key.reachable = !outage.contains(t)
        }
        script.respond = { _ in key.reachable ? .acknowledged(duplicate: false) : .unavailable("down") }
        let run = try Self.run(Self.alertingMessages(accounts: 3), state: nil, script: script)
        run.lease = lease
        let end = try script.drive(run)
        #expect(end == .stopped)
        #expect(lease.held && key.value == "a")
        let writes = try #require(writesAtEnd) - (try #require(writesAtStart))
        // 10 s of outage: at most one attempt per 0.75 s (14), not one per repeat or pause.
        #expect(writes <= 15, "\(writes) writes tried in the outage")
        #expect(writes >= 5, "the holder kept trying: \(writes)")
        // Repeats until the last renewal is 2 s old (at 0 s), then none until the key answers again.
        let inOutage = script.calls.filter { outage.contains($0.at) }
        #expect(inOutage.count >= 3 && inOutage.count <= 8, "\(inOutage.count) attempts in the outage")
        #expect(script.calls.allSatisfy { $0.sinceRenewal < lease.publishSeconds }, "nothing published once lapsed")
        #expect(run.totals.retries >= inOutage.count)
        #expect(run.totals.alertRecords == 3)
        #expect(Set(script.calls.map(\.id)).count == 3, "every record published, none lost")
    }

    @Test("Cut off from the lease store alone for two thirds of the lease, a holder publishes nothing until it is back")
    func lapsedLeasePausesPublishing() throws {
        let (key, lease, script) = Self.holder()  // acquired at 0 s, a 3 s lease renewed every second
        script.secondsPerStoreCall = 0.25
        // The holder's lease store cannot be reached from 0.5 s to 8 s of the clock; the alerts stream can. Each
        // record takes 0.5 s, each attempt on the store 0.25 s: the last renewal was at 0 s, so publishing stops at
        // 2 s, after two records while cut off; without the pause the holder would publish about fifteen.
        let cutOff = 0.5..<8.0
        script.holderReachesStore = { !cutOff.contains($0) }
        var writesAtStart: Int?
        var writesAtEnd: Int?
        script.onTime = { t in
            if cutOff.contains(t) && writesAtStart == nil { writesAtStart = key.writes }
            if t >= cutOff.upperBound && writesAtEnd == nil { writesAtEnd = key.writes }
        }
        let run = try Self.run(Self.alertingMessages(accounts: 20), state: nil, script: script)
        run.lease = lease
        // The metrics say so while the fence holds the records back (from 2 s, the last renewal two thirds of the
        // lease old, until the store answers at 8 s), and not before or after.
        var pausedSeen: [(at: Double, paused: Bool)] = []
        let countWrites = script.onTime
        script.onTime = { t in
            countWrites(t)
            pausedSeen.append((t, run.metrics.snapshot.publishPaused))
        }
        let end = try script.drive(run)
        #expect(end == .stopped)
        #expect(lease.held && key.value == "a")
        #expect(pausedSeen.contains { $0.paused }, "the paused gauge was never 1")
        #expect(pausedSeen.allSatisfy { !$0.paused || (2.0..<8.5).contains($0.at) }, "paused outside the lapse")
        #expect(pausedSeen.allSatisfy { $0.paused || !(2.5..<7.9).contains($0.at) }, "not paused inside the lapse")
        #expect(!run.metrics.snapshot.publishPaused && run.metrics.snapshot.publishPauses == 1)
        let whileCutOff = script.calls.filter { cutOff.contains($0.at) }.count
        #expect(whileCutOff >= 2 && whileCutOff <= 3, "\(whileCutOff) records published while cut off from the store")
        #expect(
            script.calls.allSatisfy { $0.sinceRenewal < lease.publishSeconds },
            "a publish started \(script.calls.map(\.sinceRenewal).max() ?? 0) s after the last renewal")
        #expect(script.clock >= cutOff.upperBound, "the records after the lapse waited for the store")
        // No loss, no repeat: each record once, in order, with the ids of a run that was never cut off.
        #expect(run.totals.alertRecords == 20)
        #expect(script.calls.count == 20 && Set(script.calls.map(\.id)).count == 20)
        // Paused, not spinning: at most one attempt on the store per poll interval (0.75 s) while cut off.
        let writes = try #require(writesAtEnd) - (try #require(writesAtStart))
        #expect(writes >= 5 && writes <= 11, "\(writes) writes tried while cut off")
    }

    @Test("A holder cut off from the lease store stops publishing a third of the lease before a standby takes over")
    func standbyTakesOverOnlyAfterThePause() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (key, lease, script) = Self.holder()
        // The standby reaches the key all along, the holder not from 0.5 s to 8 s: the standby sees the holder's
        // revision unchanged for the lease time and takes over at 3 s; the holder must be silent by then.
        let standby = WorkerLeaseTests.lease(key, "b", seconds: 3)
        script.standby = standby
        script.secondsPerStoreCall = 0.25
        let cutOff = 0.5..<8.0
        script.holderReachesStore = { !cutOff.contains($0) }
        var takeoverAt: Double?
        script.onTime = { t in if standby.held && takeoverAt == nil { takeoverAt = t } }
        let run = try Self.run(Self.alertingMessages(accounts: 20), state: state, script: script)
        run.lease = lease
        let end = try script.drive(run)
        // Back at 8 s, the holder's renewal is refused: it stops without publishing or writing more.
        Self.expectStoppedAtTheLoss(
            end, key: key, lease: lease, script: script, checkpoints: run.totals.checkpoints, state: state)
        #expect(script.calls.allSatisfy { !$0.standbyHeld }, "nothing published while the standby held the lease")
        let takeover = try #require(takeoverAt)
        let lastStart = try #require(script.calls.last?.at)
        #expect(
            takeover - lastStart >= lease.seconds - lease.publishSeconds,
            "the last publish started at \(lastStart) s, the standby took over at \(takeover) s")
    }

    @Test("A holder paused by a lost lease store stops when asked, publishing nothing more and writing no checkpoint")
    func pausedHolderStopsWhenAsked() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (key, lease, script) = Self.holder()
        script.secondsPerStoreCall = 0.25
        script.holderReachesStore = { $0 < 0.5 }  // cut off for good from 0.5 s
        script.stopAt = 30
        let run = try Self.run(Self.alertingMessages(accounts: 20), state: state, script: script)
        run.lease = lease
        let end = try script.drive(run)
        #expect(end == .stopped)
        #expect(script.clock >= 30 && script.clock < 31, "stopped at \(script.clock) s")
        #expect(script.calls.count <= 4, "\(script.calls.count) records published")
        #expect(key.value == "a", "nobody else took it: the lease key is as the holder last wrote it")
        #expect(!FileManager.default.fileExists(atPath: state + "/detect-checkpoint"), "no checkpoint unfenced")
        // 28 s paused: pauses of 50 ms (the test's backoff bound), each with the store tried at most every 0.75 s.
        #expect(script.waits <= 600, "\(script.waits) pauses")
        #expect(key.writes <= 2 + 40, "\(key.writes) writes tried")
    }

    @Test(
        "A release taken in slices (with a lease) gives the records of one pass of the engine (without)",
        arguments: [100, 300])
    func slicesGiveTheSameRecords(accounts: Int) throws {
        let messages = Self.alertingMessages(accounts: accounts)  // 200 or 600 events: one slice or three
        // The reference: the engine on the events at once.
        var engine = DetectionEngine(configuration: Self.configuration.detection)
        var batch: EventBatch = []
        var decoder = EventRecordDecoder()
        for m in messages { batch.append(try #require(m.payload.withUnsafeBytes { decoder.decode($0) })) }
        var alerts: [Alert] = []
        engine.process(&batch, into: &alerts)
        engine.finish(into: &alerts)
        let expected = alerts.enumerated().map { n, a in "\(a.id)-\(a.action.rawValue)-\(n)" }
        #expect(expected.count >= accounts)
        var published: [[String]] = []
        for withLease in [false, true] {
            let (key, lease, script) = Self.holder()
            script.secondsPerCall = 0
            let run = try Self.run(messages, state: nil, script: script)
            if withLease { run.lease = lease }
            // Each reading of the clock a second after the last: a renewal is due at each check.
            var t = 0.0
            #expect(
                try script.drive(
                    run,
                    now: {
                        t += 1
                        return t
                    }) == .stopped)
            published.append(script.calls.map(\.id))
            #expect(!withLease || (lease.held && key.value == "a"))
        }
        #expect(published[0] == expected)
        #expect(published[1] == expected)
    }
}
