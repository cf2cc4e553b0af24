import Foundation
import Logging
import SendWatchCore
import SendWatchDetect
import SendWatchFleet
import SendWatchPipeline
import SendWatchTesting
import Testing

/// ``WorkerLease``: holder and standby on an in-memory key (a revision-checked store like JetStream's key-value
/// bucket), a ``DetectRun`` that loses its lease, and ``NATSLeaseStore`` against a real nats-server.
@Suite
struct WorkerLeaseTests {
    /// One key with revisions, shared by the stores of several leases; `reachable` false: every call fails.
    final class MemoryKey {
        var revision: UInt64 = 0
        var value: String?
        var reachable = true
        /// Writes tried (created or updated, whether the store was reachable or not).
        var writes = 0
    }

    /// A ``LeaseStore`` on a ``MemoryKey``.
    struct MemoryStore: LeaseStore {
        let key: MemoryKey

        mutating func read() -> LeaseRead {
            guard key.reachable else { return .unavailable("down") }
            return key.value.map { .entry(revision: key.revision, value: $0) } ?? .missing
        }

        mutating func create(_ value: String) -> LeaseWrite {
            key.writes += 1
            guard key.reachable else { return .unavailable("down") }
            guard key.value == nil else { return .conflict("exists") }
            return put(value)
        }

        mutating func update(_ value: String, last: UInt64) -> LeaseWrite {
            key.writes += 1
            guard key.reachable else { return .unavailable("down") }
            guard key.value != nil, key.revision == last else { return .conflict("wrong last revision") }
            return put(value)
        }

        private func put(_ value: String) -> LeaseWrite {
            key.revision += 1
            key.value = value
            return .written(revision: key.revision)
        }
    }

    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func lease(_ key: MemoryKey, _ holder: String, seconds: Double = 10) -> WorkerLease {
        WorkerLease(store: MemoryStore(key: key), holder: holder, seconds: seconds, logger: quiet)
    }

    @Test("A standby takes over only after the holder has not renewed for the lease time, by its own clock")
    func standbyTakesOverAfterLeaseTime() {
        let key = MemoryKey()
        let a = Self.lease(key, "a")
        let b = Self.lease(key, "b")
        #expect(a.tryAcquire(now: 0) == .held)
        #expect(b.tryAcquire(now: 100) == .waiting)  // first sight of revision 1 at its t = 100
        // The holder renews every lease/3: the standby keeps seeing new revisions and never takes over.
        for t in stride(from: 4.0, through: 40, by: 4) {
            #expect(a.renew(now: t) == .held)
            #expect(b.tryAcquire(now: 100 + t) == .waiting)
        }
        // The holder stops renewing (killed) after its renewal at 40, which the standby saw at 140: 9.9 s after
        // that the standby still waits, 10 s after it takes over.
        #expect(b.tryAcquire(now: 141) == .waiting)
        #expect(b.tryAcquire(now: 149.9) == .waiting)
        #expect(b.tryAcquire(now: 150) == .held)
        #expect(key.value == "b")
        #expect(b.figures.held && b.figures.changes == 1)
        // The old holder comes back (a pause, not a death): its renewal is refused, it has lost the lease.
        #expect(a.renew(now: 60) == .lost)
        #expect(!a.held && a.figures.changes == 2)
        #expect(a.confirm(now: 61) == .lost)
        #expect(key.value == "b", "the old holder wrote nothing over the new one's lease")
    }

    @Test("A released lease is taken at once; an unreachable store restarts the standby's watch")
    func releaseAndOutage() {
        let key = MemoryKey()
        let a = Self.lease(key, "a")
        let b = Self.lease(key, "b")
        #expect(a.tryAcquire(now: 0) == .held)
        #expect(b.tryAcquire(now: 0) == .waiting)
        key.reachable = false
        #expect(b.tryAcquire(now: 5) == .unavailable)
        #expect(a.renew(now: 5) == .unavailable, "a holder cut off cannot confirm: it writes no checkpoint")
        key.reachable = true
        // Seen at 0, an outage, seen again at 11: the holder could not renew meanwhile, so the watch starts anew.
        #expect(b.tryAcquire(now: 11) == .waiting)
        #expect(b.tryAcquire(now: 20.9) == .waiting)
        a.release()
        #expect(key.value == "released")
        #expect(b.tryAcquire(now: 21) == .held, "a released lease is taken without waiting")
    }

