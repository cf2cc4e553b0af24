public import Logging
import SendWatchCore
import SendWatchFormats
public import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a ``ShipRun`` behaves.
public struct ShipOptions: Sendable {
    /// Files or globs to follow, or `["-"]` for standard input.
    public var patterns: [String]
    /// The directory of the checkpoint (`ship-checkpoint`) and its lock; nil: a restart starts over.
    public var stateDirectory: String?
    /// Without a checkpoint, read existing files from their start (default: only new lines).
    public var fromStart = false
    /// Read the files to their end, publish every event (also those of messages not finished yet, as `events`
    /// does at the end of a file), checkpoint and return: for complete files and tests.
    public var once = false
    /// The name of this agent's host, part of every message id (two hosts' logs never share ids).
    public var host: String
    /// Seconds between checkpoints while events flow (each after everything read was acknowledged). It must be
    /// far below the stream's duplicate window. Default 1.
    public var checkpointIntervalSeconds: Double = 1
    /// The longest pause between two publish attempts while the broker is unreachable (the pause doubles from
    /// 50 ms up to this). Default 5.
    public var maxBackoffSeconds: Double = 5
    /// How the files are followed; its `maxBytesPerStreamPerPoll` bounds the events held in memory.
    public var follow = FollowConfiguration(maxBytesPerStreamPerPoll: 256 * 1024)

    /// Options for following `patterns` on `host`.
    public init(patterns: [String], host: String) {
        self.patterns = patterns
        self.host = host
    }
}

/// What a ship run has done, kept in its checkpoint.
public struct ShipTotals: Codable, Sendable, Equatable {
    /// Lines read.
    public var lines = 0
    /// Events the broker acknowledged as new.
    public var published = 0
    /// Events the broker acknowledged as already stored (repeated after a restart).
    public var duplicates = 0
    /// Publish attempts that failed because the broker was unreachable, and were repeated.
    public var retries = 0
    /// Checkpoints written.
    public var checkpoints = 0
    /// All zero.
    public init() {}
}

extension ShipTotals {
    /// Decodes saved totals, each checked to be a count (not negative, at most 2^56): a damaged checkpoint
    /// throws here instead of loading negative counts.
    ///
    /// - Throws: `DecodingError.dataCorrupted` naming the counter out of range.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lines = try c.decodeCount(forKey: .lines, "ship totals: lines")
        published = try c.decodeCount(forKey: .published, "ship totals: published")
        duplicates = try c.decodeCount(forKey: .duplicates, "ship totals: duplicates")
        retries = try c.decodeCount(forKey: .retries, "ship totals: retries")
        checkpoints = try c.decodeCount(forKey: .checkpoints, "ship totals: checkpoints")
    }
}

/// Where a stream's message ids are counted from: a key derived from the host, the stream and its position at
/// the first checkpoint that followed it, and the number of events since.
struct ShipAnchor: Codable, Equatable {
    /// 16 hex digits: a ``StableHash`` of the host, the stream's name and its file position (device, inode,
    /// offset); for a file numbered before a checkpoint followed it, of the state's nonce instead of the
    /// position; for standard input (which cannot be read again), of a run nonce.
    var key: String
    /// Events of the stream numbered from this anchor so far.
    var next: Int
}

extension ShipAnchor {
    /// Decodes an anchor, its count checked (``StateCheck``: ids are numbered on from it).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        next = try c.decodeCount(forKey: .next, "ship anchor: events numbered")
    }
}

