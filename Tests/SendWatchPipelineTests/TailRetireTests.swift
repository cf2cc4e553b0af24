import Foundation
import Glibc
import Logging
import SendWatchCore
import SendWatchDetect
import SendWatchIngest
import SendWatchPipeline
import Testing

/// A glob match that is deleted after it was read (the follower retires its stream): what its parsers still held
/// goes on, as at the end of a file in `replay`, and its counters stay counted.
@Suite("Tail retire", .serialized)
struct TailRetireTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// The first five lines of the JSON-lines fixture: fewer than format detection wants, so the stream's format
    /// is still undecided (its lines held) until the logs are quiet or the input ends.
    static let shortLog: String = {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../SendWatchFormatsTests/Fixtures/jsonl/notifications.jsonl").standardized
        let lines = (try? String(contentsOf: fixture, encoding: .utf8))?.split(separator: "\n") ?? []
        return lines.prefix(5).joined(separator: "\n") + "\n"
    }()

    /// Follows `DIR/*.log` holding the short log: one step reads it, then (with `delete`) the file goes, then
    /// quiet steps and a clean stop. The events the engine took.
    func eventsTaken(deleting delete: Bool) throws -> Int {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("notify.log").path
        try Self.shortLog.write(toFile: log, atomically: false, encoding: .utf8)
        var o = TailOptions(patterns: [dir.path + "/*.log"])
        o.fromStart = true
        o.idleAdvanceSeconds = 1e9
        o.follow.usePolling = true
        // A deleted file is closed once it has been quiet this long, and its glob stream retired once its name has
        // had no file this long after: 0, so that one poll closes the file and retires the stream.
        o.follow.partialLineFlushMilliseconds = 0
        var configuration = Configuration()
        configuration.year = 2026
        let run = try TailRun(configuration: configuration, options: o, outputPath: nil, logger: logger)
        var now = 1000.0
        let first = try run.step(now: now)
        #expect(first.lines == 5)
        if delete { try FileManager.default.removeItem(atPath: log) }
        // The next step's poll closes the deleted file and retires the stream, before the step settles undecided
        // formats (which a quiet step does).
        for _ in 0..<20 {
            now += 0.3
            _ = try run.step(now: now)
        }
        try run.drain(now: now)
        #expect(run.metrics.snapshot.files.isEmpty == delete, "the deleted file's stream is retired")
        return run.metrics.snapshot.detection.events
    }

    @Test("A stream retired while its format was undecided hands its held lines to the engine, as a kept one does")
    func retiredUndecidedStreamIsNotLost() throws {
        let kept = try eventsTaken(deleting: false)
        #expect(kept >= 5, "the short log's events reach the engine once the logs are quiet")
        #expect(try eventsTaken(deleting: true) == kept)
    }
}
