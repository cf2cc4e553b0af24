public import Logging
public import SendWatchAlerts
public import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Live mode: follows log files, detects as `replay` does, writes alerts, checkpoints, survives restarts.
///
/// The loop: poll the follower (every stream's new complete lines, bounded per call) → parse each stream with
/// its own parsers → detection engine → alert records through the ``AlertWriter`` `replay` uses too → one
/// write per batch → maybe checkpoint → wait for inotify or the poll interval. Signals only set a flag; the
/// loop then drains what is readable, writes the alerts and a final checkpoint, and returns.
///
/// The jobs are in separate files: this one holds the loop; `TailRun+Delivery.swift` writes alerts and
/// retries; `TailRun+Checkpoint.swift` restores and writes checkpoints (encoded on the ``CheckpointWriter``
/// thread); `TailConsumer.swift` parses the streams into the engine.
///
/// Restart and crash safety: see ``ExactlyOnceSink`` (exactly-once output around any ``AlertSink``) and
/// ``CheckpointFile`` (atomic, checked state). A checkpoint is written only after the alerts of every line it
/// covers are written (and synced, under the default policy); if the output cannot be written, the loop stops
/// reading input and retries, and no checkpoint moves past the unwritten alerts.
///
/// Event time: windows advance on log time. When no line arrives for ``TailOptions/idleAdvanceSeconds``, event
/// time is moved to `newest event + quiet time − allowed lateness` (never backwards), which closes alerts whose
/// cooldown has passed; the close records carry the same times `replay` gives them, and an event arriving later
/// is not dropped as late unless its timestamp lags the wall clock by more than the allowed lateness.
///
/// Usage:
/// ```swift
/// let run = try TailRun(configuration: config, options: TailOptions(patterns: ["/var/log/mail.log"]),
///                       output: OutputWriter.standardOutput(), logger: logger)
/// try run.run { TailSignals.stopRequested }
/// ```
public final class TailRun {
    /// What the run detects.
    public let configuration: Configuration
    /// How the run behaves.
    public let options: TailOptions
    /// Exactly-once delivery around the run's sink; ``alerts`` writes into it.
    let delivery: ExactlyOnceSink
    /// Encodes alerts into ``delivery``.
    var alerts: AlertWriter
    /// The followed files, or standard input (`-`).
    var follower: TailInput
    let consumer: TailConsumer<TailEventSink>
    /// The engine, kept in the consumer's sink storage.
    var engine: DetectionEngine {
        // `_read`, not `get`: a get would copy the engine (and retain every table) on each read.
        _read { yield consumer.sink.engine }
        _modify { yield &consumer.sink.engine }
    }
    var totals = TailTotals()
    var idleAdvancedTo: EventTime?
    /// Whether this run resumed from a checkpoint.
    public private(set) var restoredFromCheckpoint = false
    /// The configuration keys that differ from those the checkpoint was written with (dotted names, in the
    /// configuration file's order); empty on a first start, when nothing changed, or when the checkpoint (format
    /// 2) does not say.
    public private(set) var changedKeys: [String] = []
    /// The parts of the detection state started empty because the saved ones do not fit the configuration
    /// (see ``DetectionEngine/init(configuration:restoringWhatFits:reset:)``); everything else was kept.
    public private(set) var resetState: [String] = []
    /// ``configuration`` as the configuration file would show it, saved in each checkpoint.
    let configurationText: String
    let logger: Logger
    /// Asked while a failed alert write is being retried: true gives up (the run then throws, without a
    /// checkpoint past the unwritten alerts). Default: a stop was requested by a signal.
    public var abandonRetry: () -> Bool = { TailSignals.stopRequested }
    /// Called after each reopen request was handled (SIGHUP): `sendwatch tail` re-reads its configuration file
    /// there. Default: nothing.
    public var onReopen: () -> Void = {}
    /// Seconds since the epoch; bounds event times (``TailOptions/maxFutureSeconds``), read once per poll.
    /// Default ``wallSeconds()`` (injected for tests).
    public var wallClock: () -> Double = TailRun.wallSeconds
    /// Future outliers already logged (the warning is repeated each time the count doubles).
    private var futureOutliersLogged = 0
    /// Whether the input diagnosis (``diagnoseInput(caughtUp:)``) has been logged, and whether the subject one
    /// has: each once a run.
    private var inputDiagnosed = false
    private var subjectsDiagnosed = false
    /// The lines read before the input diagnosis is made even while more lines wait.
    static let diagnosisLines = 1000
    /// The fewest lines read for the input diagnosis to be made once the streams caught up (and only when no line
    /// was recognised): a stray line or two of another program in a live log is not a wrong `--format`.
    static let earlyDiagnosisLines = 20
    /// The metrics the loop publishes after every iteration.
    public let metrics = TailMetrics()
    /// The accounts of the open alerts, for the policy service; kept only when ``publishesOpenAlerts``.
    public let openAlerts = OpenAlertBoard()
    /// Whether each delivery that opens, grows or closes an alert publishes ``openAlerts`` (`tail --policy`).
    /// Default false: without a reader the run does not keep them. Turning it on publishes the alerts open in the
    /// detection state at once: after a restart from a checkpoint, those it restored.
    public var publishesOpenAlerts = false {
        didSet {
            guard publishesOpenAlerts, !oldValue else { return }
            openAlertTracker.restore(engine.openAlertRecords, watermark: engine.watermark, now: TailRun.wallSeconds())
            openAlerts.publish(openAlertTracker.accounts())
        }
    }
    /// The open alerts behind ``openAlerts``.
    var openAlertTracker = OpenAlertTracker()

