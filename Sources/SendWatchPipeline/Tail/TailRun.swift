#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import Foundation
public import SendWatchIngest
public import Logging

/// How a `sendwatch tail` run behaves (the flags; the configuration file says what it detects).
public struct TailOptions: Sendable {
    /// Files or globs to follow.
    public var patterns: [String]
    /// Directory of the checkpoint and the alert journal; nil keeps no state (a restart starts over).
    public var stateDirectory: String?
    /// With no checkpoint: read existing files from their start (true) or only what is appended (false,
    /// like `tail -F -n 0`). Default false.
    public var fromStart = false
    /// Alert output file (appended); nil writes to standard output.
    public var outputPath: String?
    /// When the output file is fsynced. Default `.checkpoint`.
    public var sync: AlertDelivery.SyncPolicy = .checkpoint
    /// Wall-clock seconds between checkpoints while data flows. Default 30.
    public var checkpointIntervalSeconds: Double = 30
    /// Wall-clock seconds after a batch with alerts until the checkpoint that covers it. Default 1.
    public var alertCheckpointDelaySeconds: Double = 1
    /// Alert lines journaled since the last checkpoint at which a checkpoint is written at once, whatever the
    /// intervals say, so that the journal (and the duplicate check of a restart) stays bounded. Default
    /// ``AlertDelivery/maxJournalEntries`` (100,000).
    public var maxJournalEntries = AlertDelivery.maxJournalEntries
    /// Quiet wall-clock seconds after which event time is advanced by the time that passed, so that alerts
    /// can close while the logs are silent. Default 10.
    public var idleAdvanceSeconds: Double = 10
    /// The follower's settings (polling, partial lines, bounds).
    public var follow = FollowConfiguration()
    /// Alert record format.
    public var alertFormat: DetectionSink.Format = .sendwatch
    /// The product version written into OCSF records.
    public var productVersion = "0.1.0"

    public init(patterns: [String]) { self.patterns = patterns }
}

/// Counters of a tail run, kept in the checkpoint so that metrics continue across restarts.
public struct TailTotals: Codable, Sendable, Equatable {
    public var lines = 0
    public var events = 0
    public var skipped: [String: Int] = [:]
    public var alertsByKind: [String: Int] = [:]
    public var alertRecords = 0
    public var checkpoints = 0
    public var restarts = 0
    public init() {}
}

/// What the checkpoint's body holds: everything that decides future output, saved together at one instant
/// between two polls (so the file positions, the parsers' open messages, the detection state and the alert
/// lifecycle agree with each other).
struct TailState: Codable {
    var follower: FollowerState
    /// Per stream name: its parser state.
    var streams: [String: ParsingCheckpoint]
    var engine: DetectionEngine.Checkpoint
    var totals: TailTotals
    /// Event time already advanced to by the idle timer.
    var idleAdvancedTo: EventTime?
}

/// Live mode: follows log files, detects as `replay` does, writes alerts, checkpoints, survives restarts.
///
/// The loop: poll the follower (every stream's new complete lines, bounded per call) → parse each stream with
/// its own parsers → detection engine → alert lines → one write per batch → maybe checkpoint → wait for
/// inotify or the poll interval. Signals only set a flag; the loop then drains what is readable, writes the
/// alerts and a final checkpoint, and returns.
///
/// Restart and crash safety: see ``AlertDelivery`` (exactly-once output) and ``CheckpointFile`` (atomic,
/// checked state). A checkpoint is written only after the alerts of every line it covers are written (and
/// fsynced, under the default policy); if the output cannot be written, the loop stops reading input and
/// retries, and no checkpoint moves past the unwritten alerts.
///
/// Event time: windows advance on log time. When no line arrives for ``TailOptions/idleAdvanceSeconds``, event
/// time is moved to `newest event + quiet time − allowed lateness` (never backwards), which closes alerts whose
/// cooldown has passed; the close records carry the same times `replay` gives them, and an event arriving later
/// is not dropped as late unless its timestamp lags the wall clock by more than the allowed lateness.
public final class TailRun {
    public let configuration: Configuration
    public let options: TailOptions
    private let delivery: AlertDelivery
    private var follower: LogFollower
    private let consumer: TailConsumer
    /// The engine, kept in the consumer's sink storage.
    private var engine: DetectionEngine {
        // `_read`, not `get`: a get would copy the engine (and retain every table) on each read.
        _read { yield consumer.sink.pointee.engine }
        _modify { yield &consumer.sink.pointee.engine }
    }
    private var totals = TailTotals()
    private var idleAdvancedTo: EventTime?
    /// Whether this run resumed from a checkpoint.
    public private(set) var restoredFromCheckpoint = false
    private var writer = JSONWriter(capacity: 16 * 1024)
    private let logger: Logger
    /// Asked while a failed alert write is being retried: true gives up (the run then throws, without a
    /// checkpoint past the unwritten alerts). Default: a stop was requested by a signal.
    public var abandonRetry: () -> Bool = { TailSignals.stopRequested }
    /// The metrics the loop publishes after every iteration.
    public let metrics = TailMetrics()

