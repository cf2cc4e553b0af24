import ArgumentParser
import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchFormats
import SendWatchIngest
import SendWatchPipeline

/// Options every reading subcommand shares: the config file and the input flags that override it.
struct InputOptions: ParsableArguments {
    @OptionGroup var settings: ConfigurationFlags<ReadFiles>

    @Option(name: .long, help: "Longest line kept, in bytes; longer lines are skipped and counted.")
    var maxLineBytes: Int?

    @Flag(
        name: .long,
        help:
            "Do everything on one thread (default on 2+ cores: compressed inputs are decoded on a second thread; replay detects, and events encodes JSON, on a third)."
    )
    var singleThread = false

    @Argument(
        help:
            "Log files (a quoted glob is expanded); '-' reads standard input (default). Rotated files of one log are read oldest first; separate logs are merged by event time."
    )
    var inputs: [String] = []

    /// The configuration file with the flags applied on top.
    func loadConfiguration() throws -> Configuration {
        var configuration = try settings.loadConfiguration()
        if let maxLineBytes {
            guard maxLineBytes > 0, maxLineBytes <= 64 * 1024 * 1024 else {
                throw ValidationError("--max-line-bytes must be from 1 to 67108864")
            }
            configuration.maxLineBytes = maxLineBytes
        }
        return configuration
    }

    /// How compressed inputs are decoded.
    var prefetch: Prefetch { singleThread ? .off : .automatic }

    /// Whether the run's sink gets a thread of its own (`ThreadedSink`: `replay`'s detection, `events`' JSON
    /// encoding): on 2+ cores, without `--single-thread`.
    var sinkThread: Bool { !singleThread && Prefetch.onlineCores >= 2 }

    /// The inputs, with stdin when none are given, each quoted shell pattern replaced by its matches
    /// (``InputOrder/expandingPatterns(_:exists:expand:)``), and every file already named before left out
    /// (``InputOrder/distinctFiles(_:identity:)``: `mail.log mail.log*` reads the live file once).
    var paths: [String] { distinctPaths.paths }

    /// ``paths`` and the inputs left out of it as files named before (each with the earlier name).
    private var distinctPaths: (paths: [String], repeated: [(path: String, sameAs: String)]) {
        inputs.isEmpty ? (["-"], []) : InputOrder.distinctFiles(InputOrder.expandingPatterns(inputs).paths)
    }

    /// The inputs as separate logs, each log's files in the order they are read: the rotated files of each log
    /// oldest first (``InputOrder``), announced on stderr when that differs from the order given. The logs are
    /// merged by event time (``EventsRun/run(logs:sink:prefetch:diagnose:)``).
    ///
    /// Says on stderr which inputs are left out as files named before, and, when standard input is read and
    /// it is a terminal, that it is read (``terminalHint``).
    ///
    /// - Throws: `ValidationError` (exit 64) for more than ``EventsRun/maxMergedLogs`` logs.
    func readingOrder() throws -> [[String]] {
        let (given, repeated) = distinctPaths
        for (pattern, matches) in InputOrder.expandingPatterns(inputs).expanded {
            printError(
                "sendwatch: \(pattern) matches \(matches) file\(matches == 1 ? "" : "s"), read as the shell would expand it"
            )
        }
        for (path, earlier) in repeated {
            printError(
                path == earlier
                    ? "sendwatch: \(path) is given twice; read once"
                    : "sendwatch: \(path) is the same file as \(earlier); read once, as \(earlier)")
        }
        if given.contains("-"), isatty(0) == 1 {
            printError(Self.terminalHint)
        }
        let logs = InputOrder.logs(given)
        guard logs.count <= EventsRun.maxMergedLogs else {
            throw ValidationError(
                "\(logs.count) separate logs given (rotated files of one log count once); at most "
                    + "\(EventsRun.maxMergedLogs) are merged by time in one run: merge some of them first "
                    + "(e.g. sort -m, or a central syslog file), or run once per group of hosts")
        }
        let ordered = InputOrder.oldestFirst(given)
        if ordered != given {
            printError(
                "sendwatch: reading rotated files oldest first: \(ordered.joined(separator: " ")) "
                    + "(given as \(given.joined(separator: " ")))")
        }
        return logs
    }