    var lastCheckpoint: Double?
    private var lastData: Double?
    var firstUncheckpointedAlert: Double?
    /// Encodes and writes checkpoints on its own thread.
    let checkpointWriter = CheckpointWriter()
    /// How long the last checkpoint took: the interval is stretched to at least 20 times this
    /// (``CheckpointPacing``).
    var lastCheckpointSeconds = 0.0
    /// Whether anything changed since the last checkpoint (an idle tail does not rewrite it).
    var dirty = false
    /// Whether this run has yet to checkpoint the first lines it read. Each run writes one as soon as it has
    /// read any (not only after the interval): otherwise a run killed sooner than the checkpoint interval (a crash
    /// loop, a slow start on a loaded machine) would start over from the same position every time, fall behind
    /// while the writer goes on, and lose the lines of files that log rotation deletes meanwhile.
    var firstProgressUncheckpointed = true
    /// The state directory's lock, held for the run's lifetime (nil without a state directory).
    private let lock: StateDirectoryLock?

    /// Loads the checkpoint (if any), wraps the output in exactly-once delivery and opens the followed files.
    ///
    /// The run never opens an output itself: the caller hands it the sink (`sendwatch tail` opens `--output`
    /// or standard output as an ``OutputWriter``; a test or an embedding program can pass any ``AlertSink``).
    /// The run wraps it in an ``ExactlyOnceSink`` with the state directory's journal and ``TailOptions/sync``,
    /// and writes through an ``AlertWriter`` with ``TailOptions/alertFormat``'s encoder: the path `replay`'s
    /// ``DetectionSink`` writes through.
    ///
    /// - Parameters:
    ///   - output: where alert records go.
    ///   - accounts: account registry entries to (re-)register after a restore.
    /// - Throws: ``TailError`` for a damaged or incompatible checkpoint (left in place), an output or state
    ///   directory that cannot be used, a state directory another run holds (`state_directory_locked`), or a
    ///   follower that cannot start.
    public init(
        configuration: Configuration, options: TailOptions, output: any AlertSink,
        accounts: [(String, EventTime)] = [], logger: Logger
    ) throws(TailError) {
        self.configuration = configuration
        self.options = options
        self.logger = logger
        // Before anything in the directory is read or written: a second run on it stops here.
        lock = try StateDirectory.prepare(options.stateDirectory)
        delivery = ExactlyOnceSink(wrapping: output, stateDirectory: options.stateDirectory, sync: options.sync)
        alerts = AlertWriter(
            encoder: options.alertFormat.makeEncoder(productVersion: options.productVersion), sink: delivery)
        configurationText = Configuration.schema.yaml(of: configuration)
        let saved = try Self.loadCheckpoint(options: options)
        if let saved, saved.format != TailState.format {
            logger.notice(
                "checkpoint migrated from an older state format; the next checkpoint is written in the current one",
                metadata: [
                    "checkpoint.state_format": "\(saved.format)", "checkpoint.new_state_format": "\(TailState.format)",
                ])
        }
        let restored = saved?.state
        if let saved, let directory = options.stateDirectory {
            checkpointWriter.restore(directory: directory, sections: saved.sections, reference: saved.reference)
        }
        var engine: DetectionEngine
        if let restored {
            let previous = try? Configuration.load(yaml: restored.configuration)
            if let previous { changedKeys = configuration.changedKeys(comparedTo: previous) }
            do {
                engine = try DetectionEngine(configuration: configuration.detection, restoring: restored.engine)
            } catch {
                // A changed window, bound or rule setting: keep what still fits (account ages above all), start
                // the rest empty, and say which keys changed and what was reset.
                var reset: [String] = []
                engine = DetectionEngine(
                    configuration: configuration.detection, restoringWhatFits: restored.engine, reset: &reset)
                resetState = reset
            }
            if !changedKeys.isEmpty || !resetState.isEmpty {
                let changed =
                    previous == nil
                    ? "unknown (the saved configuration cannot be read)"
                    : changedKeys.joined(separator: ",")
                let message =
                    resetState.isEmpty
                    ? "the configuration changed since the checkpoint; the saved state fits it and is kept"
                    : "the configuration changed since the checkpoint; the state that depends on it starts empty, "
                        + "the rest (file positions, parsers, account ages unless named) is kept"
                logger.log(
                    level: resetState.isEmpty ? .info : .warning, "\(message)",
                    metadata: [
                        "config.changed": "\(changed)",
                        "state.reset": "\(resetState.isEmpty ? "none" : resetState.joined(separator: ","))",
                    ])
            }
        } else {
            engine = DetectionEngine(configuration: configuration.detection)
        }
        for (account, created) in accounts { engine.register(account: account, created: created) }
        consumer = TailConsumer(
            configuration: configuration, sink: TailEventSink(engine: engine), wallSeconds: TailRun.wallSeconds())
        var follow = options.follow
        follow.startAtEnd = !options.fromStart
        do throws(IngestError) {
            follower = try TailInput.open(
                patterns: options.patterns, configuration: follow, restoring: restored?.follower)
        } catch {
            throw TailError(code: .followFailed, message: "\(error)", underlyingErrno: error.underlyingErrno)
        }
        let names = follower
        consumer.nameOf = { index in names.streams.first { $0.index == index }?.name }
        if let restored {
            consumer.restore(restored.streams)
            restoredFromCheckpoint = true
            totals = restored.totals
            totals.restarts += 1
            idleAdvancedTo = restored.idleAdvancedTo
            do throws(OutputError) {
                try delivery.resume(after: saved?.outputPosition)
            } catch {
                throw TailError(output: error, code: .outputUnusable)
            }
            // Where this run takes over: what a restart that went wrong is traced back to.
            logger.debug(
                "resuming from the checkpoint",
                metadata: [
                    "checkpoint.lines": "\(totals.lines)", "checkpoint.events": "\(totals.events)",
                    "checkpoint.output_position": "\(saved?.outputPosition.map { "\($0)" } ?? "none")",
                    "checkpoint.sections": "\(saved?.reference.map { "\($0.generation)+\($0.deltaBytes)" } ?? "none")",
                    "checkpoint.watermark": "\(engine.watermark.map { "\($0)" } ?? "none")",
                ])
        }
    }

