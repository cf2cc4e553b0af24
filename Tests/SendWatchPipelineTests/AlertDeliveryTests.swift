import Foundation
import SendWatchPipeline
import Testing

@Suite("Alert delivery")
struct AlertDeliveryTests {
    private func add(_ d: AlertDelivery, _ text: String) {
        Array(text.utf8).withUnsafeBytes { d.add(line: $0) }
    }

    private func contents(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test("Lines written after the checkpoint are skipped once each when they come again; a half line is cut off")
    func resumeFromFile() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("alerts.jsonl").path
        var d = try AlertDelivery(path: out, stateDirectory: dir.path, sync: .checkpoint)
        add(d, "{\"a\":1}\n")
        try d.flush()
        try d.syncForCheckpoint()
        let checkpointed = d.position
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

        d = try AlertDelivery(path: out, stateDirectory: dir.path, sync: .checkpoint)
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
        var d = try AlertDelivery(path: first, stateDirectory: dir.path, sync: .never)
        add(d, "{\"x\":1}\n")
        try d.flush()
        let second = dir.appendingPathComponent("second.jsonl").path
        d = try AlertDelivery(path: second, stateDirectory: dir.path, sync: .never)
        try d.resume(after: nil)
        add(d, "{\"x\":1}\n")
        add(d, "{\"y\":2}\n")
        try d.flush()
        #expect(try contents(second) == "{\"y\":2}\n")
        // After a checkpoint is on disk its journal is dropped: nothing more is skipped.
        if let moved = d.rotateJournal(sequence: 1) { d.dropJournal(moved) }
        d = try AlertDelivery(path: second, stateDirectory: dir.path, sync: .never)
        try d.resume(after: nil)
        add(d, "{\"y\":2}\n")
        try d.flush()
        #expect(try contents(second) == "{\"y\":2}\n{\"y\":2}\n")
    }

    @Test("An output path that cannot be opened is an error naming it")
    func unwritable() throws {
        #expect(throws: AlertDelivery.Failure.self) {
            _ = try AlertDelivery(path: "/nonexistent-sendwatch/alerts.jsonl", stateDirectory: nil, sync: .checkpoint)
        }
    }

    @Test("A full disk keeps the batch for the retry and reports it")
    func fullDisk() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let d = try AlertDelivery(path: "/dev/full", stateDirectory: nil, sync: .batch)
        add(d, "{\"a\":1}\n")
        #expect(throws: AlertDelivery.Failure.self) { try d.flush() }
        #expect(throws: AlertDelivery.Failure.self) { try d.flush() }
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
        let d = try AlertDelivery(path: first, stateDirectory: dir.path, sync: .never)
        Array("{\"x\":1}\n".utf8).withUnsafeBytes { d.add(line: $0) }
        try d.flush()
        let moved = try #require(d.rotateJournal(sequence: 7))
        #expect(moved.hasSuffix("alerts.journal.7"))
        Array("{\"y\":2}\n".utf8).withUnsafeBytes { d.add(line: $0) }
        try d.flush()
        // Crash before checkpoint 7 is on disk: both journals are read.
        let second = dir.appendingPathComponent("second.jsonl").path
        let e = try AlertDelivery(path: second, stateDirectory: dir.path, sync: .never)
        try e.resume(after: nil)
        for line in ["{\"x\":1}\n", "{\"y\":2}\n", "{\"z\":3}\n"] { Array(line.utf8).withUnsafeBytes { e.add(line: $0) } }
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
        func add(_ d: AlertDelivery, _ line: String) { Array(line.utf8).withUnsafeBytes { d.add(line: $0) } }
        // Run 1 writes a and b after its last checkpoint (at output size 0), then crashes.
        let d1 = try AlertDelivery(path: out, stateDirectory: dir.path, sync: .never)
        add(d1, "{\"a\":1}\n")
        add(d1, "{\"b\":2}\n")
        try d1.flush()
        // Run 2 resumes from that checkpoint, produces a again, takes a checkpoint (journal rotated and dropped,
        // recorded output size = the whole file), and crashes before producing b again.
        let d2 = try AlertDelivery(path: out, stateDirectory: dir.path, sync: .never)
        try d2.resume(after: 0)
        add(d2, "{\"a\":1}\n")
        try d2.flush()
        let size = d2.position
        if let moved = d2.rotateJournal(sequence: 1) { d2.dropJournal(moved) }
        d2.dropStaleJournals()
        // Run 3 resumes from run 2's checkpoint (whose state is before b): b comes again and must be skipped.
        let d3 = try AlertDelivery(path: out, stateDirectory: dir.path, sync: .never)
        try d3.resume(after: size)
        add(d3, "{\"b\":2}\n")
        add(d3, "{\"c\":3}\n")
        try d3.flush()
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
    }
}
