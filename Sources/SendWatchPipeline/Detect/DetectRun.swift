public import Logging
public import SendWatchAlerts
public import SendWatchCore
public import SendWatchDetect
import SendWatchIngest

/// How a ``DetectRun`` behaves.
public struct DetectOptions: Sendable {
    /// The directory of the checkpoint (`detect-checkpoint`) and its lock; nil: a restart starts over. With a
    /// state store (``DetectRun/init(configuration:options:accounts:feed:publisher:metrics:stateStore:logger:)``)
    /// the checkpoint is not written here: the directory's checkpoint is read only when the store holds none
    /// (moving a worker from a file checkpoint into JetStream), and the directory stays locked while the run lasts.
    public var stateDirectory: String?
    /// Stop once the stream is read to its end: release every held event, close what the end of input closes
    /// (as `replay` does), checkpoint and return. For complete streams and tests.
    public var once = false
    /// Seconds between checkpoints while events flow. Default 1.
    public var checkpointIntervalSeconds: Double = 1
    /// Messages fetched while not acknowledged that force a checkpoint (and the acknowledgement after it), so
    /// the broker's pending acknowledgements stay bounded. Default 100,000.
    public var maxUnacknowledged = 100_000
    /// How the stream is fetched from (batch, timeout, backoff while the broker is unreachable).
    public var fetching = FeedFetching()
    /// Wall seconds a host must have sent nothing, while the worker has read everything the stream holds, before
    /// it no longer holds back the others' events (``EventTimeMerge``). Default 5.
    public var idleSeconds: Double = 5
    /// How many hosts send events: at a fresh start the merge releases nothing until it has seen events of
    /// this many hosts (also after reading everything the stream holds: a host whose agent has not published
    /// yet is waited for), or, with 0 (the default), until the run has read everything the stream holds once, so
    /// that a host whose first events come late in the stream still goes into the merge in time.
    public var expectedHosts = 0
    /// The most events held by the merge (``EventTimeMerge/maxBuffered``). Default 200,000.
    public var maxBufferedEvents = 200_000
    /// Whether the metrics show each partition's lag, which asks the broker for the stream's per-partition counts
    /// once a second (`--metrics`). Default false.
    public var partitionLag = false
    /// The alert record format.
    public var alertFormat: AlertFormat = .sendwatch
    /// The SendWatch version, for formats that name the product.
    public var productVersion = "0.1.0"

    /// The defaults above.
    public init() {}
}

/// What a detect run has done, kept in its checkpoint.
public struct DetectTotals: Codable, Sendable, Equatable {
    /// Events read from the stream (repeated deliveries not counted).
    public var events = 0
    /// Messages that were not an event record, skipped.
    public var undecodable = 0
    /// Alert records published (the broker stored them or had them).
    public var alertRecords = 0
    /// Alert records the broker already had (repeated after a restart).
    public var duplicateAlerts = 0
    /// Fetches and publishes repeated while the broker was unreachable.
    public var retries = 0
    /// Checkpoints written.
    public var checkpoints = 0
    /// Starts that resumed from a checkpoint.
    public var restarts = 0
    /// All zero.
    public init() {}
}

extension DetectTotals {
    /// Decodes saved totals, each checked to be a count (not negative, at most 2^56): a damaged checkpoint
    /// throws here instead of loading negative counts.
    ///
    /// - Throws: `DecodingError.dataCorrupted` naming the counter out of range.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        events = try c.decodeCount(forKey: .events, "detect totals: events")
        undecodable = try c.decodeCount(forKey: .undecodable, "detect totals: undecodable messages")
        alertRecords = try c.decodeCount(forKey: .alertRecords, "detect totals: alert records")
        duplicateAlerts = try c.decodeCount(forKey: .duplicateAlerts, "detect totals: duplicate alerts")
        retries = try c.decodeCount(forKey: .retries, "detect totals: retries")
        checkpoints = try c.decodeCount(forKey: .checkpoints, "detect totals: checkpoints")
        restarts = try c.decodeCount(forKey: .restarts, "detect totals: restarts")
    }
}

/// Why ``DetectRun/run(now:shouldStop:)`` returned.
public enum DetectRunEnd: Sendable, Equatable {
    /// A stop was requested, or (``DetectOptions/once``) the stream was read to its end.
    case stopped
    /// The run's ``DetectRun/lease`` was taken over by another worker: the run stopped without writing its
    /// checkpoint again (the new holder's resumes from the last one this run wrote).
    case leaseLost
}

/// How ``DetectRun/checkpoint()`` ended.
public enum CheckpointOutcome: Sendable, Equatable {
    /// Written (and the consumer acknowledged).
    case written
    /// Not written: the state store cannot be reached; the previous checkpoint stays the latest.
    case deferred
    /// Refused by the state store: another worker claimed it since this one did.
    case fenced
}

