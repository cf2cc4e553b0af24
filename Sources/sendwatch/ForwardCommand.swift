import ArgumentParser
import Foundation
import Logging
import SendWatchFleet
import SendWatchMetrics
import SendWatchPipeline

struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Share the events stream's partitions between workers and forward them for a second-stage detect.",
        discussion: """
            The first stage of several workers (docs/fleet.md). Workers started with the same --consumer share \
            the --partitions partitions of the stream --stream: each live worker announces itself in the \
            key-value bucket --lease-bucket, takes its share of the partitions (one lease per partition, \
            compare-and-set with expiry: --lease-time), gives partitions back when workers join and takes over \
            the partitions of a worker that stopped renewing. Every event of a partition it holds is forwarded, \
            in the partition's order, to the stream --forward-stream (subjects --forward-prefix.e.N), followed by \
            the partition's watermark (--forward-prefix.w.N), with message ids the server drops repeats of; \
            'sendwatch detect --forwarded-partitions P' reads that stream and merges the partitions back into the \
            events stream's order. With --accounts, each event of an account the registry lists carries the \
            account's creation time (the registry is held here, not by the second stage). Account ages from \
            first sight are not computed here (they depend on the order of all hosts' events, which only the \
            second stage has), so it spreads reading, the registry and failover over workers but not detection, \
            and costs CPU: a single 'detect' on the events stream does the same work with less. \
            Runs until stopped (SIGTERM, SIGINT). Exit status: 0 after a clean stop; 2 \
            when a partition could not be read or a forwarded message was refused.
            """
    )

    @OptionGroup var server: NATSServerOptions

    @OptionGroup var events: EventsStreamOptions

    @Option(name: .long, help: "Partitions of the events stream: ship's --partitions (1 to 1024).")
    var partitions = 16

    @Option(name: .long, help: "Worker name: workers of one name share the partitions.")
    var consumer = "sendwatch-forward"

    @Option(name: .long, help: "Stream the events are forwarded to.")
    var forwardStream = "SENDWATCH_FORWARDED"

    @Option(name: .long, help: "Subject prefix of the forwarded stream.")
    var forwardPrefix = "sendwatch.forwarded"

    @OptionGroup var leases: LeaseOptions<ForwardRole>

    @Option(
        name: .long,
        help: """
            Account registry file: one 'account,created_at' per line (RFC 3339 or epoch seconds). Each forwarded \
            event of a listed account carries its creation time, which the second stage takes as 'detect \
            --accounts' would give it, so the second stage needs no registry.
            """)
    var accounts: String?

    @Option(
        name: .long,
        help: "Serve Prometheus metrics on PORT, IPV4:PORT or [IPV6]:PORT: partitions held, lag, lease changes.")
    var metrics: String?

    @OptionGroup var logging: LogLevelOptions

    func validate() throws {
        if !(1...1024).contains(partitions) { throw ValidationError("--partitions must be 1 to 1024") }
        if !FleetDurations.isPlainName(consumer) {
            throw ValidationError("--consumer must be letters, digits, '_' or '-'")
        }
        if !FleetDurations.isPlainName(forwardStream) {
            throw ValidationError("--forward-stream must be letters, digits, '_' or '-'")
        }
        try LiveCommand.checkMetricsAddress(metrics)
    }

    func run() throws {
        let leaseSeconds = try leases.leaseSeconds()
        let window = try leases.duplicateWindowSeconds(interval: 1)
        let leaseBucket = leases.leaseBucket
        let logger = logging.makeLogger()
        let registry = try DetectionOptions.registry(accounts)
        let partitioning = try events.partitioning(partitions: partitions)
        let (nats, settings) = (server.nats, server.settings(command: "forward"))
        let eventsSpec = StreamSpec(name: events.stream, subjects: [partitioning.streamSubject])
        var forwardSpec = StreamSpec(name: forwardStream, subjects: [forwardPrefix + ".>"])
        forwardSpec.duplicateWindowSeconds = window
        let id = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let holder = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) \(id)"
        let members = WorkerMembers(
            store: NATSLeaseStore(url: nats, settings: settings, bucket: leaseBucket, key: consumer + ".members"),
            id: id, seconds: leaseSeconds)
        var options = ForwardOptions()
        options.partitions = partitions
        let (prefix, name) = (events.subjectPrefix, consumer)
        let run = ForwardRun(
            options: options, members: members,
            lease: { p in
                WorkerLease(
                    store: NATSLeaseStore(url: nats, settings: settings, bucket: leaseBucket, key: "\(name).p\(p)"),
                    holder: holder, seconds: leaseSeconds, logger: logger)
            },
            feed: { p in
                NATSStreamFeed(
                    url: nats, settings: settings, stream: eventsSpec, subject: "\(prefix).\(p)",
                    durable: "\(name)-\(p)", contiguous: false)
            },
            target: NATSForwardStream(url: nats, settings: settings, stream: forwardSpec, prefix: forwardPrefix),
            source: NATSStreamWatch(url: nats, settings: settings, stream: eventsSpec, prefix: prefix),
            accounts: registry, logger: logger)
        TailSignals.install()
        let metricsServer = try LiveCommand.startMetrics(metrics, codeKey: "forward.code", logger: logger) {
            address throws(TailError) in
            try MetricsServer(address: address, metrics: run.metrics)
        }
        defer { metricsServer?.shutdown() }
        let started =
            "forwarding \(events.stream) (\(partitions) partitions) to \(forwardStream) as \(holder) of \(consumer)"
            + (accounts.map { ", creation times of \(registry.count) accounts from \($0)" } ?? "")
            + (metricsServer.map { ", metrics on \($0.boundAddress)" } ?? "")
        logger.info("\(started)")
        try LiveCommand.run(codeKey: "forward.code", logger: logger, summary: "sendwatch forward: stopped") {
            () throws(TailError) in
            try run.run { TailSignals.stopRequested }
        }
    }
}
