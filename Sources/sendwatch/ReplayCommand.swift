import ArgumentParser
import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline
import SendWatchTemplates

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run detection over historical logs and write alerts as JSON lines.",
        discussion: """
            Reads the inputs in order as fast as the machine allows, in event time (the logs' timestamps), and \
            writes alert records (schema version \(Alert.schemaVersion)) to standard output or --output. The same input and \
            configuration always give byte-identical alerts. A summary goes to stderr. Exit status: 0 when it \
            ran, whether or not it found anything; 1 when an input could not be opened or was damaged; 2 when \
            the output could not be opened or written; 64 for bad flags or a bad configuration file.
            """
    )

    @OptionGroup var input: InputOptions

    @OptionGroup var detection: DetectionOptions

    @OptionGroup var output: OutputFileOptions<WrittenAlerts>

    func run() throws {
        let logs = try input.readingOrder()
        let format = try detection.format()
        var configuration = try input.loadConfiguration()
        try detection.apply(to: &configuration)
        var engine = DetectionEngine(configuration: configuration.detection)
        for (account, created) in try detection.registry() { engine.register(account: account, created: created) }
        let writer = try output.open()
        // The engine and the sink are moved, never copied: a second reference would make the tables copy
        // themselves on their next write.
        let detectionSink = DetectionSink(
            engine: consume engine, output: writer, format: format,
            productVersion: buildVersion)
        let run = EventsRun(configuration: configuration, fallbackYearHint: input.fallbackYearHint(configuration))
        // Each branch finishes on its own: the sink handed to the detection thread comes back from `finish()`,
        // and the compiler checks that nothing else still refers to it.
        if input.sinkThread {
            // Parsing here, detection on a thread of its own (and decoding on a third for compressed input).
            var progress = ProgressSink(ThreadedSink(consume detectionSink))
            let summary = run.run(logs: logs, sink: &progress, prefetch: input.prefetch, diagnose: printError)
            var sink = progress.inner.finish()
            try finish(&sink, summary: summary, configuration: configuration)
        } else {
            var progress = ProgressSink(consume detectionSink)
            let summary = run.run(logs: logs, sink: &progress, prefetch: input.prefetch, diagnose: printError)
            try finish(&progress.inner, summary: summary, configuration: configuration)
        }
    }

    /// Closes what the end of input closes, prints the summary, and throws the exit status: 2 when the output
    /// failed, 1 when an input failed.
    private func finish(_ sink: inout DetectionSink, summary: RunSummary, configuration: Configuration) throws {
        sink.finish()
        var summary = summary
        summary.eventsWithSubject = sink.eventsWithSubject
        let c = sink.engine.counters
        var text = summary.text
        text +=
            "; detection: \(c.youngEvents) events of young accounts, \(c.lateEvents) late events dropped, \(c.timeOutliers) time outliers, "
        text += "\(sink.alertsWritten) alert records (\(c.creates) created, \(c.updates) updated, \(c.closes) closed)"
        if !sink.alertsByKind.isEmpty {
            text +=
                " by kind: "
                + sink.alertsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        text += ", \(sink.engine.miner.templateCount) templates"
        if c.cutSubjects > 0 {
            text += " (\(c.cutSubjects) cut subjects of young accounts, \(c.cutSubjectsUngrouped) in no known template)"
        }
        text += ", \(c.evictions) table evictions"
        text +=
            ", detection tables ≈ \(sink.engine.approximateBytes >> 20) MiB of \(configuration.detection.memoryBudgetBytes >> 20) MiB"
        // The warning goes on a line of its own: `printError` shows a newline inside its text as an escape.
        if let failure = sink.outputFailure {
            printError("sendwatch: \(failure)")
            printError(text)
            for warning in summary.warnings { printError(warning) }
            throw ExitCode(2)
        }
        printError(text)
        for warning in summary.warnings { printError(warning) }
        for warning in c.droppedTimeWarnings(configuration.detection) { printError(warning) }
        if let warning = sink.engine.warmupWarning(configuration.detection) { printError(warning) }
        if !summary.failures.isEmpty { throw ExitCode(1) }
    }
}
