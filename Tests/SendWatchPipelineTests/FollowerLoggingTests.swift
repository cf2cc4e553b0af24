import Foundation
import Logging
import SendWatchCore
import SendWatchIngest
import SendWatchTesting
import Testing

@testable import SendWatchPipeline

/// What the log follower reports reaches the logs of both commands that follow files: diagnostics at warning
/// level, decisions (files opened, switched at a rotation, rotated files queued) at debug level only.
@Suite("Follower reports in the logs", .serialized)
struct FollowerLoggingTests {
    @Test("ship logs the follower's diagnostics: a missing path is named, not followed in silence")
    func shipLogsMissingPath() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var o = ShipOptions(patterns: [dir.appendingPathComponent("missing.log").path], host: "mta1")
        o.stateDirectory = dir.appendingPathComponent("state").path
        o.once = true
        o.fromStart = true
        o.follow.usePolling = true
        let records = LogRecords()
        let run = try ShipRun(
            configuration: Configuration(), options: o, publisher: ShipRunTests.ScriptedPublisher(),
            logger: Logger(label: "test") { _ in records })
        try run.run { false }
        let line = try #require(records.lines.first { $0.contains("follow.code=path_missing") }, "\(records.lines)")
        #expect(line.contains("missing.log"), "\(line)")
    }

    /// A tail run over `mail.log` that is rotated once, logging through `records` at `level`.
    func rotatedTail(level: Logger.Level) throws -> [String] {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mail.log").path
        let lines = TailTestData.lines.prefix(400)
        let text = { (slice: ArraySlice<String>) in Data(slice.map { $0 + "\n" }.joined().utf8) }
        try text(lines.prefix(200)).write(to: URL(fileURLWithPath: log))
        let records = LogRecords()
        records.logLevel = level
        let run = try TailRun(
            configuration: TailTestData.configuration, options: TailRunTests().options(dir),
            outputPath: alertsPath(dir),
            logger: Logger(label: "test") { _ in records })
        try run.step(now: 1)
        #expect(rename(log, log + ".1") == 0)
        try text(lines.suffix(200)).write(to: URL(fileURLWithPath: log))
        try run.step(now: 2)
        try run.step(now: 3)
        return records.lines
    }

    @Test("tail logs the follower's decisions at debug level: the file opened, the switch at a rotation")
    func tailLogsDecisionsAtDebug() throws {
        let debug = try rotatedTail(level: .debug)
        #expect(debug.contains { $0.contains("follow.code=file_opened") }, "\(debug)")
        #expect(debug.contains { $0.contains("follow.code=file_switched") }, "\(debug)")
        let info = try rotatedTail(level: .info)
        #expect(!info.contains { $0.contains("follow.code=file_") }, "\(info)")
    }
}
