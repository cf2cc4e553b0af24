import SendWatchCore
import SendWatchPipeline
import Testing

/// The second stage's merge of forwarded partitions back into events-stream order (``ForwardedFeed``) and the
/// share of partitions each live worker takes (``WorkerMembers``), scripted (no broker).
@Suite
struct ForwardedFeedTests {
    /// A forwarded stream delivering one scripted batch per fetch, then nothing.
    struct ScriptedFeed: StreamFeed {
        var batches: [[FeedMessage]]
        let streamName = "FORWARDED"
        let redeliveries = 0
        var resumedAfter: UInt64?

        mutating func resume(after sequence: UInt64) { resumedAfter = sequence }

        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            .messages(batches.isEmpty ? [] : batches.removeFirst())
        }

        mutating func acknowledgeFetched() -> Bool { true }
    }

    /// An events stream whose last sequence the test sets.
    struct ScriptedSource: ForwardSource {
        var last: UInt64
        mutating func lastSequence() -> UInt64? { last }
        mutating func messagesPerPartition() -> [Int: UInt64]? { nil }
        mutating func lastSequence(inPartition partition: Int) -> UInt64? { nil }
    }

    static func event(_ sequence: UInt64, partition: Int, pending: UInt64 = 1) -> FeedMessage {
        FeedMessage(
            sequence: 0,
            payload: ForwardedMessage.eventBody(sequence: sequence, record: Array("{\"n\":\(sequence)}".utf8)),
            pending: pending, partition: partition)
    }

    static func watermark(_ sequence: UInt64, partition: Int, pending: UInt64 = 1) -> FeedMessage {
        FeedMessage(
            sequence: 0, payload: ForwardedMessage.watermarkBody(sequence), pending: pending, partition: partition)
    }

    static func sequences(_ fetch: FeedFetch) -> [UInt64] {
        guard case .messages(let m) = fetch else { return [] }
        return m.map(\.sequence)
    }

    @Test("Events of two partitions come out in events-stream order, each once their turn is certain")
    func mergesPartitionsBySourceSequence() {
        var feed = ForwardedFeed(
            inner: ScriptedFeed(batches: [
                // Partition 1 forwarded 2 and 5 (watermark 6) before partition 0 forwarded anything.
                [Self.event(2, partition: 1), Self.event(5, partition: 1), Self.watermark(6, partition: 1)],
                [Self.event(1, partition: 0), Self.event(3, partition: 0), Self.watermark(4, partition: 0)],
                [
                    Self.event(3, partition: 0), Self.event(8, partition: 0),
                    Self.watermark(9, partition: 0, pending: 0),
                ],
                [Self.watermark(9, partition: 1, pending: 0)],
            ]), source: ScriptedSource(last: 9), partitions: 2)
        feed.resume(after: 0)
        // Partition 0 has no watermark yet: nothing may go.
        #expect(Self.sequences(feed.fetch(maxMessages: 10, timeoutMilliseconds: 0)) == [])
        // Watermarks 4 and 6: up to 5 is certain (no event before 5 can come from either).
        #expect(Self.sequences(feed.fetch(maxMessages: 10, timeoutMilliseconds: 0)) == [1, 2, 3, 5])
        // The repeated 3 (a forwarder that took the partition over) is skipped; 8 waits for partition 1 (whose
        // watermark, 6, leaves 7 open).
        #expect(Self.sequences(feed.fetch(maxMessages: 10, timeoutMilliseconds: 0)) == [])
        #expect(feed.pendingNow() == 1 + 3)  // 8 held, events stream 7...9 past the lowest watermark (6)
        guard case .messages(let last) = feed.fetch(maxMessages: 10, timeoutMilliseconds: 0) else {
            Issue.record("no messages")
            return
        }
        #expect(last.map(\.sequence) == [8])
        #expect(last.map(\.partition) == [0])
        #expect(last.last?.pending == 0)
        #expect(last.first.map { String(decoding: $0.payload, as: UTF8.self) } == "{\"n\":8}")
        #expect(feed.pendingNow() == 0)
    }

    @Test("An event's account creation time goes with it, in its turn")
    func annotationTravels() {
        let created = EventTime(seconds: 1_767_323_045)
        var annotated = Self.event(1, partition: 0)
        annotated.payload = ForwardedMessage.eventBody(sequence: 1, record: Array("{}".utf8), created: created)
        var feed = ForwardedFeed(
            inner: ScriptedFeed(batches: [
                [Self.event(2, partition: 1), annotated, Self.watermark(2, partition: 0, pending: 0)],
                [Self.watermark(2, partition: 1, pending: 0)],
            ]), source: ScriptedSource(last: 2), partitions: 2)
        feed.resume(after: 0)
        #expect(Self.sequences(feed.fetch(maxMessages: 10, timeoutMilliseconds: 0)) == [1])
        guard case .messages(let second) = feed.fetch(maxMessages: 10, timeoutMilliseconds: 0) else {
            Issue.record("no messages")
            return
        }
        #expect(second.map(\.sequence) == [2])
        #expect(second.first?.accountCreated == nil)
        var again = ForwardedFeed(
            inner: ScriptedFeed(batches: [[annotated, Self.watermark(1, partition: 0, pending: 0)]]),
            source: ScriptedSource(last: 1), partitions: 1)
        again.resume(after: 0)
        guard case .messages(let first) = again.fetch(maxMessages: 10, timeoutMilliseconds: 0) else {
            Issue.record("no messages")
            return
        }
        #expect(first.map(\.accountCreated) == [created])
        #expect(first.first.map { String(decoding: $0.payload, as: UTF8.self) } == "{}")
    }

    @Test("A resume reads the forwarded stream again from its start and skips what was delivered")
    func resumeSkipsDelivered() {
        var feed = ForwardedFeed(
            inner: ScriptedFeed(batches: [
                [Self.event(1, partition: 0), Self.event(2, partition: 0), Self.watermark(2, partition: 0, pending: 0)]
            ]), source: ScriptedSource(last: 2), partitions: 1)
        feed.resume(after: 1)
        #expect(feed.inner.resumedAfter == 0)
        #expect(Self.sequences(feed.fetch(maxMessages: 10, timeoutMilliseconds: 0)) == [2])
    }

    @Test("Bodies decode; anything else is no forwarded message")
    func bodies() {
        #expect(ForwardedMessage(ForwardedMessage.watermarkBody(42)) == .watermark(42))
        let body = ForwardedMessage.eventBody(sequence: 7, record: Array("{}".utf8))
        #expect(ForwardedMessage(body) == .event(sequence: 7, record: Array("{}".utf8)[...], created: nil))
        for micros: Int64 in [1_767_323_045_000_000, 0, -5_000_000] {
            let annotated = ForwardedMessage.eventBody(
                sequence: 8, record: Array("{}".utf8), created: EventTime(microseconds: micros))
            #expect(String(decoding: annotated.prefix(while: { $0 != 10 }), as: UTF8.self) == "E8 C\(micros)")
            #expect(
                ForwardedMessage(annotated)
                    == .event(sequence: 8, record: Array("{}".utf8)[...], created: EventTime(microseconds: micros)))
        }
        for bad in [
            "", "W", "E7", "E7{}", "W12x", "X1", "E99999999999999999999999\n{}", "E7 C\n{}", "E7 C12", "E7 Cx\n{}",
            "E7 C-\n{}", "E7 C99999999999999999999\n{}", "E7 D5\n{}", "W7 C5",
        ] {
            #expect(ForwardedMessage(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("Live workers split the partitions: the first P % n sorted ids take one more; a silent one is dropped")
    func sharesFollowLiveWorkers() {
        let key = WorkerLeaseTests.MemoryKey()
        let a = WorkerMembers(store: WorkerLeaseTests.MemoryStore(key: key), id: "a", seconds: 4)
        let b = WorkerMembers(store: WorkerLeaseTests.MemoryStore(key: key), id: "b", seconds: 4)
        let c = WorkerMembers(store: WorkerLeaseTests.MemoryStore(key: key), id: "c", seconds: 4)
        a.beat(now: 0)
        #expect(a.share(of: 4) == 4)
        b.beat(now: 0)
        c.beat(now: 0)
        a.beat(now: 1)
        b.beat(now: 1)
        #expect(a.live == ["a", "b", "c"])
        #expect([a.share(of: 4), b.share(of: 4), c.share(of: 4)] == [2, 1, 1])
        // c stops beating: after 4 s without a change of its counter, the others take it as gone.
        for t in stride(from: 2.0, through: 6.0, by: 1) {
            a.beat(now: t)
            b.beat(now: t)
        }
        #expect(a.live == ["a", "b"])
        #expect([a.share(of: 4), b.share(of: 4)] == [2, 2])
        #expect(!(key.value ?? "").contains("c="))
    }
}

