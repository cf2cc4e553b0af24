import Foundation
import SendWatchCore
import SendWatchIngest
import SendWatchPipeline
import SendWatchTesting
import Testing

/// Damaged fleet checkpoints (a counter out of range under a valid checksum: a bug, a hand edit) throw a clear
/// error when read, instead of loading negative counts.
@Suite
struct FleetCheckpointDamageTests {
    /// The 8 little-endian bytes the state coder writes for `value`.
    static func bytes(_ value: Int) -> [UInt8] { withUnsafeBytes(of: Int64(value).littleEndian, Array.init) }

    /// Rewrites the checkpoint at `path` (its checksum made anew) with the 8 bytes at `offset(body)` of its body
    /// set to -1.
    static func setMinusOne(at path: String, offset: ([UInt8]) throws -> Int) throws {
        let contents = try #require(try CheckpointFile.read(path: path))
        var body = contents.body
        let at = try offset(body)
        body.replaceSubrange(at..<at + 8, with: bytes(-1))
        try CheckpointFile.write(path: path, header: contents.header, body: body)
    }

    /// The one place `pattern` occurs in `body`.
    static func onlyOccurrence(of pattern: [UInt8], in body: [UInt8]) throws -> Int {
        let hits = (0...(body.count - pattern.count)).filter { body[$0..<$0 + pattern.count].elementsEqual(pattern) }
        try #require(hits.count == 1, "the pattern occurs \(hits.count) times")
        return hits[0]
    }

    @Test("A detect checkpoint with a negative event count is refused, naming the counter")
    func negativeDetectTotals() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var options = DetectOptions()
        options.stateDirectory = state
        options.once = true
        let messages = DetectIdleTests.messages((0..<20).map { DetectIdleTests.record(Int64($0), host: "mx1", $0) })
        let totals: DetectTotals
        do {
            let run = try DetectIdleTests.scriptedRun(messages, options)
            try run.run(shouldStop: { false })
            totals = run.totals
        }
        #expect(totals.events == 20 && totals.checkpoints == 1)
        // The totals' seven counters, in their order, are in the body once.
        let pattern = [
            totals.events, totals.undecodable, totals.alertRecords, totals.duplicateAlerts, totals.retries,
            totals.checkpoints, totals.restarts,
        ].flatMap(Self.bytes)
        try Self.setMinusOne(at: state + "/detect-checkpoint") { try Self.onlyOccurrence(of: pattern, in: $0) }
        do {
            _ = try DetectIdleTests.scriptedRun(messages, options)
            Issue.record("the damaged checkpoint was loaded")
        } catch let error as TailError {
            #expect(error.code == .checkpointIncompatible)
            #expect(error.message.contains("detect totals: events is negative or implausibly large (-1)"), "\(error)")
        }
    }

    @Test("A sink checkpoint with a negative record count is refused, naming it")
    func negativeSinkRecords() throws {
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var options = SinkOptions()
        options.stateDirectory = state
        options.once = true
        let messages = DetectIdleTests.messages((0..<3).map { Array("{\"n\":\($0)}".utf8) })
        do {
            let sink = try SinkRun(
                output: state + "/out.jsonl", options: options, feed: DetectIdleTests.OneFetchFeed(messages: messages),
                logger: WorkerLeaseTests.quiet)
            try sink.run(shouldStop: { false })
            #expect(sink.records == 3)
        }
        // The body ends with the record count.
        try Self.setMinusOne(at: state + "/sink-checkpoint") { body in
            try #require(Array(body.suffix(8)) == Self.bytes(3))
            return body.count - 8
        }
        do {
            _ = try SinkRun(
                output: state + "/out.jsonl", options: options, feed: DetectIdleTests.OneFetchFeed(messages: []),
                logger: WorkerLeaseTests.quiet)
            Issue.record("the damaged checkpoint was loaded")
        } catch {
            #expect(error.code == .checkpointIncompatible)
            #expect(error.message.contains("sink checkpoint: records is negative"), "\(error)")
        }
    }

    @Test("Ship and detect totals decode only counts: a negative or huge one throws")
    func totalsDecodeChecked() throws {
        var ship = ShipTotals()
        ship.lines = 10
        ship.published = 4
        #expect(try roundTrip(ship) == ship)
        #expect(throws: DecodingError.self) { try decodeDamaged(ship) { $0["published"] = -4 } }
        #expect(throws: DecodingError.self) { try decodeDamaged(ship) { $0["lines"] = Int64(1) << 60 } }
        var detect = DetectTotals()
        detect.events = 7
        #expect(try roundTrip(detect) == detect)
        for key in ["events", "undecodable", "alertRecords", "duplicateAlerts", "retries", "checkpoints", "restarts"] {
            #expect(throws: DecodingError.self) { try decodeDamaged(detect) { $0[key] = -1 } }
        }
    }
}
