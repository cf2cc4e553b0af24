import ArgumentParser
import Foundation
import Logging
import SendWatchCore
import SendWatchFleet
import SendWatchMetrics
import SendWatchPipeline

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Read the send events agents publish to NATS JetStream, detect, and publish alerts, once.",
        discussion: """
            The detection worker of a fleet (docs/fleet.md). Reads the stream --stream (what 'sendwatch ship' \
            publishes) through the durable pull consumer --consumer, merges the hosts' events by event time, runs \
            the same detection as 'replay', and publishes each alert record to --alerts-subject of the stream \
            --alerts-stream (both created if missing) with a message id made of the alert's id, its action and \
            the record's number, so that a record repeated after a restart is dropped by the server (within \
            --duplicate-window). The checkpoint holds the detection state with the stream position; the consumer is \
            acknowledged only after it. It is a file in --state by default; with --state-store nats it is kept in \
            the stream --state-stream in pieces committed by one manifest write the server checks, so a standby on \
            any machine resumes it and a worker that lost its lease cannot overwrite it. With --once it stops when it has read the whole stream, \
            closing what the end of input closes, as 'replay' does. One worker reads every partition, as the \
            holder of a lease named after --consumer in the key-value bucket --lease-bucket: a second worker \
            started with the same --consumer (on the same --state directory, or with --state-store nats) \
            waits as a standby and takes over, from the last checkpoint, once the holder has not renewed the \
            lease for --lease-time; a holder that finds its lease taken stops consuming, writes no checkpoint and \
            becomes a standby. With --forwarded-partitions P it is the second stage of several workers: it reads \
            the stream --stream that 'sendwatch forward' workers fill (each holding some of the P partitions of \
            --source-stream), merges the partitions back into --source-stream's order by their watermarks and \
            detects as above. Exit status: 0 after a \
            clean stop; 1 when it could not start; 2 when the stream could not be read, an alert was refused or a \
            checkpoint failed; 75 when another run holds the --state directory.
            """
    )

    @OptionGroup var server: NATSServerOptions

    @OptionGroup var events: EventsStreamOptions

    @Option(name: .long, help: "Durable consumer name; one worker per name.")
    var consumer = "sendwatch-detect"

    @OptionGroup var alerts: AlertsStreamOptions

    @OptionGroup var leases: LeaseOptions<DetectRole>

    @Option(
        name: .long,
        help:
            """
            Directory for the checkpoint with --state-store file (created if missing); without it a restart starts             over. With --state-store nats: a file checkpoint taken over when the state stream holds none (moving a             worker from --state into JetStream); never written.
            """
    )
    var state: String?

    @Option(
        name: .long,
        help: """
            Where the checkpoint is kept: file (the default: in --state) or nats (in the stream --state-stream, in \
            pieces, so a standby on any machine resumes it and a worker that lost its lease cannot overwrite it).
            """)
    var stateStore: StateStoreKind = .file

    @Option(name: .long, help: "Stream of the checkpoints with --state-store nats.")
    var stateStream = "SENDWATCH_STATE"

    @Flag(name: .long, help: "Stop when the whole stream is read, closing what the end of input closes.")
    var once = false

    @OptionGroup var fleet: FleetRunOptions<DetectRole>

    @Option(
        name: .long,
        help: "A host that sent nothing this long, once everything is read, no longer holds back others.")
    var idleAfter = "5s"

    @Option(
        name: .long,
        help:
            "Hosts that send events: a fresh worker merges once it has seen this many (0: once it has read the backlog)."
    )
    var hosts = 0

    @Option(name: .long, help: "Most events held to merge hosts by time.")
    var maxBuffered = 200_000

    @Option(
        name: .long,
        help: """
            Read the stream 'sendwatch forward' writes (give it as --stream, its prefix as --subject-prefix) over \
            this many partitions of --source-stream (0: read the events stream itself, the default).
            """)
    var forwardedPartitions = 0

    @Option(name: .long, help: "With --forwarded-partitions: the events stream the forwarders read.")
    var sourceStream = "SENDWATCH_EVENTS"

    @Option(name: .long, help: "With --forwarded-partitions: the events stream's subject prefix.")
    var sourceSubjectPrefix = "sendwatch.events"

    @OptionGroup var detection: DetectionOptions

    @Option(name: .long, help: "YAML configuration file (see 'sendwatch config defaults').")
    var config: String?

    @OptionGroup var logging: LogLevelOptions

    func validate() throws {
        if !(0...EventTimeMerge.maxSources).contains(hosts) {
            throw ValidationError("--hosts must be 0 to \(EventTimeMerge.maxSources)")
        }
        if !(1...10_000_000).contains(maxBuffered) { throw ValidationError("--max-buffered must be 1 to 10000000") }
        if !(0...1024).contains(forwardedPartitions) {
            throw ValidationError("--forwarded-partitions must be 0 to 1024")
        }
        try FleetDurations.checkConsumer(consumer)
        if stateStore == .nats {
            if !FleetDurations.isPlainName(stateStream) || stateStream.utf8.count > 64 {
                throw ValidationError("--state-stream must be 1 to 64 letters, digits, '_' or '-'")
            }
            if !FleetDurations.isPlainName(consumer) {
                throw ValidationError("with --state-store nats, --consumer must be letters, digits, '_' or '-'")
            }
        }
    }

    func run() throws {
        var input = try InputOptions.parse(config.map { ["--config", $0] } ?? [])
        input.settings.format = nil
        var configuration = try input.loadConfiguration()
        try detection.apply(to: &configuration)
        let interval = try fleet.intervalSeconds()
        let window = try leases.duplicateWindowSeconds(interval: interval)
        let leaseSeconds = try leases.leaseSeconds()
        let logger = logging.makeLogger()
        let partitioning = try events.partitioning(partitions: 1)
        let (nats, settings) = (server.nats, server.settings(command: "detect"))
        let eventsSpec = StreamSpec(name: events.stream, subjects: [partitioning.streamSubject])
        if forwardedPartitions > 0 {
            // The forwarded stream's subjects are `<prefix>.e.N` and `<prefix>.w.N` (as `forward` makes it).
            let forwarded = events.subjectPrefix + ".>"
            let inner = NATSStreamFeed(
                url: nats, settings: settings, stream: StreamSpec(name: events.stream, subjects: [forwarded]),
                subject: forwarded, durable: consumer)
            let source = NATSStreamWatch(
                url: nats, settings: settings,
                stream: StreamSpec(name: sourceStream, subjects: [sourceSubjectPrefix + ".*"]),
                prefix: sourceSubjectPrefix)
            try work(
                ForwardedFeed(inner: inner, source: source, partitions: forwardedPartitions, maxHeld: maxBuffered),
                configuration: configuration, window: window, leaseSeconds: leaseSeconds, logger: logger)
        } else {
            let feed = NATSStreamFeed(
                url: nats, settings: settings, stream: eventsSpec, subject: partitioning.streamSubject,
                durable: consumer)
            try work(feed, configuration: configuration, window: window, leaseSeconds: leaseSeconds, logger: logger)
        }
    }

    /// The worker on `feed`: standby until it holds the lease, then detecting.
    private func work<Feed: StreamFeed>(
        _ feed: Feed, configuration: Configuration, window: Int, leaseSeconds: Double, logger: Logger
    ) throws {
        let (nats, settings, interval) = (server.nats, server.settings(command: "detect"), try fleet.intervalSeconds())
        let idle = try FleetDurations.interval(idleAfter, flag: "--idle-after")
        var alertsSpec = alerts.spec()
        alertsSpec.duplicateWindowSeconds = window
        let publisher = NATSAlertPublisher(
            url: nats, settings: settings, stream: alertsSpec, subject: alerts.alertsSubject)
        var options = DetectOptions()
        options.stateDirectory = state
        options.once = once
        options.checkpointIntervalSeconds = interval
        options.idleSeconds = idle
        options.maxBufferedEvents = maxBuffered
        options.expectedHosts = hosts
        options.alertFormat = try detection.format()
        options.productVersion = buildVersion
        options.partitionLag = fleet.metrics != nil
        TailSignals.install()
        let accounts = try detection.registry()
        let figures = DetectMetrics()
        let holder =
            "\(ProcessInfo.processInfo.hostName) pid \(getpid()) \(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let lease = WorkerLease(
            store: NATSLeaseStore(url: nats, settings: settings, bucket: leases.leaseBucket, key: consumer),
            holder: holder,
            seconds: leaseSeconds, logger: logger)
        figures.update { $0.lease = lease.figures }
        let checkpoints =
            stateStore == .nats
            ? ChunkedCheckpointStore(
                messages: NATSStateMessages(url: nats, settings: settings, stream: stateStream),
                streamName: stateStream, root: NATSStateMessages.subjectRoot(stream: stateStream) + "." + consumer,
                holder: holder, logger: logger) : nil
        let metricsServer = try fleet.serve(figures, codeKey: "detect.code", logger: logger)
        defer { metricsServer?.shutdown() }
        let started =
            "detecting on \(nats) stream \(events.stream) (\(events.subjectPrefix).*), alerts to "
            + "\(alerts.alertsStream) \(alerts.alertsSubject)"
            + (checkpoints.map {
                ", state in stream \(stateStream) (\($0.root).>)" + (state.map { ", or \($0) if it holds none" } ?? "")
            }
                ?? state.map { ", state in \($0)" } ?? ", no state (a restart starts over)")
            + (metricsServer.map { ", metrics on \($0.boundAddress)" } ?? "")
            + "; lease \(leases.leaseBucket).\(consumer) as \(holder)"
        logger.info("\(started)")
        let startedAt = Date()
        var current: DetectRun<Feed, NATSAlertPublisher>?
        var lastSummary = "sendwatch detect: never held the lease"
        let summary = {
            (current?.summaryText ?? lastSummary)
                + "; this run \(String(format: "%.2f", Date().timeIntervalSince(startedAt))) s"
        }
        // Standby until the lease is held, then the worker from the last checkpoint; back to standby if the lease
        // is lost.
        while WorkerStandby.waitForLease(lease, metrics: figures, shouldStop: { TailSignals.stopRequested }) {
            let made = try WorkerStandby.whileHolding(lease, metrics: figures, logger: logger) { () throws(TailError) in
                try DetectRun(
                    configuration: configuration, options: options, accounts: accounts, feed: feed,
                    publisher: publisher, metrics: figures, stateStore: checkpoints, logger: logger)
            }
            guard let run = made else { continue }  // a stop (the loop ends) or the lease lost (standby again)
            current = run
            run.lease = lease
            var end = DetectRunEnd.stopped
            try LiveCommand.run(codeKey: "detect.code", logger: logger, summary: summary()) { () throws(TailError) in
                end = try run.run { TailSignals.stopRequested }
            }
            if end == .stopped {
                lease.release()
                figures.update { $0.lease = lease.figures }
                return
            }
            logger.warning("another worker holds the lease now; standing by")
            // The run that lost the lease holds the state directory's lock: released here, or this process could
            // never open the directory again when the lease comes back to it (it would wait for itself).
            lastSummary = run.summaryText
            current = nil
        }
        logger.info("\(summary())")
    }
}

