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

    /// A new temporary directory (the caller removes it).
    static func directory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/sendwatch-sink-XXXXXX").utf8CString)
        return String(cString: try #require(mkdtemp(&template)))
    }

    /// `--once` with its state in `dir/state`.
    static func options(_ dir: String) -> SinkOptions {
        var options = SinkOptions()
        options.stateDirectory = dir + "/state"
        options.once = true
        return options
    }

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Appends `text` to `output`, as a run killed before its next checkpoint left it.
    static func appendAsAKilledRun(_ text: String, to output: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: output))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    /// The lines of `output`, and the lines `records` should make.
    static func lines(_ output: String) throws -> [String] {
        try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    }
    static func lines(_ records: ClosedRange<Int>) -> [String] {
        Self.records(records).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A sink started into `output` that wrote `written` and was killed before any checkpoint of its own, and
    /// the restart after it, run to the end of a stream of `records`.
    static func restartAfterAKilledStart(output: String, dir: String, records: ClosedRange<Int>, written: String)
        throws -> SinkRun<ScriptedFeed>
    {
        do {
            _ = try SinkRun(
                output: output, options: options(dir), feed: ScriptedFeed(records: Self.records(records)),
                logger: logger)
            try appendAsAKilledRun(written, to: output)
        }
        let run = try SinkRun(
            output: output, options: options(dir), feed: ScriptedFeed(records: Self.records(records)), logger: logger)
        try run.run { false }
        return run
    }

    @Test("A restart cuts off what a killed run wrote after its checkpoint, and writes each record once")
    func cutBackAfterACrash() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/alerts.jsonl"
        var options = Self.options(dir)
        options.fetching.batch = 2
        do {
            let run = try SinkRun(
                output: output, options: options, feed: ScriptedFeed(records: Self.records(1...3)), logger: Self.logger)
            try run.run { false }
            #expect(run.feed.acknowledgements >= 1)
        }
        // A run killed after writing records 4 and a half of 5, before its checkpoint.
        try Self.appendAsAKilledRun("{\"n\":4}\n{\"n\":", to: output)
        let run = try SinkRun(
            output: output, options: options, feed: ScriptedFeed(records: Self.records(1...5)), logger: Self.logger)
        try run.run { false }
        #expect(try Self.lines(output) == Self.lines(1...5))
        #expect(run.records == 5)
        #expect(run.lastSequence == 5)
    }

    @Test("A run killed before its first checkpoint: the restart cuts off what it wrote, keeps what was there before")
    func cutBackAfterACrashBeforeTheFirstCheckpoint() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/alerts.jsonl"
        try "written before the sink\n".write(toFile: output, atomically: true, encoding: .utf8)
        // The first run starts, writes records 1, 2 and half of 3 and is killed before any checkpoint.
        let run = try Self.restartAfterAKilledStart(
            output: output, dir: dir, records: 1...3, written: "{\"n\":1}\n{\"n\":2}\n{\"n\":")
        #expect(try Self.lines(output) == ["written before the sink"] + Self.lines(1...3))
        #expect(run.records == 3)
    }

    @Test("Runs to standard output, then into a file killed before its first checkpoint: the restart cuts it back")
    func cutBackAfterSwitchingFromStandardOutput() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/alerts.jsonl"
        // Records 1 and 2 go to standard output; the checkpoint has no file size.
        try SinkRun(
            output: nil, options: Self.options(dir), feed: ScriptedFeed(records: Self.records(1...2)),
            logger: Self.logger
        ).run { false }
        // The same state into a file: the run writes record 3 and half of 4 and is killed before a checkpoint.
        let run = try Self.restartAfterAKilledStart(
            output: output, dir: dir, records: 1...4, written: "{\"n\":3}\n{\"n\":")
        #expect(try Self.lines(output) == Self.lines(3...4))
        #expect(run.records == 4)
    }

    /// A file longer than `bytes` that cannot be made shorter (a memory file sealed against shrinking), open as
    /// the returned descriptor; nil where `memfd_create` is missing.
    static func unshrinkableFile(longerThan bytes: Int) -> Int32? {
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(nil, "memfd_create") else { return nil }
        let fd = unsafeBitCast(symbol, to: MemfdCreate.self)("sendwatch-sink-test", 2)  // MFD_ALLOW_SEALING
        guard fd >= 0 else { return nil }
        let text = Array(repeating: UInt8(ascii: "x"), count: bytes + 20)
        let (fAddSeals, fSealShrink): (Int32, Int32) = (1033, 2)
        guard text.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == text.count,
            fcntl(fd, fAddSeals, fSealShrink) == 0
        else {
            close(fd)
            return nil
        }
        return fd
    }

    @Test("An output that cannot be cut back to the checkpoint's size is refused with a clear error")
    func outputThatCannotBeCutBack() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/alerts.jsonl"
        try SinkRun(
            output: output, options: Self.options(dir), feed: ScriptedFeed(records: Self.records(1...3)),
            logger: Self.logger
        ).run { false }
        let kept = try #require(FileManager.default.attributesOfItem(atPath: output)[.size] as? Int)
        guard let fd = Self.unshrinkableFile(longerThan: kept) else { return print("skipped: no sealed memfd here") }
        defer { close(fd) }
        // The same state into a file longer than its checkpoint says, which ftruncate refuses to shorten.
        do {
            _ = try SinkRun(
                output: "/proc/self/fd/\(fd)", options: Self.options(dir),
                feed: ScriptedFeed(records: Self.records(1...3)), logger: Self.logger)
            Issue.record("the output was used although it could not be cut back")
        } catch {
            #expect(error.code == .outputUnusable)
            #expect(error.message.contains("back to \(kept) bytes"), "\(error)")
        }
        var st = stat()
        #expect(fstat(fd, &st) == 0 && Int(st.st_size) == kept + 20, "the file is left as it was")
    }
}