/// ``ForwardRun`` on scripted doubles (no broker): a watermark never rests on a fetch that came back empty.
@Suite
struct ForwardRunTests {
    /// A partition's feed whose first fetch comes back empty although a message waits (a fetch that timed out).
    struct LateFeed: StreamFeed {
        var fetches = 0
        let streamName = "EVENTS"
        let redeliveries = 0
        mutating func resume(after sequence: UInt64) {}
        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            fetches += 1
            if fetches == 2 { return .messages([FeedMessage(sequence: 3, payload: Array("{}".utf8), pending: 0)]) }
            return .messages([])
        }
        mutating func acknowledgeFetched() -> Bool { true }
    }

    /// Records what is published to the forwarded stream.
    final class Published { var bodies: [String] = [] }

    struct RecordingTarget: ForwardTarget {
        let published: Published
        mutating func publish(_ body: [UInt8], partition: Int, messageID: String) -> PublishOutcome {
            published.bodies.append(String(decoding: body, as: UTF8.self))
            return .acknowledged(duplicate: false)
        }
        mutating func publish(_ messages: [(body: [UInt8], messageID: String)], partition: Int) -> [PublishOutcome] {
            messages.map { publish($0.body, partition: partition, messageID: $0.messageID) }
        }
        mutating func lastWatermark(partition: Int) -> WatermarkRead { .sequence(0) }
    }

    /// An events stream of 5 messages whose partition 0 ends at sequence 3.
    struct FixedSource: ForwardSource {
        mutating func lastSequence() -> UInt64? { 5 }
        mutating func lastSequence(inPartition partition: Int) -> UInt64? { 3 }
        mutating func messagesPerPartition() -> [Int: UInt64]? { nil }
    }

    /// Runs one worker over one partition, fed by `feed`, for `rounds` rounds (`check` sees what was published at
    /// the start of each round); what it published.
    static func forward<F: StreamFeed, S: ForwardSource>(
        _ feed: F, source: S, accounts: [(String, EventTime)] = [], leaseKey: WorkerLeaseTests.MemoryKey = .init(),
        rounds: Int, check: (Int, [String]) -> Void = { _, _ in }
    ) throws -> [String] {
        let published = Published()
        var options = ForwardOptions()
        options.partitions = 1
        let run = ForwardRun(
            options: options,
            members: WorkerMembers(store: WorkerLeaseTests.MemoryStore(key: .init()), id: "a", seconds: 10),
            lease: { _ in WorkerLeaseTests.lease(leaseKey, "a") }, feed: { _ in feed },
            target: RecordingTarget(published: published), source: source, accounts: accounts,
            logger: WorkerLeaseTests.quiet)
        var round = 0
        try run.run {
            round += 1
            check(round, published.bodies)
            return round > rounds
        }
        return published.bodies
    }

    @Test("An empty fetch leaves the watermark; once the partition's last message is forwarded it is the stream's end")
    func emptyFetchDoesNotMoveTheWatermark() throws {
        let leaseKey = WorkerLeaseTests.MemoryKey()
        let bodies = try Self.forward(LateFeed(), source: FixedSource(), leaseKey: leaseKey, rounds: 3) {
            if $0 == 2 { #expect($1.isEmpty, "nothing after the empty fetch") }
        }
        #expect(bodies == ["E3\n{}", "W5"])
        #expect(leaseKey.value == "released")
    }

    /// A partition's feed that delivers `records` (sequences 1, 2, …) at its first fetch.
    struct RecordsFeed: StreamFeed {
        var records: [String]
        let streamName = "EVENTS"
        let redeliveries = 0
        mutating func resume(after sequence: UInt64) {}
        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            defer { records = [] }
            return .messages(
                records.enumerated().map { i, r in
                    FeedMessage(sequence: UInt64(i + 1), payload: Array(r.utf8), pending: UInt64(records.count - i - 1))
                })
        }
        mutating func acknowledgeFetched() -> Bool { true }
    }

    /// An events stream of `last` messages, all of them in partition 0.
    struct AllInOne: ForwardSource {
        let last: UInt64
        mutating func lastSequence() -> UInt64? { last }
        mutating func lastSequence(inPartition partition: Int) -> UInt64? { last }
        mutating func messagesPerPartition() -> [Int: UInt64]? { nil }
    }

    @Test("Events of an account the registry lists carry its creation time (the later entry); others do not")
    func registryAnnotates() throws {
        let records = [
            #"{"account":"acme","time":"x"}"#, #"{"time":"x","account":"a\"b"}"#, #"{"account":"other"}"#,
            #"{"no_account":1}"#,
        ]
        let bodies = try Self.forward(
            RecordsFeed(records: records), source: AllInOne(last: 4),
            accounts: [
                ("acme", EventTime(seconds: 1)), ("a\"b", EventTime(seconds: -2)), ("acme", EventTime(seconds: 3)),
            ], rounds: 2)
        #expect(
            bodies == [
                "E1 C3000000\n" + records[0], "E2 C-2000000\n" + records[1], "E3\n" + records[2], "E4\n" + records[3],
                "W4",
            ])
    }
}
