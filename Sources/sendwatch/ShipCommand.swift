import ArgumentParser
import Foundation
import Logging
import SendWatchCore
import SendWatchFleet
import SendWatchIngest
import SendWatchMetrics
import SendWatchPipeline

struct ShipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ship",
        abstract: "Follow logs as tail does and publish each send event to a NATS JetStream stream, once.",
        discussion: """
            The agent of a fleet (docs/fleet.md). Follows each PATH or GLOB as 'tail' does, parses and joins per \
            host, and publishes each send event (the JSON object 'sendwatch events' prints, with its host's \
            greatest event time so far as host_max_time) to the subject \
            <subject-prefix>.<partition> of the stream --stream (created if missing), the partition being a \
            stable hash of the account modulo --partitions. Each event's message id (Nats-Msg-Id) is derived \
            from its position in the log, and the --state checkpoint moves only past acknowledged publishes, so \
            after a crash the repeated publishes are dropped by the server (within --duplicate-window). While \
            the broker is unreachable it holds its position, retries with backoff and then catches up. With \
            --once it reads the files to their end (from their start without a checkpoint), publishes, and \
            exits. `sendwatch detect` reads the stream. Exit status: 0 after a clean stop; \
            1 when it could not start; 2 when the broker refused an event or a checkpoint failed; 75 when \
            another run holds the --state directory.
            """
    )

    @OptionGroup var server: NATSServerOptions

    @Option(name: .long, help: "Partitions the events are spread over by account (1 to 1024; default 16).")
    var partitions = 16

    @OptionGroup var events: EventsStreamOptions

    @Option(
        name: .long,
        help: "How long the stream drops repeated message ids; longer than a restart takes.")
    var duplicateWindow = "10m"

    @Option(
        name: .long,
        help: "Publishes awaiting their acknowledgement at once (1 to 65536; default 256; 1: one at a time).")
    var window = NATSEventPublisher.defaultWindowSize

    @Option(name: .long, help: "This host's name in message ids (default: the system's host name).")
    var host: String?

    @OptionGroup var live: LiveInputOptions

    @Option(name: .long, help: "Directory for the checkpoint (created if missing); not tail's state directory.")
    var state: String?

    @Flag(name: .long, help: "Read the files to their end, publish, checkpoint and exit (implies --from-start).")
    var once = false

    @OptionGroup var fleet: FleetRunOptions<ShipRole>

    func validate() throws {
        if !(1...JetStreamWindowPublisher.maxWindow).contains(window) {
            throw ValidationError("--window must be 1 to \(JetStreamWindowPublisher.maxWindow)")
        }
        if !(1...EventPartitioning.maxPartitions).contains(partitions) {
            throw ValidationError("--partitions must be 1 to \(EventPartitioning.maxPartitions)")
        }
    }

    func run() throws {
        let configuration = try live.inputOptions().loadConfiguration()
        let interval = try fleet.intervalSeconds()
        let duplicateSeconds = try FleetDurations.duplicateWindow(duplicateWindow, interval: interval)
        let logger = live.makeLogger()
        let partitioning = try events.partitioning(partitions: partitions)
        let settings = server.settings(command: "ship")
        let spec = StreamSpec(
            name: events.stream, subjects: [partitioning.streamSubject], duplicateWindowSeconds: duplicateSeconds)
        // Connects at the first publish; a broker that is down at the start is waited for as one that goes down
        // later.
        let publisher = NATSEventPublisher(
            url: server.nats, settings: settings, partitioning: partitioning, stream: spec, windowSize: window)
        var options = ShipOptions(patterns: live.paths, host: host ?? ProcessInfo.processInfo.hostName)
        options.stateDirectory = state
        options.fromStart = live.fromStart || once
        options.once = once
        options.checkpointIntervalSeconds = interval
        live.apply(to: &options.follow, configuration: configuration)
        options.follow.rotatedFilesAdvice = "ship them first: name them (not the glob) in a sendwatch ship --once run"
        TailSignals.install()
        let run = try LiveCommand.start(codeKey: "ship.code", logger: logger) { () throws(TailError) in
            try ShipRun(configuration: configuration, options: options, publisher: publisher, logger: logger)
        }
        let metricsServer = try fleet.serve(run.metrics, codeKey: "ship.code", logger: logger)
        defer { metricsServer?.shutdown() }
        let started =
            "shipping \(live.paths.joined(separator: " ")) to \(server.nats) stream \(events.stream), "
            + "\(partitions) partitions" + LiveCommand.whereText(state: state, metrics: metricsServer)
        logger.info("\(started)")
        LiveCommand.hintIfTerminal(paths: live.paths, logger: logger)
        try LiveCommand.run(codeKey: "ship.code", logger: logger, summary: run.summaryText) {
            () throws(TailError) in
            try run.run { TailSignals.stopRequested }
        }
    }
}