/// The body of a ship checkpoint.
struct ShipState: Codable {
    /// The version in the checkpoint header; a checkpoint of another version is refused, but ``migration``'s.
    /// 2: each stream's parsers are saved by format name with their own checkpoint version (``SavedParsers``).
    static let format = 2
    /// Format 1, with the parsers saved by position, is read and written again as ``format``.
    static let migration = StateMigration.parsersByPosition(format: 1)
    var follower: FollowerState
    var streams: [String: ParsingCheckpoint]
    var anchors: [String: ShipAnchor]
    var totals: ShipTotals
    /// Drawn when the state was created: part of the key of a stream numbered before a checkpoint gave it a
    /// position (a file that appeared after the start), so that a restart keys it alike and another state
    /// directory does not. Nil in a checkpoint written before it existed; the next checkpoint saves one.
    var stateNonce: Int64?
    /// Per host the greatest event time of the events published before this checkpoint (each record's
    /// `host_max_time` goes on from it). Nil in a checkpoint written before keys existed: the maxima then start
    /// from the checkpoint's position (logged), which can be below the times published before it.
    var hostMaxima: HostTimeMaxima?
}

/// The agent of a fleet (`sendwatch ship`): follows logs as `tail` does (the same follower and per-stream
/// parsers), and publishes each send event, once, through a ``ShipPublisher``.
///
/// Exactly once from log line to stream:
/// - Message ids: a stream's events are numbered from its anchor, a hash of the host, the stream and its file
///   position at the first checkpoint that followed it; the anchor and its count are checkpointed and never
///   moved while the stream is followed. A restart resumes the files, the parsers and the counts at the
///   checkpoint and parses the same lines into the same events in the same order, so each gets the id it had,
///   wherever either run took its checkpoints: the broker drops the repeated publishes (its duplicate window
///   must be longer than a restart takes).
/// - The checkpoint moves only past acknowledged publishes: each poll's events are all acknowledged before the
///   next poll reads more, and a checkpoint is written only between polls.
///
/// Events are published a window (``ShipPublisher/windowSize``) at a time, all of a window's publishes sent
/// before their acknowledgements are awaited. While the broker is unreachable the run keeps its position and
/// repeats the window's unacknowledged publishes, pausing 50 ms, doubling up to ``ShipOptions/maxBackoffSeconds``;
/// it reads nothing meanwhile, so memory stays bounded by one poll's events (``ShipOptions/follow``'s bytes per
/// stream and poll, times the streams) plus one window inside the publisher.
public final class ShipRun<Publisher: ShipPublisher> {
    /// How the run behaves.
    public let options: ShipOptions
    /// The publisher.
    public var publisher: Publisher
    var follower: TailInput
    let consumer: TailConsumer<ShipSink>
    /// Per followed name: where its message ids are counted from. Bounded by the followed streams
    /// (`follow.maxStreams`): a checkpoint keeps only the names the follower still has.
    var anchors: [String: ShipAnchor] = [:]
    /// The run's counters (restored from the checkpoint).
    public private(set) var totals = ShipTotals()
    /// Whether this run resumed from a checkpoint.
    public private(set) var restoredFromCheckpoint = false
    /// The figures `--metrics` serves, updated once per poll and around each window of publishes.
    public let metrics = ShipMetrics()
    /// Messages handed to the publisher by this run, repeats included.
    private var publishes = 0
    /// Times this run found the broker unreachable.
    private var outages = 0
    let logger: Logger
    private let lock: StateDirectoryLock?
    /// A per-run value for streams without a position (standard input).
    private let nonce: Int64
    /// The state's value for files numbered before a checkpoint gave them a position (``ShipState/stateNonce``).
    private let stateNonce: Int64
    private var lastCheckpoint: Double?
    private var dirty = false
    /// Whether the broker was reported unreachable (so the outage and its end are logged once each).
    private var outage = false

    /// The checkpoint's path; nil without a state directory.
    var checkpointPath: String? { options.stateDirectory.map { $0 + "/ship-checkpoint" } }

