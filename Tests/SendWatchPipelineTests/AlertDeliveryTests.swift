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
        d.checkpointWritten()
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
        // After a checkpoint the journal is empty: nothing more is skipped.
        d.checkpointWritten()
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
