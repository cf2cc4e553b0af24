public import Logging
public import SendWatchCore

/// What reading a partition's last watermark in the forwarded stream gave.
public enum WatermarkRead: Sendable, Equatable {
    /// The partition's last watermark (0: none written yet).
    case sequence(UInt64)
    /// The broker cannot be reached now; the text says why.
    case unavailable(String)
}

/// The forwarded stream `sendwatch forward` writes (`NATSForwardStream` of SendWatchFleet, or a test double).
/// Called on the run's thread only.
public protocol ForwardTarget {
    /// Publishes `body` (``ForwardedMessage``) to partition `partition`'s subject with a message id the broker
    /// drops repeats of.
    mutating func publish(_ body: [UInt8], partition: Int, messageID: String) -> PublishOutcome
    /// Publishes events (``ForwardedMessage`` bodies) to partition `partition`'s subject together, without
    /// waiting for each acknowledgement; one outcome per message, in order.
    mutating func publish(_ messages: [(body: [UInt8], messageID: String)], partition: Int) -> [PublishOutcome]
    /// The last watermark written for `partition`: where a worker taking the partition resumes.
    mutating func lastWatermark(partition: Int) -> WatermarkRead
}

/// How a ``ForwardRun`` behaves.
public struct ForwardOptions: Sendable {
    /// The events stream's partitions (`ship --partitions`).
    public var partitions = 16
    /// How the partitions are fetched (batch, backoff); the timeout is per partition and fetch.
    public var fetching: FeedFetching = {
        var f = FeedFetching()
        f.timeoutMilliseconds = 100
        return f
    }()

    /// The defaults above.
    public init() {}
}

/// One partition as a forwarding worker sees it.
public struct ForwardPartitionFigures: Sendable, Equatable {
    /// The partition.
    public var partition = 0
    /// Whether this worker holds its lease now.
    public var held = false
    /// Its watermark: every message of the partition up to this events-stream sequence is forwarded.
    public var watermark: UInt64 = 0
    /// Events this worker forwarded from it (this run).
    public var forwarded = 0
    /// Its lag: messages of the partition after the last one forwarded, as the broker said with that message
    /// (0 once the watermark reached the stream's end).
    public var pendingMessages: UInt64 = 0
    /// Whether the lease's fence holds the partition back now (held, but its last renewal that reached the lease
    /// store is ``WorkerLease/publishSeconds`` old: nothing of it is fetched or forwarded).
    public var paused = false
    /// A partition not held.
    public init(partition: Int) { self.partition = partition }
}

/// The figures `sendwatch forward --metrics` shows, replaced by the run once per round.
public struct ForwardMetricsSnapshot: RunMetricsSnapshot {
    /// The live workers this one counts (itself included).
    public var liveWorkers = 0
    /// How many partitions this worker's share is.
    public var share = 0
    /// Times this worker took or gave up (or lost) a partition's lease (this run).
    public var leaseChanges = 0
    /// Events forwarded (this run).
    public var forwarded = 0
    /// Publishes and fetches repeated while the broker was unreachable, and rounds a partition was paused by its
    /// lease's fence (this run).
    public var retries = 0
    /// Times a partition's fence began to hold it back (this run; each partition's ``ForwardPartitionFigures/paused``
    /// says which are paused now).
    public var pauses = 0
    /// Per partition (every partition, held or not).
    public var partitions: [ForwardPartitionFigures] = []
    /// All zero.
    public init() {}
}

/// The metrics of a forward run (`sendwatch forward --metrics`).
public typealias ForwardMetrics = RunMetrics<ForwardMetricsSnapshot>