/// The body of a detect checkpoint.
struct DetectState: Codable {
    /// The version in the checkpoint header; a checkpoint of a version not in ``readFormats`` is refused. 2: the
    /// engine's alert lifecycle saves its incidents and the closed alerts remembered for linking them (as `TailState`
    /// 7). 3:
    /// `template_swarm` and `slot_content` save their own tables, and `concentrated_strangers`' accounts their
    /// strangers per provider (as `TailState` 8). 4: `shared_artefact` saves whether a lone artefact was made
    /// lone by a bare phone number (as `TailState` 9). 5: a young account saves its evidence samples as one
    /// `samples` object (as `TailState` 10), and the merge keeps per host the stream sequence of its first held
    /// event instead of the events (they are read again from the stream at a restore). 6: the feed's resume point
    /// (``FeedResumePoint``: the second stage's position in the forwarded stream and its watermarks there). 7:
    /// `concentrated_strangers`' accounts save their held first recipient (as `TailState` 12).
    static let format = 7
    /// The older formats still read (``readFormats``), the next checkpoint written in ``format``: 6 as its layout of
    /// the detection state (``DetectionStateLayout/withoutOpenings``), 5 as that and with the body ending before
    /// ``resumePoint`` (read as nil, so the restart resumes as before format 6).
    static let migrations = [
        StateMigration(format: 6, userInfo: DetectionStateLayout.withoutOpenings.userInfo),
        StateMigration(format: 5, userInfo: [withoutResumePoint: true])
            .adding(DetectionStateLayout.withoutOpenings.userInfo),
    ]
    /// The state formats read: ``format`` and those of ``migrations``.
    static let readFormats = [format] + migrations.map(\.format)
    /// Tells the decoder the body ends before ``resumePoint`` (format 5).
    static let withoutResumePoint = CodingUserInfoKey(rawValue: "sendwatch.detect.withoutResumePoint")!
    /// The stream sequence of the last message taken in: every message up to it is in the engine or the merge.
    var lastSequence: UInt64
    var engine: DetectionEngine.Checkpoint
    var merge: EventTimeMerge.Saved
    /// Whether the merge releases events yet (``DetectOptions/expectedHosts``).
    var releasing: Bool
    var totals: DetectTotals
    /// Per partition what was taken in from it (``PartitionFigures`` without the lag).
    var partitions: [SavedPartition]
    /// Where the feed resumes (``StreamFeed/resumePoint(holding:)``); nil: from ``lastSequence`` (or the first held
    /// event's sequence) alone.
    var resumePoint: FeedResumePoint?

    struct SavedPartition: Codable {
        var partition: Int
        var messages: Int
        var events: Int
        var lastSequence: UInt64
        var latestEventMicroseconds: Int64?
    }
}

extension DetectState.SavedPartition {
    /// Decodes a partition's figures, its counts and event time checked (``StateCheck``). The partition number
    /// is checked where it is restored (one out of 0 to 1023 is skipped).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        partition = try c.decode(Int.self, forKey: .partition)
        messages = try c.decodeCount(forKey: .messages, "partition figures: messages")
        events = try c.decodeCount(forKey: .events, "partition figures: events")
        lastSequence = try c.decode(UInt64.self, forKey: .lastSequence)
        latestEventMicroseconds = try c.decodeIfPresent(Int64.self, forKey: .latestEventMicroseconds)
        if let t = latestEventMicroseconds {
            try StateCheck.require(StateCheck.isTime(t), "partition figures: event time \(t) out of range", decoder)
        }
    }
}

extension DetectState {
    /// Decodes a body of ``format``, or of a format of ``migrations`` when the decoder's `userInfo` says so.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lastSequence = try c.decode(UInt64.self, forKey: .lastSequence)
        engine = try c.decode(DetectionEngine.Checkpoint.self, forKey: .engine)
        merge = try c.decode(EventTimeMerge.Saved.self, forKey: .merge)
        releasing = try c.decode(Bool.self, forKey: .releasing)
        totals = try c.decode(DetectTotals.self, forKey: .totals)
        partitions = try c.decode([SavedPartition].self, forKey: .partitions)
        resumePoint =
            decoder.userInfo[Self.withoutResumePoint] as? Bool == true
            ? nil : try c.decodeIfPresent(FeedResumePoint.self, forKey: .resumePoint)
    }
}

