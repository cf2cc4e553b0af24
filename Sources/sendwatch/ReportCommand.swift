import ArgumentParser
import Foundation
import SendWatchCore
import SendWatchEval
import SendWatchFormats
import SendWatchIngest
import SendWatchPipeline
import SendWatchReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page about a file of SendWatch alerts.",
        discussion: """
            ALERTS is a file of SendWatch alert records (schema v\(AlertRecord.versionsText), JSON lines; plain, zstd or gzip), or '-' for \
            standard input. The page shows a timeline of the incidents, each incident's accounts, template, \
            suspicious slot values with phone numbers, URLs, domains and amounts marked, and a graph of the \
            accounts and the phone numbers and hosts they share. It loads nothing from the network.

            --events reads the logs the alerts came from (the same way 'sendwatch events' does; --config, \
            --format, --year and --timezone apply to them) and adds each alerted account's first and last send, \
            age, recipient domains and the exact artefacts of its own messages.

            What is drawn is capped (timeline 150 rows, 100 detailed incidents, index 2,000 rows, graph 60 \
            artefacts and 120 accounts), and the page says what it left out, so that it opens quickly however \
            many alerts there are. Exit status: 0 when the page was written, 1 when an events input failed (the \
            page is still written), 2 when the alerts cannot be read or the page cannot be written.
            """
    )

    /// The longest alert line read: an alert lists at most a few hundred accounts, far below this.
    static let maxAlertLineBytes = 16 << 20

    @Argument(help: "Alert file (JSON lines, optionally zstd or gzip), or '-' for standard input.")
    var alerts: String

    @Option(name: .long, parsing: .upToNextOption, help: "Log files the alerts came from (optional; one or more).")
    var events: [String] = []

    @Option(name: .long, help: "The HTML file to write (replaced if it exists).")
    var output: String

    @OptionGroup var settings: ConfigurationFlags<ReportedEvents>

    func run() throws {
        var consumer = AlertLineConsumer()
        do {
            var source = try InputSource.open(path: alerts)
            var framer = LineFramer(maxLineBytes: Self.maxAlertLineBytes)
            try readLines(from: &source, framer: &framer, into: &consumer)
            if framer.linesTooLong > 0 {
                printError("sendwatch: \(alerts): \(framer.linesTooLong) lines longer than 16 MiB skipped")
            }
        } catch {
            printError("sendwatch: \(error)")
            throw ExitCode(2)
        }
        if let error = consumer.error {
            printError("sendwatch: \(alerts): \(error.message)")
            throw ExitCode(2)
        }
        var builder = consumer.builder
        do {
            try builder.checkUsable()
        } catch {
            printError("sendwatch: \(alerts): \(error.message)")
            throw ExitCode(2)
        }
        if builder.badLines > 0 {
            let first = builder.badLineSamples.first.map { " (first: line \($0.line): \($0.problem))" } ?? ""
            printError("sendwatch: \(alerts): \(builder.badLines) lines are not v1-v5 alert records, skipped\(first)")
        }

        var eventsFailed = false
        if !events.isEmpty {
            let input = try eventInputOptions()
            let configuration = try input.loadConfiguration()
            let run = EventsRun(configuration: configuration, fallbackYearHint: input.fallbackYearHint(configuration))
            builder.noteEventsRead()
            var sink = ReportEventSink(builder: builder)
            let summary = run.run(
                logs: try input.readingOrder(), sink: &sink, prefetch: input.prefetch, diagnose: printError)
            builder = sink.builder
            printError(summary.text)
            for warning in summary.warnings { printError(warning) }
            eventsFailed = !summary.failures.isEmpty
        }

        var page = PageFile()
        guard page.open(path: output) else {
            printError("sendwatch: cannot create \(output)")
            throw ExitCode(2)
        }
        builder.render(into: &page, source: ReportSource(alerts: alerts, events: events))
        guard page.close() else {
            printError("sendwatch: cannot write \(output): \(page.failure.map { "\($0)" } ?? "unknown error")")
            throw ExitCode(2)
        }
        printError(
            "sendwatch: wrote \(output) (\(page.bytesWritten) bytes): \(builder.records) alert records, "
                + "\(builder.events) events")
        if eventsFailed { throw ExitCode(1) }
    }

    /// The shared input options for the --events logs, made by parsing the flags this command passes through,
    /// so that configuration loading and year handling are exactly those of `sendwatch events`.
    private func eventInputOptions() throws -> InputOptions {
        try InputOptions.parse(settings.arguments + ["--"] + events)
    }
}

/// Feeds the lines of the alert file to the report; stops at the first fatal error (an unknown schema version).
private struct AlertLineConsumer: LineConsumer {
    var builder = ReportBuilder()
    var error: ReportError?

    mutating func consume(line: UnsafeRawBufferPointer) {
        guard error == nil else { return }
        do {
            try builder.add(line: line)
        } catch {
            self.error = error
        }
    }
}

/// Hands the events of the --events logs to the report.
private struct ReportEventSink: EventSink {
    var builder: ReportBuilder

    mutating func accept(_ batch: inout EventBatch) {
        for event in batch { builder.add(event: event) }
    }

    mutating func flush() {}

    /// Large batches: the report does little per event, and the parsers hand over fewer, larger arrays.
    static var preferredBatchCount: Int { 1024 }
}

/// The HTML file, written in blocks of 1 MiB as the report renders it.
private struct PageFile: TextOutputStream {
    private var handle: FileHandle?
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0
    /// The first write error.
    private(set) var failure: (any Error)?

    /// Creates (or truncates) `path`.
    mutating func open(path: String) -> Bool {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { return false }
        handle = FileHandle(forWritingAtPath: path)
        return handle != nil
    }

    mutating func write(_ string: String) {
        buffer.append(contentsOf: string.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    private mutating func flush() {
        defer { buffer.removeAll(keepingCapacity: true) }
        guard failure == nil, let handle, !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
            bytesWritten += buffer.count
        } catch {
            failure = error
        }
    }

    /// Writes what is buffered and closes the file; false when any write failed.
    mutating func close() -> Bool {
        flush()
        do {
            try handle?.close()
        } catch {
            if failure == nil { failure = error }
        }
        handle = nil
        return failure == nil
    }
}
