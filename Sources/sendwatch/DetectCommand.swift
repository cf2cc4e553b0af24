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
            --duplicate-window). The --state checkpoint holds the detection state with the stream position; the \
            consumer is acknowledged only after it. With --once it stops when it has read the whole stream, \
            closing what the end of input closes, as 'replay' does. One worker reads every partition: \
            partition ownership and failover between workers are not built yet. Exit status: 0 after a clean \
            stop; 1 when it could not start; 2 when the stream could not be read, an alert was refused or a \
            checkpoint failed; 75 when another run holds the --state directory.
            """
    )

    @Option(name: .long, help: "NATS server URL(s), e.g. nats://10.0.0.5:4222 (comma-separated for a cluster).")
    var nats: String

    @Option(name: .long, help: "Stream of send events (default SENDWATCH_EVENTS).")
    var stream = "SENDWATCH_EVENTS"

    @Option(name: .long, help: "Subject prefix of the events; reads PREFIX.* (default sendwatch.events).")
    var subjectPrefix = "sendwatch.events"

    @Option(name: .long, help: "Durable consumer name (default sendwatch-detect); one worker per name.")
    var consumer = "sendwatch-detect"

    @Option(name: .long, help: "Stream the alert records go to (default SENDWATCH_ALERTS).")
    var alertsStream = "SENDWATCH_ALERTS"

    @Option(name: .long, help: "Subject of the alert records (default sendwatch.alerts).")
    var alertsSubject = "sendwatch.alerts"

    @Option(
        name: .long,
        help: "How long the alerts stream drops repeated message ids (default 10m); longer than a restart takes.")
    var duplicateWindow = "10m"

    @Option(name: .long, help: "Directory for the checkpoint (created if missing); without it a restart starts over.")
    var state: String?

    @Flag(name: .long, help: "Stop when the whole stream is read, closing what the end of input closes.")
    var once = false

    @Option(name: .long, help: "Checkpoint interval while events flow: a duration like 1s (the default) or 200ms.")
    var checkpointInterval = "1s"

    @Option(
        name: .long,
        help: "A host that sent nothing this long, once everything is read, no longer holds back others (default 5s).")
    var idleAfter = "5s"

    @Option(
        name: .long,
        help:
            "Hosts that send events: a fresh worker merges once it has seen this many (default 0: once it read the backlog)."
    )
    var hosts = 0

    @Option(name: .long, help: "Most events held to merge hosts by time (default 200000).")
    var maxBuffered = 200_000

    @Option(
        name: .long,
        help: """
            Serve Prometheus metrics on PORT (the loopback, 127.0.0.1), IPV4:PORT or [IPV6]:PORT, as tail does: \
            lag (pending messages), events, alert records, acknowledgements, redeliveries (docs/fleet.md).
            """)
    var metrics: String?

    @OptionGroup var detection: DetectionOptions

    @Option(name: .long, help: "YAML configuration file (see 'sendwatch config defaults').")
    var config: String?

    @Option(name: .long, help: "Log level on stderr: debug, info (default), warning or error.")
    var logLevel = "info"

    func validate() throws {
        try LiveCommand.checkLogLevel(logLevel)
        try LiveCommand.checkMetricsAddress(metrics)
        if !(0...EventTimeMerge.maxSources).contains(hosts) {
            throw ValidationError("--hosts must be 0 to \(EventTimeMerge.maxSources)")
        }
        if !(1...10_000_000).contains(maxBuffered) { throw ValidationError("--max-buffered must be 1 to 10000000") }
        try FleetDurations.checkConsumer(consumer)
    }

    func run() throws {
        var input = try InputOptions.parse(config.map { ["--config", $0] } ?? [])
        input.format = nil
        var configuration = try input.loadConfiguration()
        try detection.apply(to: &configuration)
        let interval = try FleetDurations.interval(checkpointInterval, flag: "--checkpoint-interval")
        let idle = try FleetDurations.interval(idleAfter, flag: "--idle-after")
        let window = try FleetDurations.duplicateWindow(duplicateWindow, interval: interval)
        let logger = LiveCommand.logger(level: logLevel)
        let partitioning: EventPartitioning
        do throws(FleetError) {
            partitioning = try EventPartitioning(partitions: 1, prefix: subjectPrefix)
        } catch {
            throw ValidationError(error.message)
        }
        var settings = JetStreamClient.Settings()
        settings.name = "sendwatch detect"
        let events = StreamSpec(name: stream, subjects: [partitioning.streamSubject])
        let feed = NATSStreamFeed(
            url: nats, settings: settings, stream: events, subject: partitioning.streamSubject, durable: consumer)
        let alerts = StreamSpec(name: alertsStream, subjects: [alertsSubject], duplicateWindowSeconds: window)
        let publisher = NATSAlertPublisher(url: nats, settings: settings, stream: alerts, subject: alertsSubject)
        var options = DetectOptions()
        options.stateDirectory = state
        options.once = once
        options.checkpointIntervalSeconds = interval
        options.idleSeconds = idle
        options.maxBufferedEvents = maxBuffered
        options.expectedHosts = hosts
        options.alertFormat = try detection.format()
        options.productVersion = buildVersion
        TailSignals.install()
        let accounts = try detection.registry()
        let run = try LiveCommand.start(codeKey: "detect.code", logger: logger) { () throws(TailError) in
            try DetectRun(
                configuration: configuration, options: options, accounts: accounts, feed: feed,
                publisher: publisher, logger: logger)
        }
        let server = try LiveCommand.startMetrics(metrics, codeKey: "detect.code", logger: logger) {
            address throws(TailError) in try MetricsServer(address: address, metrics: run.metrics)
        }
        defer { server?.shutdown() }
        let started =
            "detecting on \(nats) stream \(stream) (\(subjectPrefix).*), alerts to \(alertsStream) \(alertsSubject)"
            + (state.map { ", state in \($0)" } ?? ", no state (a restart starts over)")
            + (server.map { ", metrics on \($0.boundAddress)" } ?? "")
        logger.info("\(started)")
        let startedAt = Date()
        let summary = {
            "\(run.summaryText); this run \(String(format: "%.2f", Date().timeIntervalSince(startedAt))) s"
        }
        try LiveCommand.run(codeKey: "detect.code", logger: logger, summary: summary()) { () throws(TailError) in
            try run.run { TailSignals.stopRequested }
        }
    }
}

/// The flags `ship`, `detect` and `sink` share: durations and consumer names.
enum FleetDurations {
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