/// The first stage of several workers (`sendwatch forward`): workers of one name share the events stream's
/// partitions, each holding a lease per partition it reads (``WorkerLease`` on the key `<name>.p<N>`), and
/// forward every event, in its partition's order, to the forwarded stream with the message id `fe-<events-stream
/// sequence>` followed by the partition's watermark (``ForwardedMessage``) with the id `fw-<partition>-<sequence>`,
/// which the second stage (``ForwardedFeed``) merges back into events-stream order.
///
/// - Sharing: the live workers announce themselves (``WorkerMembers``); each takes its share of the partitions
///   (released or unowned leases, or leases not renewed for the lease time), gives the ones beyond its share back
///   (writes `released`, which another takes at once) when workers join, and renews the ones it holds.
/// - Resuming: a worker that takes a partition reads its last watermark in the forwarded stream and makes the
///   partition's consumer (`<name>-<N>`) at the message after it; what the previous holder forwarded after its last
///   watermark is forwarded again with the same ids, and the broker drops the repeats (within the forwarded
///   stream's duplicate window). The forwarded stream is the checkpoint: there is no state directory.
/// - Watermarks never rest on a fetch coming back empty (a fetch can time out with messages waiting): the events
///   stream's last sequence `L` is asked first, then the partition's last message's sequence `Lp`; once
///   everything up to `Lp` is forwarded, the watermark is `L` (no message of the partition lies between). A
///   partition whose last message is forwarded already is not fetched at all, and its watermark follows `L`, so
///   that an idle partition does not hold the second stage back.
/// - Fenced by each lease's age: before opening a partition's consumer, fetching it, forwarding each window of it,
///   repeating a publish and writing its watermark, the worker checks that the partition's lease was renewed less
///   than ``WorkerLease/publishSeconds`` ago by its own clock (``WorkerLease/mayPublish(now:)``). A partition whose
///   lease store has been unreachable that long (a third of the lease before another worker may take it over) is
///   paused: nothing of it is fetched or forwarded, its renewal is tried at most once a poll interval, until one
///   succeeds (it resumes; a fetch cut short is read again after the last watermark, the repeats dropped by the
///   server) or is refused (the partition is dropped). The other partitions go on; when nothing else has work the
///   round waits (50 ms doubling to the poll interval, at most ``FeedFetching/maxBackoffSeconds``).
///
/// Memory: one fetch's messages, one lease, consumer and figures per partition.
public final class ForwardRun<Feed: StreamFeed, Target: ForwardTarget, Source: ForwardSource> {
    struct Slot {
        var lease: WorkerLease
        var feed: Feed?
        var figures: ForwardPartitionFigures
        /// Whether forwarding is paused because the lease store has been unreachable for
        /// ``WorkerLease/publishSeconds`` (logged once per pause; shown in ``figures``).
        var paused: Bool {
            get { figures.paused }
            set { figures.paused = newValue }
        }
    }

    /// How forwarding (or repeating) a publish ended.
    enum Sent {
        /// Acknowledged.
        case done
        /// A stop was requested while the broker was unreachable.
        case stopped
        /// The partition's lease was lost, or has not been renewed for ``WorkerLease/publishSeconds``: nothing more
        /// of it goes out until a renewal succeeds.
        case fenced
    }

    /// How the run behaves.
    public let options: ForwardOptions
    /// The live workers of this name.
    public let members: WorkerMembers
    /// The figures `--metrics` serves.
    public let metrics: ForwardMetrics
    private var slots: [Slot]
    private var target: Target
    private var source: Source
    private let makeFeed: (Int) -> Feed
    private let logger: Logger
    private var totals = ForwardMetricsSnapshot()
    private var lastAcquireRound = -Double.infinity
    private var backoff: Backoff
    /// The wait of a round in which nothing but paused partitions had work.
    private var pauseBackoff: Backoff
    private var outage = false
    /// The monotonic clock (seconds) the leases and the fence go by.
    private let clock: () -> Double
    /// Waits the given seconds: each pause while the broker cannot be reached or a partition is paused.
    private let wait: (Double) -> Void
    /// The account registry's creation times by ``StableHash`` of the account (the engine's key for them).
    private let created: [UInt64: EventTime]
    private var accountReader = EventAccountReader()

    /// A run over `options.partitions` partitions; `lease(p)` makes partition `p`'s lease, `feed(p)` its consumer.
    /// `accounts` (`--accounts`: account, creation time; a later entry of one account wins, as in the engine) are
    /// the creation times each forwarded event of those accounts is annotated with. `clock` is the monotonic clock
    /// (seconds) the leases and their fence go by, `wait` waits the given seconds at each pause (a scripted clock in
    /// tests).
    public init(
        options: ForwardOptions, members: WorkerMembers, lease: (Int) -> WorkerLease,
        feed: @escaping (Int) -> Feed, target: Target, source: Source, accounts: [(String, EventTime)] = [],
        metrics: ForwardMetrics = ForwardMetrics(), clock: @escaping () -> Double = TailRun.monotonicSeconds,
        wait: @escaping (Double) -> Void = FleetPause.sleep, logger: Logger
    ) {
        var created: [UInt64: EventTime] = [:]
        created.reserveCapacity(accounts.count)
        for (account, time) in accounts { created[StableHash.of(account)] = time }
        self.created = created
        self.options = options
        self.members = members
        self.metrics = metrics
        self.target = target
        self.source = source
        makeFeed = feed
        self.logger = logger
        self.clock = clock
        self.wait = wait
        backoff = Backoff(maxSeconds: options.fetching.maxBackoffSeconds)
        slots = (0..<options.partitions).map { Slot(lease: lease($0), figures: ForwardPartitionFigures(partition: $0)) }
        pauseBackoff = Backoff(
            maxSeconds: min(options.fetching.maxBackoffSeconds, slots.first?.lease.pollSeconds ?? 1))
    }

