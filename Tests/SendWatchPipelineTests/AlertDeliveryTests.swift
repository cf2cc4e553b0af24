import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchPipeline
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Opens `path` for appending and wraps it in exactly-once delivery.
private func delivery(
    _ path: String, stateDirectory: String?, sync: ExactlyOnceSink.SyncPolicy
) throws -> ExactlyOnceSink {
    ExactlyOnceSink(wrapping: try OutputWriter.appending(path: path).get(), stateDirectory: stateDirectory, sync: sync)
}

/// Hands one record to `d` (the tests deliver with `flush()`).
private func add(_ d: ExactlyOnceSink, _ text: String) {
    // A sink that only buffers (an OutputWriter below its threshold) does not throw here.
    try? Array(text.utf8).withUnsafeBytes { try d.write($0) }
}

@Suite("Alert delivery")
struct AlertDeliveryTests {
    private func contents(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test("Lines written after the checkpoint are skipped once each when they come again; a half line is cut off")
    func resumeFromFile() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("alerts.jsonl").path
        var d = try delivery(out, stateDirectory: dir.path, sync: .checkpoint)
        add(d, "{\"a\":1}\n")
        try d.flush()
        try d.sync()
        let checkpointed = try #require(d.position)
        if let moved = d.rotateJournal(sequence: 1) { d.dropJournal(moved) }
        add(d, "{\"b\":2}\n")
        add(d, "{\"b\":2}\n")
        add(d, "{\"c\":3}\n")
        try d.flush()
        // A crash inside the next write left half a line.
        let handle = try #require(FileHandle(forWritingAtPath: out))
        handle.seekToEndOfFile()
        handle.write(Data("{\"d\":".utf8))
        try handle.close()

        d = try delivery(out, stateDirectory: dir.path, sync: .checkpoint)
        try d.resume(after: checkpointed)
        #expect(try contents(out) == "{\"a\":1}\n{\"b\":2}\n{\"b\":2}\n{\"c\":3}\n")
        // The run produces the same lines again after the checkpoint, then new ones.
        for line in ["{\"b\":2}\n", "{\"b\":2}\n", "{\"c\":3}\n", "{\"d\":4}\n", "{\"b\":2}\n"] { add(d, line) }
        try d.flush()
        #expect(try contents(out) == "{\"a\":1}\n{\"b\":2}\n{\"b\":2}\n{\"c\":3}\n{\"d\":4}\n{\"b\":2}\n")
        #expect(d.linesSkipped == 3)
        #expect(d.linesWritten == 2)
    }

    @Test("Without an output file the journal alone recognises what was written")
    func resumeFromJournal() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Standard output cannot be reread: write to a FIFO-less stand-in, a file we do not tell the delivery
        // about, by using the journal of a first delivery and resuming a second one on a fresh file.
        let first = dir.appendingPathComponent("first.jsonl").path
        var d = try delivery(first, stateDirectory: dir.path, sync: .never)
        add(d, "{\"x\":1}\n")
        try d.flush()
        let second = dir.appendingPathComponent("second.jsonl").path
        d = try delivery(second, stateDirectory: dir.path, sync: .never)
        try d.resume(after: nil)
        add(d, "{\"x\":1}\n")
        add(d, "{\"y\":2}\n")
        try d.flush()
        #expect(try contents(second) == "{\"y\":2}\n")
        // After a checkpoint is on disk its journal is dropped: nothing more is skipped.
        if let moved = d.rotateJournal(sequence: 1) { d.dropJournal(moved) }
        d = try delivery(second, stateDirectory: dir.path, sync: .never)
        try d.resume(after: nil)
        add(d, "{\"y\":2}\n")
        try d.flush()
        #expect(try contents(second) == "{\"y\":2}\n{\"y\":2}\n")
    }

    @Test("An output path that cannot be opened is an error naming it, with its code and errno")
    func unwritable() throws {
        let path = "/nonexistent-sendwatch/alerts.jsonl"
        guard case .failure(let error) = OutputWriter.appending(path: path) else {
            Issue.record("opened \(path)")
            return
        }
        #expect(error.code == .openFailed)
        #expect(error.underlyingErrno == ENOENT)
        #expect(error.path == path)
        #expect("\(error)".contains(path))
    }

    @Test("A full disk keeps the batch for the retry and reports it")
    func fullDisk() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let d = try delivery("/dev/full", stateDirectory: nil, sync: .batch)
        add(d, "{\"a\":1}\n")
        #expect(throws: OutputError.self) { try d.flush() }
        let error = try #require(throws: OutputError.self) { try d.flush() }
        #expect(error.code == .writeFailed)
        #expect(error.underlyingErrno == ENOSPC)
        #expect(!error.isBrokenPipe)
        #expect(d.linesWritten == 0)
    }
}

@Suite("Alert delivery journals")
struct AlertDeliveryJournalTests {
    @Test("A journal moved aside for a checkpoint that never reached the disk still counts at the next start")
    func movedJournal() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first.jsonl").path
        let d = try delivery(first, stateDirectory: dir.path, sync: .never)
        add(d, "{\"x\":1}\n")
        try d.flush()
        let moved = try #require(d.rotateJournal(sequence: 7))
        #expect(moved.hasSuffix("alerts.journal.7"))
        add(d, "{\"y\":2}\n")
        try d.flush()
        // Crash before checkpoint 7 is on disk: both journals are read.
        let second = dir.appendingPathComponent("second.jsonl").path
        let e = try delivery(second, stateDirectory: dir.path, sync: .never)
        try e.resume(after: nil)
        for line in ["{\"x\":1}\n", "{\"y\":2}\n", "{\"z\":3}\n"] { add(e, line) }
        try e.flush()
        #expect(try String(contentsOfFile: second, encoding: .utf8) == "{\"z\":3}\n")
    }
}

