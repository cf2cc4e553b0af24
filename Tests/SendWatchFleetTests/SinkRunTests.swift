import Foundation
import Logging
import SendWatchPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `SinkRun` with a scripted stream (no broker): exactly once into the file across a run that died after
/// writing but before its checkpoint.
@Suite
struct SinkRunTests {
    /// A stream of records held in memory.
    struct ScriptedFeed: StreamFeed {
        var records: [[UInt8]]
        var position: UInt64 = 0
        var acknowledgements = 0
        let streamName = "TEST"
        let redeliveries = 0

        mutating func resume(after sequence: UInt64) { position = sequence }

        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            var out: [FeedMessage] = []
            while out.count < maxMessages && position < UInt64(records.count) {
                position += 1
                out.append(
                    FeedMessage(
                        sequence: position, payload: records[Int(position) - 1],
                        pending: UInt64(records.count) - position))
            }
            return .messages(out)
        }

        mutating func acknowledgeFetched() -> Bool {
            acknowledgements += 1
            return true
        }
    }

    static func records(_ range: ClosedRange<Int>) -> [[UInt8]] { range.map { Array("{\"n\":\($0)}".utf8) } }

    @Test("A restart cuts off what a killed run wrote after its checkpoint, and writes each record once")
    func cutBackAfterACrash() throws {
        var template = Array((NSTemporaryDirectory() + "/sendwatch-sink-XXXXXX").utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/alerts.jsonl"
        var options = SinkOptions()
        options.stateDirectory = dir + "/state"
        options.once = true
        options.fetching.batch = 2
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        do {
            let run = try SinkRun(
                output: output, options: options, feed: ScriptedFeed(records: Self.records(1...3)), logger: logger)
            try run.run { false }
            #expect(run.feed.acknowledgements >= 1)
        }
        // A run killed after writing records 4 and a half of 5, before its checkpoint.
        let handle = try #require(FileHandle(forWritingAtPath: output))
        handle.seekToEndOfFile()
        handle.write(Data("{\"n\":4}\n{\"n\":".utf8))
        try handle.close()
        let run = try SinkRun(
            output: output, options: options, feed: ScriptedFeed(records: Self.records(1...5)), logger: logger)
        try run.run { false }
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == Self.records(1...5).map { String(decoding: $0, as: UTF8.self) })
        #expect(run.records == 5)
        #expect(run.lastSequence == 5)
    }
}
