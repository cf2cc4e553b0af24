import Foundation
import Logging
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline
import Testing

/// ``DetectRun`` and its lease while alert records are published, on a scripted clock (no broker): the holder
/// renews before each record and while it repeats one in an outage of the broker, stops publishing once the
/// lease is taken over, and takes a release in slices that give the same records as one pass.
@Suite
struct DetectRunLeaseTests {
    /// The scripted clock, the publisher's calls and what the test does at each.
    final class Script {
        /// Monotonic seconds, moved by the publisher (an acknowledgement's wait, an attempt's timeout).
        var clock = 0.0
        /// Message ids in the order published (repeats included), and whether the lease was held at each call.
        var calls: [(id: String, leaseHeld: Bool)] = []
        /// What the publisher answers to call `n` (0-based), after moving the clock.
        var respond: (Int) -> PublishOutcome = { _ in .acknowledged(duplicate: false) }
        /// Seconds each call takes on the clock.
        var secondsPerCall = 0.5
        /// The lease whose state each call records.
        var lease: WorkerLease?
        /// A standby on the same key, which looks at it at each call (as time passes) and whenever the holder
        /// reads the clock.
        var standby: WorkerLease?

        /// The clock for the run: the standby looks at the key first.
        func now() -> Double {
            _ = standby?.tryAcquire(now: clock)
            return clock
        }
    }

    /// A publisher whose acknowledgements take ``Script/secondsPerCall`` of the scripted clock.
    struct ScriptedPublisher: AlertPublisher {
        let script: Script

        mutating func publish(_ record: [UInt8], messageID: String) -> PublishOutcome {
            let n = script.calls.count
            script.calls.append((messageID, script.lease?.held ?? true))
            script.clock += script.secondsPerCall
            _ = script.standby?.tryAcquire(now: script.clock)
            return script.respond(n)
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

    /// A key held by a worker `a` with a lease of 3 s (renewed every second), and a script recording that lease.
    static func holder() -> (WorkerLeaseTests.MemoryKey, WorkerLease, Script) {
        let key = WorkerLeaseTests.MemoryKey()
        let lease = WorkerLeaseTests.lease(key, "a", seconds: 3)
        #expect(lease.tryAcquire(now: 0) == .held)
        let script = Script()
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
        let end = try run.run(now: script.now, shouldStop: { false })
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
        let end = try run.run(now: { script.clock }, shouldStop: { false })
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
        let end = try run.run(now: script.now, shouldStop: { false })
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
        let end = try run.run(now: { script.clock }, shouldStop: { false })
        Self.expectStoppedAtTheLoss(
            end, key: key, lease: lease, script: script, checkpoints: run.totals.checkpoints, state: state)
        #expect(script.calls.count <= 9, "the run ends at the loss, not when the broker is back: \(script.calls.count)")
    }

    @Test("With the lease store unreachable too, the holder tries it at most once a poll interval while it repeats")
    func renewalsPacedInAnOutageOfBoth() throws {
        let (key, lease, script) = Self.holder()  // renew every 1 s, poll every 0.75 s
        script.secondsPerCall = 0.25
        // Calls 1 to 40 (10 s): the broker, alerts stream and lease key alike, cannot be reached.
        var writesInOutage = 0
        script.respond = { n in
            if n == 1 { key.reachable = false }
            if n == 41 { key.reachable = true }
            if !key.reachable { writesInOutage = key.writes }
            return key.reachable ? .acknowledged(duplicate: false) : .unavailable("down")
        }
        let writesBefore = key.writes
        let run = try Self.run(Self.alertingMessages(accounts: 3), state: nil, script: script)
        run.lease = lease
        let end = try run.run(now: { script.clock }, shouldStop: { false })
        #expect(end == .stopped)
        #expect(run.totals.retries == 40)
        // 10 s of outage: at most one attempt per 0.75 s (14), not one per repeat (40).
        #expect(writesInOutage - writesBefore <= 15, "\(writesInOutage - writesBefore) writes tried in the outage")
        #expect(writesInOutage - writesBefore >= 5, "the holder kept trying: \(writesInOutage - writesBefore)")
        #expect(lease.held && key.value == "a")
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
                try run.run(
                    now: {
                        t += 1
                        return t
                    }, shouldStop: { false }) == .stopped)
            published.append(script.calls.map(\.id))
            #expect(!withLease || (lease.held && key.value == "a"))
        }
        #expect(published[0] == expected)
        #expect(published[1] == expected)
    }
}