    static let stateFormat = 2
    var checkpointPath: String? { options.stateDirectory.map { $0 + "/checkpoint" } }

    /// Opens the output, loads the checkpoint (if any) and opens the followed files.
    ///
    /// - Parameter accounts: account registry entries to (re-)register after a restore.
    /// - Throws: ``TailError`` for a damaged or incompatible checkpoint (left in place), an output or state
    ///   directory that cannot be used, or a follower that cannot start.
    public init(
        configuration: Configuration, options: TailOptions, accounts: [(String, EventTime)] = [],
        logger: Logger
    ) throws(TailError) {
        self.configuration = configuration
        self.options = options
        self.logger = logger
        if let dir = options.stateDirectory {
            if mkdir(dir, 0o700) != 0 && errno != EEXIST {
                throw TailError("cannot create state directory \(dir): \(errnoDescription(errno))")
            }
        }
        do {
            delivery = try AlertDelivery(path: options.outputPath, stateDirectory: options.stateDirectory, sync: options.sync)
        } catch {
            throw TailError("\(error)")
        }
        var restored: TailState?
        var outputPosition: Int64?
        if let path = options.stateDirectory.map({ $0 + "/checkpoint" }) {
            let contents: CheckpointFile.Contents?
            do {
                contents = try CheckpointFile.read(path: path)
            } catch {
                throw TailError(
                    "\(error). The state is kept as it is; move the file away to start over (alerts of the lines "
                        + "read since may repeat), or restore a good copy.")
            }
            if let contents {
                let version = CheckpointFile.integerField("state_format", in: contents.header)
                guard version == UInt64(Self.stateFormat) else {
                    throw TailError(
                        "checkpoint \(path) has state format \(version.map(String.init) ?? "none"); this SendWatch "
                            + "reads format \(Self.stateFormat). Run the version that wrote it, or move the file away "
                            + "to start over.")
                }
                do {
                    restored = try StateCoding.decode(TailState.self, from: contents.body)
                } catch {
                    throw TailError("checkpoint \(path) cannot be decoded: \(error). Move it away to start over.")
                }
                outputPosition = CheckpointFile.integerField("output_position", in: contents.header).map { Int64($0) }
            }
        }
        var engine: DetectionEngine
        do {
            if let restored {
                engine = try DetectionEngine(configuration: configuration.detection, restoring: restored.engine)
            } else {
                engine = DetectionEngine(configuration: configuration.detection)
            }
        } catch {
            throw TailError("the checkpoint's detection state does not fit the configuration: \(error)")
        }
        for (account, created) in accounts { engine.register(account: account, created: created) }
        consumer = TailConsumer(configuration: configuration, engine: engine, wallSeconds: TailRun.wallSeconds())
        var follow = options.follow
        follow.startAtEnd = !options.fromStart
        do {
            follower = try LogFollower(patterns: options.patterns, configuration: follow, restoring: restored?.follower)
        } catch {
            throw TailError("\(error)")
        }
        let names = follower
        consumer.nameOf = { index in names.streams.first { $0.index == index }?.name }
        if let restored {
            consumer.restore(restored.streams)
            restoredFromCheckpoint = true
            totals = restored.totals
            totals.restarts += 1
            idleAdvancedTo = restored.idleAdvancedTo
            do {
                try delivery.resume(after: outputPosition)
            } catch {
                throw TailError("\(error)")
            }
        }
    }