/// How `detect` waits for its lease and opens its state once it holds it.
enum WorkerStandby {
    /// Polls the lease until this process holds it (true) or a stop is requested (false).
    static func waitForLease(_ lease: WorkerLease, metrics: DetectMetrics, shouldStop: () -> Bool) -> Bool {
        while !shouldStop() {
            let step = lease.tryAcquire(now: TailRun.monotonicSeconds())
            metrics.update { $0.lease = lease.figures }
            if step == .held { return true }
            usleep(useconds_t(lease.pollSeconds * 1_000_000))
        }
        return false
    }

    /// Makes the run with `make`, trying again every 250 ms while another process still holds the state
    /// directory (a holder that lost the lease and has not stopped yet) or the state store cannot be reached or
    /// claimed, renewing the lease meanwhile. Nil when a stop was requested or the lease was lost before the run
    /// could start.
    ///
    /// - Throws: `ExitCode(1)` for any other failure to start (logged).
    static func whileHolding<Run>(
        _ lease: WorkerLease, metrics: DetectMetrics, logger: Logger, _ make: () throws(TailError) -> Run
    ) throws -> Run? {
        var logged = false
        while !TailSignals.stopRequested {
            do throws(TailError) {
                return try make()
            } catch  where error.code == .stateDirectoryLocked || error.code == .stateStoreUnavailable {
                if !logged {
                    if error.code == .stateDirectoryLocked {
                        logger.warning(
                            "holding the lease, waiting for the previous holder to release the state directory")
                    } else {
                        logger.warning("holding the lease, waiting for the state store: \(error.message)")
                    }
                    logged = true
                }
                usleep(250_000)
                if lease.renew(now: TailRun.monotonicSeconds()) == .lost {
                    metrics.update { $0.lease = lease.figures }
                    return nil
                }
            } catch {
                logger.error("\(error)", metadata: ["detect.code": "\(error.code)"])
                throw ExitCode(1)
            }
        }
        return nil
    }
}