/// A detection worker (`sendwatch detect`): reads send events from a stream, merges the hosts' events by event
/// time (``EventTimeMerge``), runs the ``DetectionEngine`` and publishes each alert record, once, through an
/// ``AlertPublisher``.
///
/// Exactly once from event to alert stream:
/// - The checkpoint holds the engine, the merge's held events, the alert records' count and the last stream
///   sequence taken in, written together; the broker is told the messages are done with only after that.
///   A restart resumes the engine and reads again from the message after the checkpoint's.
/// - Alert records are published before the checkpoint that covers them, each with the message id
///   `<alert id>-<action>-<record number>` (the record number counts the run's records since its state was
///   created). Replayed from the checkpoint, the engine makes the same records in the same order, so a record
///   published before a crash gets the same id and the broker drops it (within the alert stream's duplicate
///   window).
///
/// Memory: the engine's (bounded by `detect.memory_budget`), the merge's held events
/// (``DetectOptions/maxBufferedEvents``), one fetch's messages and their alert records. The checkpoint holds the
/// engine's state and, of the merge, per host where its held events start in the stream (not the events), and the
/// feed's resume point when it has one (``StreamFeed/resumePoint(holding:)``: the second stage's position in the
/// forwarded stream, given the earliest position of the events the merge holds).
public final class DetectRun<Feed: StreamFeed, Publisher: AlertPublisher> {
    /// How the run behaves.
    public let options: DetectOptions
    /// Where events come from.
    public var feed: Feed
    /// Where alert records go.
    public var publisher: Publisher
    /// The engine.
    public private(set) var engine: DetectionEngine
    /// The merge of the hosts' events.
    public private(set) var merge: EventTimeMerge
    /// The run's counters (restored from the checkpoint).
    public private(set) var totals = DetectTotals()
    /// The stream sequence of the last message taken in.
    public private(set) var lastSequence: UInt64 = 0
    /// Whether this run resumed from a checkpoint.
    public private(set) var restoredFromCheckpoint = false
    /// The figures `--metrics` serves, updated once per fetch.
    public let metrics: DetectMetrics
    /// The lease that makes this run the holder of its consumer name, renewed when due once per fetch, between
    /// slices of a large release and before each attempt to publish an alert record (repeats in an outage
    /// included), and confirmed before each checkpoint; nil: no lease (a single worker, or a test). Set before
    /// ``run(now:shouldStop:)``.
    public var lease: WorkerLease?
    /// Acknowledgements of the consumer this run.
    private var acknowledgements = 0
    /// Whether publishing is paused because the lease store has been unreachable for
    /// ``WorkerLease/publishSeconds`` (logged once per pause).
    private var publishingPaused = false {
        didSet {
            guard publishingPaused != oldValue else { return }
            if publishingPaused { publishPauses += 1 }
            let (paused, pauses) = (publishingPaused, publishPauses)
            metrics.update {
                $0.publishPaused = paused
                $0.publishPauses = pauses
            }
        }
    }
    /// Times publishing was paused by the fence (this run).
    private var publishPauses = 0
    private let logger: Logger
    private let lock: StateDirectoryLock?
    private let encoder: any AlertEncoder
    private var decoder = EventRecordDecoder()
    /// Wall time each host's last event arrived (not checkpointed: a restart counts from its start).
    private var arrivals: [String: Double] = [:]
    private var unacknowledged = 0
    /// Whether the merge releases events yet (``DetectOptions/expectedHosts``).
    private var releasing = false
    private var fetcher: FeedFetcher
    /// Where checkpoints go instead of ``checkpointPath``: a JetStream stream; nil: the state directory.
    private let stateStore: ChunkedCheckpointStore?
    /// Whether the state store was reported unreachable (logged once per outage).
    private var stateStoreOutage = false
    /// Per partition what was taken in, indexed by partition number (at most 1024 entries: a message's partition is
    /// 0 to 1023); grown as partitions appear.
    private var partitions: [PartitionFigures] = []
    /// When the broker was last asked for the per-partition counts (monotonic seconds; ``DetectOptions/partitionLag``).
    private var partitionCountsAsked = -Double.infinity
    /// After a restore whose merge held events: the stream sequence they are read again from (the merge is
    /// refilled up to ``lastSequence`` before anything is released or checkpointed); nil otherwise.
    private var refillStart: UInt64?
    /// The feed's resume point the checkpoint held (nil: none).
    private var restoredResumePoint: FeedResumePoint?

    /// The checkpoint's path; nil without a state directory.
    var checkpointPath: String? { options.stateDirectory.map { $0 + "/detect-checkpoint" } }

