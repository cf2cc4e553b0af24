import ArgumentParser
import Logging
import SendWatchFleet
import SendWatchMetrics
import SendWatchPipeline

/// A fleet command (`ship`, `detect`, `sink`) as the help of the options they share names it: what flows through
/// it between checkpoints and which figures its `--metrics` endpoint serves.
protocol FleetRole {
    /// The plural noun of what the command takes in, e.g. `events`.
    static var flowing: String { get }
    /// The figures its metrics endpoint serves, listed for the help.
    static var figures: String { get }
}

/// `sendwatch ship`.
enum ShipRole: FleetRole {
    static var flowing: String { "events" }
    static var figures: String { "publishes, acknowledgements, retries, the window, lag per file" }
}

/// `sendwatch detect`.
enum DetectRole: FleetRole {
    static var flowing: String { "events" }
    static var figures: String {
        "lag (pending messages), events, alert records, acknowledgements, redeliveries"
    }
}

/// `sendwatch sink`.
enum SinkRole: FleetRole {
    static var flowing: String { "records" }
    static var figures: String { "lag (pending messages), records written, acknowledgements, redeliveries" }
}

/// `--nats`, the broker every fleet command talks to.
struct NATSServerOptions: ParsableArguments {
    @Option(name: .long, help: "NATS server URL(s), e.g. nats://10.0.0.5:4222 (comma-separated for a cluster).")
    var nats: String

    /// Client settings naming the connection `sendwatch <command>` (as the server's connection list shows it).
    func settings(command: String) -> JetStreamClient.Settings {
        var settings = JetStreamClient.Settings()
        settings.name = "sendwatch \(command)"
        return settings
    }
}

/// `--checkpoint-interval` and `--metrics` of the fleet commands: declared once so that `ship`, `detect` and
/// `sink` take them with the same default, checks and help; the help names what `Role` takes in and serves.
struct FleetRunOptions<Role: FleetRole>: ParsableArguments {
    @Option(
        name: .long,
        help: "Checkpoint interval while \(Role.flowing) flow: a duration like 1s (the default) or 200ms.")
    var checkpointInterval = "1s"

    @Option(
        name: .long,
        help: """
            Serve Prometheus metrics on PORT (the loopback, 127.0.0.1), IPV4:PORT or [IPV6]:PORT, as tail does: \
            \(Role.figures) (docs/fleet.md).
            """)
    var metrics: String?

    func validate() throws {
        try LiveCommand.checkMetricsAddress(metrics)
    }

    /// Serves `figures` at the `--metrics` address (nil without it), through
    /// ``LiveCommand/startMetrics(_:codeKey:logger:serve:)``.
    func serve<Snapshot: PrometheusExposable>(
        _ figures: RunMetrics<Snapshot>, codeKey: String, logger: Logger
    ) throws -> MetricsServer? {
        try LiveCommand.startMetrics(metrics, codeKey: codeKey, logger: logger) { address throws(TailError) in
            try MetricsServer(address: address, metrics: figures)
        }
    }

    /// `--checkpoint-interval` in seconds.
    func intervalSeconds() throws -> Double {
        try FleetDurations.interval(checkpointInterval, flag: "--checkpoint-interval")
    }
}

/// `--stream` and `--subject-prefix`: the stream of send events `ship` publishes to and `detect` reads.
struct EventsStreamOptions: ParsableArguments {
    @Option(name: .long, help: "Stream of the send events.")
    var stream = "SENDWATCH_EVENTS"

    @Option(name: .long, help: "Subject prefix of the events: PREFIX.<partition>.")
    var subjectPrefix = "sendwatch.events"

    /// The events' subjects for `partitions` partitions under `--subject-prefix`.
    ///
    /// - Throws: `ValidationError` for a prefix that is not a subject.
    func partitioning(partitions: Int) throws -> EventPartitioning {
        do throws(FleetError) {
            return try EventPartitioning(partitions: partitions, prefix: subjectPrefix)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// `--alerts-stream` and `--alerts-subject`: the stream of alert records `detect` publishes to and `sink` reads.
struct AlertsStreamOptions: ParsableArguments {
    @Option(name: .long, help: "Stream of the alert records.")
    var alertsStream = "SENDWATCH_ALERTS"

    @Option(name: .long, help: "Subject of the alert records.")
    var alertsSubject = "sendwatch.alerts"

    /// The alerts stream, taking `--alerts-subject` (``StreamSpec``'s defaults otherwise).
    func spec() -> StreamSpec { StreamSpec(name: alertsStream, subjects: [alertsSubject]) }
}

/// `--log-level` of the long-running commands (`tail`, `ship`, `detect`, `sink`).
struct LogLevelOptions: ParsableArguments {
    @Option(name: .long, help: "Log level on stderr: debug, info (default), warning or error.")
    var logLevel = "info"

    func validate() throws {
        try LiveCommand.checkLogLevel(logLevel)
    }

    /// A logger writing to stderr at `--log-level` (``LiveCommand/logger(level:)``).
    func makeLogger() -> Logger { LiveCommand.logger(level: logLevel) }
}
