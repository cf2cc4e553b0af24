import Foundation
import Logging
import SendWatchCore
import SendWatchDetect
import SendWatchIngest
import Testing

@testable import SendWatchFormats
@testable import SendWatchPipeline

/// A stream's parsing state laid out as format 10 laid it out. `Codable` only so that a dictionary of them is
/// written as `StateCoding` writes dictionaries of `Codable` values (a count, then key and value pairs); the
/// test never reads one back.
private struct PositionalStream: Codable {
    var stream: ParsingCheckpoint

    init(stream: ParsingCheckpoint) { self.stream = stream }

    init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "written only"))
    }

    enum CodingKeys: String, CodingKey { case format, held, detector, lines, unknownFormatLines, parsers }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(stream.format, forKey: .format)
        try c.encode(stream.held, forKey: .held)
        try c.encode(stream.detector, forKey: .detector)
        try c.encode(stream.lines, forKey: .lines)
        try c.encode(stream.unknownFormatLines, forKey: .unknownFormatLines)
        let saved = stream.parsers.saved
        try c.encode(
            VersionOnePositionalParsers(postfix: saved.head, exim: saved.tail.head, jsonl: saved.tail.tail.head),
            forKey: .parsers)
    }
}

/// A tail state laid out as format 10 laid it out: the same fields, the parsers by position.
private struct FormatTenState: Encodable {
    var state: TailState

    enum CodingKeys: String, CodingKey { case follower, streams, engine, totals, idleAdvancedTo, configuration }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state.follower, forKey: .follower)
        try c.encode(state.streams.mapValues(PositionalStream.init), forKey: .streams)
        try c.encode(state.engine, forKey: .engine)
        try c.encode(state.totals, forKey: .totals)
        try c.encodeIfPresent(state.idleAdvancedTo, forKey: .idleAdvancedTo)
        try c.encode(state.configuration, forKey: .configuration)
    }
}

@Suite("Tail state migration", .serialized)
struct TailStateMigrationTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test(
        "A checkpoint of state format 10 or 11 is migrated: the run resumes and writes replay's alerts",
        arguments: [10, 11])
    func olderFormatResumes(format: Int) throws {
        let all = TailTestData.lines
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try TailTestData.replayLines(all, in: dir)
        let log = dir.appendingPathComponent("mail.log").path
        let helper = TailRunTests()
        var options = helper.options(dir)
        options.checkpointIntervalSeconds = 1e9
        let clock = TestClock()
        let half = all.count / 2
        try helper.append(all[0..<half], to: log)
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options, outputPath: alertsPath(dir),
                logger: logger)
            try helper.catchUp(run, clock)
            try run.checkpoint()
        }

        // Rewrite the checkpoint as `format` wrote it: the same sections, the body's detection state laid out as
        // before format 12 (an account's held first recipient counted in full), for 10 the parsers by position.
        let saved = try #require(try TailRun.loadCheckpoint(options: options))
        #expect(saved.format == TailState.format)
        #expect(saved.state.streams.values.contains { $0.parsers != SavedParsers(RegisteredFormats.noParsers) })
        var body: [UInt8] = []
        var sections = StateSections()
        let old = DetectionStateLayout.withoutOpenings.userInfo
        if format == 10 {
            try StateCoding.encode(FormatTenState(state: saved.state), into: &body, sections: &sections, userInfo: old)
        } else {
            try StateCoding.encode(saved.state, into: &body, sections: &sections, userInfo: old)
        }
        #expect(sections == saved.sections, "the sections on disk still fit the rewritten body")
        let path = dir.appendingPathComponent("state/checkpoint").path
        let header = String(decoding: try #require(try CheckpointFile.read(path: path)).header, as: UTF8.self)
        let current = "\"state_format\":\(TailState.format),"
        #expect(header.contains(current))
        let bodyFields = try #require(header.range(of: ",\"body_bytes\":"))
        let older =
            String(header[..<bodyFields.lowerBound]).replacingOccurrences(
                of: current, with: "\"state_format\":\(format),") + "}"
        try CheckpointFile.write(path: path, header: Array(older.utf8), body: body)
        #expect(try TailRun.loadCheckpoint(options: options)?.format == format)

        let run = try TailRun(
            configuration: TailTestData.configuration, options: options, outputPath: alertsPath(dir), logger: logger)
        try helper.append(all[half...], to: log)
        try helper.catchUp(run, clock)
        try run.drain(now: clock.seconds)
        let written = try String(contentsOfFile: alertsPath(dir), encoding: .utf8).split(separator: "\n").map(
            String.init)
        #expect(written == reference)
        // The next checkpoint is written in the current format.
        try run.checkpoint()
        #expect(try TailRun.loadCheckpoint(options: options)?.format == TailState.format)
    }
}
