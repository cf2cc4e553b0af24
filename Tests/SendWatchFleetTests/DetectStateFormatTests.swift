import Foundation
import SendWatchCore
import SendWatchDetect
import SendWatchIngest
import SendWatchTesting
import Testing

@testable import SendWatchPipeline

/// Detect checkpoints of the older state formats still read are restored, from a state directory and from the
/// state store, and the next is written in the current format: 6 (the detection state before its accounts held
/// their first recipient) and 5 (that, and written before the feed's resume point: read as one without). Formats
/// either side are refused.
@Suite(.serialized)
struct DetectStateFormatTests {
    /// A checkpoint file of the current format (21 events taken in, 20 held) made into what `format` wrote: below
    /// 7 the detection state laid out as before (``DetectionStateLayout/withoutOpenings``), for 5 the body without
    /// the resume point's presence byte at its end; the header naming `format`.
    static func stampedCheckpoint(format: Int, directory: String) throws -> [UInt8] {
        _ = try DetectRefillTests.checkpointSize(held: 20, state: directory)
        let path = directory + "/detect-checkpoint"
        var contents = try #require(try CheckpointFile.read(path: path))
        #expect(CheckpointFile.integerField("state_format", in: contents.header) == UInt64(DetectState.format))
        if format < DetectState.format {
            let state = try StateCoding.decode(DetectState.self, from: contents.body)
            #expect(state.resumePoint == nil)
            contents.body = try StateCoding.encode(state, userInfo: DetectionStateLayout.withoutOpenings.userInfo)
        }
        if format == 5 {
            #expect(contents.body.last == 0, "no resume point: its presence byte (absent) ends the body")
            contents.body.removeLast()
        }
        let header = String(decoding: contents.header, as: UTF8.self)
            .replacingOccurrences(of: "\"state_format\":\(DetectState.format)", with: "\"state_format\":\(format)")
        try CheckpointFile.write(path: path, header: Array(header.utf8), body: contents.body)
        return contents.body
    }

    @Test(
        "A format-5 or 6 checkpoint file is restored; the next one is written in the current format", arguments: [5, 6])
    func olderFormatFileIsRead(format: Int) throws {
        let directory = DetectRefillTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try Self.stampedCheckpoint(format: format, directory: directory)
        let messages = DetectRefillTests.stream(held: 20, mx2Again: true)
        let run = try DetectRefillTests.worker(messages, batch: 512, state: directory, once: true)
        #expect(run.restoredFromCheckpoint)
        #expect(run.totals.events == 21)
        try run.run(shouldStop: { false })
        #expect(run.totals.events == 22, "the checkpoint's 21 events and the new one, none read twice")
        let written = try #require(try CheckpointFile.read(path: directory + "/detect-checkpoint"))
        #expect(CheckpointFile.integerField("state_format", in: written.header) == UInt64(DetectState.format))
    }

    @Test("A checkpoint file of format 4 or 8 is refused with the formats this SendWatch reads", arguments: [4, 8])
    func otherFormatFileIsRefused(format: Int) throws {
        let directory = DetectRefillTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try Self.stampedCheckpoint(format: format, directory: directory)
        let error = #expect(throws: TailError.self) {
            _ = try DetectRefillTests.worker(DetectRefillTests.stream(held: 20), batch: 512, state: directory)
        }
        #expect(error?.code == .checkpointIncompatible)
        #expect(error?.message.contains("has state format \(format); this SendWatch reads format 7 or 6 or 5") == true)
    }

    @Test("The state store reads a format-5 checkpoint without a resume point and refuses format 4")
    func formatFiveInTheStateStore() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        let directory = DetectRefillTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let body = try Self.stampedCheckpoint(format: 5, directory: directory)
        let stream = "STATE_FORMAT5"
        let writer = StateStoreTests.store(server.url, stream: stream, holder: "a")
        _ = try writer.claim()
        #expect(try writer.commit(body: body, format: 5, lastSequence: 21, alertRecords: 0) == .committed)
        let messages = DetectRefillTests.stream(held: 20, mx2Again: true)
        let run = try DetectRefillTests.worker(
            messages, batch: 512, state: nil, once: true,
            stateStore: StateStoreTests.store(server.url, stream: stream, holder: "b"))
        #expect(run.restoredFromCheckpoint)
        #expect(run.totals.events == 21)
        try run.run(shouldStop: { false })
        #expect(run.totals.events == 22, "the checkpoint's 21 events and the new one, none read twice")
        let after = StateStoreTests.store(server.url, stream: stream, holder: "c")
        let stored = try #require(try StateStoreTests.claimed(after))
        #expect(stored.format == DetectState.format, "the next checkpoint is written in the current format")
        // A manifest of format 4: refused, naming the formats read.
        #expect(try after.commit(body: body, format: 4, lastSequence: 21, alertRecords: 0) == .committed)
        let error = #expect(throws: TailError.self) {
            _ = try StateStoreTests.store(server.url, stream: stream, holder: "d").claim()
        }
        #expect(error?.code == .checkpointIncompatible)
        #expect(error?.message.contains("has state format 4; this SendWatch reads format 7 or 6 or 5") == true)
    }
}