    /// Loads the checkpoint (if any): from `stateStore` when given (claiming it: from here on a checkpoint of any
    /// earlier writer of that store is refused), from the state directory otherwise.
    ///
    /// - Parameters:
    ///   - accounts: account registry entries (creation times), applied at every start.
    ///   - metrics: where the run's figures go (shared with a metrics endpoint that outlives the run).
    ///   - stateStore: the checkpoint store in JetStream; nil: ``DetectOptions/stateDirectory``.
    /// - Throws: ``TailError`` for a state directory that cannot be used or another run holds, a state store that
    ///   cannot be reached now (`state_store_unavailable`: try again), or a damaged or incompatible checkpoint
    ///   (left in place).
    public init(
        configuration: Configuration, options: DetectOptions, accounts: [(String, EventTime)] = [], feed: Feed,
        publisher: Publisher, metrics: DetectMetrics = DetectMetrics(), stateStore: ChunkedCheckpointStore? = nil,
        logger: Logger
    ) throws(TailError) {
        self.options = options
        self.metrics = metrics
        self.feed = feed
        self.publisher = publisher
        self.logger = logger
        fetcher = FeedFetcher(
            fetching: options.fetching, logger: logger,
            outageMessage: "the broker is unreachable; holding the position and retrying", reasonKey: "detect.reason",
            streamName: "events stream")
        encoder = options.alertFormat.makeEncoder(productVersion: options.productVersion)
        self.stateStore = stateStore
        lock = try StateDirectory.prepare(options.stateDirectory)
        var saved: DetectState?
        // What messages call the checkpoint, and the file's path (nil for the state store).
        var origin = ""
        var originPath: String?
        if let stateStore {
            switch try stateStore.claim() {
            case .claimed(let stored):
                if let stored {
                    origin = "detect checkpoint in \(stored.origin)"
                    saved = try StateDirectory.decodeBody(
                        DetectState.self, stored.body, sections: nil,
                        userInfo: StateMigration.userInfo(reading: stored.format, among: DetectState.migrations),
                        name: "detect checkpoint",
                        path: stateStore.streamName + " " + stored.origin)
                } else if let path = options.stateDirectory.map({ $0 + "/detect-checkpoint" }) {
                    // The store holds no checkpoint: a worker moving from `--state DIR` carries its file over
                    // (the first commit writes it into the store; until then every start reads the file again).
                    origin = "detect checkpoint \(path), moved into the state store (it held none)"
                    originPath = path
                    saved = try Self.readFile(path)
                    if saved != nil {
                        logger.notice(
                            "the state store holds no checkpoint: taking over the file checkpoint \(path); from the first checkpoint on it is kept in \(stateStore.streamName) and the file is no longer read or written"
                        )
                    }
                }
            case .taken:
                throw TailError(
                    code: .stateStoreUnavailable,
                    message: "another worker wrote the state store's manifest while this one claimed it")
            case .unavailable(let why):
                throw TailError(code: .stateStoreUnavailable, message: "the state store is unreachable: \(why)")
            }
        } else if let path = options.stateDirectory.map({ $0 + "/detect-checkpoint" }) {
            origin = "detect checkpoint \(path)"
            originPath = path
            saved = try Self.readFile(path)
        }
        if let saved {
            do {
                engine = try DetectionEngine(configuration: configuration.detection, restoring: saved.engine)
            } catch {
                throw TailError(
                    code: .checkpointIncompatible,
                    message: "\(origin): the detection state does not fit this configuration (\(error)). Use the "
                        + "configuration it was written with, or move it away to start over.",
                    path: originPath)
            }
            merge = EventTimeMerge(maxBuffered: options.maxBufferedEvents, restoring: saved.merge)
            lastSequence = saved.lastSequence
            refillStart = merge.refillStart
            restoredResumePoint = saved.resumePoint
            releasing = saved.releasing
            totals = saved.totals
            totals.restarts += 1
            for p in saved.partitions where (0..<1024).contains(p.partition) {
                var f = partitionFigures(p.partition)
                (f.messages, f.events, f.lastSequence) = (p.messages, p.events, p.lastSequence)
                f.latestEventTime = p.latestEventMicroseconds.map { EventTime(microseconds: $0) }
                partitions[p.partition] = f
            }
            restoredFromCheckpoint = true
            logger.info(
                "resuming from the \(origin): stream sequence \(lastSequence), \(totals.alertRecords) alert records so far"
            )
            let now = TailRun.monotonicSeconds()
            for name in merge.sourceNames { arrivals[name] = now }
        } else {
            engine = DetectionEngine(configuration: configuration.detection)
            merge = EventTimeMerge(maxBuffered: options.maxBufferedEvents)
        }
        for (account, created) in accounts { engine.register(account: account, created: created) }
    }

    /// The file checkpoint at `path`; nil when there is none.
    private static func readFile(_ path: String) throws(TailError) -> DetectState? {
        try StateDirectory.readCheckpoint(
            DetectState.self, path: path, format: DetectState.format, migrating: DetectState.migrations,
            name: "detect checkpoint",
            damagedAdvice: "Move the file away to start over from the stream's first message (the alerts "
                + "stream drops the records it has within its duplicate window).",
            incompatibleAdvice: "Run the version that wrote it, or move it away to start over.")?.state
    }

