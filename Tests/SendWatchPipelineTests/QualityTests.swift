import Foundation
import SendWatchAlerts
import SendWatchDetect
import SendWatchEval
import SendWatchPipeline
import Testing

/// The quality gate CI runs: each bundled labelled dataset, replayed with the default settings, must meet the
/// figures the README promises. A regression fails the build, naming each unmet requirement.
@Suite struct QualityTests {
    static let requirements =
        "recall>=0.95,precision>=0.95,incidents=all,latency:tenant-swarm<=600,lookalikes=0,unlabelled=0"

    @Test(
        "Bundled dataset meets recall, precision, incidents, swarm latency and look-alike figures",
        arguments: [
            "mixed-s11.postfix", "mixed-s12.exim", "mixed-s13.jsonl",
        ])
    func dataset(_ name: String) throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("alerts.jsonl")
        let writer = try OutputWriter.appending(path: out.path).get()
        let configuration = Configuration()
        var sink = DetectionSink(engine: DetectionEngine(configuration: configuration.detection), output: writer)
        let summary = EventsRun(configuration: configuration).run(
            paths: [TestPaths.dataset("\(name).log.zst")], sink: &sink
        ) { _ in }
        sink.finish()
        #expect(summary.failures.isEmpty)

        let stem = String(name.prefix { $0 != "." })
        let labels = try Labels.parse(
            try Data(contentsOf: URL(fileURLWithPath: TestPaths.dataset("\(stem).labels.json"))))
        var evaluation = Evaluation(labels: labels)
        try evaluation.consume(Array(try Data(contentsOf: out)))
        let report = try evaluation.finish()
        let unmet = report.unmet(try Requirement.parseList(Self.requirements))
        #expect(unmet.isEmpty, "\(name): \(unmet.joined(separator: "; "))")
    }
}
