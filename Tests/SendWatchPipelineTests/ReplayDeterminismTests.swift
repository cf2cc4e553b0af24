import Foundation
import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchPipeline
import SendWatchTesting
import Testing

/// `replay` promises byte-identical alerts for the same input and configuration. Besides the input, a run can
/// differ in the seed of Swift's hashing (random per process, and per table from its address, unless
/// `SWIFT_DETERMINISTIC_HASHING` is set: the iteration order of every `Dictionary` and `Set` changes with it),
/// in its threads (decoding, parsing and detection on three threads, or one: `--single-thread`), and in how its
/// bytes arrive (a compressed file decoded in full chunks on another thread, or a pipe whose reads return what
/// the writer has written so far). None of these may change a record or the summary.
///
/// Any output that followed the order of a hash table with two or more entries would differ between the fixed
/// seed and a random one in almost every run of this test; `scripts/replay-determinism` repeats the same
/// comparison hundreds of times (and with rotated files, under load).
@Suite struct ReplayDeterminismTests {
    /// Runs `sendwatch` with `arguments` through `env`, which first applies `environment` (`NAME=value` sets a
    /// variable, `-u NAME` removes it), at most 10 minutes.
    static func run(_ environment: [String], _ arguments: [String], stdin: Data? = nil) throws -> CommandLine.Result {
        let exe = try #require(CommandLine.executable, "the sendwatch executable is built beside the tests")
        let env = URL(fileURLWithPath: "/usr/bin/env")
        let run = try ProgramRun.run(env, environment + [exe.path] + arguments, stdin: stdin, timeout: .seconds(600))
        #expect(!run.timedOut)
        return CommandLine.Result(status: run.status, stdout: run.stdoutText, stderr: run.stderr)
    }

    @Test(
        "replay writes the same alerts and summary whatever the hash seed, the threads and how the bytes arrive",
        arguments: ["mixed-s11.postfix", "mixed-s12.exim", "mixed-s13.jsonl"])
    func independentOfSeedThreadsAndDelivery(_ name: String) throws {
        let path = TestPaths.dataset("\(name).log.zst")
        let fixedSeed = ["SWIFT_DETERMINISTIC_HASHING=1"]
        let randomSeed = ["-u", "SWIFT_DETERMINISTIC_HASHING"]
        // The reference: hashing seeded with 0, everything on one thread.
        let reference = try Self.run(fixedSeed, ["replay", "--year", "2026", "--single-thread", path])
        #expect(reference.status == 0)
        #expect(reference.stdout.split(separator: "\n").count > 100)
        let summary = try #require(reference.stderr.split(separator: "\n").first { $0.contains(" alert records ") })

        let text = Data(try InputTimeOrderTests.lines(of: "\(name).log.zst").map { $0 + "\n" }.joined().utf8)
        let variants: [(String, CommandLine.Result)] = [
            ("a random seed, three threads", try Self.run(randomSeed, ["replay", "--year", "2026", path])),
            (
                "a random seed, one thread",
                try Self.run(randomSeed, ["replay", "--year", "2026", "--single-thread", path])
            ),
            ("the fixed seed, three threads", try Self.run(fixedSeed, ["replay", "--year", "2026", path])),
            (
                "a random seed, the text through a pipe",
                try Self.run(randomSeed, ["replay", "--year", "2026", "-"], stdin: text)
            ),
        ]
        for (label, run) in variants {
            #expect(run.status == 0, "\(label)")
            // Compared as a whole; the message names the first differing record instead of printing megabytes.
            let same = run.stdout == reference.stdout
            let lines = run.stdout.split(separator: "\n")
            let expected = reference.stdout.split(separator: "\n")
            let shorter = min(lines.count, expected.count)
            let first = (0..<shorter).first { lines[$0] != expected[$0] } ?? shorter
            let difference = "\(lines.count) records against \(expected.count), the first differs at \(first + 1)"
            #expect(same, "\(name), \(label): alerts differ from the reference: \(difference)")
            #expect(run.stderr.contains(summary), "\(name), \(label): \(run.stderr)")
        }
    }

    @Test("Detection writes the same alerts whatever batches the events come in: one, each alone, random sizes")
    func independentOfBatches() throws {
        var configuration = Configuration()
        configuration.year = 2026
        var collected = CollectingSink()
        let paths = [TestPaths.dataset("mixed-s13.jsonl.log.zst")]
        _ = EventsRun(configuration: configuration).run(paths: paths, sink: &collected) { _ in }
        let events = collected.events
        #expect(events.count > 1000)

        /// The alert lines of `events` handed to a fresh engine in batches of the sizes `nextSize` gives.
        func alerts(_ nextSize: () -> Int) -> [UInt8] {
            var engine = DetectionEngine(configuration: configuration.detection)
            var out: [Alert] = []
            var start = 0
            while start < events.count {
                let end = min(events.count, start + max(1, nextSize()))
                var batch = EventBatch(events[start..<end])
                engine.process(&batch, into: &out)
                start = end
            }
            engine.finish(into: &out)
            var writer = JSONWriter()
            for alert in out { alert.writeJSONLine(to: &writer) }
            return writer.bytes
        }
        let whole = alerts { events.count }
        #expect(whole.count > 10_000)
        #expect(alerts { 1 } == whole, "one event per batch")
        var random = SplitMix64(seed: 11)
        #expect(alerts { Int(random.next() % 1500) + 1 } == whole, "batches of 1 to 1,500 events")
    }
}

/// Keeps every event it is handed, in order.
private struct CollectingSink: EventSink {
    var events: [SendEvent] = []

    mutating func accept(_ batch: inout EventBatch) { events.append(contentsOf: batch) }

    mutating func flush() {}
}
