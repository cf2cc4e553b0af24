import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchIngest
import SendWatchPipeline
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Records what a sink is handed: every event in order, where each flush fell, the largest batch, and whether
/// every call came from one thread.
private struct RecordingSink: EventSink {
    var events: [SendEvent] = []
    /// The number of events received before each flush.
    var flushes: [Int] = []
    var largestBatch = 0
    var threads: Set<UInt> = []

    mutating func accept(_ batch: inout EventBatch) {
        threads.insert(Self.currentThread)
        largestBatch = max(largestBatch, batch.count)
        events.append(contentsOf: batch)
    }

    mutating func flush() {
        threads.insert(Self.currentThread)
        flushes.append(events.count)
    }

    static var currentThread: UInt { UInt(bitPattern: Unmanaged.passUnretained(Thread.current).toOpaque()) }
}

@Suite("Threaded sink")
struct ThreadedSinkTests {
    static let inputs: [[String]] = [
        ["real-postfix-3.7.postfix.log.zst"], ["mixed-s11.postfix.log.zst"], ["mixed-s12.exim.log.zst"],
        ["mixed-s13.jsonl.log.zst"], ["notify-sample.jsonl.log.zst", "mixed-s11.postfix.log.zst"],
    ]

    @Test("The inner sink gets the same events and flushes, in batches, on a thread of its own", arguments: inputs)
    func sameEvents(_ names: [String]) {
        let paths = names.map { TestPaths.dataset($0) }
        let run = EventsRun(configuration: withYear(2026), fallbackYearHint: .year(2026))
        var direct = RecordingSink()
        let directSummary = run.run(paths: paths, sink: &direct) { _ in }
        var threaded = ThreadedSink(RecordingSink())
        let threadedSummary = run.run(paths: paths, sink: &threaded) { _ in }
        let inner = threaded.finish()

        #expect(direct.events.count > 100)
        #expect(inner.events == direct.events)
        #expect(inner.flushes == direct.flushes)
        #expect(threadedSummary.text == directSummary.text)
        #expect(direct.largestBatch <= 8)
        // A batch is handed over once it holds the preferred count, so it can pass it by one line's events.
        #expect(inner.largestBatch > 8)
        #expect(inner.largestBatch < ThreadedSink<RecordingSink>.preferredBatchCount + direct.largestBatch)
        #expect(inner.threads.count == 1)
        #expect(!inner.threads.contains(RecordingSink.currentThread))
    }

    @Test(
        "Replay with detection on its own thread writes the same alerts and counts",
        arguments: [
            "mixed-s11.postfix", "mixed-s12.exim", "mixed-s13.jsonl",
        ])
    func sameAlerts(_ name: String) throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let configuration = Configuration()
        let paths = [TestPaths.dataset("\(name).log.zst")]

        let directFile = dir.appendingPathComponent("direct.jsonl")
        var direct = DetectionSink(
            engine: DetectionEngine(configuration: configuration.detection),
            output: try OutputWriter.appending(path: directFile.path).get())
        _ = EventsRun(configuration: configuration).run(paths: paths, sink: &direct) { _ in }
        direct.finish()

        let threadedFile = dir.appendingPathComponent("threaded.jsonl")
        var threaded = ThreadedSink(
            DetectionSink(
                engine: DetectionEngine(configuration: configuration.detection),
                output: try OutputWriter.appending(path: threadedFile.path).get()))
        _ = EventsRun(configuration: configuration).run(paths: paths, sink: &threaded) { _ in }
        var inner = threaded.finish()
        inner.finish()

        let expected = try Data(contentsOf: directFile)
        #expect(expected.count > 1000)
        #expect(try Data(contentsOf: threadedFile) == expected)
        #expect(inner.engine.counters == direct.engine.counters)
        #expect(inner.alertsByKind == direct.alertsByKind)
    }

    @Test(
        "A slow inner sink, a slow caller, and flushes between them: every event and flush in order",
        arguments: [InnerPace.slow, .fast])
    fileprivate func paces(_ pace: InnerPace) {
        var threaded = ThreadedSink(PacedSink(pace: pace))
        var expectedFlushes: [Int] = []
        var sent = 0
        var next = 0
        for round in 0..<300 {
            var batch: EventBatch = []
            for _ in 0..<(round % 7 == 0 ? 1 : 40) {
                batch.append(
                    SendEvent(
                        time: EventTime(seconds: 1_800_000_000 + Int64(next)), account: "a\(next % 13)",
                        accountSource: .authenticated, sender: "", recipient: "r\(next)@example.org", status: .sent))
                next += 1
            }
            sent += batch.count
            threaded.accept(&batch)
            if round % 11 == 0 {
                threaded.flush()
                expectedFlushes.append(sent)
            }
            // The caller is the slow side now and then: the inner sink waits with less than half a queue.
            if pace == .fast && round % 5 == 0 { usleep(300) }
        }
        let inner = threaded.finish()
        #expect(inner.recording.events.count == sent)
        #expect(inner.recording.events.map(\.recipient) == (0..<sent).map { "r\($0)@example.org" })
        #expect(inner.recording.flushes == expectedFlushes)
    }

    @Test("finish() with nothing handed over returns the inner sink untouched")
    func empty() {
        var threaded = ThreadedSink(RecordingSink())
        threaded.flush()
        let inner = threaded.finish()
        #expect(inner.events.isEmpty)
        #expect(inner.flushes == [0])
    }
}

private enum InnerPace: Sendable { case slow, fast }

/// A recording sink that takes its time over each batch when `pace` is slow, so the caller fills the queue.
private struct PacedSink: EventSink {
    var pace: InnerPace
    var recording = RecordingSink()

    mutating func accept(_ batch: inout EventBatch) {
        if pace == .slow { usleep(200) }
        recording.accept(&batch)
    }

    mutating func flush() { recording.flush() }
}