    /// The partitions this worker holds now.
    public var heldPartitions: [Int] { slots.indices.filter { slots[$0].lease.held } }

    /// Runs until `shouldStop` returns true, then gives every partition back and leaves the members' key.
    ///
    /// - Throws: ``TailError`` `consume_failed` when a partition cannot be read, `publish_refused` when the broker
    ///   refused a forwarded message.
    public func run(shouldStop: () -> Bool) throws(TailError) {
        let now = clock
        defer {
            for p in heldPartitions { giveBack(p, why: "stopping") }
            members.leave()
            publishMetrics()
        }
        while !shouldStop() {
            let t = now()
            keepAlive(now: t)
            let share = members.share(of: slots.count)
            var held = heldPartitions
            while held.count > share, let p = held.popLast() { giveBack(p, why: "a worker joined") }
            if held.count < share && t - lastAcquireRound >= slots[0].lease.pollSeconds {
                lastAcquireRound = t
                acquire(count: share - held.count, now: t)
            }
            totals.share = share
            totals.liveWorkers = members.live.count
            var worked = false
            var paused = false
            let last = source.lastSequence()
            for p in heldPartitions {
                // No consumer made, nothing fetched or forwarded while the lease may have run out.
                guard mayForward(p) else {
                    paused = paused || slots[p].lease.held
                    continue
                }
                if slots[p].feed == nil && !open(p) { continue }
                guard let last, slots[p].figures.watermark < last else {
                    slots[p].figures.pendingMessages = 0
                    continue  // nothing after its watermark can be in it yet (or the broker cannot say now)
                }
                guard let partitionLast = source.lastSequence(inPartition: p) else { continue }
                if partitionLast <= slots[p].figures.watermark {
                    // Nothing of the partition after its watermark: none of it lies up to `last` either.
                    if try advance(p, to: last, shouldStop: shouldStop) == .stopped { return }
                    continue
                }
                worked = true
                guard try forward(p, streamLast: last, partitionLast: partitionLast, shouldStop: shouldStop) else {
                    return
                }
            }
            publishMetrics()
            if !worked {
                // Every held partition is at the stream's end, or paused until its lease is renewed.
                if paused { pauseBackoff.pause(wait) } else { wait(0.05) }
            }
        }
    }

    /// Whether partition `p` may be forwarded now: its lease is held (renewed first when due) and its last renewal
    /// that reached the store is less than ``WorkerLease/publishSeconds`` old. A partition whose renewal is
    /// refused is dropped; one cut off from the store that long is paused (logged once) until a renewal succeeds.
    private func mayForward(_ p: Int) -> Bool {
        let lease = slots[p].lease
        guard lease.held else { return false }
        if lease.renew(now: clock()) == .lost {
            slots[p].paused = false
            drop(p)
            return false
        }
        // The clock read again: an attempt on an unreachable store can take the request timeout.
        guard lease.mayPublish(now: clock()) else {
            if !slots[p].paused {
                slots[p].paused = true
                totals.pauses += 1
                logger.warning(
                    "the lease store has been unreachable for two thirds of the lease: forwarding nothing of partition \(p) until a renewal succeeds",
                    metadata: ["forward.watermark": "\(slots[p].figures.watermark)"])
                publishMetrics()  // the paused gauge at once, not at the end of a round that may forward for long
            }
            totals.retries += 1
            return false
        }
        if slots[p].paused {
            slots[p].paused = false
            pauseBackoff.reset()
            logger.info("the lease of partition \(p) is renewed again; forwarding it resumes")
            publishMetrics()
        }
        return true
    }

