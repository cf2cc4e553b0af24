import Foundation
import Logging
import SendWatchCore
import SendWatchDetect
import SendWatchIngest
import Testing

@testable import SendWatchPipeline

@Suite("Tail checkpoint sections", .serialized)
struct TailCheckpointSectionsTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func options(_ dir: URL) -> TailOptions {
        var o = TailOptions(patterns: [dir.appendingPathComponent("mail.log").path])
        o.stateDirectory = dir.appendingPathComponent("state").path
        o.fromStart = true
        o.checkpointIntervalSeconds = 1e6
        o.idleAdvanceSeconds = 1e9
        o.follow.usePolling = true
        return o
    }

    func write(_ lines: ArraySlice<String>, to dir: URL) throws {
        let path = dir.appendingPathComponent("mail.log").path
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data(lines.joined().utf8))
        try h.close()
    }

    func catchUp(_ run: TailRun, _ clock: TestClock) throws {
        for _ in 0..<10_000 {
            clock.seconds += 0.3
            let s = try run.step(now: clock.seconds)
            if s.lines == 0 && !s.more { return }
        }
    }

    func header(_ dir: URL) throws -> [UInt8] {
        try #require(try CheckpointFile.read(path: dir.appendingPathComponent("state/checkpoint").path)).header
    }

    /// The engine's large arrays, as the checkpoint writes them.
    func sections(_ run: TailRun) throws -> StateSections {
        var body: [UInt8] = []
        var sections = StateSections()
        try StateCoding.encode(run.engine.checkpoint(), into: &body, sections: &sections)
        return sections
    }

    @Test("A checkpoint after a few lines writes the changed words of the filters and sketch, not the arrays")
    func changedWordsOnly() throws {
        let all = TailTestData.lines
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write(all[0..<3000], to: dir)
        let clock = TestClock()
        let saved: StateSections
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
            try catchUp(run, clock)
            try run.checkpoint()
            let arrays = try sections(run).parts.reduce(0) { $0 + $1.count }
            #expect(arrays >= 8 << 20, "the recipient filters and the sketch are out of line")
            let base = dir.appendingPathComponent("state/checkpoint-sections.1").path
            let baseBytes = try #require(try FileManager.default.attributesOfItem(atPath: base)[.size] as? Int)
            #expect(baseBytes > 0, "the first checkpoint wrote every section")
            try write(all[3000..<3100], to: dir)
            try catchUp(run, clock)
            try run.checkpoint()
            let small = run.metrics.snapshot.checkpointBytes
            #expect(small < arrays / 8, "100 lines later: \(small) bytes written, the arrays are \(arrays)")
            saved = try sections(run)
        }
        let h = try header(dir)
        #expect(CheckpointFile.integerField("state_format", in: h) == UInt64(TailState.format))
        #expect(CheckpointFile.integerField("sections_generation", in: h) == 1)
        #expect((CheckpointFile.integerField("sections_delta_bytes", in: h) ?? 0) > 0)
        // A restart restores the base with the delta applied.
        let run = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
            logger: logger)
        #expect(run.restoredFromCheckpoint)
        #expect(try sections(run) == saved)
    }

    @Test("A missing section file stops the start with a clear error naming it")
    func missingSection() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write(TailTestData.lines[0..<200], to: dir)
        let clock = TestClock()
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
            try catchUp(run, clock)
            try run.drain(now: clock.seconds)
        }
        let base = dir.appendingPathComponent("state/checkpoint-sections.1").path
        try FileManager.default.removeItem(atPath: base)
        #expect {
            _ = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
        } throws: { error in
            (error as? TailError)?.code == .checkpointDamaged && "\(error)".contains("checkpoint-sections.1")
                && "\(error)".contains("missing")
        }
    }

    @Test(
        "The store appends changed words, starts a generation when they outgrow the base, and ignores uncommitted bytes"
    )
    func storeGenerations() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.path
        let store = CheckpointSectionStore(directory: path)
        var a = StateSections(parts: [[UInt8](repeating: 0, count: 1 << 16), [UInt8](repeating: 7, count: 1 << 17)])
        let first = try store.stage(a)
        store.commit(first)
        #expect(first.reference == .init(generation: 1, deltaBytes: 0, deltaCRC: 0))
        #expect(first.bytesWritten >= 3 << 16)
        // Three words change: one frame per part, 8 bytes a record.
        a.parts[0][4] = 1
        a.parts[0][9] = 2
        a.parts[1][(1 << 17) - 1] = 3
        let second = try store.stage(a)
        #expect(second.bytesWritten == 8 + 2 * 8 + 8 + 8)
        store.commit(second)
        let r2 = try #require(second.reference)
        #expect(try CheckpointSectionStore.load(directory: path, reference: r2) == a)
        // Written but not committed (a crash before the main file's rename): the committed state still loads.
        var b = a
        b.parts[1][0] = 9
        _ = try store.stage(b)
        #expect(try CheckpointSectionStore.load(directory: path, reference: r2) == a)
        // Everything changes: more than the base's size, so a new generation, and the old one's files go.
        let c = StateSections(parts: [[UInt8](repeating: 5, count: 1 << 16), [UInt8](repeating: 6, count: 1 << 17)])
        let third = try store.stage(c)
        store.commit(third)
        let r3 = try #require(third.reference)
        #expect(r3 == .init(generation: 2, deltaBytes: 0, deltaCRC: 0))
        #expect(try CheckpointSectionStore.load(directory: path, reference: r3) == c)
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        #expect(names == ["checkpoint-sections.2"])
        try FileManager.default.createDirectory(atPath: path + "/sparse", withIntermediateDirectories: false)
        // Mostly zero parts make a small base: their non-zero words only.
        var sparse = StateSections(parts: [
            [UInt8](repeating: 0, count: 1 << 16), [UInt8](repeating: 0, count: 1 << 17),
        ])
        sparse.parts[1][100] = 42
        let fifth = try CheckpointSectionStore(directory: path + "/sparse").stage(sparse)
        #expect(fifth.bytesWritten < 100)
        #expect(
            try CheckpointSectionStore.load(directory: path + "/sparse", reference: try #require(fifth.reference))
                == sparse)
        // A damaged delta is reported, never applied.
        var d = c
        d.parts[0][0] = 1
        let fourth = try store.stage(d)
        store.commit(fourth)
        let r4 = try #require(fourth.reference)
        var r4Damaged = r4
        r4Damaged.deltaCRC ^= 1
        #expect(throws: CheckpointFile.Failure.self) {
            try CheckpointSectionStore.load(directory: path, reference: r4Damaged)
        }
    }
}