    /// What one ``step(now:)`` did.
    public struct Step: Sendable {
        /// Lines read in this step.
        public var lines: Int
        /// Whether more data was left unread (the per-poll bound was reached).
        public var more: Bool
        /// Whether a checkpoint was written.
        public var checkpointed: Bool
    }

    private var lastCheckpoint: Double?
    private var lastData: Double?
    private var firstUncheckpointedAlert: Double?
    /// Encodes and writes checkpoints on its own thread.
    private let checkpointWriter = CheckpointWriter()
    /// How long the last checkpoint took: the interval is stretched to at least 20 times this, so that writing
    /// a very large state costs at most about 5 % of the time.
    private var lastCheckpointSeconds = 0.0
    /// Whether anything changed since the last checkpoint (an idle tail does not rewrite it).
    private var dirty = false

    /// Runs until `shouldStop` returns true (checked at least every poll interval), then drains what is
    /// readable, writes its alerts and the final checkpoint.
    ///
    /// - Throws: ``TailError`` when the output or the checkpoint cannot be written and the run had to stop
    ///   (the last good checkpoint stays).
    public func run(now: () -> Double = TailRun.monotonicSeconds, shouldStop: () -> Bool) throws(TailError) {
        if options.stateDirectory != nil, !restoredFromCheckpoint {
            // A first checkpoint before anything is read: from now on a restart always knows the starting
            // positions and the output's size.
            try checkpoint()
        }
        while !shouldStop() {
            let step = try self.step(now: now())
            publish()
            if step.lines == 0 && !step.more {
                follower.wait(timeoutMilliseconds: options.follow.pollIntervalMilliseconds)
            }
        }
        try drain(now: now())
    }

    /// Reads until nothing is left, then writes the final checkpoint: a clean stop.
    public func drain(now: Double) throws(TailError) {
        while true {
            let step = try self.step(now: now, idle: false)
            if step.lines == 0 && !step.more { break }
        }
        try checkpoint()
        publish()
    }

    /// One iteration: poll every stream once (bounded), detect, write the alerts; advance idle event time when
    /// quiet; checkpoint when due.
    ///
    /// - Parameter now: monotonic seconds (injected for tests).
    @discardableResult
    public func step(now t: Double, idle idleAllowed: Bool = true) throws(TailError) -> Step {
        if lastCheckpoint == nil { lastCheckpoint = t }
        if lastData == nil { lastData = t }
        let report = try pollOnce()
        for d in report.diagnostics {
            logger.warning(
                "\(d.message)",
                metadata: ["follow.code": "\(d.code)", "follow.path": "\(d.path)"])
        }
        if report.linesDelivered > 0 { lastData = t } else { consumer.settleUndecided() }
        var wrote = try deliver()
        if report.linesDelivered == 0, idleAllowed {
            wrote = try idle(quietSeconds: t - (lastData ?? t)) || wrote
        }
        if wrote, firstUncheckpointedAlert == nil { firstUncheckpointedAlert = t }
        if report.linesDelivered > 0 || wrote || report.rotations > 0 || report.truncations > 0 { dirty = true }
        let interval = max(options.checkpointIntervalSeconds, 20 * lastCheckpointSeconds)
        let due = (dirty && t - (lastCheckpoint ?? t) >= interval)
            || (firstUncheckpointedAlert.map { t - $0 >= options.alertCheckpointDelaySeconds } ?? false)
            || delivery.journalEntries >= options.maxJournalEntries
        var checkpointed = false
        try finishCheckpointInFlight(wait: false)
        if due, options.stateDirectory != nil, !checkpointWriter.isBusy {
            try startCheckpoint()
            lastCheckpoint = t
            firstUncheckpointedAlert = nil
            checkpointed = true
        }
        return Step(lines: report.linesDelivered, more: report.moreAvailable, checkpointed: checkpointed)
    }

