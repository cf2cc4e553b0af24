import Foundation
import SendWatchAlerts
import SendWatchDetect
import SendWatchPipeline
import SendWatchTesting

/// What `sendwatch replay PATHS --output FILE` does, in process: the logs at `paths` through ``EventsRun`` into a
/// ``DetectionSink`` that writes `out`, closing what the end of input closes. Returns the file's bytes and the
/// run's summary, for the tests that compare replay's alerts with goldens, labels or expectations; `finished`
/// reads the engine's counters after the run.
func replayToFile(
    _ paths: [String], configuration: Configuration, out: URL, finished: (DetectionCounters) -> Void = { _ in }
) throws -> (alerts: Data, summary: RunSummary) {
    pinTimeZoneToUTC()
    let writer = try OutputWriter.appending(path: out.path).get()
    var sink = DetectionSink(engine: DetectionEngine(configuration: configuration.detection), output: writer)
    let summary = EventsRun(configuration: configuration).run(paths: paths, sink: &sink) { _ in }
    sink.finish()
    finished(sink.engine.counters)
    return (try Data(contentsOf: out), summary)
}