    /// What one ``step(now:idle:)`` did.
    public struct Step: Sendable {
        /// Lines read in this step.
        public var lines: Int
        /// Whether more data was left unread (the per-poll bound was reached).
        public var more: Bool
        /// Whether a checkpoint was written.
        public var checkpointed: Bool
    }

    /// Runs until `shouldStop` returns true (checked at least every poll interval) or standard input (`-`)
    /// ends, then drains what is readable, writes its alerts and the final checkpoint.
    ///
    /// - Throws: ``TailError`` when the output or the checkpoint cannot be written and the run had to stop
    ///   (the last good checkpoint stays).
    ///   - reopenRequested: asked once per iteration; true reopens the output (``reopenOutput()``) and calls
    ///     ``onReopen``. Default: a SIGHUP arrived.
    public func run(
        now: () -> Double = TailRun.monotonicSeconds, shouldStop: () -> Bool,
        reopenRequested: () -> Bool = { TailSignals.takeReopenRequest() }
    ) throws(TailError) {
        if options.stateDirectory != nil, !restoredFromCheckpoint {
            // A first checkpoint before anything is read: from now on a restart always knows the starting
            // positions and the output's size.
            try checkpoint()
        }
        while !shouldStop() && !follower.ended {
            if reopenRequested() {
                try reopenOutput()
                onReopen()
            }
            let step = try self.step(now: now())
            publish()
            if step.lines == 0 && !step.more {
                follower.wait(timeoutMilliseconds: options.follow.pollIntervalMilliseconds)
            }
        }
        try drain(now: now())
    }