    private func pollOnce() throws(TailError) -> PollReport {
        var c = consumer
        let report = follower.poll(into: &c)
        totals.lines += consumer.takeLines()
        for index in report.streamsRetired { consumer.retire(stream: index) }
        if let failure = consumer.takeFailure() { throw TailError(failure) }
        return report
    }

    /// Writes the alerts the last poll produced; retries a failed write every second until it succeeds or
    /// a stop is requested (then throws, leaving the checkpoint where it was).
    private func deliver() throws(TailError) -> Bool {
        let alerts = consumer.takeAlerts()
        guard !alerts.isEmpty else { return false }
        for alert in alerts {
            writer.reset()
            switch options.alertFormat {
            case .sendwatch: alert.writeJSONLine(to: &writer)
            case .ocsf: alert.writeOCSFLine(to: &writer, productVersion: options.productVersion)
            }
            writer.bytes.withUnsafeBytes { delivery.add(line: $0) }
            totals.alertsByKind[alert.kind, default: 0] += 1
            totals.alertRecords += 1
        }
        try flushWithRetry()
        return true
    }

    private func flushWithRetry() throws(TailError) {
        var attempts = 0
        while true {
            do {
                try delivery.flush()
                return
            } catch {
                attempts += 1
                metrics.update { $0.outputErrors += 1 }
                if attempts == 1 || attempts % 60 == 0 {
                    logger.error(
                        "cannot write alerts; not reading more input until they are written (retrying every second)",
                        metadata: ["output.path": "\(delivery.name)", "error": "\(error.message)"])
                }
                if abandonRetry() || error.message.contains("Broken pipe") {
                    throw TailError("\(error); stopped without checkpointing past the unwritten alerts")
                }
                var pause = timespec(tv_sec: 1, tv_nsec: 0)
                _ = nanosleep(&pause, nil)
            }
        }
    }

    /// Advances event time while the logs are quiet; true when alerts were written.
    private func idle(quietSeconds: Double) throws(TailError) -> Bool {
        guard quietSeconds >= options.idleAdvanceSeconds, let w = engine.watermark else { return false }
        let target = EventTime(
            microseconds: w.microseconds + Int64(quietSeconds * 1_000_000)
                - configuration.detection.allowedLatenessSeconds * 1_000_000)
        guard target > w, target > (idleAdvancedTo ?? w) else { return false }
        // Only whole seconds, so that repeated quiet polls do not advance in tiny steps.
        guard target.microseconds - (idleAdvancedTo ?? w).microseconds >= 1_000_000 else { return false }
        idleAdvancedTo = target
        dirty = true
        var alerts: [Alert] = []
        engine.advance(to: target, into: &alerts)
        guard !alerts.isEmpty else { return false }
        consumer.sink.pointee.alerts.append(contentsOf: alerts)
        return try deliver()
    }

    /// Writes the checkpoint and waits until it is on disk: fsyncs the output (policy), snapshots the state,
    /// saves it, then drops the alert journal it covers. Used at a stop and when there is no state worth a thread.
    public func checkpoint() throws(TailError) {
        try finishCheckpointInFlight(wait: true)
        guard try startCheckpoint() else { return }
        try finishCheckpointInFlight(wait: true)
    }

    /// Waits for the checkpoint being written, if any (it may be written by a thread of its own), and reports
    /// its failure.
    public func settleCheckpoint() throws(TailError) {
        try finishCheckpointInFlight(wait: true)
    }