    /// Loads the checkpoint (if any) and opens the followed files.
    ///
    /// - Throws: ``TailError`` for a state directory that cannot be used or another run holds, a damaged or
    ///   incompatible checkpoint (left in place), or a follower that cannot start.
    public init(
        configuration: Configuration, options: ShipOptions, publisher: Publisher, logger: Logger
    ) throws(TailError) {
        self.options = options
        self.publisher = publisher
        self.logger = logger
        nonce = Int64(TailRun.wallSeconds() * 1e6) ^ Int64(getpid())
        lock = try StateDirectory.prepare(options.stateDirectory)
        let saved = try Self.load(path: options.stateDirectory.map { $0 + "/ship-checkpoint" }, logger: logger)
        stateNonce = saved?.stateNonce ?? nonce
        var follow = options.follow
        follow.startAtEnd = !options.fromStart
        do throws(IngestError) {
            follower = try TailInput.open(patterns: options.patterns, configuration: follow, restoring: saved?.follower)
        } catch {
            throw TailError(code: .followFailed, message: "\(error)", underlyingErrno: error.underlyingErrno)
        }
        consumer = TailConsumer(configuration: configuration, sink: ShipSink(), wallSeconds: TailRun.wallSeconds())
        let names = follower
        consumer.nameOf = { index in names.streams.first { $0.index == index }?.name }
        if let saved {
            consumer.restore(saved.streams)
            anchors = saved.anchors
            totals = saved.totals
            restoredFromCheckpoint = true
            if let maxima = saved.hostMaxima {
                consumer.sink.maxima = maxima
            } else {
                logger.notice(
                    """
                    the ship checkpoint predates host_max_time: each host's greatest event time is counted from the \
                    checkpoint on, without the events published before it
                    """)
            }
        }
    }

    /// Runs until `shouldStop` returns true, standard input ends, or (``ShipOptions/once``) the files are
    /// read to their end; then publishes what was read and writes the final checkpoint.
    ///
    /// - Throws: ``TailError`` `publish_refused` when the broker refused an event (the checkpoint stays before
    ///   it), or `checkpoint_failed`.
    public func run(now: () -> Double = TailRun.monotonicSeconds, shouldStop: () -> Bool) throws(TailError) {
        // A first checkpoint before anything is read: it fixes the anchors the first events are numbered from.
        if options.stateDirectory != nil, !restoredFromCheckpoint { try checkpoint() }
        var finished = false
        while !shouldStop() && !follower.ended {
            var c = consumer
            let report = follower.poll(into: &c)
            report.log(to: logger)
            totals.lines += consumer.takeLines()
            if let failure = consumer.takeFailure() { throw TailError(code: .checkpointIncompatible, message: failure) }
            let quiet = report.linesDelivered == 0 && !report.moreAvailable
            if quiet { consumer.settleUndecided() }
            if quiet && options.once {
                consumer.finish()
                finished = true
            }
            // A retired stream's held events, then ids, before retiring: its name goes with it.
            for index in report.streamsRetired { consumer.finish(stream: index) }
            guard try publishPending(shouldStop: shouldStop) else { return }
            for index in report.streamsRetired { consumer.retire(stream: index) }
            if report.linesDelivered > 0 || report.rotations > 0 || report.truncations > 0 { dirty = true }
            let t = now()
            if lastCheckpoint == nil { lastCheckpoint = t }
            if dirty, t - (lastCheckpoint ?? t) >= options.checkpointIntervalSeconds {
                try checkpoint()
                lastCheckpoint = t
            }
            publishMetrics()
            if quiet {
                if options.once { break }
                follower.wait(timeoutMilliseconds: options.follow.pollIntervalMilliseconds)
            }
        }
        if follower.ended && !finished {
            // Standard input ended: no more lines can come, so the parsers hand over what they still hold (the
            // lines of a format not decided yet, messages not finished) as `--once` and `events` do at the end of
            // their input. Before, a short input's events stayed in the parsers and were never published.
            consumer.finish()
            finished = true
            guard try publishPending(shouldStop: shouldStop) else { return }
        }
        if !options.once {
            // Drain what is readable now (a clean stop), then the final checkpoint.
            while !follower.ended {
                var c = consumer
                let report = follower.poll(into: &c)
                report.log(to: logger)
                totals.lines += consumer.takeLines()
                for index in report.streamsRetired { consumer.finish(stream: index) }
                guard try publishPending(shouldStop: shouldStop) else { return }
                for index in report.streamsRetired { consumer.retire(stream: index) }
                if report.linesDelivered == 0 && !report.moreAvailable { break }
            }
        }
        try checkpoint()
        publishMetrics()
    }