    /// Runs until `shouldStop` returns true, (``DetectOptions/once``) the stream is read to its end, or the
    /// ``lease`` is lost. With a lease, no checkpoint is written unless a renewal just before it succeeded, and no
    /// alert record is published while the lease store has been unreachable for ``WorkerLease/publishSeconds``
    /// (the records wait, in order, until a renewal succeeds).
    ///
    /// - Parameters:
    ///   - now: the monotonic clock (seconds) the lease and the checkpoint interval go by.
    ///   - wait: waits the given seconds: each pause while the broker or the lease store cannot be reached (a
    ///     scripted clock in tests).
    ///   - shouldStop: asked between fetches and at each pause; true ends the run (a last checkpoint if it can).
    ///
    /// - Throws: ``TailError`` `consume_failed` when the stream cannot be read, `publish_refused` when the
    ///   broker refused an alert record (the checkpoint stays before it), or `checkpoint_failed`.
    @discardableResult
    public func run(
        now: () -> Double = TailRun.monotonicSeconds, wait: (Double) -> Void = FleetPause.sleep,
        shouldStop: () -> Bool
    ) throws(TailError) -> DetectRunEnd {
        if let refillStart {
            feed.resume(after: refillStart - 1, at: restoredResumePoint)
            logger.info(
                "reading the events the checkpoint held again from stream sequence \(refillStart) to \(lastSequence)")
        } else {
            feed.resume(after: lastSequence, at: restoredResumePoint)
        }
        if let point = restoredResumePoint {
            logger.info(
                "resuming the \(feed.streamName) at its message \(point.position) (the watermarks as of the one before)"
            )
        }
        var lastCheckpoint = now()
        // How long the last checkpoint took: the interval stretches to 20 times that (as `tail`'s), so that
        // writing a large state takes at most about a twentieth of the run's time.
        var lastCheckpointSeconds = 0.0
        var dirty = false
        var batch: EventBatch = []
        var alerts: [Alert] = []
        while !shouldStop() {
            if let lease, lease.renew(now: now()) == .lost { return stopLeaseLost() }
            guard case .messages(let messages, let caughtUp) = try fetcher.next(from: &feed, wait: wait) else {
                totals.retries += 1
                publishMetrics()
                continue
            }
            let t = now()
            for m in messages {
                if m.sequence <= lastSequence {
                    // Read again to refill the merge (or a repeated delivery): taken in before the checkpoint.
                    if refillStart != nil, let event = m.payload.withUnsafeBytes({ decoder.decode($0) }) {
                        merge.refill(event, sequence: m.sequence, position: m.position)
                    }
                    continue
                }
                if refillStart != nil { endRefill() }
                lastSequence = m.sequence
                unacknowledged += 1
                dirty = true
                let event = m.payload.withUnsafeBytes { decoder.decode($0) }
                if m.partition >= 0 { takeIn(partition: m.partition, sequence: m.sequence, time: event?.time) }
                guard let event else {
                    totals.undecodable += 1
                    continue
                }
                totals.events += 1
                // The first stage's registry entry for the account: in the engine before the event, as
                // `--accounts` would have put it there at the start (so the checkpoint keeps it too).
                if let created = m.accountCreated { engine.register(account: event.account, created: created) }
                arrivals[event.host ?? "", default: t] = t
                merge.add(event, sequence: m.sequence, position: m.position, releasingInto: &batch)
            }
            if refillStart != nil {
                // Still reading what the checkpoint held: nothing goes before the merge holds it all again.
                guard caughtUp else {
                    publishMetrics()
                    continue
                }
                endRefill()
            }
            // Told how many hosts there are, the worker waits for all of them, also once it has read the stream:
            // a host whose agent has not published yet would otherwise be passed over and its events come late.
            if options.expectedHosts > 0 ? merge.sourceNames.count >= options.expectedHosts : caughtUp {
                releasing = true
            }
            if options.once && caughtUp {
                merge.releaseAll(into: &batch)
            } else if releasing {
                var idle: Set<String> = []
                if caughtUp {
                    for (name, at) in arrivals where t - at >= options.idleSeconds { idle.insert(name) }
                }
                merge.release(into: &batch, idleSources: idle)
            }
            if !batch.isEmpty {
                guard process(&batch, into: &alerts, now: now) else { return stopLeaseLost() }
                batch.removeAll(keepingCapacity: true)
            }
            if options.once && caughtUp { engine.finish(into: &alerts) }
            if !alerts.isEmpty {
                switch try publish(alerts, now: now, wait: wait, shouldStop: shouldStop) {
                case .published: alerts.removeAll(keepingCapacity: true)
                case .stopped: return try stop(dirty: false, wait: wait)
                case .leaseLost: return stopLeaseLost()
                }
            }
            if dirty
                && (t - lastCheckpoint
                    >= CheckpointPacing.intervalSeconds(
                        configured: options.checkpointIntervalSeconds, lastDurationSeconds: lastCheckpointSeconds)
                    || unacknowledged >= options.maxUnacknowledged || (options.once && caughtUp))
            {
                let started = now()
                switch fence(now: now, wait: wait, waiting: options.once && caughtUp, shouldStop: shouldStop) {
                case .held:
                    switch try commitCheckpoint(waiting: options.once && caughtUp, wait: wait, shouldStop: shouldStop)
                    {
                    case .written: dirty = false
                    case .deferred: break  // the state store is unreachable: again at the next interval
                    case .fenced: return stopFenced()
                    }
                    lastCheckpoint = now()
                    lastCheckpointSeconds = lastCheckpoint - started
                case .lost:
                    return stopLeaseLost()
                case .unavailable:
                    break  // not fenced (the lease may have run out): checkpoint once a renewal succeeds
                }
            }
            publishMetrics()
            if options.once && caughtUp { break }
        }
        return try stop(dirty: dirty, now: now, wait: wait, shouldStop: shouldStop)
    }

