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

    @OptionGroup var server: NATSServerOptions

    @OptionGroup var alerts: AlertsStreamOptions

    @Option(name: .long, help: "Durable consumer name; one sink per name.")
    var consumer = "sendwatch-sink"

    @Option(name: .long, help: "Append the records to this file (default: standard output).")
    var output: String?

    @Option(name: .long, help: "Directory for the checkpoint (created if missing); without it a start writes all.")
    var state: String?

    @Flag(name: .long, help: "Stop when the whole stream is read.")
    var once = false

    @OptionGroup var fleet: FleetRunOptions<SinkRole>

    @OptionGroup var logging: LogLevelOptions

    func validate() throws {
        try FleetDurations.checkConsumer(consumer)
    }

    func run() throws {
        let interval = try fleet.intervalSeconds()
        let logger = logging.makeLogger()
        let feed = NATSStreamFeed(
            url: server.nats, settings: server.settings(command: "sink"), stream: alerts.spec(),
            subject: alerts.alertsSubject, durable: consumer)
        var options = SinkOptions()
        options.stateDirectory = state
        options.once = once
        options.checkpointIntervalSeconds = interval
        TailSignals.install()
        let run = try LiveCommand.start(codeKey: "sink.code", logger: logger) { () throws(TailError) in
            try SinkRun(output: output, options: options, feed: feed, logger: logger)
        }
        let metricsServer = try fleet.serve(run.metrics, codeKey: "sink.code", logger: logger)
        defer { metricsServer?.shutdown() }
        if let metricsServer { logger.info("metrics on \(metricsServer.boundAddress)") }
        try LiveCommand.run(codeKey: "sink.code", logger: logger, summary: run.summaryText) {
            () throws(TailError) in
            try run.run { TailSignals.stopRequested }
        }
    }
}