    /// Snapshots the state and hands it to the checkpoint thread; false when there is no state directory.
    @discardableResult
    private func startCheckpoint() throws(TailError) -> Bool {
        guard let path = checkpointPath else { return false }
        let started = TailRun.monotonicSeconds()
        do {
            try delivery.syncForCheckpoint()
        } catch {
            throw TailError("\(error); the checkpoint was not advanced")
        }
        totals.checkpoints += 1
        let state = TailState(
            follower: follower.state, streams: consumer.checkpoint(), engine: engine.checkpoint(), totals: totals,
            idleAdvancedTo: idleAdvancedTo)
        var header = JSONWriter(capacity: 512)
        header.beginObject()
        header.key("sendwatch_checkpoint"); header.int(1)
        header.key("state_format"); header.int(Self.stateFormat)
        header.key("written_at"); header.time(EventTime(microseconds: Int64(TailRun.wallSeconds() * 1_000_000)))
        header.key("output"); header.string(delivery.name)
        header.key("output_position"); header.int64(delivery.position)
        header.key("alert_records"); header.int(totals.alertRecords)
        header.key("files")
        header.beginArray()
        for p in follower.lag {
            header.beginObject()
            header.key("path"); header.string(p.name)
            header.key("offset"); header.int64(p.offset)
            header.endObject()
        }
        header.endArray()
        header.endObject()
        // Alerts written from now on belong to the next checkpoint: they go to a new journal.
        let journal = delivery.rotateJournal(sequence: totals.checkpoints)
        dirty = false
        checkpointWriter.submit(.init(state: state, header: header.bytes, path: path, journal: journal, started: started))
        return true
    }

    /// Takes the outcome of the checkpoint in flight (waiting for it when `wait`), and throws if it failed.
    private func finishCheckpointInFlight(wait: Bool) throws(TailError) {
        guard let outcome = wait ? checkpointWriter.waitForResult() : checkpointWriter.takeResult() else { return }
        if let failure = outcome.failure {
            // The previous checkpoint stays; the rotated journal stays too, so a restart still skips its lines.
            dirty = true
            throw TailError("\(failure)")
        }
        if let journal = outcome.job.journal { delivery.dropJournal(journal) }
        delivery.dropStaleJournals()
        lastCheckpointSeconds = outcome.seconds
        metrics.update {
            $0.checkpointBytes = outcome.bytes
            $0.checkpointSeconds = outcome.seconds
        }
        logger.debug(
            "checkpoint written",
            metadata: [
                "checkpoint.bytes": "\(outcome.bytes)",
                "checkpoint.seconds": "\(String(format: "%.3f", outcome.seconds))",
            ])
    }

    private func publish() {
        let c = engine.counters
        let lag = follower.lag
        let parse = consumer.parseCounters()
        let bytes = engine.approximateBytes
        let budget = configuration.detection.memoryBudgetBytes
        let t = totals
        metrics.update { m in
            m.lines = t.lines
            m.events = c.events
            m.skipped = parse.rejected.map { ($0.key.rawValue, $0.value) }.sorted { $0.0 < $1.0 }
            m.alertsByKind = t.alertsByKind.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            m.alertRecords = t.alertRecords
            m.evictions = c.evictions
            m.lateEvents = c.lateEvents
            m.timeOutliers = c.timeOutliers
            m.memoryBytes = bytes
            m.memoryBudgetBytes = budget
            m.checkpoints = t.checkpoints
            m.restarts = t.restarts
            m.files = lag.map { ($0.name, $0.offset, $0.behindBytes) }
            if let w = engine.watermark {
                m.lagSeconds = max(0, TailRun.wallSeconds() - Double(w.microseconds) / 1_000_000)
            }
        }
    }

    /// Seconds on a monotonic clock.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Seconds since the epoch (the wall clock), for the checkpoint header and the lag metric only.
    public static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Summary for stderr at the end.
    public var summaryText: String {
        let c = engine.counters
        var s = "sendwatch tail: \(totals.lines) lines, \(consumer.parseCounters().events) events, "
        s += "\(totals.alertRecords) alert records (\(c.creates) created, \(c.updates) updated, \(c.closes) closed), "
        s += "\(delivery.linesSkipped) already written before a restart, \(totals.checkpoints) checkpoints"
        return s
    }
}

/// Why `tail` could not start or had to stop.
public struct TailError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
