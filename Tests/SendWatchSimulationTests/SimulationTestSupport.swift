import Foundation
import SendWatchCore
import SendWatchPipeline
import SendWatchSimulation

/// A small but complete configuration: every incident kind present in `mixed`, shrunk so a run takes
/// well under a second in a debug build.
func smallConfiguration(
    _ scenario: String = "mixed", seed: UInt64 = 7, format: SimulationFormat = .postfix,
    start: EventTime? = nil, durationSeconds: Int64? = nil
) -> SimulationConfiguration {
    // Safe to force unwrap: the names come from `Scenario.names`.
    var s = Scenario.named(scenario)!
    s.incidents = s.incidents.map { plan in
        var p = plan
        p.accounts = min(p.accounts, 12)
        p.messagesPerAccount = min(p.messagesPerAccount, 6)
        return p
    }
    var c = SimulationConfiguration(
        scenario: s, seed: seed, durationSeconds: durationSeconds, scale: 0.05, format: format)
    if let start { c.start = start }
    return c
}

/// Runs a simulation to the end and returns its output and labels.
func simulate(_ configuration: SimulationConfiguration) throws -> (
    bytes: [UInt8], labels: SimulationLabels, summary: SimulationSummary
) {
    var simulator = try Simulator(configuration: configuration)
    var sink = ByteSink()
    let summary = simulator.run(into: &sink)
    return (sink.bytes, simulator.labels(), summary)
}

struct ByteSink: SimulationSink {
    var bytes: [UInt8] = []
    mutating func write(line: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: line)
        bytes.append(0x0A)
    }
}

/// Counts lines and keeps nothing.
struct CountingSink: SimulationSink {
    var lines = 0
    mutating func write(line: UnsafeRawBufferPointer) { lines += 1 }
}

/// Writes `bytes` to a temporary file and reads it back with `sendwatch events`' pipeline (format detected).
func readEvents(_ bytes: [UInt8], year: Int = 2026, name: String) throws -> (RunSummary, [SendEvent]) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sendwatch-sim-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    var configuration = Configuration()
    configuration.year = year
    let run = EventsRun(configuration: configuration, fallbackYearHint: .year(year))
    var sink = CollectingEventSink()
    let summary = run.run(paths: [path], sink: &sink) { _ in }
    return (summary, sink.events)
}
