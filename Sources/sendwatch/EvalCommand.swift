import ArgumentParser
import Foundation
import SendWatchCore
import SendWatchEval

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score SendWatch alerts against labels: precision, recall, incidents, latency, false positives.",
        discussion: """
            ALERTS is a file of SendWatch alert records (schema v\(AlertRecord.versionsText), one JSON object per line) or '-' for \
            standard input; LABELS is the JSON labels object 'sendwatch simulate' writes, or one you wrote by \
            hand for your own incidents. Records before the labels' warmup_end are counted but not scored, even \
            when they name look-alikes (a simulated look-alike that starts at the run's start can be named there). \
            A malformed alert line is reported with its line number and skipped.

            --require takes comma-separated conditions (repeatable): recall>=X, precision>=X, incidents=all, \
            incidents>=N, missed<=N, latency<=SECONDS, latency:KIND<=SECONDS (600, 600s, 10m), lookalikes<=N, \
            unlabelled<=N, clean_per_day<=X; e.g. \
            --require 'recall>=0.95,precision>=0.95,incidents=all,latency:tenant-swarm<=10m,lookalikes=0'.

            Exit status: 0 when the alerts were scored (and every requirement met), 1 when a requirement is \
            not met (each is named on stderr), 2 when the labels or the alerts cannot be used.
            """
    )

    /// Labels files larger than this are refused: hand-written or simulated labels are far smaller.
    static let maxLabelsBytes = 64 << 20

    @Option(name: .long, help: "Labels JSON file (as written by 'sendwatch simulate').")
    var labels: String

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    @Option(name: .long, help: "Conditions that must hold, e.g. 'recall>=0.95,incidents=all' (repeatable).")
    var require: [String] = []

    @Argument(help: "Alert file (JSON lines), or '-' for standard input.")
    var alerts: String

    func run() throws {
        var requirements: [Requirement] = []
        for spec in require {
            do {
                requirements += try Requirement.parseList(spec)
            } catch {
                throw ValidationError("--require: \(error.message)")
            }
        }

        guard let labelsHandle = FileHandle(forReadingAtPath: labels) else {
            printError("sendwatch: cannot open labels file \(labels)")
            throw ExitCode(2)
        }
        let labelBytes: Data
        do {
            labelBytes = try labelsHandle.read(upToCount: EvalCommand.maxLabelsBytes + 1) ?? Data()
            try? labelsHandle.close()
        } catch {
            printError("sendwatch: cannot read labels file \(labels): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        guard labelBytes.count <= EvalCommand.maxLabelsBytes else {
            printError("sendwatch: labels file \(labels) is larger than \(EvalCommand.maxLabelsBytes >> 20) MiB")
            throw ExitCode(2)
        }
        let parsedLabels: Labels
        do {
            parsedLabels = try Labels.parse(labelBytes)
        } catch {
            printError("sendwatch: \(labels): \(error.message)")
            throw ExitCode(2)
        }

        let handle: FileHandle
        if alerts == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let h = FileHandle(forReadingAtPath: alerts) else {
                printError("sendwatch: cannot open alerts file \(alerts)")
                throw ExitCode(2)
            }
            handle = h
        }
        let alertsName = alerts == "-" ? "standard input" : alerts
        var evaluation = Evaluation(labels: parsedLabels)
        var chunk: [UInt8] = []
        while true {
            let data: Data?
            do {
                data = try handle.read(upToCount: 1 << 20)
            } catch {
                printError("sendwatch: cannot read \(alertsName): \(error.localizedDescription)")
                throw ExitCode(2)
            }
            guard let data, !data.isEmpty else { break }
            chunk.removeAll(keepingCapacity: true)
            chunk.append(contentsOf: data)
            do {
                try evaluation.consume(chunk)
            } catch {
                printError("sendwatch: \(alertsName): \(error.message)")
                throw ExitCode(2)
            }
        }
        let report: EvaluationReport
        do {
            report = try evaluation.finish()
        } catch {
            printError("sendwatch: \(alertsName): \(error.message)")
            throw ExitCode(2)
        }
        if alerts != "-" { try? handle.close() }

        if json {
            FileHandle.standardOutput.write(Data(report.jsonBytes()))
        } else {
            FileHandle.standardOutput.write(Data(report.text().utf8))
        }
        let unmet = report.unmet(requirements)
        for message in unmet { printError("sendwatch: \(message)") }
        if !unmet.isEmpty { throw ExitCode(1) }
    }
}