    /// The figures of `partition` (0 to 1023), the table grown to hold it.
    private func partitionFigures(_ partition: Int) -> PartitionFigures {
        while partitions.count <= partition { partitions.append(PartitionFigures(partition: partitions.count)) }
        return partitions[partition]
    }

    /// Counts a message taken in from `partition` (0 to 1023); `time`: its event's, nil when it was none.
    private func takeIn(partition: Int, sequence: UInt64, time: EventTime?) {
        if partition >= partitions.count { _ = partitionFigures(partition) }
        partitions[partition].messages += 1
        partitions[partition].lastSequence = sequence
        guard let time else { return }
        partitions[partition].events += 1
        if partitions[partition].latestEventTime.map({ time > $0 }) ?? true {
            partitions[partition].latestEventTime = time
        }
    }

    /// Each partition's lag from the broker's per-partition counts, asked at most once a second.
    private func refreshPartitionLag() {
        let t = TailRun.monotonicSeconds()
        guard options.partitionLag, t - partitionCountsAsked >= 1 else { return }
        partitionCountsAsked = t
        guard let counts = feed.messagesPerPartition() else { return }
        for (p, n) in counts where (0..<1024).contains(p) {
            let taken = UInt64(partitionFigures(p).messages)
            partitions[p].pendingMessages = n > taken ? n - taken : 0
        }
    }

    /// The merge holds again what the checkpoint said it held (or the stream no longer has some of it: logged).
    private func endRefill() {
        refillStart = nil
        let missing = merge.endRefill()
        if missing > 0 {
            logger.warning(
                "events the checkpoint held are no longer in the events stream (its limits removed them); going on without them",
                metadata: ["detect.missing_events": "\(missing)"])
        }
    }

    /// Confirms the lease before a checkpoint (`.held` without a lease); `waiting`: while the store is
    /// unreachable, tries again after a pause (`wait`) until it answers or a stop is requested.
    private func fence(now: () -> Double, wait: (Double) -> Void, waiting: Bool, shouldStop: () -> Bool)
        -> WorkerLease.Renewal
    {
        guard let lease else { return .held }
        var backoff = Backoff(maxSeconds: options.fetching.maxBackoffSeconds)
        while true {
            let renewal = lease.confirm(now: now())
            if renewal != .unavailable || !waiting || shouldStop() { return renewal }
            backoff.pause(wait)
        }
    }

    /// The end of a run: a last checkpoint when something is not covered yet and the lease (if any) is confirmed.
    private func stop(
        dirty: Bool, now: () -> Double = TailRun.monotonicSeconds, wait: (Double) -> Void,
        shouldStop: () -> Bool = { true }
    ) throws(TailError) -> DetectRunEnd {
        if dirty {
            switch fence(now: now, wait: wait, waiting: true, shouldStop: shouldStop) {
            case .held:
                if try commitCheckpoint(waiting: true, wait: wait, shouldStop: shouldStop) == .fenced {
                    return stopFenced()
                }
            case .lost: return stopLeaseLost()
            case .unavailable: break  // the lease may have run out: the next holder resumes from the last checkpoint
            }
        }
        publishMetrics()
        return .stopped
    }

    /// ``checkpoint()``; `waiting`: while the state store is unreachable, tries again after a pause (`wait`) until
    /// it answers or a stop is requested.
    private func commitCheckpoint(waiting: Bool, wait: (Double) -> Void, shouldStop: () -> Bool) throws(TailError)
        -> CheckpointOutcome
    {
        var backoff = Backoff(maxSeconds: options.fetching.maxBackoffSeconds)
        while true {
            let outcome = try checkpoint()
            if outcome != .deferred || !waiting || shouldStop() { return outcome }
            backoff.pause(wait)
        }
    }

    /// The end of a run whose checkpoint the state store refused (another worker claimed it): the lease is
    /// another worker's too, whatever this run's last renewal said.
    private func stopFenced() -> DetectRunEnd {
        lease?.abandon()
        return stopLeaseLost()
    }

    /// The end of a run whose lease another worker took: nothing more is written.
    private func stopLeaseLost() -> DetectRunEnd {
        publishMetrics()
        return .leaseLost
    }