    @Test("A holder cut off from the store tries to renew at most once a poll interval, and renews once it is back")
    func renewalsPacedDuringAnOutage() {
        let key = MemoryKey()
        let a = Self.lease(key, "a", seconds: 3)  // renew every 1 s, poll every 0.75 s
        #expect(a.tryAcquire(now: 0) == .held)
        key.reachable = false
        let before = key.writes
        #expect(a.renew(now: 1) == .unavailable)
        #expect(key.writes == before + 1)
        // Checked between slices of a release and before each record: no write tried until 0.75 s later.
        for t in stride(from: 1.01, to: 1.75, by: 0.01) { #expect(a.renew(now: t) == .unavailable) }
        #expect(key.writes == before + 1)
        #expect(a.renew(now: 1.75) == .unavailable)
        #expect(key.writes == before + 2)
        key.reachable = true
        #expect(a.renew(now: 2.0) == .unavailable, "still within the poll interval of the last attempt")
        #expect(a.renew(now: 2.5) == .held)
        #expect(key.writes == before + 3)
        #expect(a.renew(now: 2.6) == .held)
        #expect(key.writes == before + 3, "renewed at 2.5: the next renewal is due a third of the lease later")
    }

    @Test("Of two standbys racing for a dead holder's lease, one wins")
    func twoStandbysOneWins() {
        let key = MemoryKey()
        let a = Self.lease(key, "a")
        let b = Self.lease(key, "b")
        let c = Self.lease(key, "c")
        #expect(a.tryAcquire(now: 0) == .held)
        #expect(b.tryAcquire(now: 1) == .waiting)
        #expect(c.tryAcquire(now: 1) == .waiting)
        #expect(b.tryAcquire(now: 11) == .held)
        #expect(c.tryAcquire(now: 11) == .waiting, "c sees b's new revision and starts watching it")
        #expect(key.value == "b")
    }

    /// A stream that delivers one message per fetch, then nothing.
    struct OneByOneFeed: StreamFeed {
        var messages: [FeedMessage]
        var next = 0
        let streamName = "TEST"
        let redeliveries = 0

        mutating func resume(after sequence: UInt64) {}

        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            defer { next += 1 }
            return .messages(next < messages.count ? [messages[next]] : [])
        }

        mutating func acknowledgeFetched() -> Bool { true }
    }