    /// Delivers the alerts produced so far, then reopens the alert output by name: after logrotate renamed the
    /// file, the records go to the new file at the path. With a state directory a checkpoint is taken before
    /// (it covers everything written to the old file) and after (its output position is the new file's), so a
    /// crash at any point resumes without losing or repeating a record.
    ///
    /// - Throws: ``TailError`` when the alerts or a checkpoint cannot be written. A path that cannot be
    ///   opened again is logged and the old file kept (the run goes on; the next SIGHUP tries again).
    public func reopenOutput() throws(TailError) {
        _ = try deliver()
        if options.stateDirectory != nil { try checkpoint() }
        do throws(OutputError) {
            try delivery.reopen()
        } catch {
            metrics.update { $0.outputErrors += 1 }
            logger.error(
                "cannot reopen the alert output; still writing to the file it had open",
                metadata: ["output.path": "\(delivery.name)", "output.code": "\(error.code)", "error": "\(error)"])
            return
        }
        if options.stateDirectory != nil { try checkpoint() }
        logger.info("reopened the alert output", metadata: ["output.path": "\(delivery.name)"])
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
    /// - Parameters:
    ///   - now: monotonic seconds (injected for tests).
    ///   - idleAllowed: whether quiet logs may advance event time in this step (not while draining).
    @discardableResult
    public func step(now t: Double, idle idleAllowed: Bool = true) throws(TailError) -> Step {
        if lastCheckpoint == nil { lastCheckpoint = t }
        if lastData == nil { lastData = t }
        let report = try pollOnce()
        report.log(to: logger)
        if report.linesDelivered > 0 { diagnoseInput(caughtUp: !report.moreAvailable) }
        if report.linesDelivered > 0 { lastData = t } else { consumer.settleUndecided() }
        var wrote = try deliver()
        if report.linesDelivered == 0, idleAllowed {
            wrote = try idle(quietSeconds: t - (lastData ?? t)) || wrote
        }
        if wrote, firstUncheckpointedAlert == nil { firstUncheckpointedAlert = t }
        if report.linesDelivered > 0 || wrote || report.rotations > 0 || report.truncations > 0 { dirty = true }
        let checkpointed = try checkpointIfDue(now: t)
        return Step(lines: report.linesDelivered, more: report.moreAvailable, checkpointed: checkpointed)
    }

    private func pollOnce() throws(TailError) -> PollReport {
        let bound = (wallClock() + options.maxFutureSeconds) * 1_000_000
        consumer.sink.latestAccepted = EventTime(microseconds: bound < 9e18 ? Int64(bound) : .max)
        var c = consumer
        let report = follower.poll(into: &c)
        let future = consumer.sink.futureOutliers
        if future > 0 && future >= 2 * futureOutliersLogged {
            futureOutliersLogged = future
            logger.warning(
                "events stamped more than \(DurationText.format(Int64(options.maxFutureSeconds))) ahead of the wall clock were set aside as time outliers; they do not move event time. Is a host's clock or time zone wrong (see --timezone)?",
                metadata: ["detect.future_outliers": "\(future)"])
        }
        totals.lines += consumer.takeLines()
        // Lines over `input.max_line_bytes` never reach a parser: counted here (and kept in the checkpoint).
        if report.linesTooLong > 0 {
            totals.skipped[RejectReason.lineTooLong.rawValue, default: 0] += report.linesTooLong
        }
        for index in report.streamsRetired { consumer.retire(stream: index) }
        if let failure = consumer.takeFailure() { throw TailError(code: .checkpointIncompatible, message: failure) }
        return report
    }

    /// Logs, once a run, what `replay` would warn about the lines read so far (``RunSummary/warnings``: no line
    /// recognised, a `--format` that does not fit, no send among them), when at least ``diagnosisLines`` lines
    /// were read, or ``earlyDiagnosisLines`` of which none was recognised and the streams have caught up; and, once, ``SubjectCount``'s warning when the events taken
    /// (this run) reach ``SubjectCount/minimumEvents`` with (almost) no subject. A wrong `--format` under
    /// systemd then shows in the journal at once, not only in the summary at the stop.
    private func diagnoseInput(caughtUp: Bool) {
        let read = totals.lines + linesTooLong
        if !inputDiagnosed, caughtUp && read >= Self.earlyDiagnosisLines || read >= Self.diagnosisLines {
            var summary = RunSummary()
            summary.inputs = 1
            summary.lines = totals.lines
            summary.linesTooLong = linesTooLong
            summary.parse = consumer.parseCounters()
            summary.events = summary.parse.events
            consumer.noteFormats(in: &summary)
            // Before its 1,000th line only a stream of which no line was recognised is named: a few lines of a
            // live log (connects, another program's line) say nothing yet about sends.
            let noneRecognised = summary.parse.understood == 0 && summary.parse.irrelevant == 0
            if read >= Self.diagnosisLines || noneRecognised {
                inputDiagnosed = true
                for warning in summary.warnings { logger.warning("\(Self.withoutPrefix(warning))") }
            }
        }
        let sink = consumer.sink
        if !subjectsDiagnosed, sink.events >= SubjectCount.minimumEvents {
            subjectsDiagnosed = true
            var read = RunSummary()
            consumer.noteFormats(in: &read)
            let formats = read.inputFormats.compactMap(\.format)
            if let warning = SubjectCount.warning(
                events: sink.events, withSubject: sink.eventsWithSubject, formats: formats)
            {
                logger.warning("\(Self.withoutPrefix(warning))")
            }
        }
    }

    /// `warning` without the `sendwatch: warning: ` that stderr lines start with: the logger adds its own level.
    private static func withoutPrefix(_ warning: String) -> String {
        let prefix = "sendwatch: warning: "
        return warning.hasPrefix(prefix) ? String(warning.dropFirst(prefix.count)) : warning
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
        var closed: [Alert] = []
        engine.advance(to: target, into: &closed)
        guard !closed.isEmpty else { return false }
        consumer.sink.alerts.append(contentsOf: closed)
        return try deliver()
    }

    private func publish() {
        let c = engine.counters
        let lag = follower.lag
        let missing = follower.streamsWithoutFile
        let parse = parseCounters
        let bytes = engine.approximateBytes
        let budget = configuration.detection.memoryBudgetBytes
        let future = consumer.sink.futureOutliers
        let t = totals
        let overlong = linesTooLong
        metrics.update { m in
            m.lines = t.lines + overlong
            m.detection = c
            m.detection.timeOutliers += future
            m.skipped = parse.rejected.map { ($0.key.rawValue, $0.value) }.sorted { $0.0 < $1.0 }
            m.linesByClass = [
                ("understood", parse.understood), ("irrelevant", parse.irrelevant),
                ("not_recognised", parse.notRecognised),
            ]
            m.alertsByKind = t.alertsByKind.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            m.alertRecords = t.alertRecords
            m.memoryBytes = bytes
            m.memoryBudgetBytes = budget
            m.checkpoints = t.checkpoints
            m.restarts = t.restarts
            m.files = lag.map { ($0.name, $0.offset, $0.behindBytes) }
            m.pathsWithoutFile = missing
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

    /// Lines skipped before parsing for being longer than `input.max_line_bytes`, over the run and the runs
    /// before it (``TailTotals/skipped``).
    private var linesTooLong: Int { totals.skipped[RejectReason.lineTooLong.rawValue] ?? 0 }

    /// The parsers' counters, with the lines skipped as too long among the skipped lines (as `replay` counts them).
    private var parseCounters: ParseCounters {
        var parse = consumer.parseCounters()
        if linesTooLong > 0 {
            parse.lines += linesTooLong
            parse.rejected[.lineTooLong, default: 0] += linesTooLong
        }
        return parse
    }

    /// Summary for stderr at the end.
    public var summaryText: String {
        let c = engine.counters
        let parse = parseCounters
        var s = "sendwatch tail: \(totals.lines + linesTooLong) lines, \(parse.events) events, "
        s += "\(parse.understood) lines understood, \(parse.irrelevant) irrelevant, "
        s += "\(parse.notRecognised) not recognised (\(parse.otherPrograms) of other programs"
        if linesTooLong > 0 { s += ", \(linesTooLong) longer than input.max_line_bytes" }
        s += "), "
        s += "\(c.lateEvents) late events dropped, "
        s += "\(c.timeOutliers + consumer.sink.futureOutliers) time outliers, "
        s += "\(totals.alertRecords) alert records (\(c.creates) created, \(c.updates) updated, \(c.closes) closed), "
        s += "\(delivery.linesSkipped) already written before a restart, \(totals.checkpoints) checkpoints"
        return s
    }
}

@available(*, unavailable)
extension TailRun: Sendable {}