    /// Beats in the members' key and renews the partitions' leases, each when due; a partition whose renewal was
    /// refused is dropped.
    private func keepAlive(now: Double) {
        members.beat(now: now)
        for p in heldPartitions where slots[p].lease.renew(now: now) == .lost { drop(p) }
    }

    /// Takes up to `count` partitions whose lease is free (missing, released or not renewed for the lease time).
    private func acquire(count: Int, now: Double) {
        var taken = 0
        // Start at a place that depends on the worker, so that workers starting together try different keys first.
        let start = (members.live.firstIndex(of: members.id) ?? 0) * slots.count / max(1, members.live.count)
        for k in 0..<slots.count where taken < count {
            let p = (start + k) % slots.count
            guard !slots[p].lease.held, slots[p].lease.tryAcquire(now: now) == .held else { continue }
            totals.leaseChanges += 1
            slots[p].figures.held = true
            taken += 1
            logger.info("holding partition \(p)")
        }
    }

    /// Makes partition `p`'s consumer after its last watermark; false while the forwarded stream cannot be read.
    private func open(_ p: Int) -> Bool {
        switch target.lastWatermark(partition: p) {
        case .sequence(let w):
            var feed = makeFeed(p)
            feed.resume(after: w)
            slots[p].feed = feed
            slots[p].figures.watermark = w
            logger.info("forwarding partition \(p) from events-stream sequence \(w + 1)")
            return true
        case .unavailable(let why):
            noteOutage(why)
            return false
        }
    }

    /// One fetch of partition `p`, its events forwarded and then its watermark: `streamLast` once the partition's
    /// last message `partitionLast` (asked after `streamLast`) is forwarded. False when a stop was requested while
    /// the broker was unreachable.
    private func forward(
        _ p: Int, streamLast: UInt64, partitionLast: UInt64, shouldStop: () -> Bool
    ) throws(TailError) -> Bool {
        guard var feed = slots[p].feed else { return true }
        // Cut short by the fence, the fetch's remaining messages are not forwarded and none is acknowledged: the
        // consumer is made again after the last watermark once the lease is renewed (the repeats are dropped).
        var fenced = false
        defer { if slots[p].lease.held && !fenced { slots[p].feed = feed } else { slots[p].feed = nil } }
        let fetched = feed.fetch(
            maxMessages: options.fetching.batch, timeoutMilliseconds: options.fetching.timeoutMilliseconds)
        let messages: [FeedMessage]
        switch fetched {
        case .messages(let m): messages = m
        case .unavailable(let why):
            totals.retries += 1
            noteOutage(why)
            backoff.pause(wait)
            return true
        case .failed(let why):
            throw TailError(code: .consumeFailed, message: "cannot read partition \(p) of the events stream: \(why)")
        }
        endOutage()
        var start = 0
        while start < messages.count {
            // A fetch can take longer than the lease: beat and renew between windows.
            keepAlive(now: clock())
            guard slots[p].lease.held else { return true }  // lost meanwhile: the new holder forwards it again
            guard mayForward(p) else {
                fenced = true
                return true
            }
            let window = messages[start..<min(messages.count, start + Self.window)]
            start = window.endIndex
            switch try sendWindow(Array(window), partition: p, shouldStop: shouldStop) {
            case .done: break
            case .stopped: return false
            case .fenced:
                fenced = true
                return true
            }
        }
        var watermark = max(slots[p].figures.watermark, messages.last?.sequence ?? 0)
        if let last = messages.last { slots[p].figures.pendingMessages = last.pending }
        // Everything of the partition up to its last message is forwarded: so is everything up to the stream's last
        // sequence, asked before.
        if watermark >= partitionLast { watermark = max(watermark, streamLast) }
        switch try advance(p, to: watermark, shouldStop: shouldStop) {
        case .done: break
        case .stopped: return false
        case .fenced:
            fenced = true
            return true
        }
        _ = feed.acknowledgeFetched()
        return true
    }

    /// Publishes partition `p`'s watermark `watermark` if it is past the last one (and the fence lets it).
    private func advance(_ p: Int, to watermark: UInt64, shouldStop: () -> Bool) throws(TailError) -> Sent {
        guard watermark > slots[p].figures.watermark else { return .done }
        guard mayForward(p) else { return .fenced }
        let body = ForwardedMessage.watermarkBody(watermark)
        let sent = try send(body, partition: p, id: "fw-\(p)-\(watermark)", shouldStop: shouldStop)
        if sent == .done { slots[p].figures.watermark = watermark }
        return sent
    }