    /// Replaces the metrics' snapshot.
    private func publishMetrics() {
        let consumer = fetcher.figures(of: feed, lastSequence: lastSequence, acknowledgements: acknowledgements)
        let (t, held, early) = (totals, merge.buffered, merge.forcedReleases)
        refreshPartitionLag()
        let seen = partitions.filter { $0.messages > 0 || $0.pendingMessages != nil }
        metrics.update { m in
            m.partitions = seen
            m.consumer = consumer
            m.totals = t
            m.heldEvents = held
            m.releasedEarly = early
        }
        if let figures = lease?.figures { metrics.update { $0.lease = figures } }
    }

    /// `seconds` for a log message: whole seconds, or one decimal below 10.
    private static func seconds(_ seconds: Double) -> String {
        seconds >= 10 ? "\(Int(seconds))" : "\((seconds * 10).rounded() / 10)"
    }

    /// Events taken in between two renewal checks of the lease while a large release is processed.
    static var renewalSlice: Int { 256 }

    /// Takes `batch` into the engine in slices of ``renewalSlice`` events, with a renewal check of the lease (if
    /// any) between them: the first release after a takeover (everything the checkpoint held, read again) can
    /// take longer than the lease in one piece, and a holder that renewed only once per round would lose the
    /// lease to a standby before its first checkpoint, which would start the same work again and lose it the
    /// same way (two workers passing the lease back and forth without progress). The slices give the engine the
    /// events in order, as one call for the whole batch would. False when the lease was lost (nothing more may
    /// be written).
    private func process(_ batch: inout EventBatch, into alerts: inout [Alert], now: () -> Double) -> Bool {
        var start = 0
        while start < batch.count {
            let end = min(start + Self.renewalSlice, batch.count)
            engine.process(&batch, in: start..<end, into: &alerts)
            start = end
            if start < batch.count, let lease, lease.renew(now: now()) == .lost { return false }
        }
        return true
    }

    /// How ``publish(_:now:shouldStop:)`` ended.
    private enum PublishEnd {
        /// Every record acknowledged.
        case published
        /// A stop was requested before all were acknowledged (no checkpoint then: a restart makes them again,
        /// same ids).
        case stopped
        /// The lease was lost while publishing: nothing more may be written (the next holder makes the rest
        /// again under the same ids).
        case leaseLost
    }

    /// Publishes the records in order, repeating while the broker is unreachable, and checks the lease before
    /// each attempt, the first of each record and every repeat in an outage (``WorkerLease/renew(now:)`` writes
    /// only once a third of the lease time has passed, and while the lease store is unreachable tries at most
    /// once a poll interval): many records after a takeover, one acknowledgement each, or an outage of the
    /// broker, can take longer than the lease. Once the lease is lost nothing more is published.
    ///
    /// **Fenced by the lease's age.** Once the last renewal that reached the lease store is
    /// ``WorkerLease/publishSeconds`` old (two thirds of the lease: the store cut off while the alerts stream still
    /// answers), nothing is published: the holder pauses (`wait`, 50 ms doubling up to the lease's poll interval,
    /// at most ``FeedFetching/maxBackoffSeconds``), tries the renewal again (at most once a poll interval) and
    /// resumes when it succeeds, or returns `.leaseLost` when it is refused. The records wait meanwhile, in order,
    /// with their message ids (nothing more is fetched, so they are at most one fetch's records): published after
    /// the renewal, the server drops any a new holder published already.
    private func publish(
        _ alerts: [Alert], now: () -> Double, wait: (Double) -> Void, shouldStop: () -> Bool
    ) throws(TailError) -> PublishEnd {
        var writer = JSONWriter(capacity: 4096)
        var backoff = Backoff(maxSeconds: options.fetching.maxBackoffSeconds)
        var pauseBackoff = Backoff(maxSeconds: min(options.fetching.maxBackoffSeconds, lease?.pollSeconds ?? 1))
        for alert in alerts {
            writer.bytes.removeAll(keepingCapacity: true)
            encoder.encode(alert, into: &writer)
            if writer.bytes.last == UInt8(ascii: "\n") { writer.bytes.removeLast() }
            let id = "\(alert.id)-\(alert.action.rawValue)-\(totals.alertRecords)"
            while true {
                if let lease {
                    if lease.renew(now: now()) == .lost {
                        publishingPaused = false
                        return .leaseLost
                    }
                    // The clock read again: an attempt on an unreachable store can take the request timeout.
                    guard lease.mayPublish(now: now()) else {
                        // Cut off from the lease store for two thirds of the lease: a standby may take it a third
                        // later. Nothing goes out until a renewal succeeds or shows the loss.
                        if !publishingPaused {
                            publishingPaused = true
                            logger.warning(
                                "the lease store has been unreachable for \(Self.seconds(lease.publishSeconds)) s (two thirds of the lease): publishing nothing until a renewal succeeds",
                                metadata: ["detect.unsent_records": "\(alerts.count)"])
                        }
                        totals.retries += 1
                        if shouldStop() { return .stopped }
                        pauseBackoff.pause(wait)
                        continue
                    }
                    if publishingPaused {
                        publishingPaused = false
                        pauseBackoff.reset()
                        logger.info("the lease is renewed again; publishing resumes")
                    }
                }
                switch publisher.publish(writer.bytes, messageID: id) {
                case .acknowledged(let duplicate):
                    if duplicate { totals.duplicateAlerts += 1 }
                    totals.alertRecords += 1
                    backoff.reset()
                case .unavailable(let why):
                    totals.retries += 1
                    fetcher.noteOutage(why)
                    if shouldStop() { return .stopped }
                    backoff.pause(wait)
                    continue
                case .refused(let why):
                    throw TailError(
                        code: .publishRefused,
                        message: "the broker refused alert record \(id) (\(why)); the checkpoint stays before it")
                }
                break
            }
        }
        return .published
    }

