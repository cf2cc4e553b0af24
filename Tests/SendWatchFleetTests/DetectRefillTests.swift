import Foundation
import Logging
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline
import Testing

/// The detect checkpoint keeps of the merge only where each host's held events start in the stream; a restart
/// reads them again (a scripted stream that honours the resume point, no broker).
@Suite
struct DetectRefillTests {
    /// A stream that resumes after the sequence it is told and delivers `batch` messages per fetch.
    struct ResumableFeed: StreamFeed {
        var messages: [FeedMessage]
        var batch: Int
        var next = 0
        let streamName = "TEST"
        let redeliveries = 0

        mutating func resume(after sequence: UInt64) {
            next = messages.firstIndex { $0.sequence > sequence } ?? messages.count
        }

        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            let end = min(messages.count, next + batch)
            defer { next = end }
            return .messages(Array(messages[next..<end]))
        }

        mutating func acknowledgeFetched() -> Bool { true }
    }

    /// mx2's one event at 0 s, then `held` events of mx1 from 10 s on (all held: mx2's next event is not known),
    /// then, with `mx2Again`, mx2's second event: sequences 1, 2 … held + 1 (held + 2).
    static func stream(held: Int, mx2Again: Bool = false) -> [FeedMessage] {
        var payloads = [DetectIdleTests.record(0, host: "mx2", 0)]
        payloads += (0..<held).map { DetectIdleTests.record(Int64(10 + $0), host: "mx1", $0 + 1) }
        if mx2Again { payloads.append(DetectIdleTests.record(Int64(held + 100), host: "mx2", held + 1)) }
        return DetectIdleTests.messages(payloads)
    }

    static func worker(
        _ messages: [FeedMessage], batch: Int, state: String?, once: Bool = false,
        stateStore: ChunkedCheckpointStore? = nil
    ) throws -> DetectRun<ResumableFeed, DetectIdleTests.AcceptingPublisher> {
        var options = DetectOptions()
        options.stateDirectory = state
        options.expectedHosts = 2
        options.checkpointIntervalSeconds = 3600
        options.once = once
        return try DetectRun(
            configuration: Configuration(), options: options, feed: ResumableFeed(messages: messages, batch: batch),
            publisher: DetectIdleTests.AcceptingPublisher(), stateStore: stateStore,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "/sendwatch-refill-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Reads the whole stream, then stops (the stop writes the checkpoint); returns the checkpoint's size.
    static func checkpointSize(held: Int, state: String) throws -> Int {
        let messages = stream(held: held)
        let run = try worker(messages, batch: messages.count, state: state)
        var fetches = 0
        try run.run(shouldStop: {
            fetches += 1
            return fetches > 3
        })
        #expect(run.merge.buffered == held)
        #expect(run.engine.counters.events == 1, "mx2's first event went")
        let size = try FileManager.default.attributesOfItem(atPath: state + "/detect-checkpoint")[.size] as? Int
        return size ?? 0
    }

    @Test("The checkpoint does not grow with the events the merge holds")
    func checkpointSizeIndependentOfHeldEvents() throws {
        let (few, many) = (Self.temporaryDirectory(), Self.temporaryDirectory())
        defer {
            try? FileManager.default.removeItem(atPath: few)
            try? FileManager.default.removeItem(atPath: many)
        }
        let small = try Self.checkpointSize(held: 10, state: few)
        let large = try Self.checkpointSize(held: 2000, state: many)
        // Before, each held event was in it as its JSON record (about 150 bytes each here: 300 KB more).
        #expect(large - small < 200, "checkpoint of 10 held events: \(small) bytes; of 2000: \(large) bytes")
    }

    @Test("A restart reads the held events again from the stream, then goes on as an uninterrupted run")
    func restartRefillsTheMerge() throws {
        let state = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let held = 300
        _ = try Self.checkpointSize(held: held, state: state)
        // The restart: the stream has grown by mx2's second event; fetches of 100 messages.
        let messages = Self.stream(held: held, mx2Again: true)
        let run = try Self.worker(messages, batch: 100, state: state, once: true)
        #expect(run.restoredFromCheckpoint)
        #expect(run.merge.buffered == 0, "nothing held before the stream is read again")
        var heldBeforeNewEvents: [Int] = []
        var fetches = 0
        let end = try run.run(shouldStop: {
            fetches += 1
            heldBeforeNewEvents.append(run.merge.buffered)
            return fetches > 20
        })
        #expect(end == .stopped)
        // mx2's event 1 was released before the checkpoint; mx1's 300 come back over three fetches.
        #expect(heldBeforeNewEvents.prefix(4) == [0, 100, 200, 300])
        #expect(run.totals.events == held + 2, "events read again are not counted twice")
        #expect(run.engine.counters.events == held + 2, "every event processed once")
        #expect(run.engine.counters.lateEvents == 0)
        #expect(run.merge.buffered == 0)
    }

    @Test("Held events the stream no longer has (its limits removed them) are skipped, the rest refilled")
    func refillWithoutRemovedMessages() throws {
        let state = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        _ = try Self.checkpointSize(held: 50, state: state)
        // The stream's oldest 11 messages (mx2's first event and mx1's first ten) are gone.
        let messages = Array(Self.stream(held: 50).dropFirst(11))
        let run = try Self.worker(messages, batch: 512, state: state)
        var fetches = 0
        try run.run(shouldStop: {
            fetches += 1
            return fetches > 3
        })
        #expect(run.merge.buffered == 40)
        #expect(run.totals.events == 51)
    }

    @Test("The checkpoint interval stretches to 20 times the last checkpoint's duration")
    func intervalStretchesWithCheckpointDuration() throws {
        let state = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        // One message per fetch, a clock that moves 1 s at every reading: each checkpoint seems to take 1 s, so
        // the next is due 20 s later, not at the 1 s interval (which every fetch would reach).
        let messages = DetectIdleTests.messages((0..<60).map { DetectIdleTests.record(Int64($0), host: "mx1", $0) })
        var options = DetectOptions()
        options.stateDirectory = state
        options.checkpointIntervalSeconds = 1
        let run = try DetectRun(
            configuration: Configuration(), options: options, feed: ResumableFeed(messages: messages, batch: 1),
            publisher: DetectIdleTests.AcceptingPublisher(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        var clock = 0.0
        var fetches = 0
        try run.run(
            now: {
                clock += 1
                return clock
            },
            shouldStop: {
                fetches += 1
                return fetches > 60
            })
        #expect(run.totals.events == 60)
        // Before: a checkpoint after every fetch (61).
        #expect(run.totals.checkpoints <= 8, "\(run.totals.checkpoints) checkpoints")
    }
}
