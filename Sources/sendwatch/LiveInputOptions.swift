import ArgumentParser
import Logging
import SendWatchIngest
import SendWatchPipeline

/// Options of the subcommands that follow live logs (`tail`, `ship`): the configuration file and input flags,
/// how files are followed, the log level and the paths. Declared once so that both commands take the same
/// flags with the same help and checks; each command adds its own `--state` (their state directories differ).
struct LiveInputOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (see 'sendwatch config defaults').")
    var config: String?

    @Option(name: .long, help: "Input format: auto, postfix, exim or jsonl (default: input.format, auto).")
    var format: String?

    @Option(
        name: .long, help: "Year of year-less syslog timestamps (default: the current year, rolling over at New Year).")
    var year: Int?

    @Option(name: .long, help: "Zone of timestamps without an offset: UTC, +01:00 or an IANA name (default UTC).")
    var timezone: String?

    @Flag(name: .long, help: "Without a checkpoint, read existing files from their start (default: only new lines).")
    var fromStart = false

    @Option(name: .long, help: "Poll interval in milliseconds when inotify is not used (default 250).")
    var pollInterval: Int = 250

    @Flag(name: .long, help: "Poll instead of using inotify (e.g. on NFS).")
    var poll = false

    @Option(name: .long, help: "Most files followed at once (glob matches); default 64.")
    var maxFiles: Int = 64

    @Option(name: .long, help: "Log level on stderr: debug, info (default), warning or error.")
    var logLevel: String = "info"

    @Argument(
        help: "Files or globs to follow (quote globs so the shell does not expand them), or - for standard input.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one PATH or GLOB to follow") }
        if !(1...60_000).contains(pollInterval) { throw ValidationError("--poll-interval must be 1 to 60000 ms") }
        if !(1...4096).contains(maxFiles) { throw ValidationError("--max-files must be 1 to 4096") }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
    }

    /// The input flags as ``InputOptions`` (the configuration file and the overrides of its input keys).
    func inputOptions() throws -> InputOptions {
        var input = try InputOptions.parse(config.map { ["--config", $0] } ?? [])
        input.format = format
        input.year = year
        input.timezone = timezone
        return input
    }

    /// Applies the follow flags and the configuration's line bound to `follow`.
    func apply(to follow: inout FollowConfiguration, configuration: Configuration) {
        follow.pollIntervalMilliseconds = pollInterval
        follow.usePolling = poll
        follow.maxStreams = maxFiles
        follow.maxLineBytes = configuration.maxLineBytes
    }

    /// A logger writing to stderr at `--log-level`. A local logger rather than `LoggingSystem.bootstrap`:
    /// nothing else in the process logs.
    func makeLogger() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        return Logger(label: "sendwatch") { StderrLogHandler(logLevel: level, label: $0) }
    }
}