    /// Writes the checkpoint (engine, held events, last sequence, totals), to the state store or the state
    /// directory, then tells the broker the messages fetched so far are done with.
    ///
    /// - Returns: `.written`; `.deferred` when the state store cannot be reached (nothing acknowledged: the
    ///   previous checkpoint stays the latest, write again later); `.fenced` when the state store refused it
    ///   because another worker claimed it (stop writing).
    /// - Throws: ``TailError`` `checkpoint_failed` when it cannot be encoded or written.
    @discardableResult
    public func checkpoint() throws(TailError) -> CheckpointOutcome {
        if let stateStore {
            totals.checkpoints += 1
            let state = savedState()
            let outcome: StateCommit
            do throws(TailError) {
                let body: [UInt8]
                do {
                    body = try StateCoding.encode(state)
                } catch {
                    throw TailError(code: .checkpointFailed, message: "cannot encode the detect checkpoint: \(error)")
                }
                outcome = try stateStore.commit(
                    body: body, format: DetectState.format, lastSequence: lastSequence,
                    alertRecords: totals.alertRecords)
            } catch {
                totals.checkpoints -= 1
                throw error
            }
            switch outcome {
            case .committed:
                if stateStoreOutage {
                    stateStoreOutage = false
                    logger.info("the state store answers again; checkpoint written")
                }
            case .fenced:
                totals.checkpoints -= 1
                return .fenced
            case .unavailable(let why):
                totals.checkpoints -= 1
                if !stateStoreOutage {
                    stateStoreOutage = true
                    logger.warning(
                        "the state store is unreachable; keeping the previous checkpoint and trying again",
                        metadata: ["detect.reason": "\(why)"])
                }
                return .deferred
            }
        } else if let path = checkpointPath {
            totals.checkpoints += 1
            let state = savedState()
            let (sequence, records) = (lastSequence, totals.alertRecords)
            do throws(TailError) {
                try StateDirectory.writeCheckpoint(
                    state, path: path, kind: "sendwatch_detect_checkpoint", format: DetectState.format
                ) { header in
                    header.key("last_sequence"); header.int64(Int64(clamping: sequence))
                    header.key("alert_records"); header.int(records)
                }
            } catch {
                totals.checkpoints -= 1
                throw error
            }
        }
        if feed.acknowledgeFetched() {
            unacknowledged = 0
            acknowledgements += 1
        }
        return .written
    }

    /// The checkpoint's body now.
    private func savedState() -> DetectState {
        DetectState(
            lastSequence: lastSequence, engine: engine.checkpoint(), merge: merge.saved(), releasing: releasing,
            totals: totals, partitions: savedPartitions(),
            resumePoint: feed.resumePoint(holding: merge.earliestHeldPosition))
    }

    /// What the checkpoint keeps of ``partitions``: those messages were taken from.
    private func savedPartitions() -> [DetectState.SavedPartition] {
        partitions.filter { $0.messages > 0 }.map {
            .init(
                partition: $0.partition, messages: $0.messages, events: $0.events, lastSequence: $0.lastSequence,
                latestEventMicroseconds: $0.latestEventTime?.microseconds)
        }
    }

    /// Summary for stderr at the end: the totals since the state was created.
    public var summaryText: String {
        let c = engine.counters
        return "sendwatch detect (totals since the state was created): \(totals.events) events, "
            + "\(totals.undecodable) undecodable messages skipped, \(merge.buffered) held, "
            + "\(merge.forcedReleases) released early (buffer full), \(c.lateEvents) late events dropped, "
            + "\(totals.alertRecords) alert records published (\(totals.duplicateAlerts) already stored), "
            + "\(totals.retries) retries, \(totals.checkpoints) checkpoints, \(totals.restarts) restarts"
    }
}

@available(*, unavailable)
extension DetectRun: Sendable {}
