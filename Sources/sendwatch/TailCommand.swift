import ArgumentParser
import Foundation
import Logging
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchIngest
import SendWatchMetrics
import SendWatchPipeline
import SendWatchPolicy

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow live logs, detect as replay does, and write alerts as JSON lines.",
        discussion: """
            Follows each PATH or GLOB by name as 'tail -F' does: through rotation (rename + create, \
            copytruncate, delete + recreate, compressed predecessors) and files that appear later. With \
            --state DIR, a checkpoint (file positions, parser and detection state, alert lifecycle) is written \
            every --checkpoint-interval, after alerts and at SIGTERM/SIGINT; the next start resumes from it \
            without losing or repeating alerts, also after a crash; after a configuration change it keeps what \
            still fits (account ages, positions) and names the changed keys. Without --state a restart starts \
            over. With '-' it reads standard input until it ends (a pipe has no position to resume from). \
            Exit status: 0 after a clean stop; 1 when it could not start (damaged or incompatible checkpoint, \
            unusable output, an address that cannot be bound); 2 when the alert output could not be written; 64 \
            for bad flags or a bad configuration file; 75 when another 'sendwatch tail' \
            holds the --state directory (a lock in it, released when that process ends, even by SIGKILL).
            """
    )

    @OptionGroup var live: LiveInputOptions

    @Option(name: .long, help: "Directory for the checkpoint and the alert journal (created if missing).")
    var state: String?

    @Option(name: .long, help: "Append alerts to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: "When to fsync the output file: checkpoint (default), batch or never.")
    var fsync: String = "checkpoint"

    @Option(
        name: .long,
        help: """
            Serve Prometheus metrics on PORT (the loopback, 127.0.0.1), IPV4:PORT or [IPV6]:PORT \
            (0.0.0.0:9108 or [::]:9108 for every interface).
            """)
    var metrics: String?

    @Option(
        name: .long,
        help: """
            Answer Postfix's check_policy_service on unix:/PATH, PORT (the loopback), IPV4:PORT or [IPV6]:PORT: \
            the policy.action for a login of an open alert, DUNNO otherwise (docs/operations.md).
            """)
    var policy: String?

    @Option(name: .long, help: "Checkpoint interval while data flows.")
    var checkpointInterval: String = "30s"

    @Option(
        name: .long, help: "Quiet time after which event time follows the wall clock so alerts can close."
    )
    var idleAdvance: String = "10s"

    @Option(
        name: .long,
        help:
            "Events stamped more than this ahead of the wall clock are time outliers and never move event time."
    )
    var maxFuture: String = "1h"

    @OptionGroup var detection: DetectionOptions

    func validate() throws {
        if ExactlyOnceSink.SyncPolicy(rawValue: fsync) == nil {
            throw ValidationError("--fsync must be checkpoint, batch or never, not '\(fsync)'")
        }
        try LiveCommand.checkMetricsAddress(metrics)
        if let policy {
            do throws(ListenAddressError) {
                _ = try PolicyAddress(parsing: policy)
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    func run() throws {
        let alertFormat = try detection.format()
        let input = try live.inputOptions()
        var configuration = try input.loadConfiguration()
        try detection.apply(to: &configuration)
        guard let interval = DurationText.seconds(checkpointInterval), interval > 0 else {
            throw ValidationError("--checkpoint-interval '\(checkpointInterval)' is not a duration like 30s")
        }
        guard let idle = DurationText.seconds(idleAdvance), idle > 0 else {
            throw ValidationError("--idle-advance '\(idleAdvance)' is not a duration like 10s")
        }
        guard let future = DurationText.seconds(maxFuture), future > 0, future <= 10 * 366 * 86_400 else {
            throw ValidationError("--max-future '\(maxFuture)' is not a duration from 1s to 10 years, like 1h")
        }
        let registry = try detection.registry()
        var options = TailOptions(patterns: live.paths)
        options.stateDirectory = state
        options.fromStart = live.fromStart
        options.sync = ExactlyOnceSink.SyncPolicy(rawValue: fsync) ?? .checkpoint
        options.checkpointIntervalSeconds = Double(interval)
        options.idleAdvanceSeconds = Double(idle)
        options.maxFutureSeconds = Double(future)
        live.apply(to: &options.follow, configuration: configuration)
        options.alertFormat = alertFormat
        options.productVersion = buildVersion
        let logger = live.makeLogger()
        TailSignals.install()
        let run = try LiveCommand.start(codeKey: "tail.code", logger: logger) { () throws(TailError) in
            try TailRun(
                configuration: configuration, options: options, output: OutputWriter.tailOutput(path: output),
                accounts: registry,
                logger: logger)
        }
        let server = try LiveCommand.startMetrics(metrics, codeKey: "tail.code", logger: logger) {
            address throws(TailError) in try MetricsServer(address: address, metrics: run.metrics)
        }
        var policyServer: PolicyServer?
        if let policy {
            let address: PolicyAddress
            do throws(ListenAddressError) {
                address = try PolicyAddress(parsing: policy)
            } catch {
                throw ValidationError(error.message)
            }
            var policyConfiguration = configuration.policy
            policyConfiguration.serviceLogins = configuration.formats.accountHeaderLogins
            do throws(TailError) {
                policyServer = try PolicyServer(
                    address: address, configuration: policyConfiguration, board: run.openAlerts)
            } catch {
                logger.error("\(error)", metadata: ["tail.code": "\(error.code)"])
                throw ExitCode(1)
            }
            run.publishesOpenAlerts = true
        }
        defer { policyServer?.shutdown() }
        // SIGHUP: the run reopens the alert output; the configuration file is read again and checked, and what
        // changed is named (it takes effect at the next start: windows and tables are built at start-up).
        run.onReopen = {
            do {
                var reloaded = try input.loadConfiguration()
                try detection.apply(to: &reloaded)
                let changed = reloaded.changedKeys(comparedTo: configuration)
                if changed.isEmpty {
                    logger.info("SIGHUP: the configuration file is unchanged")
                } else {
                    logger.warning(
                        "SIGHUP: the configuration file changed; the new values take effect when tail is restarted",
                        metadata: ["config.changed": "\(changed.joined(separator: ","))"])
                }
            } catch {
                logger.error(
                    "SIGHUP: the configuration file cannot be used; tail goes on with the one it started with: \(error)"
                )
            }
        }
        let started =
            "following \(live.paths.joined(separator: " "))"
            + LiveCommand.whereText(state: state, metrics: server)
            + (policyServer.map { ", policy service on \($0.boundAddress)" } ?? "")
        logger.info("\(started)")
        LiveCommand.hintIfTerminal(paths: live.paths, logger: logger)
        try LiveCommand.run(codeKey: "tail.code", logger: logger, summary: run.summaryText) {
            () throws(TailError) in
            try run.run { TailSignals.stopRequested }
        }
    }
}

/// A swift-log handler for stderr: one line per record, `time level message key=value...`, written whole.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var w = JSONWriter(capacity: 64)
        w.time(EventTime(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000)))
        let stamp = String(decoding: w.bytes.filter { $0 != UInt8(ascii: "\"") }, as: UTF8.self)
        var line = "\(stamp) \(event.level) \(event.message)"
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) { line += " \(k)=\(v)" }
        printError(line)
    }
}