    /// Replaces the metrics' snapshot: the counters, the followed files' positions and lag; nothing pending.
    private func publishMetrics() {
        let t = totals
        let lag = follower.lag
        let (p, o) = (publishes, outages)
        metrics.update { m in
            m.totals = t
            m.publishes = p
            m.outages = o
            m.windowPending = 0
            m.eventsPending = 0
            m.files = lag.map { ($0.name, $0.offset, $0.behindBytes) }
        }
    }

    /// Publishes the events of the last poll in log order, a window (``ShipPublisher/windowSize``) at a time,
    /// each window's publishes all on the wire before the first acknowledgement is awaited. A message the broker
    /// did not acknowledge because it is unreachable or slow is published again (with its id: the broker drops
    /// it if it had it), pausing 50 ms, doubling up to ``ShipOptions/maxBackoffSeconds``, until every message of
    /// the window is acknowledged; only then does the next window go. False when a stop was requested before
    /// all were acknowledged (no checkpoint is written then: a restart repeats them, and the broker drops those
    /// it has).
    private func publishPending(shouldStop: () -> Bool) throws(TailError) -> Bool {
        let pending = consumer.sink.pending
        guard !pending.isEmpty else { return true }
        consumer.sink.pending.removeAll(keepingCapacity: true)
        // Ids first, once each, in log order: a retry must repeat the id, not take the next one.
        var messages: [ShipMessage] = []
        messages.reserveCapacity(pending.count)
        for event in pending {
            messages.append(
                ShipMessage(
                    messageID: messageID(forStream: event.stream), account: event.account, payload: event.payload))
        }
        let window = max(1, publisher.windowSize)
        var backoff = Backoff(maxSeconds: options.maxBackoffSeconds)
        var start = 0
        while start < messages.count {
            let end = min(start + window, messages.count)
            var unanswered = Array(start..<end)
            while !unanswered.isEmpty {
                let batch = ArraySlice(unanswered.map { messages[$0] })
                publishes += batch.count
                let (p, t, left) = (publishes, totals, messages.count - start)
                metrics.update { m in
                    m.totals = t
                    m.publishes = p
                    m.windowPending = batch.count
                    m.eventsPending = left
                }
                let outcomes = publisher.publish(batch)
                precondition(outcomes.count == batch.count, "a publisher answers every message of its window")
                var again: [Int] = []
                var why = ""
                for (position, outcome) in zip(unanswered, outcomes) {
                    switch outcome {
                    case .acknowledged(let duplicate):
                        if duplicate { totals.duplicates += 1 } else { totals.published += 1 }
                    case .unavailable(let reason):
                        again.append(position)
                        why = reason
                    case .refused(let reason):
                        throw TailError(
                            code: .publishRefused,
                            message: "the broker refused an event (\(reason)); the checkpoint stays before it",
                            path: consumer.openedName(ofStream: pending[position].stream))
                    }
                }
                if again.isEmpty {
                    if outage {
                        outage = false
                        logger.info("the broker is reachable again; catching up")
                    }
                    backoff.reset()
                    break
                }
                totals.retries += again.count
                if !outage {
                    outage = true
                    outages += 1
                    metrics.update { $0.outages += 1 }
                    logger.warning(
                        "the broker is unreachable; holding the position and retrying",
                        metadata: ["ship.reason": "\(why)"])
                }
                if shouldStop() { return false }
                backoff.pause()
                unanswered = again
            }
            start = end
        }
        dirty = true
        return true
    }

