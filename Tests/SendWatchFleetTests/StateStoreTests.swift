import Foundation
import Logging
import SendWatchCore
import SendWatchFleet
import SendWatchPipeline
import SendWatchTesting
import Testing

/// `detect`'s checkpoints in JetStream (``ChunkedCheckpointStore`` on ``NATSStateMessages``) against a real
/// nats-server: the suite shares ``JetStreamClientTests``' server; each test its own stream.
@Suite(.serialized)
struct StateStoreTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A store of the consumer `worker` in the stream `stream`.
    static func store(_ url: String, stream: String, holder: String, maxChunks: Int = 2048) -> ChunkedCheckpointStore {
        ChunkedCheckpointStore(
            messages: NATSStateMessages(url: url, stream: stream), streamName: stream,
            root: NATSStateMessages.subjectRoot(stream: stream) + ".worker", holder: holder, maxChunks: maxChunks,
            logger: logger)
    }

    /// `count` bytes that differ from piece to piece (so a piece in the wrong place fails its check).
    static func body(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Commits `body` (the format `detect` writes), expecting it to be committed.
    static func commit(_ store: ChunkedCheckpointStore, _ body: [UInt8], sequence: UInt64) throws {
        let outcome = try store.commit(
            body: body, format: ChunkedCheckpointStore.stateFormat, lastSequence: sequence, alertRecords: 7)
        #expect(outcome == .committed)
    }

    /// What a fresh writer's claim reads back.
    static func claimed(_ store: ChunkedCheckpointStore) throws -> StoredCheckpoint? {
        guard case .claimed(let stored) = try store.claim() else {
            Issue.record("the claim did not succeed")
            return nil
        }
        return stored
    }

    @Test("A checkpoint of several pieces reads back whole; older generations are removed after a commit")
    func largeCheckpointRoundTrip() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        // 5.5 pieces: the last one partial.
        let first = Self.body(ChunkedCheckpointStore.chunkBytes * 11 / 2, seed: 1)
        let writer = Self.store(server.url, stream: "STATE_ROUND", holder: "a")
        #expect(try Self.claimed(writer) == nil, "an empty store has no checkpoint")
        try Self.commit(writer, first, sequence: 41)
        let second = Self.body(ChunkedCheckpointStore.chunkBytes * 3 + 5, seed: 2)
        try Self.commit(writer, second, sequence: 42)
        // The first generation's 6 pieces are gone: the second's 4 and the manifest remain.
        #expect(try JetStreamClient(url: server.url).streamState("STATE_ROUND").messages == 5)
        let reader = Self.store(server.url, stream: "STATE_ROUND", holder: "b")
        let stored = try #require(try Self.claimed(reader))
        #expect(stored.body == second)
        #expect(stored.lastSequence == 42)
        #expect(stored.format == ChunkedCheckpointStore.stateFormat)
    }

    @Test("Pieces written without their manifest (a torn write) leave the previous checkpoint readable")
    func tornWriteKeepsThePreviousCheckpoint() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        let committed = Self.body(ChunkedCheckpointStore.chunkBytes * 2 + 100, seed: 3)
        let writer = Self.store(server.url, stream: "STATE_TORN", holder: "a")
        _ = try writer.claim()
        try Self.commit(writer, committed, sequence: 10)
        // The next commit's pieces reach the stream, its manifest does not (the writer dies, or the broker goes).
        let cut = ChunkedCheckpointStore(
            messages: ManifestCut(real: NATSStateMessages(url: server.url, stream: "STATE_TORN")),
            streamName: "STATE_TORN", root: writer.root, holder: "a", logger: Self.logger)
        _ = try cut.claim()
        let torn = try cut.commit(
            body: Self.body(ChunkedCheckpointStore.chunkBytes * 3, seed: 4), format: ChunkedCheckpointStore.stateFormat,
            lastSequence: 20,
            alertRecords: 9)
        guard case .unavailable = torn else { Issue.record("the cut manifest was written: \(torn)"); return }
        #expect(try JetStreamClient(url: server.url).streamState("STATE_TORN").messages == 3 + 3 + 1)
        let next = Self.store(server.url, stream: "STATE_TORN", holder: "b")
        let stored = try #require(try Self.claimed(next))
        #expect(stored.body == committed)
        #expect(stored.lastSequence == 10)
        // The next commit removes the orphan pieces too.
        try Self.commit(next, committed, sequence: 11)
        #expect(try JetStreamClient(url: server.url).streamState("STATE_TORN").messages == 3 + 1)
    }

    @Test("A writer whose store another writer claimed is refused, and cannot spoil the new writer's checkpoint")
    func writerWithoutTheLeaseIsRefused() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        let old = Self.store(server.url, stream: "STATE_FENCE", holder: "old")
        _ = try old.claim()
        let before = Self.body(ChunkedCheckpointStore.chunkBytes + 1, seed: 5)
        try Self.commit(old, before, sequence: 100)
        // A standby takes the lease over (the old holder paused longer than the lease) and claims the store.
        let new = Self.store(server.url, stream: "STATE_FENCE", holder: "new")
        #expect(try Self.claimed(new)?.body == before)
        // The old holder wakes up and writes: refused by the server, not by a check of its own.
        let late = try old.commit(
            body: Self.body(ChunkedCheckpointStore.chunkBytes * 2, seed: 6), format: ChunkedCheckpointStore.stateFormat,
            lastSequence: 150,
            alertRecords: 1)
        guard case .fenced = late else { Issue.record("the old holder's commit was not refused: \(late)"); return }
        #expect(try Self.claimed(Self.store(server.url, stream: "STATE_FENCE", holder: "check"))?.lastSequence == 100)
        // The new holder's writes go on (its claim was taken by the check above: claim again, as a new tenure does).
        _ = try new.claim()
        let after = Self.body(ChunkedCheckpointStore.chunkBytes / 2, seed: 7)
        try Self.commit(new, after, sequence: 200)
        let last = try #require(try Self.claimed(Self.store(server.url, stream: "STATE_FENCE", holder: "reader")))
        #expect(last.body == after)
        #expect(last.lastSequence == 200)
    }

    @Test("A missing or damaged piece, a digest mismatch, another format and a too large checkpoint are clear errors")
    func damageIsReportedNotLoaded() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        let stream = "STATE_DAMAGE"
        let messages = NATSStateMessages(url: server.url, stream: stream)
        let body = Self.body(ChunkedCheckpointStore.chunkBytes * 2 + 3, seed: 8)
        let writer = Self.store(server.url, stream: stream, holder: "a")
        _ = try writer.claim()
        try Self.commit(writer, body, sequence: 5)
        let piece = writer.chunkSubject(tenure: writer.tenure, generation: 1, index: 1)
        guard case .message(_, let original) = messages.last(subject: piece) else {
            Issue.record("piece 1 is not stored"); return
        }

        func claimError() -> TailError? {
            do {
                _ = try Self.store(server.url, stream: stream, holder: "r").claim()
                return nil
            } catch {
                return error
            }
        }
        /// Rewrites the manifest with `field`'s number replaced.
        func editManifest(_ field: String, _ change: (UInt64) -> UInt64) throws {
            guard case .message(let sequence, let bytes) = messages.last(subject: writer.manifestSubject) else {
                Issue.record("no manifest"); return
            }
            var text = String(decoding: bytes, as: UTF8.self)
            let range = try #require(text.range(of: "\"\(field)\":[0-9]+", options: .regularExpression))
            let value = try #require(UInt64(text[range].split(separator: ":")[1]))
            text.replaceSubrange(range, with: "\"\(field)\":\(change(value))")
            let write = messages.publish(
                subject: writer.manifestSubject, body: Array(text.utf8), expectedLastSequence: sequence)
            guard case .written = write else { Issue.record("the edited manifest was not written: \(write)"); return }
        }

        // A piece whose bytes changed.
        var spoiled = original
        spoiled[100] ^= 0xFF
        _ = messages.publish(subject: piece, body: spoiled, expectedLastSequence: nil)
        var error = try #require(claimError())
        #expect(error.code == .checkpointDamaged)
        #expect(error.message.contains("piece 1 of 3") && error.message.contains("damaged"))
        #expect(error.message.contains("nats stream purge \(stream)"), "the message says how to start over")
        // A piece that is gone.
        let end = try JetStreamClient(url: server.url).streamState(stream).lastSequence + 1
        #expect(messages.purge(filter: piece, below: end))
        error = try #require(claimError())
        #expect(error.code == .checkpointDamaged && error.message.contains("piece 1 of 3 (\(piece)) is missing"))
        // Every piece intact, the body's digest not the manifest's.
        _ = messages.publish(subject: piece, body: original, expectedLastSequence: nil)
        try editManifest("body_crc32") { $0 ^ 1 }
        error = try #require(claimError())
        #expect(error.code == .checkpointDamaged && error.message.contains("digest mismatch"))
        try editManifest("body_crc32") { $0 ^ 1 }
        // Another state format.
        try editManifest("state_format") { $0 + 1 }
        error = try #require(claimError())
        #expect(
            error.code == .checkpointIncompatible
                && error.message.contains("state format \(ChunkedCheckpointStore.stateFormat + 1)"))
        try editManifest("state_format") { $0 - 1 }
        // A manifest that is not one.
        _ = messages.publish(subject: writer.manifestSubject, body: Array("{}".utf8), expectedLastSequence: nil)
        error = try #require(claimError())
        #expect(error.code == .checkpointDamaged && error.message.contains("does not parse"))
        // Larger than the store takes: refused before anything is written.
        let small = Self.store(server.url, stream: "STATE_SMALL", holder: "s", maxChunks: 2)
        _ = try small.claim()
        let messagesBefore = try JetStreamClient(url: server.url).streamState("STATE_SMALL").messages
        do {
            _ = try small.commit(
                body: body, format: ChunkedCheckpointStore.stateFormat, lastSequence: 1, alertRecords: 0)
            Issue.record("a checkpoint over the limit was written")
        } catch {
            #expect(error.code == .checkpointFailed && error.message.contains("more than the state store's limit"))
        }
        #expect(try JetStreamClient(url: server.url).streamState("STATE_SMALL").messages == messagesBefore)
    }

    @Test("A worker whose state store another worker claimed stops, gives up its lease, and its successor resumes")
    func runStopsWhenItsStoreIsClaimed() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        let messages = (0..<8).map { i in
            FeedMessage(
                sequence: UInt64(i + 1), payload: DetectIdleTests.record(Int64(i * 10), host: "mx1", i),
                pending: UInt64(7 - i))
        }
        // The lease never says lost: only the store refuses.
        let key = WorkerLeaseTests.MemoryKey()
        let lease = WorkerLeaseTests.lease(key, "a", seconds: 3)
        #expect(lease.tryAcquire(now: 0) == .held)
        var options = DetectOptions()
        options.checkpointIntervalSeconds = 0.5
        options.expectedHosts = 1
        let run = try DetectRun(
            configuration: Configuration(), options: options,
            feed: WorkerLeaseTests.OneByOneFeed(messages: messages), publisher: DetectIdleTests.AcceptingPublisher(),
            stateStore: Self.store(server.url, stream: "STATE_RUN", holder: "a"), logger: Self.logger)
        #expect(!run.restoredFromCheckpoint)
        run.lease = lease
        var clock = 0.0
        var sequenceAtClaim: UInt64 = 0
        var checkpointsAtClaim = -1
        let end = try run.run(
            now: { clock },
            shouldStop: {
                clock += 1
                if clock == 4 {
                    // Another worker claims the store (as after taking over a lease this one believes it holds).
                    sequenceAtClaim =
                        (try? Self.claimed(Self.store(server.url, stream: "STATE_RUN", holder: "b")))??
                        .lastSequence ?? 0
                    checkpointsAtClaim = run.totals.checkpoints
                }
                return clock > 20
            })
        #expect(end == .leaseLost)
        #expect(checkpointsAtClaim >= 1 && sequenceAtClaim >= 1, "checkpoints were committed before the claim")
        #expect(run.totals.checkpoints == checkpointsAtClaim, "none after it")
        #expect(!lease.held, "it gave up the lease")
        // The next worker resumes from the last checkpoint committed before the claim.
        let next = try DetectRun(
            configuration: Configuration(), options: options, feed: WorkerLeaseTests.OneByOneFeed(messages: []),
            publisher: DetectIdleTests.AcceptingPublisher(),
            stateStore: Self.store(server.url, stream: "STATE_RUN", holder: "c"), logger: Self.logger)
        #expect(next.restoredFromCheckpoint)
        #expect(next.lastSequence == sequenceAtClaim)
        #expect(next.totals.checkpoints == checkpointsAtClaim)
    }

    @Test("A worker moving from --state DIR to the state store takes over the file checkpoint once, then the store's")
    func fileCheckpointMovesIntoTheStore() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        let directory = DetectRefillTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A file worker read 21 events (mx1's 20 held) and checkpointed.
        _ = try DetectRefillTests.checkpointSize(held: 20, state: directory)
        let messages = DetectRefillTests.stream(held: 20, mx2Again: true)
        // The same worker with the state store (empty) and its --state: it resumes from the file.
        do {
            let moved = try DetectRefillTests.worker(
                messages, batch: 512, state: directory, once: true,
                stateStore: Self.store(server.url, stream: "STATE_IMPORT", holder: "a"))
            #expect(moved.restoredFromCheckpoint, "the file checkpoint was taken over")
            try moved.run(shouldStop: { false })
            #expect(moved.totals.events == 22, "the file's 21 events and the new one, none read twice")
        }  // its state directory's lock is released here
        // Its checkpoint is in the store now: a worker on another machine (no directory) resumes from it, and the
        // file (left as it was) is not read again although the directory is given.
        let standby = try DetectRefillTests.worker(
            messages, batch: 512, state: nil, stateStore: Self.store(server.url, stream: "STATE_IMPORT", holder: "b"))
        #expect(standby.restoredFromCheckpoint)
        #expect(standby.totals.events == 22)
        let again = try DetectRefillTests.worker(
            messages, batch: 512, state: directory,
            stateStore: Self.store(server.url, stream: "STATE_IMPORT", holder: "c"))
        #expect(again.totals.events == 22, "the store's checkpoint, not the file's (21 events)")
    }
}

/// A state stream whose manifest writes never arrive (the writer dies, or the broker goes, between the last
/// piece and the manifest); every other call goes to the real one.
final class ManifestCut: StateMessageStore {
    let real: NATSStateMessages
    init(real: NATSStateMessages) { self.real = real }
    private var claimed = false
    func last(subject: String) -> StateMessageRead { real.last(subject: subject) }
    func publish(subject: String, body: [UInt8], expectedLastSequence: UInt64?) -> StateMessageWrite {
        // The claim's manifest goes through; the commit's does not.
        if subject.hasSuffix(".manifest") {
            if claimed { return .unavailable("cut before the manifest") }
            claimed = true
        }
        return real.publish(subject: subject, body: body, expectedLastSequence: expectedLastSequence)
    }
    func purge(filter: String, below sequence: UInt64) -> Bool { real.purge(filter: filter, below: sequence) }
}