    /// After a pause for an unreachable broker, before publishing again: beats, renews, and checks partition
    /// `p`'s fence (an outage of the broker can outlast the lease).
    private func mayRepeat(_ p: Int) -> Bool {
        keepAlive(now: clock())
        return mayForward(p)
    }

    /// Events forwarded together, their acknowledgements awaited at once.
    static var window: Int { 256 }

    /// Forwards `messages` of partition `p` as one window, publishing again those whose outcome is unknown until
    /// every one is acknowledged (`.stopped`: a stop was requested meanwhile; `.fenced`: the partition's lease
    /// was lost or lapsed meanwhile, the rest not sent). Repeated ones may land after later ones of the window: the
    /// second stage orders each partition's events by sequence.
    private func sendWindow(_ messages: [FeedMessage], partition p: Int, shouldStop: () -> Bool) throws(TailError)
        -> Sent
    {
        var todo = messages.map { m in
            (
                body: ForwardedMessage.eventBody(sequence: m.sequence, record: m.payload, created: creation(of: m)),
                messageID: "fe-\(m.sequence)"
            )
        }
        while !todo.isEmpty {
            var again: [(body: [UInt8], messageID: String)] = []
            for (message, outcome) in zip(todo, target.publish(todo, partition: p)) {
                switch outcome {
                case .acknowledged:
                    slots[p].figures.forwarded += 1
                    totals.forwarded += 1
                case .unavailable(let why):
                    totals.retries += 1
                    noteOutage(why)
                    again.append(message)
                case .refused(let why):
                    throw TailError(
                        code: .publishRefused,
                        message: "the broker refused forwarded message \(message.messageID) (\(why))")
                }
            }
            if again.isEmpty {
                endOutage()
            } else {
                if shouldStop() { return .stopped }
                backoff.pause(wait)
                guard mayRepeat(p) else { return .fenced }
            }
            todo = again
        }
        return .done
    }

    /// The registry's creation time of the account of the event record `m` carries; nil without a registry, for an
    /// account it does not hold, or a record without an account (the second stage counts it as undecodable).
    private func creation(of m: FeedMessage) -> EventTime? {
        guard !created.isEmpty, let account = m.payload.withUnsafeBytes({ accountReader.account($0) }) else {
            return nil
        }
        return created[StableHash.of(account)]
    }

    /// Publishes one forwarded message, repeating while the broker is unreachable and the partition's fence lets it.
    private func send(_ body: [UInt8], partition: Int, id: String, shouldStop: () -> Bool) throws(TailError) -> Sent {
        while true {
            switch target.publish(body, partition: partition, messageID: id) {
            case .acknowledged:
                endOutage()
                return .done
            case .unavailable(let why):
                totals.retries += 1
                noteOutage(why)
                if shouldStop() { return .stopped }
                backoff.pause(wait)
                guard mayRepeat(partition) else { return .fenced }
            case .refused(let why):
                throw TailError(code: .publishRefused, message: "the broker refused forwarded message \(id) (\(why))")
            }
        }
    }

    /// Gives partition `p` back: its lease released (another worker takes it at once), its consumer closed.
    private func giveBack(_ p: Int, why: String) {
        slots[p].lease.release()
        totals.leaseChanges += 1
        slots[p].feed = nil
        slots[p].figures.held = false
        slots[p].paused = false
        logger.info("gave partition \(p) back (\(why))")
    }

    /// Partition `p`'s lease was taken by another worker: stop reading it.
    private func drop(_ p: Int) {
        totals.leaseChanges += 1
        slots[p].feed = nil
        slots[p].figures.held = false
        slots[p].paused = false
        logger.warning("lost partition \(p) to another worker")
    }

    private func noteOutage(_ why: String) {
        guard !outage else { return }
        outage = true
        logger.warning("the broker is unreachable; retrying", metadata: ["forward.reason": "\(why)"])
    }

    private func endOutage() {
        guard outage else { return }
        outage = false
        backoff.reset()
        logger.info("the broker is reachable again")
    }

    private func publishMetrics() {
        var snapshot = totals
        snapshot.partitions = slots.map(\.figures)
        metrics.update { $0 = snapshot }
    }
}

@available(*, unavailable)
extension ForwardRun: Sendable {}
