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

/// `sendwatch forward` (its metrics are listed in its own `--metrics` help: no ``FleetRunOptions``).
enum ForwardRole: LeaseRole {
    static var leaseTimeHelp: String { "A partition's lease is taken over when not renewed this long (1s to 10m)." }
    static var leaseBucketHelp: String { "Key-value bucket of the leases and of the live workers." }
    static var duplicateWindowHelp: String {
        "How long the forwarded stream drops repeated message ids; longer than a takeover takes."
    }
}

/// `sendwatch sink`.
enum SinkRole: FleetRole {
    static var flowing: String { "records" }
    static var figures: String { "lag (pending messages), records written, acknowledgements, redeliveries" }
}

/// A fleet command that works under leases (`detect`, `forward`) as the help of ``LeaseOptions`` names it.
protocol LeaseRole {
    /// The help of `--lease-time`.
    static var leaseTimeHelp: String { get }
    /// The help of `--lease-bucket`.
    static var leaseBucketHelp: String { get }
    /// The help of `--duplicate-window` (the stream the command publishes to).
    static var duplicateWindowHelp: String { get }
}

extension DetectRole: LeaseRole {
    static var leaseTimeHelp: String {
        "A standby takes the lease over when the holder has not renewed it this long (1s to 10m)."
    }
    static var leaseBucketHelp: String { "Key-value bucket of the workers' leases." }
    static var duplicateWindowHelp: String {
        "How long the alerts stream drops repeated message ids; longer than a restart takes."
    }
}

/// `--lease-time`, `--lease-bucket` and `--duplicate-window` of the commands that work under leases (`detect`,
/// `forward`): declared once so that both take them with the same defaults and checks; the help says what `Role`
/// leases and publishes.
struct LeaseOptions<Role: LeaseRole>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(Role.leaseTimeHelp))
    var leaseTime = "10s"

    @Option(name: .long, help: ArgumentHelp(Role.leaseBucketHelp))
    var leaseBucket = "SENDWATCH_LEASES"

    @Option(name: .long, help: ArgumentHelp(Role.duplicateWindowHelp))
    var duplicateWindow = "10m"

    func validate() throws {
        if !FleetDurations.isPlainName(leaseBucket) {
            throw ValidationError("--lease-bucket must be letters, digits, '_' or '-'")
        }
    }

    /// `--lease-time` in seconds, 1 to 600.
    ///
    /// - Throws: `ValidationError` for a text that is not a duration or one outside 1s to 10m.
    func leaseSeconds() throws -> Double {
        let seconds = try FleetDurations.interval(leaseTime, flag: "--lease-time")
        guard (1...600).contains(seconds) else { throw ValidationError("--lease-time must be 1s to 10m") }
        return seconds
    }

    /// `--duplicate-window` in seconds (``FleetDurations/duplicateWindow(_:interval:)``: more than 10 times the
    /// checkpoint interval `interval`).
    func duplicateWindowSeconds(interval: Double) throws -> Int {
        try FleetDurations.duplicateWindow(duplicateWindow, interval: interval)
    }
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