    /// What `replay`, `events` and `report --events` say when they read standard input and it is a terminal:
    /// without it a run given no file waits silently for lines to be typed, and looks hung.
    static let terminalHint =
        "sendwatch: reading the log from standard input, a terminal (give log files as arguments, or pipe one in; Ctrl-D ends)"

    /// The year hint for inputs without a modification time: the current date, unless the year is configured
    /// or the input is JSON lines (which always carries full dates). The run's summary warns when an input read
    /// with it held year-less timestamps (``RunSummary/yearlessFromClock``), so ISO and JSON input do not.
    func fallbackYearHint(_ configuration: Configuration) -> YearHint {
        // A pipe on standard input, a FIFO, `<(…)`: no modification time to take the year from. Standard input
        // redirected from a file has one; a directory or a device fails to open and needs no warning.
        let streams = paths.filter { path in
            var info = stat()
            let found = path == "-" ? fstat(0, &info) == 0 : stat(path, &info) == 0
            let kind = info.st_mode & S_IFMT
            return found && (kind == S_IFIFO || (path == "-" && (kind == S_IFSOCK || kind == S_IFCHR)))
        }
        guard configuration.year == nil, !streams.isEmpty, configuration.format != .jsonl else { return .none }
        return .modified(EventTime(seconds: Int64(Date().timeIntervalSince1970)))
    }
}

/// Standard output, or `path` appended to (`overwrite`: emptied first). Appending to a file that already holds
/// something says so on stderr, so that a re-run does not double a file unnoticed.
///
/// - Throws: `ExitCode(2)` when the file cannot be opened (a missing or unwritable directory), after saying
///   why on stderr: 2 is the status of an output that cannot be written, whether at the start or later.
func openOutput(_ path: String?, overwrite: Bool = false) throws -> OutputWriter {
    guard let path else { return OutputWriter.standardOutput() }
    switch overwrite ? OutputWriter.replacing(path: path) : OutputWriter.appending(path: path) {
    case .success(let w):
        if !overwrite, let size = w.position, size > 0 {
            printError("sendwatch: appending to \(path), which already holds \(size) bytes (--overwrite replaces it)")
        }
        return w
    case .failure(let e):
        printError("sendwatch: \(e)")
        throw ExitCode(2)
    }
}

/// The UTF-8 text of the file at `path`, which a flag or argument named.
///
/// - Parameter name: how the message names the file, e.g. `configuration file PATH` (default: the path).
/// - Throws: `ValidationError` "cannot read NAME: reason" when it cannot be read or is not UTF-8.
func readTextFile(_ path: String, named name: String? = nil) throws -> String {
    // The system's reason (`No such file or directory`, `Permission denied`, `Is a directory`), not Foundation's
    // ("The operation could not be completed. (NSCocoaErrorDomain error 256.)" for a directory).
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ValidationError("cannot read \(name ?? path): \(String(cString: strerror(errno)))") }
    let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    var info = stat()
    if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
        throw ValidationError("cannot read \(name ?? path): \(String(cString: strerror(EISDIR)))")
    }
    let data: Data
    do {
        data = try handle.readToEnd() ?? Data()
    } catch {
        throw ValidationError("cannot read \(name ?? path): \(error.localizedDescription)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw ValidationError("cannot read \(name ?? path): it is not UTF-8 text")
    }
    return text
}

/// Writes `message` and a newline to stderr as one line: control characters from file names, account names or
/// other input are shown as escapes (``TerminalText``), so a hostile name cannot rewrite the terminal or split a
/// log line.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((TerminalText.escaped(message) + "\n").utf8))
}
