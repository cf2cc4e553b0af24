import Foundation
import Logging
import SendWatchCore
import SendWatchPipeline
import Testing

/// ``ForwardRun``'s publish fence on a scripted clock (no broker): a partition whose lease store has been
/// unreachable for ``WorkerLease/publishSeconds`` is forwarded no further until a renewal succeeds, while the
/// other partitions go on; nothing is lost (repeats dropped by id, as the server does).
///
/// The clock is ``DetectRunLeaseTests/Script``'s: it moves with every publish (the target below), every call of
/// partition 0's lease store while cut off and every pause of the run. Every run is bounded: past
/// ``DetectRunLeaseTests/Script/limitSeconds`` of the clock or its step cap the run is asked to stop, any further
/// publish refused, and the test fails instead of hanging.
@Suite
struct ForwardRunLeaseTests {
    /// The forwarded stream: what was published, when, and how old partition 0's last renewal was then; repeated
    /// ids are dropped (the server's duplicate window) and counted.
    final class Stream {
        var calls: [(partition: Int, id: String, at: Double, sinceRenewal: Double, standbyHeld: Bool)] = []
        var ids: Set<String> = []
        var duplicates = 0
        var watermarks: [Int: UInt64] = [:]
    }

    /// A ``ForwardTarget`` on a ``Stream``: a window takes ``secondsPerWindow``, a watermark ``secondsPerCall``.
    struct ScriptedTarget: ForwardTarget {
        let stream: Stream
        let script: DetectRunLeaseTests.Script
        var secondsPerWindow = 0.25
        var secondsPerCall = 0.05

        private func record(_ body: [UInt8], partition: Int, messageID: String) -> PublishOutcome {
            stream.calls.append(
                (partition, messageID, script.clock, script.clock - script.lastWriteAt, script.standby?.held ?? false))
            if script.overrun { return .refused("the test's bound was reached") }
            guard stream.ids.insert(messageID).inserted else {
                stream.duplicates += 1
                return .acknowledged(duplicate: true)
            }
            if body.first == UInt8(ascii: "W"), let w = UInt64(String(decoding: body.dropFirst(), as: UTF8.self)) {
                stream.watermarks[partition] = w
            }
            return .acknowledged(duplicate: false)
        }

        mutating func publish(_ body: [UInt8], partition: Int, messageID: String) -> PublishOutcome {
            let outcome = record(body, partition: partition, messageID: messageID)
            script.advance(secondsPerCall)
            return outcome
        }

        mutating func publish(_ messages: [(body: [UInt8], messageID: String)], partition: Int) -> [PublishOutcome] {
            let outcomes = messages.map { record($0.body, partition: partition, messageID: $0.messageID) }
            script.advance(secondsPerWindow)
            return outcomes
        }

        mutating func lastWatermark(partition: Int) -> WatermarkRead { .sequence(stream.watermarks[partition] ?? 0) }
    }

    /// An events stream of `2 * perPartition` messages over two partitions: sequence `s` is in partition
    /// `(s - 1) % 2`.
    struct TwoPartitions: ForwardSource {
        let perPartition: UInt64
        mutating func lastSequence() -> UInt64? { 2 * perPartition }
        mutating func lastSequence(inPartition partition: Int) -> UInt64? {
            2 * perPartition - 1 + UInt64(partition)
        }
        mutating func messagesPerPartition() -> [Int: UInt64]? { nil }
    }

