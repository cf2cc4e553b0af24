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
        var calls: [(partition: Int, id: String, at: Double, sinceRenewal: Double)] = []
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
            stream.calls.append((partition, messageID, script.clock, script.clock - script.lastWriteAt))
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

    @Test(
        "A partition cut off from its lease store forwards nothing after two thirds of the lease until it is back; the other goes on",
        arguments: [(batch: 2, perPartition: 40, secondsPerWindow: 0.25), (1000, 700, 0.9)])
    func lapsedPartitionPauses(batch: Int, perPartition: Int, secondsPerWindow: Double) throws {
        let script = DetectRunLeaseTests.Script()
        script.limitSeconds = 120
        script.secondsPerStoreCall = 0.25
        // Partition 0's lease store cannot be reached from 0.5 s to 8 s of the clock (a 3 s lease: renewed every
        // second, no forwarding once the last renewal is 2 s old); partition 1's and the forwarded stream can.
        let cutOff = 0.5..<8.0
        script.holderReachesStore = { !cutOff.contains($0) }
        let key0 = WorkerLeaseTests.MemoryKey()
        let key1 = WorkerLeaseTests.MemoryKey()
        var writesAtStart: Int?
        var writesAtEnd: Int?
        script.onTime = { t in
            if cutOff.contains(t) && writesAtStart == nil { writesAtStart = key0.writes }
            if t >= cutOff.upperBound && writesAtEnd == nil { writesAtEnd = key0.writes }
        }
        let stream = Stream()
        var options = ForwardOptions()
        options.partitions = 2
        options.fetching.batch = batch
        let n = UInt64(perPartition)
        let run = ForwardRun(
            options: options,
            members: WorkerMembers(store: WorkerLeaseTests.MemoryStore(key: .init()), id: "a", seconds: 10),
            lease: { p in
                let store: any LeaseStore =
                    p == 0
                    ? DetectRunLeaseTests.ScriptedStore(store: WorkerLeaseTests.MemoryStore(key: key0), script: script)
                    : WorkerLeaseTests.MemoryStore(key: key1)
                return WorkerLease(store: store, holder: "a", seconds: 3, logger: WorkerLeaseTests.quiet)
            },
            feed: { p in PartitionFeed(partition: p, perPartition: n) },
            target: ScriptedTarget(stream: stream, script: script, secondsPerWindow: secondsPerWindow),
            source: TwoPartitions(perPartition: n), clock: script.now, wait: script.wait,
            logger: WorkerLeaseTests.quiet)
        try run.run {
            script.shouldStop() || (stream.watermarks[0] == 2 * n && stream.watermarks[1] == 2 * n)
        }
        #expect(!script.overrun, "the run did not end within \(script.limitSeconds) s of the clock")
        let publishSeconds = 2.0
        let p0 = stream.calls.filter { $0.partition == 0 }
        let p1 = stream.calls.filter { $0.partition == 1 }
        // The fence: no publish of partition 0 starts once its last renewal is two thirds of the lease old.
        #expect(
            p0.allSatisfy { $0.sinceRenewal < publishSeconds },
            "partition 0 published \(p0.map(\.sinceRenewal).max() ?? 0) s after its last renewal")
        #expect(!p0.contains { (publishSeconds..<cutOff.upperBound).contains($0.at) })
        #expect(p0.contains { $0.at < cutOff.lowerBound + publishSeconds }, "forwarded before the lapse")
        #expect(p0.contains { $0.at >= cutOff.upperBound }, "forwarded again once the store answered")
        // The other partition went on meanwhile.
        #expect(p1.contains { (publishSeconds..<cutOff.upperBound).contains($0.at) })
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
}