/// Where `detect` keeps its checkpoint.
enum StateStoreKind: String, ExpressibleByArgument, CaseIterable {
    /// `DIR/detect-checkpoint` in `--state`.
    case file
    /// Pieces and a manifest in a JetStream stream.
    case nats
}

/// The flags `ship`, `detect` and `sink` share: durations and consumer names.
enum FleetDurations {
    /// Whether `name` is letters, digits, `_` or `-` (a bucket, stream or subject token), and not empty.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// Checks a `--consumer` name (a durable consumer's: no `.` or spaces).
    static func checkConsumer(_ name: String) throws {
        if name.isEmpty || name.contains(".") || name.contains(" ") {
            throw ValidationError("--consumer must be a name without '.' or spaces")
        }
    }

    /// A duration like `1s` or `200ms`, in seconds (more than 0).
    static func interval(_ text: String, flag: String) throws -> Double {
        let milliseconds: Int64? =
            text.hasSuffix("ms") ? Int64(text.dropLast(2)) : DurationText.seconds(text).map { $0 * 1000 }
        guard let milliseconds, milliseconds > 0 else {
            throw ValidationError("\(flag) '\(text)' is not a duration like 1s or 200ms")
        }
        return Double(milliseconds) / 1000
    }

    /// A duplicate window from 1 s to 1 day, more than 10 times the checkpoint interval, in seconds.
    static func duplicateWindow(_ text: String, interval: Double) throws -> Int {
        guard let window = DurationText.seconds(text), (1...86_400).contains(window) else {
            throw ValidationError("--duplicate-window '\(text)' is not a duration from 1s to 1d")
        }
        if Double(window) <= 10 * interval {
            throw ValidationError("--duplicate-window must be more than 10 times --checkpoint-interval")
        }
        return Int(window)
    }
}
