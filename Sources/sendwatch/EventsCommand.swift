import ArgumentParser
import SendWatchAlerts
import SendWatchCore
import SendWatchPipeline

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print one JSON object per message-recipient send event.",
        discussion: """
            Each event is written the first time that recipient of that message is attempted; retries after \
            'deferred' are not new events. A summary goes to stderr at the end. Exit status: 0 when every input \
            was read, 1 when an input could not be opened or was damaged (the others are still read), 2 when \
            the output could not be written, 64 for bad flags or a bad configuration file.
            """
    )

    @OptionGroup var input: InputOptions

    @Flag(name: .long, help: "Parse and join everything but print only the summary.")
    var countOnly = false

    @OptionGroup var output: OutputFileOptions<WrittenEvents>

    func run() throws {
        let configuration = try input.loadConfiguration()
        let run = EventsRun(configuration: configuration, fallbackYearHint: input.fallbackYearHint(configuration))
        let logs = try input.readingOrder()
        let summary: RunSummary
        if countOnly {
            var sink = CountingEventSink()
            summary = run.run(logs: logs, sink: &sink, prefetch: input.prefetch, diagnose: printError)
        } else {
            let writer = try output.open()
            let failure: OutputError?
            if input.sinkThread {
                // JSON encoding and writing on a thread of their own, as replay's detection.
                var sink = ThreadedSink(JSONLinesEventSink(output: writer))
                summary = run.run(logs: logs, sink: &sink, prefetch: input.prefetch, diagnose: printError)
                failure = sink.finish().outputFailure
            } else {
                var sink = JSONLinesEventSink(output: writer)
                summary = run.run(logs: logs, sink: &sink, prefetch: input.prefetch, diagnose: printError)
                failure = sink.outputFailure
            }
            if let failure {
                printError("sendwatch: \(failure)")
                printError(summary.text)
                for warning in summary.warnings { printError(warning) }
                throw ExitCode(2)
            }
        }
        printError(summary.text)
        for warning in summary.warnings { printError(warning) }
        if !summary.failures.isEmpty { throw ExitCode(1) }
    }
}