    /// Partition `partition`'s consumer on ``TwoPartitions``: up to `maxMessages` messages after its position.
    struct PartitionFeed: StreamFeed {
        let partition: Int
        let perPartition: UInt64
        var position: UInt64 = 0
        let streamName = "EVENTS"
        let redeliveries = 0
        mutating func resume(after sequence: UInt64) { position = sequence }
        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            let last = 2 * perPartition - 1 + UInt64(partition)
            var messages: [FeedMessage] = []
            var s = position + 1
            while s <= last && messages.count < maxMessages {
                if Int((s - 1) % 2) == partition {
                    messages.append(FeedMessage(sequence: s, payload: Array("{}".utf8), pending: 0))
                }
                s += 1
            }
            if let m = messages.last { position = m.sequence }
            return .messages(messages)
        }
        mutating func acknowledgeFetched() -> Bool { true }
    }

    /// A worker `a` over ``TwoPartitions`` whose partition 0's lease (3 s, on `key0`) goes through the script's
    /// store and whose partition 1's (on `key1`) is always reachable.
    static func run(
        script: DetectRunLeaseTests.Script, key0: WorkerLeaseTests.MemoryKey, key1: WorkerLeaseTests.MemoryKey,
        stream: Stream, batch: Int, perPartition: UInt64, secondsPerWindow: Double
    ) -> ForwardRun<PartitionFeed, ScriptedTarget, TwoPartitions> {
        var options = ForwardOptions()
        options.partitions = 2
        options.fetching.batch = batch
        return ForwardRun(
            options: options,
            members: WorkerMembers(store: WorkerLeaseTests.MemoryStore(key: .init()), id: "a", seconds: 10),
            lease: { p in
                let store: any LeaseStore =
                    p == 0
                    ? DetectRunLeaseTests.ScriptedStore(store: WorkerLeaseTests.MemoryStore(key: key0), script: script)
                    : WorkerLeaseTests.MemoryStore(key: key1)
                return WorkerLease(store: store, holder: "a", seconds: 3, logger: WorkerLeaseTests.quiet)
            },
            feed: { p in PartitionFeed(partition: p, perPartition: perPartition) },
            target: ScriptedTarget(stream: stream, script: script, secondsPerWindow: secondsPerWindow),
            source: TwoPartitions(perPartition: perPartition), clock: script.now, wait: script.wait,
            logger: WorkerLeaseTests.quiet)
    }

    /// When partition 0's lease store cannot be reached: from 0.5 s to 8 s of the clock (a 3 s lease: renewed every
    /// second, no forwarding once the last renewal is 2 s old); partition 1's and the forwarded stream can.
    static let cutOff = 0.5..<8.0

    /// A script (bounded by 120 s of its clock; each attempt on the cut-off store 0.25 s) whose holder's store is
    /// cut off during ``cutOff``, and partition 0's and 1's keys.
    static func cutOffScript() -> (DetectRunLeaseTests.Script, WorkerLeaseTests.MemoryKey, WorkerLeaseTests.MemoryKey) {
        let script = DetectRunLeaseTests.Script()
        script.limitSeconds = 120
        script.secondsPerStoreCall = 0.25
        script.holderReachesStore = { !cutOff.contains($0) }
        return (script, WorkerLeaseTests.MemoryKey(), WorkerLeaseTests.MemoryKey())
    }

    @Test(
        "A partition cut off from its lease store forwards nothing after two thirds of the lease until it is back; the other goes on",
        arguments: [(batch: 2, perPartition: 40, secondsPerWindow: 0.25), (1000, 700, 0.9)])
    func lapsedPartitionPauses(batch: Int, perPartition: Int, secondsPerWindow: Double) throws {
        let (script, key0, key1) = Self.cutOffScript()
        var writesAtStart: Int?
        var writesAtEnd: Int?
        script.onTime = { t in
            if Self.cutOff.contains(t) && writesAtStart == nil { writesAtStart = key0.writes }
            if t >= Self.cutOff.upperBound && writesAtEnd == nil { writesAtEnd = key0.writes }
        }
        let stream = Stream()
        let n = UInt64(perPartition)
        let run = Self.run(
            script: script, key0: key0, key1: key1, stream: stream, batch: batch, perPartition: n,
            secondsPerWindow: secondsPerWindow)
        // The metrics (updated once per round) show partition 0 paused only after its lapse began and before the
        // store answers again (a round late at most), and partition 1 never.
        var pausedSeen: [(at: Double, p0: Bool, p1: Bool)] = []
        let countWrites = script.onTime
        script.onTime = { t in
            countWrites(t)
            let figures = run.metrics.snapshot.partitions
            if figures.count == 2 { pausedSeen.append((t, figures[0].paused, figures[1].paused)) }
        }
        try run.run {
            script.shouldStop() || (stream.watermarks[0] == 2 * n && stream.watermarks[1] == 2 * n)
        }
        #expect(!script.overrun, "the run did not end within \(script.limitSeconds) s of the clock")
        #expect(pausedSeen.contains { $0.p0 }, "partition 0's paused gauge was never 1")
        #expect(
            pausedSeen.allSatisfy { !$0.p0 || (2.0..<9.0).contains($0.at) },
            "paused outside the lapse: \(pausedSeen.filter(\.p0).map(\.at))")
        #expect(pausedSeen.allSatisfy { !$0.p1 }, "partition 1 was never cut off")
        let final = run.metrics.snapshot
        #expect(final.pauses == 1 && !final.partitions[0].paused)
        let publishSeconds = 2.0
        let p0 = stream.calls.filter { $0.partition == 0 }
        let p1 = stream.calls.filter { $0.partition == 1 }
        // The fence: no publish of partition 0 starts once its last renewal is two thirds of the lease old.
        #expect(
            p0.allSatisfy { $0.sinceRenewal < publishSeconds },
            "partition 0 published \(p0.map(\.sinceRenewal).max() ?? 0) s after its last renewal")
        #expect(!p0.contains { (publishSeconds..<Self.cutOff.upperBound).contains($0.at) })
        #expect(p0.contains { $0.at < Self.cutOff.lowerBound + publishSeconds }, "forwarded before the lapse")
        #expect(p0.contains { $0.at >= Self.cutOff.upperBound }, "forwarded again once the store answered")
        // The other partition went on meanwhile.
        #expect(p1.contains { (publishSeconds..<Self.cutOff.upperBound).contains($0.at) })
        // No loss: every event of both partitions forwarded, both watermarks at the stream's end.
        #expect(stream.ids.filter { $0.hasPrefix("fe-") }.count == 2 * perPartition)
        #expect(stream.watermarks == [0: 2 * n, 1: 2 * n])
        if batch > 256 {
            // A fetch cut short by the fence is read again after the last watermark: its first windows repeated.
            #expect(stream.duplicates >= 256)
        }
        // Paused, not spinning: at most one attempt on partition 0's store per poll interval (0.75 s) while cut
        // off, and the run's pauses at most that interval (the script checks each wait).
        let writes = try #require(writesAtEnd) - (try #require(writesAtStart))
        #expect(writes >= 5 && writes <= 11, "\(writes) writes tried while cut off")
        #expect(key0.value == "released" && key1.value == "released")
    }

    @Test("A partition another worker took while this one was cut off from its store is dropped when the store answers")
    func refusedRenewalDropsThePartition() throws {
        let (script, key0, key1) = Self.cutOffScript()
        script.stopAt = 14
        // Once a holds partition 0, worker b watches its key whenever the clock moves, takes it once it is not
        // renewed for the lease time (about 3 s) and renews it from then on.
        let b = WorkerLeaseTests.lease(key0, "b", seconds: 3)
        script.onTime = { [unowned script] t in
            if script.standby == nil && key0.value == "a" { script.standby = b }
            if b.held { _ = b.renew(now: t) }
        }
        let stream = Stream()
        let run = Self.run(
            script: script, key0: key0, key1: key1, stream: stream, batch: 2, perPartition: 40, secondsPerWindow: 0.25)
        try run.run { script.shouldStop() }
        #expect(!script.overrun, "the run did not end within \(script.limitSeconds) s of the clock")
        let p0 = stream.calls.filter { $0.partition == 0 }
        #expect(b.held && key0.value == "b", "b took partition 0 and a wrote nothing over it")
        #expect(!p0.isEmpty && p0.allSatisfy { $0.sinceRenewal < 2.0 && !$0.standbyHeld })
        #expect(!p0.contains { $0.at >= 2.0 }, "nothing of partition 0 forwarded after the pause began")
        // Partition 1 was forwarded to its end; a's clean stop released it.
        #expect(stream.ids.filter { $0.hasPrefix("fe-") && UInt64($0.dropFirst(3))! % 2 == 0 }.count == 40)
        #expect(stream.watermarks[1] == 80 && key1.value == "released")
    }
}