@Suite("Alert delivery after two crashes")
struct AlertDeliveryTwoCrashTests {
    @Test("Lines still to be skipped survive a checkpoint taken before they come again")
    func pendingSkipsSurviveCheckpoint() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("alerts.jsonl").path
        // Run 1 writes a and b after its last checkpoint (at output size 0), then crashes.
        let d1 = try delivery(out, stateDirectory: dir.path, sync: .never)
        add(d1, "{\"a\":1}\n")
        add(d1, "{\"b\":2}\n")
        try d1.flush()
        // Run 2 resumes from that checkpoint, produces a again, takes a checkpoint (journal rotated and dropped,
        // recorded output size = the whole file), and crashes before producing b again.
        let d2 = try delivery(out, stateDirectory: dir.path, sync: .never)
        try d2.resume(after: 0)
        add(d2, "{\"a\":1}\n")
        try d2.flush()
        let size = try #require(d2.position)
        if let moved = d2.rotateJournal(sequence: 1) { d2.dropJournal(moved) }
        d2.dropStaleJournals()
        // Run 3 resumes from run 2's checkpoint (whose state is before b): b comes again and must be skipped.
        let d3 = try delivery(out, stateDirectory: dir.path, sync: .never)
        try d3.resume(after: size)
        add(d3, "{\"b\":2}\n")
        add(d3, "{\"c\":3}\n")
        try d3.flush()
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
    }
}

/// A sink that keeps what it delivers in memory and cannot be read back, as a message-bus client would be; it
/// fails with `failing` as its errno while that is set.
final class MemoryAlertSink: AlertSink {
    let name = "memory"
    private(set) var delivered: [UInt8] = []
    private var held: [UInt8] = []
    var failing: Int32?

    func write(_ records: UnsafeRawBufferPointer) throws(OutputError) {
        held.append(contentsOf: records)
    }

    func flush() throws(OutputError) {
        if let failing {
            throw OutputError(code: .writeFailed, message: "cannot send", path: name, underlyingErrno: failing)
        }
        delivered.append(contentsOf: held)
        held.removeAll()
    }

    var text: String { String(decoding: delivered, as: UTF8.self) }
}

@Suite("Alert sinks and encoders")
struct AlertSinkTests {
    static let alert = Alert(
        id: "a-1", action: .create, kind: "young_account_burst", severity: .high, score: 0.75,
        eventTime: EventTime(seconds: 1_795_929_194), firstEventTime: EventTime(seconds: 1_795_929_000),
        accounts: ["acct-\"1"], accountsTotal: 1, template: AlertTemplate(id: "t1", text: "Pay <*>"),
        evidence: [("recipients", .int(40))], reasons: ["40 recipients in 10 minutes"])

    @Test("Exactly-once delivery works around a sink that cannot be read back: the journal alone skips repeats")
    func exactlyOnceAroundAnySink() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = MemoryAlertSink()
        let d = ExactlyOnceSink(wrapping: first, stateDirectory: dir.path, sync: .checkpoint)
        add(d, "{\"x\":1}\n{\"y\":2}\n")
        try d.flush()
        #expect(first.text == "{\"x\":1}\n{\"y\":2}\n")
        #expect(d.position == nil)
        // A crash, then a restart that produces the same records again, then a new one.
        let second = MemoryAlertSink()
        let e = ExactlyOnceSink(wrapping: second, stateDirectory: dir.path, sync: .checkpoint)
        try e.resume(after: 0)
        add(e, "{\"x\":1}\n{\"y\":2}\n{\"z\":3}\n")
        try e.flush()
        #expect(second.text == "{\"z\":3}\n")
        #expect(e.linesSkipped == 2)
        #expect(e.linesWritten == 1)
    }

    @Test("A failed delivery is journalled only once it succeeds, and the records are delivered in order")
    func retryKeepsOrder() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sink = MemoryAlertSink()
        let d = ExactlyOnceSink(wrapping: sink, stateDirectory: dir.path, sync: .never)
        sink.failing = EPIPE
        add(d, "{\"a\":1}\n")
        let error = try #require(throws: OutputError.self) { try d.flush() }
        #expect(error.isBrokenPipe)
        #expect(d.journalEntries == 0)
        sink.failing = nil
        add(d, "{\"b\":2}\n")
        try d.flush()
        #expect(sink.text == "{\"a\":1}\n{\"b\":2}\n")
        #expect(d.journalEntries == 2)
    }

    @Test("The writer encodes with the format's encoder: the same bytes as the alert's own line writers")
    func encoders() throws {
        for format in AlertFormat.allCases {
            let sink = MemoryAlertSink()
            var writer = AlertWriter(encoder: format.makeEncoder(productVersion: "9.9"), sink: sink)
            try writer.write([Self.alert, Self.alert])
            try writer.flush()
            var expected = JSONWriter()
            for _ in 0..<2 {
                switch format {
                case .sendwatch: Self.alert.writeJSONLine(to: &expected)
                case .ocsf: Self.alert.writeOCSFLine(to: &expected, productVersion: "9.9")
                }
            }
            #expect(sink.delivered == expected.bytes, "\(format)")
            #expect(sink.text.split(separator: "\n").count == 2)
        }
    }
}
