import Benchmark
import SendWatchCore

/// The events of an adversarial swarm on one over-general template: 6,000 new accounts, one every 4 seconds,
/// each sending two messages with the template to two recipient domains. Within the hour window the template
/// holds about 900 young accounts, under `detect.max_alert_accounts` (1,000: its distinct count stays exact and
/// lists them all), so from the tenth account on `template_swarm`'s alert is open and every account that
/// joins rebuilds its finding: the young-account path at its most expensive (docs/performance.md, "Adversarial
/// cardinality").
func busyTemplateEvents() -> [SendEvent] {
    let start: Int64 = 1_800_000_000
    var events: [SendEvent] = []
    events.reserveCapacity(12_000)
    for account in 0..<6_000 {
        for message in 0..<2 {
            let n = account * 2 + message
            events.append(
                SendEvent(
                    time: EventTime(seconds: start + Int64(n) * 2),
                    account: "user\(account)@tenant\(account % 97).example",
                    accountSource: .header, sender: "no-reply@platform.example",
                    recipient: "r\(n)@dest\(n % 500).example",
                    subject: "Account \(account) mentioned you in channel \(n % 1000)",
                    messageID: "m\(n)@platform.example",
                    status: .sent))
        }
    }
    return events
}

/// Registers the young-event benchmarks (called from `benchmarks` in Detection.swift).
func registerYoungEventBenchmarks() {
    let busy = busyTemplateEvents()

    // Every account young from its first event, all on one template whose swarm alert stays open: the cost of a
    // young-account event when each one changes an open alert's account count.
    Benchmark("Detection:young-events-busy-template", configuration: tightAllocationConfiguration) { benchmark in
        measureEngine(busy, configuration: youngConfiguration, benchmark)
    }

    // The same events with an update allowed every minute of event time instead of every 10 minutes: a record of
    // up to about 900 accounts each minute while the alert grows, so that building each record's `submitters` and
    // `deliveries` evidence from the listed accounts' samples (DistinctASCIIValues) weighs more, besides the list
    // of accounts kept between findings (ListedAccounts: a key index kept up to date with each join).
    Benchmark("Detection:young-events-busy-template-frequent-records", configuration: tightAllocationConfiguration) {
        benchmark in
        var configuration = youngConfiguration
        configuration.lifecycle.minUpdateIntervalSeconds = 60
        measureEngine(busy, configuration: configuration, benchmark)
    }
}