    @Test("A worker whose lease another worker took stops without writing its checkpoint again")
    func runStopsWhenLeaseIsLost() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let messages = (0..<6).map { i in
            FeedMessage(
                sequence: UInt64(i + 1), payload: DetectIdleTests.record(Int64(i * 10), host: "mx1", i),
                pending: UInt64(5 - i))
        }
        let key = MemoryKey()
        let lease = Self.lease(key, "a", seconds: 3)
        #expect(lease.tryAcquire(now: 0) == .held)
        var options = DetectOptions()
        options.stateDirectory = state
        options.checkpointIntervalSeconds = 0.5
        options.expectedHosts = 1
        let checkpointsBefore = try Self.runUntilLeaseTaken(
            options: options, messages: messages, lease: lease, key: key)
        // The checkpoint on disk is the last one written while the lease was held.
        let reopened = try DetectRun(
            configuration: Configuration(), options: options, feed: OneByOneFeed(messages: []),
            publisher: DetectIdleTests.AcceptingPublisher(), logger: Self.quiet)
        #expect(reopened.totals.checkpoints == checkpointsBefore)
    }

    @Test("A holder renews while it takes in a release longer than the lease, and a watching standby never takes over")
    func longReleaseKeepsTheLease() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        // 6,000 events in one fetch, released at once at the end of the stream (--once): one round of the loop.
        let count = 6000
        let messages = (0..<count).map { i in
            FeedMessage(
                sequence: UInt64(i + 1), payload: DetectIdleTests.record(Int64(i), host: "mx1", i % 50),
                pending: UInt64(count - 1 - i))
        }
        let key = MemoryKey()
        let lease = Self.lease(key, "a", seconds: 3)
        #expect(lease.tryAcquire(now: 0) == .held)
        var options = DetectOptions()
        options.stateDirectory = state
        options.once = true
        let run = try DetectRun(
            configuration: Configuration(), options: options, feed: DetectIdleTests.OneFetchFeed(messages: messages),
            publisher: DetectIdleTests.AcceptingPublisher(), logger: Self.quiet)
        run.lease = lease
        // Each event the engine takes in costs 1 ms of the clock: the release takes 6 s, twice the lease. A
        // standby watches the key with the same clock and takes it once it saw one revision for the lease time.
        var seen: (revision: UInt64, since: Double) = (key.revision, 0)
        var stopChecks = 0
        let result = try run.run(
            now: {
                let clock = Double(run.engine.counters.events) / 1000
                if key.revision != seen.revision {
                    seen = (key.revision, clock)
                } else if clock - seen.since >= lease.seconds {
                    key.revision += 1  // the standby's update
                    key.value = "b"
                }
                return clock
            },
            shouldStop: {
                // The bound: a run that loops without ending fails here instead of hanging.
                stopChecks += 1
                return stopChecks > 10_000
            })
        #expect(stopChecks <= 10_000, "the run did not end within 10,000 rounds")
        #expect(result == .stopped, "the holder kept its lease through the release (a takeover ends in leaseLost)")
        #expect(key.value == "a")
        #expect(run.engine.counters.events == count)
        #expect(run.totals.checkpoints >= 1)
        #expect(key.revision >= 6, "renewed about once a second of the release: \(key.revision)")
    }

    /// Runs a worker holding `lease` on `messages` until another writer takes `key` at its fourth step; the
    /// checkpoints it had written then. The run (and its state directory lock) ends with the call.
    static func runUntilLeaseTaken(
        options: DetectOptions, messages: [FeedMessage], lease: WorkerLease, key: MemoryKey
    ) throws -> Int {
        let run = try DetectRun(
            configuration: Configuration(), options: options, feed: OneByOneFeed(messages: messages),
            publisher: DetectIdleTests.AcceptingPublisher(), logger: quiet)
        run.lease = lease
        var clock = 0.0
        var checkpointsBefore = -1
        let result = try run.run(
            now: { clock },
            shouldStop: {
                clock += 1
                if clock == 4 {
                    // A standby takes over: the next revision-checked write of the holder is refused.
                    checkpointsBefore = run.totals.checkpoints
                    key.revision += 1
                    key.value = "b"
                }
                return clock > 20
            })
        #expect(result == .leaseLost)
        #expect(checkpointsBefore >= 1, "checkpoints were written while the lease was held")
        #expect(run.totals.checkpoints == checkpointsBefore, "no checkpoint after the lease was taken")
        #expect(run.totals.events < 6, "the run stopped consuming")
        #expect(run.metrics.snapshot.lease?.held == false)
        #expect(run.metrics.snapshot.lease?.changes == 2)
        return checkpointsBefore
    }

    @Test("NATSLeaseStore: create once, updates checked against the latest revision, on a real nats-server")
    func natsKeyValue() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try DetectTests.shared.get()
        let store = NATSLeaseStore(url: server.url, bucket: "LEASE_TEST", key: "worker")
        #expect(store.read() == .missing)
        guard case .written(let first) = store.create("a") else {
            Issue.record("create failed")
            return
        }
        guard case .conflict = store.create("b") else {
            Issue.record("a second create succeeded")
            return
        }
        #expect(store.read() == .entry(revision: first, value: "a"))
        guard case .written(let second) = store.update("b", last: first) else {
            Issue.record("update with the latest revision failed")
            return
        }
        #expect(second > first)
        guard case .conflict = store.update("c", last: first) else {
            Issue.record("an update with a stale revision succeeded")
            return
        }
        // A second client sees the same key.
        let other = NATSLeaseStore(url: server.url, bucket: "LEASE_TEST", key: "worker")
        #expect(other.read() == .entry(revision: second, value: "b"))
        #expect(NATSLeaseStore(url: "nats://127.0.0.1:1", bucket: "LEASE_TEST", key: "worker").read() != .missing)
    }
}
