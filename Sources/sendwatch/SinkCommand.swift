import ArgumentParser
import Foundation
import Logging
import SendWatchFleet
import SendWatchMetrics
import SendWatchPipeline

struct SinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink",
        abstract: "Write the alerts stream of a fleet as JSON lines, exactly once into a file.",
        discussion: """
            Reads the stream --alerts-stream (what 'sendwatch detect' publishes) through the durable pull \
            consumer --consumer and appends each record as one JSON line to --output (standard output without \
            it). The --state checkpoint holds the last stream sequence written and the file's size after it: a \
            restart cuts the file back to that size and goes on from the next record, so each record is in the \
            file once (on standard output a restart repeats the records since the last checkpoint). With --once \
            it stops when it has read the whole stream. Exit status: 0 after a clean stop; 1 when it could not \
            start; 2 when the stream could not be read or the output or checkpoint failed; 75 when another run \
            holds the --state directory.
            """
    )

    @Option(name: .long, help: "NATS server URL(s), e.g. nats://10.0.0.5:4222 (comma-separated for a cluster).")
    var nats: String

    @Option(name: .long, help: "Stream of alert records (default SENDWATCH_ALERTS).")
    var alertsStream = "SENDWATCH_ALERTS"

    @Option(name: .long, help: "Subject of the alert records (default sendwatch.alerts).")
    var alertsSubject = "sendwatch.alerts"

    @Option(name: .long, help: "Durable consumer name (default sendwatch-sink); one sink per name.")
    var consumer = "sendwatch-sink"

    @Option(name: .long, help: "Append the records to this file (default: standard output).")
    var output: String?

    @Option(name: .long, help: "Directory for the checkpoint (created if missing); without it a start writes all.")
    var state: String?

    @Flag(name: .long, help: "Stop when the whole stream is read.")
    var once = false

    @Option(name: .long, help: "Checkpoint interval while records flow: a duration like 1s (the default) or 200ms.")
    var checkpointInterval = "1s"

    @Option(
        name: .long,
        help: """
            Serve Prometheus metrics on PORT (the loopback, 127.0.0.1), IPV4:PORT or [IPV6]:PORT, as tail does: \
            lag (pending messages), records written, acknowledgements, redeliveries (docs/fleet.md).
            """)
    var metrics: String?

    @Option(name: .long, help: "Log level on stderr: debug, info (default), warning or error.")
    var logLevel = "info"

    func validate() throws {
        try LiveCommand.checkLogLevel(logLevel)
        try LiveCommand.checkMetricsAddress(metrics)
        try FleetDurations.checkConsumer(consumer)
    }

    func run() throws {
        let interval = try FleetDurations.interval(checkpointInterval, flag: "--checkpoint-interval")
        let logger = LiveCommand.logger(level: logLevel)
        var settings = JetStreamClient.Settings()
        settings.name = "sendwatch sink"
        let feed = NATSStreamFeed(
            url: nats, settings: settings, stream: StreamSpec(name: alertsStream, subjects: [alertsSubject]),
            subject: alertsSubject, durable: consumer)
        var options = SinkOptions()
        options.stateDirectory = state
        options.once = once
        options.checkpointIntervalSeconds = interval
        TailSignals.install()
        let run = try LiveCommand.start(codeKey: "sink.code", logger: logger) { () throws(TailError) in
            try SinkRun(output: output, options: options, feed: feed, logger: logger)
        }
        let server = try LiveCommand.startMetrics(metrics, codeKey: "sink.code", logger: logger) {
            address throws(TailError) in try MetricsServer(address: address, metrics: run.metrics)
        }
        defer { server?.shutdown() }
        if let server { logger.info("metrics on \(server.boundAddress)") }
        try LiveCommand.run(codeKey: "sink.code", logger: logger, summary: run.summaryText) {
            () throws(TailError) in
            try run.run { TailSignals.stopRequested }
        }
    }
}
