import ArgumentParser
import Foundation
import Logging
import SendWatchFormats
import SendWatchIngest
import SendWatchMetrics
import SendWatchPipeline

/// Options of the subcommands that follow live logs (`tail`, `ship`): the configuration file and input flags,
/// how files are followed, the log level and the paths. Declared once so that both commands take the same
/// flags with the same help and checks; each command adds its own `--state` (their state directories differ).
struct LiveInputOptions: ParsableArguments {
    @OptionGroup var settings: ConfigurationFlags<FollowedLogs>

    @Flag(name: .long, help: "Without a checkpoint, read existing files from their start (default: only new lines).")
    var fromStart = false

    @Option(name: .long, help: "Poll interval in milliseconds when inotify is not used.")
    var pollInterval: Int = 250

    @Flag(name: .long, help: "Poll instead of using inotify (e.g. on NFS).")
    var poll = false

    @Option(name: .long, help: "Most files followed at once (glob matches); default 64.")
    var maxFiles: Int = 64

    @OptionGroup var logging: LogLevelOptions

    @Argument(
        help: "Files or globs to follow (quote globs so the shell does not expand them), or - for standard input.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one PATH or GLOB to follow") }
        if !(1...60_000).contains(pollInterval) { throw ValidationError("--poll-interval must be 1 to 60000 ms") }
        if !(1...4096).contains(maxFiles) { throw ValidationError("--max-files must be 1 to 4096") }
    }

    /// The input flags as ``InputOptions`` (the configuration file and the overrides of its input keys).
    func inputOptions() throws -> InputOptions { try InputOptions.parse(settings.arguments) }

    /// Applies the follow flags and the configuration's line bound to `follow`.
    func apply(to follow: inout FollowConfiguration, configuration: Configuration) {
        follow.pollIntervalMilliseconds = pollInterval
        follow.usePolling = poll
        follow.maxStreams = maxFiles
        follow.maxLineBytes = configuration.maxLineBytes
    }

    /// A logger writing to stderr at `--log-level` (``LogLevelOptions/makeLogger()``).
    func makeLogger() -> Logger { logging.makeLogger() }
}

/// What the long-running commands (`tail`, `ship`, `detect`, `sink`) share about starting and ending: the
/// log level flag and the stderr logger, the `--metrics` address, and the exit statuses (1 when the run could
/// not start, 75 when another run holds the state directory, 2 when it failed while running), each failure
/// logged with the command's code key (`tail.code`, `ship.code`, ...).
enum LiveCommand {
    /// Checks a `--log-level` value.
    static func checkLogLevel(_ text: String) throws {
        if Logger.Level(rawValue: text) == nil {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
    }

    /// Says at info level that the log comes from a terminal when the only path is `-` and standard input is one
    /// (someone typed `sendwatch tail` or `ship` with no file and waits for something to happen).
    static func hintIfTerminal(paths: [String], logger: Logger) {
        if paths == ["-"], isatty(0) == 1 {
            logger.info(
                "reading the log from standard input, a terminal (pipe one in, or give log files or globs to follow; Ctrl-D ends)"
            )
        }
    }

    /// A logger writing to stderr at `level` (a `--log-level` value; info when it is not one). A local logger
    /// rather than `LoggingSystem.bootstrap`: nothing else in the process logs.
    static func logger(level: String) -> Logger {
        let level = Logger.Level(rawValue: level) ?? .info
        return Logger(label: "sendwatch") { StderrLogHandler(logLevel: level, label: $0) }
    }

    /// Checks a `--metrics` address.
    static func checkMetricsAddress(_ text: String?) throws {
        guard let text else { return }
        do throws(ListenAddressError) {
            _ = try ListenAddress(parsing: text)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// Starts the metrics endpoint at the `--metrics` address `text` (nil: none) with `serve`.
    ///
    /// - Throws: `ValidationError` for a bad address; `ExitCode(1)` when it cannot be bound (logged).
    static func startMetrics(
        _ text: String?, codeKey: String, logger: Logger,
        serve: (ListenAddress) throws(TailError) -> MetricsServer
    ) throws -> MetricsServer? {
        guard let text else { return nil }
        let address: ListenAddress
        do throws(ListenAddressError) {
            address = try ListenAddress(parsing: text)
        } catch {
            throw ValidationError(error.message)
        }
        do throws(TailError) {
            return try serve(address)
        } catch {
            logger.error("\(error)", metadata: [codeKey: "\(error.code)"])
            throw ExitCode(1)
        }
    }

    /// The part of a start-up line that says where the state directory is (or that there is none) and where
    /// metrics are served, e.g. `, state in /var/lib/sendwatch, metrics on 127.0.0.1:9464`.
    static func whereText(state: String?, metrics server: MetricsServer?) -> String {
        (state.map { ", state in \($0)" } ?? ", no state (a restart starts over)")
            + (server.map { ", metrics on \($0.boundAddress)" } ?? "")
    }

    /// Makes a run with `make`.
    ///
    /// - Throws: `ExitCode(75)` when another run holds the state directory (starting again later can succeed:
    ///   EX_TEMPFAIL), `ExitCode(1)` for any other failure to start (logged).
    static func start<Run>(codeKey: String, logger: Logger, _ make: () throws(TailError) -> Run) throws -> Run {
        do throws(TailError) {
            return try make()
        } catch {
            logger.error("\(error)", metadata: [codeKey: "\(error.code)"])
            throw ExitCode(error.code == .stateDirectoryLocked ? 75 : 1)
        }
    }

    /// Runs `body`, then logs `summary`.
    ///
    /// - Throws: `ExitCode(2)` when `body` fails (logged, the summary after it).
    static func run(
        codeKey: String, logger: Logger, summary: @autoclosure () -> String, _ body: () throws(TailError) -> Void
    ) throws {
        do throws(TailError) {
            try body()
        } catch {
            logger.error("\(error)", metadata: [codeKey: "\(error.code)"])
            logger.info("\(summary())")
            throw ExitCode(2)
        }
        logger.info("\(summary())")
    }
}
