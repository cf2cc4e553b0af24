import Foundation
import Logging
import SendWatchCore
import SendWatchIngest
import Testing

@testable import SendWatchPipeline

/// The parser state a checkpoint keeps per stream name stays bounded by the names followed: a name whose file
/// went while `tail` was stopped is not carried on.
@Suite("Tail pending stream state", .serialized)
struct TailPendingStreamTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("Parser state restored for a glob file that went while tail was stopped is not in later checkpoints")
    func vanishedStreamStateIsForgotten() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.log").path
        let b = dir.appendingPathComponent("b.log").path
        try TailRetireTests.shortLog.write(toFile: a, atomically: false, encoding: .utf8)
        try TailRetireTests.shortLog.write(toFile: b, atomically: false, encoding: .utf8)
        var o = TailOptions(patterns: [dir.path + "/*.log"])
        o.stateDirectory = dir.appendingPathComponent("state").path
        o.fromStart = true
        o.idleAdvanceSeconds = 1e9
        o.follow.usePolling = true
        var configuration = Configuration()
        configuration.year = 2026
        do {
            let run = try TailRun(configuration: configuration, options: o, outputPath: nil, logger: logger)
            try run.drain(now: 1000)
        }
        let first = try #require(try TailRun.loadCheckpoint(options: o))
        #expect(Set(first.state.streams.keys) == [a, b])
        // b.log goes while tail is stopped: the next run drops or retires its stream without a line from it.
        try FileManager.default.removeItem(atPath: b)
        do {
            let run = try TailRun(configuration: configuration, options: o, outputPath: nil, logger: logger)
            for step in 0..<3 { _ = try run.step(now: 2000 + Double(step)) }
            try run.drain(now: 2010)
        }
        let second = try #require(try TailRun.loadCheckpoint(options: o))
        // Before, b.log's restored parser state was written into this checkpoint and every later one.
        #expect(Set(second.state.streams.keys) == [a])
    }
}