    /// The next message id of stream `index`: `sw1-<anchor key>-<count>`.
    private func messageID(forStream index: Int) -> String {
        let name = consumer.openedName(ofStream: index) ?? "stream \(index)"
        var anchor = anchors[name] ?? ShipAnchor(key: anchorKey(name: name, file: nil), next: 0)
        let id = "sw1-\(anchor.key)-\(anchor.next)"
        anchor.next += 1
        anchors[name] = anchor
        return id
    }

    /// The anchor key of stream `name` at `file` (nil: no position; standard input then gets the run nonce, a
    /// file the state's nonce).
    private func anchorKey(name: String, file: FilePosition?) -> String {
        var h = StableHash()
        h.combine(options.host)
        h.combine(name)
        if let file {
            h.combine(Int64(bitPattern: file.identity.device))
            h.combine(Int64(bitPattern: file.identity.inode))
            h.combine(file.offset)
        } else if case .pipe = follower {
            h.combine(nonce)
        } else {
            h.combine(stateNonce)
        }
        return h.hex
    }

    /// Gives each followed stream without an anchor one at its position now, keeps every other stream's anchor
    /// and count (however far it moved), drops the anchors of streams no longer followed, then writes the
    /// checkpoint: positions, parsers, anchors, totals.
    ///
    /// An anchor is never moved: which polls end in a checkpoint depends on timing (the interval), so an anchor
    /// moved at a checkpoint would number the events after it differently from a killed run that passed the same
    /// position without a checkpoint and published them (issue 15: a window published again under new ids).
    public func checkpoint() throws(TailError) {
        let positions = follower.state
        var kept: [String: ShipAnchor] = [:]
        for stream in positions.streams {
            kept[stream.name] =
                anchors[stream.name] ?? ShipAnchor(key: anchorKey(name: stream.name, file: stream.file), next: 0)
        }
        if case .pipe = follower { kept = anchors }
        anchors = kept
        dirty = false
        guard let path = checkpointPath else { return }
        totals.checkpoints += 1
        let state = ShipState(
            follower: positions, streams: consumer.checkpoint(followed: Set(follower.streams.map(\.name))),
            anchors: anchors, totals: totals,
            stateNonce: stateNonce, hostMaxima: consumer.sink.maxima)
        let (host, published) = (options.host, totals.published)
        do throws(TailError) {
            try StateDirectory.writeCheckpoint(
                state, path: path, kind: "sendwatch_ship_checkpoint", format: ShipState.format
            ) { header in
                header.key("host"); header.string(host)
                header.key("published"); header.int(published)
            }
        } catch {
            totals.checkpoints -= 1
            throw error
        }
    }

    /// Reads the checkpoint at `path`, if there is one (of the current state format or ``ShipState/migration``'s;
    /// a migration is logged).
    static func load(path: String?, logger: Logger) throws(TailError) -> ShipState? {
        guard let path,
            let saved = try StateDirectory.readCheckpoint(
                ShipState.self, path: path, format: ShipState.format, migrating: [ShipState.migration],
                name: "ship checkpoint",
                damagedAdvice: "Move the file away to start over (the broker drops the events it has within its "
                    + "duplicate window).",
                incompatibleAdvice: "Move it away to start over.")
        else { return nil }
        if saved.format != ShipState.format {
            logger.notice(
                "ship checkpoint migrated from an older state format; the next one is written in the current one",
                metadata: [
                    "checkpoint.state_format": "\(saved.format)", "checkpoint.new_state_format": "\(ShipState.format)",
                ])
        }
        return saved.state
    }

    /// Summary for stderr at the end: the totals since the state directory was created (they are checkpointed).
    public var summaryText: String {
        "sendwatch ship (totals since the state was created): \(totals.lines) lines, \(totals.published) events published, \(totals.duplicates) "
            + "already stored (repeated after a restart), \(totals.retries) retries while the broker was "
            + "unreachable, \(totals.checkpoints) checkpoints"
    }
}

@available(*, unavailable)
extension ShipRun: Sendable {}
