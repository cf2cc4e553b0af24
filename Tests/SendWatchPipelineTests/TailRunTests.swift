import Foundation
import Logging
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchIngest
import Testing

@testable import SendWatchPipeline

#if canImport(Glibc)
import Glibc
#endif

/// The lines of a bundled labelled dataset (Postfix, 9 h, four attack waves), decompressed once.
enum TailTestData {
    static let lines: [String] = {
        guard var source = try? InputSource.open(path: TestPaths.dataset("mixed-s11.postfix.log.zst")) else {
            return []
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = (try? buffer.withUnsafeMutableBytes { try source.read(into: $0) }) ?? 0
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { String($0) + "\n" }
    }()

    static var configuration: Configuration {
        var c = Configuration()
        c.year = 2026
        return c
    }

    /// The alert lines `replay` writes for `lines` (the reference), without its end-of-input flush.
    static func replayLines(
        _ lines: [String], in dir: URL, configuration: Configuration = TailTestData.configuration
    ) throws -> [String] {
        let path = dir.appendingPathComponent("reference.log").path
        try lines.joined().write(toFile: path, atomically: false, encoding: .utf8)
        let out = dir.appendingPathComponent("reference.alerts.jsonl").path
        guard case .success(let writer) = OutputWriter.appending(path: out) else { throw CocoaError(.fileWriteUnknown) }
        var sink = DetectionSink(engine: DetectionEngine(configuration: configuration.detection), output: writer)
        _ = EventsRun(configuration: configuration).run(paths: [path], sink: &sink) { _ in }
        sink.flush()
        return try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func ids(_ lines: [String], action: String) -> Set<String> {
        Set(
            lines.compactMap { line -> String? in
                guard line.contains("\"action\":\"\(action)\""), let r = line.range(of: "\"id\":\"") else { return nil }
                return String(line[r.upperBound...].prefix(19))
            })
    }
}

/// Where the tail tests' runs append their alerts: `alerts.jsonl` in the test's directory.
func alertsPath(_ dir: URL) -> String { dir.appendingPathComponent("alerts.jsonl").path }

extension TailRun {
    /// A run whose alerts are appended to `outputPath` (standard output without one), opened as `sendwatch tail`
    /// opens `--output` (``OutputWriter/tailOutput(path:)``) and handed to the run.
    convenience init(
        configuration: Configuration, options: TailOptions, outputPath: String?, accounts: [(String, EventTime)] = [],
        logger: Logger
    ) throws(TailError) {
        try self.init(
            configuration: configuration, options: options, output: OutputWriter.tailOutput(path: outputPath),
            accounts: accounts, logger: logger)
    }
}

/// A monotonic clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    var seconds = 1000.0
}

@Suite("Tail run", .serialized)
struct TailRunTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func options(_ dir: URL) -> TailOptions {
        var o = TailOptions(patterns: [dir.appendingPathComponent("mail.log").path])
        o.stateDirectory = dir.appendingPathComponent("state").path
        o.fromStart = true
        o.checkpointIntervalSeconds = 5
        o.idleAdvanceSeconds = 1e9
        o.follow.usePolling = true
        return o
    }

    func append(_ lines: ArraySlice<String>, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data(lines.joined().utf8))
        try h.close()
    }

    /// Steps until the follower has nothing left.
    func catchUp(_ run: TailRun, _ clock: TestClock) throws {
        for _ in 0..<10_000 {
            clock.seconds += 0.3
            let s = try run.step(now: clock.seconds)
            if s.lines == 0 && !s.more { return }
        }
    }

    @Test(
        "A resumed run checkpoints as soon as it has read lines, one short poll at a time: a run killed early still advances"
    )
    func earlyProgressCheckpoint() throws {
        let all = TailTestData.lines
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mail.log").path
        try append(all[0..<1000], to: log)
        let clock = TestClock()
        var o = options(dir)
        o.checkpointIntervalSeconds = 1e6
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: o, outputPath: alertsPath(dir), logger: logger)
            try catchUp(run, clock)
            try run.drain(now: clock.seconds)
        }
        // A backlog of several MiB, then a run that lives for one poll.
        try append(all[1000...], to: log)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        try #require(size > 4 << 20)
        let before = try Data(contentsOf: URL(fileURLWithPath: o.stateDirectory! + "/checkpoint"))
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: o, outputPath: alertsPath(dir), logger: logger)
            clock.seconds += 0.1
            let step = try run.step(now: clock.seconds)
            #expect(step.more, "one poll reads at most 1 MiB of the backlog")
            #expect(step.checkpointed, "the first lines read are checkpointed without waiting for the interval")
            try run.settleCheckpoint()
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: o.stateDirectory! + "/checkpoint"))
        #expect(after != before)
    }

    @Test("Restarts and crashes between rotations give replay's alerts, none twice")
    func restartsAndCrashes() throws {
        let all = TailTestData.lines
        try #require(all.count > 50_000)
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try TailTestData.replayLines(all, in: dir)
        try #require(!TailTestData.ids(reference, action: "create").isEmpty)

        let log = dir.appendingPathComponent("mail.log").path
        let clock = TestClock()
        let chunks = 14
        let size = all.count / chunks + 1
        for i in 0..<chunks {
            let chunk = all[min(all.count, i * size)..<min(all.count, (i + 1) * size)]
            try append(chunk, to: log)
            if i % 4 == 2 {
                // logrotate's default: rename, then a new file at the name.
                _ = rename(log, log + ".1")
                _ = FileManager.default.createFile(atPath: log, contents: nil)
            }
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
            if i % 3 == 0 {
                // A crash: some steps (with checkpoints on the way), then gone without a final checkpoint.
                for _ in 0..<3 {
                    clock.seconds += 2
                    try run.step(now: clock.seconds)
                }
                // A crash of the process would also end its checkpoint thread; an abandoned object's thread
                // would finish its write later and overwrite a newer checkpoint, which no real crash does.
                try run.settleCheckpoint()
            } else {
                try catchUp(run, clock)
                try run.drain(now: clock.seconds)
            }
        }
        let run = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
            logger: logger)
        try catchUp(run, clock)
        try run.drain(now: clock.seconds)

        let written = try String(contentsOfFile: dir.appendingPathComponent("alerts.jsonl").path, encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(Set(written).count == written.count, "no alert line twice")
        #expect(TailTestData.ids(written, action: "create") == TailTestData.ids(reference, action: "create"))
        // Without the idle timer, every line tail writes is one replay writes too.
        #expect(Set(written).subtracting(reference).isEmpty)
        #expect(written.count == reference.count)
    }

    @Test(
        "After logrotate renamed the alert file, a reopen writes on to a new file at the name: old + new equal replay's, also across a crash"
    )
    func reopenAfterRotation() throws {
        let all = TailTestData.lines
        try #require(all.count > 50_000)
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try TailTestData.replayLines(all, in: dir)
        let log = dir.appendingPathComponent("mail.log").path
        let alerts = dir.appendingPathComponent("alerts.jsonl").path
        let clock = TestClock()
        let half = all.count / 2
        try append(all[0..<half], to: log)
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
            try catchUp(run, clock)
            // logrotate: rename + create, then SIGHUP (the loop calls reopenOutput for it).
            try #require(rename(alerts, alerts + ".1") == 0)
            _ = FileManager.default.createFile(atPath: alerts, contents: nil)
            try run.reopenOutput()
            try append(all[half...], to: log)
            for _ in 0..<5 {
                clock.seconds += 2
                try run.step(now: clock.seconds)
            }
            // A crash: the next run resumes from the last checkpoint, taken after the reopen.
            try run.settleCheckpoint()
        }
        let next = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
            logger: logger)
        try catchUp(next, clock)
        try next.drain(now: clock.seconds)

        func lines(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let old = try lines(alerts + ".1")
        let new = try lines(alerts)
        #expect(!old.isEmpty)
        #expect(!new.isEmpty)
        #expect(old + new == reference)
    }

    @Test("A reopen request is taken once; several before the loop looks are one")
    func reopenRequest() {
        _ = TailSignals.takeReopenRequest()
        TailSignals.requestReopen()
        TailSignals.requestReopen()
        #expect(TailSignals.takeReopenRequest())
        #expect(!TailSignals.takeReopenRequest())
    }

    @Test("A damaged checkpoint stops the start with a clear error and stays in place")
    func damagedCheckpoint() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try append(TailTestData.lines[0..<100], to: dir.appendingPathComponent("mail.log").path)
        let clock = TestClock()
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
            try catchUp(run, clock)
            try run.drain(now: clock.seconds)
        }
        let checkpoint = dir.appendingPathComponent("state/checkpoint").path
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: checkpoint)))
        bytes[bytes.count - 3] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: checkpoint))
        #expect {
            _ = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
        } throws: { error in
            (error as? TailError)?.code == .checkpointDamaged
                && "\(error)".contains("CRC") && "\(error)".contains("move the file away")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == Data(bytes))

        // A checkpoint from another state format.
        try Data("{\"state_format\":99,\"body_bytes\":0,\"body_crc32\":0}\n".utf8).write(
            to: URL(fileURLWithPath: checkpoint))
        #expect {
            _ = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
        } throws: { error in
            (error as? TailError)?.code == .checkpointIncompatible && "\(error)".contains("state format 99")
        }

        // A checkpoint of the format before the rules' own tables of templates (7) is refused, not misread.
        try Data("{\"state_format\":7,\"body_bytes\":0,\"body_crc32\":0}\n".utf8).write(
            to: URL(fileURLWithPath: checkpoint))
        #expect {
            _ = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: alertsPath(dir),
                logger: logger)
        } throws: { error in
            (error as? TailError)?.code == .checkpointIncompatible && "\(error)".contains("state format 7;")
                && "\(error)".contains("reads format \(TailState.format)")
        }
    }

    @Test("A full alert journal forces a checkpoint before any interval is due")
    func journalBound() throws {
        var counts: [Int] = []
        for bound in [ExactlyOnceSink.maxJournalEntries, 5] {
            let dir = try TestPaths.makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let log = dir.appendingPathComponent("mail.log").path
            try append(TailTestData.lines[0..<1], to: log)
            var o = options(dir)
            o.checkpointIntervalSeconds = 1e9
            o.alertCheckpointDelaySeconds = 1e9
            o.maxJournalEntries = bound
            let run = try TailRun(
                configuration: TailTestData.configuration, options: o, outputPath: alertsPath(dir), logger: logger)
            let clock = TestClock()
            var checkpoints = 0
            // The log arrives in 40 parts, so that alerts come in several polls (the bound is checked per poll).
            let lines = TailTestData.lines
            let part = lines.count / 40 + 1
            for start in stride(from: 1, to: lines.count, by: part) {
                try append(lines[start..<min(lines.count, start + part)], to: log)
                for _ in 0..<10_000 {
                    clock.seconds += 0.3
                    let s = try run.step(now: clock.seconds)
                    if s.checkpointed { checkpoints += 1 }
                    if s.lines == 0 && !s.more { break }
                }
                // Let a checkpoint in flight finish, so that the next one can start.
                usleep(20_000)
            }
            let written = try String(contentsOfFile: dir.appendingPathComponent("alerts.jsonl").path, encoding: .utf8)
            #expect(written.split(separator: "\n").count > 50)
            counts.append(checkpoints)
        }
        // Without the bound only the checkpoint of the first lines read is due during the run; with it, checkpoints
        // whenever 5 alert lines are journaled.
        #expect(counts[0] == 1)
        #expect(counts[1] >= 3, "\(counts)")
    }

    @Test("The idle timer closes alerts while the logs are quiet, with the close times replay gives")
    func idleCloses() throws {
        let all = TailTestData.lines
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The first attack wave and a little after it.
        let part = Array(all[0..<all.count / 3])
        let reference: [String] = []
        try append(part[...], to: dir.appendingPathComponent("mail.log").path)
        var o = options(dir)
        o.idleAdvanceSeconds = 10
        let run = try TailRun(
            configuration: TailTestData.configuration, options: o, outputPath: alertsPath(dir), logger: logger)
        let clock = TestClock()
        try catchUp(run, clock)
        let out = dir.appendingPathComponent("alerts.jsonl").path
        let before = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        let open = TailTestData.ids(before, action: "create").subtracting(TailTestData.ids(before, action: "close"))
        try #require(!open.isEmpty, "an alert is open at the end of the part")
        // Two quiet hours of wall time.
        for _ in 0..<20 {
            clock.seconds += 360
            try run.step(now: clock.seconds)
        }
        let after = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        let closes = after.dropFirst(before.count).filter { $0.contains("\"action\":\"close\"") }
        #expect(TailTestData.ids(Array(closes), action: "close") == open)
        // Nothing but closes: the idle timer only moves time on.
        #expect(after.count == before.count + closes.count)
        _ = reference
    }
}

@Suite("Tail: event times ahead of the wall clock")
struct TailFutureTests {
    @Test("A sustained run of lines stamped hours ahead of the wall clock never moves live event time")
    func futureLinesSetAside() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func line(_ time: String, _ i: Int, host: String) -> String {
            """
            {"ts":"\(time)","account":"acct\(i % 7)","sender":"s\(i)@example.com","to":["r\(i)@example.org"],\
            "subject":"Hello \(i)","host":"\(host)","message_id":"<m\(i)-\(host)@example.com>"}

            """
        }
        // 12:00:00 to 12:00:39 from mx1; then 40 lines of a host whose clock is 3 h ahead (a sustained run, below
        // detect.max_time_jump, that the engine alone would follow); then mx1 again.
        var text = (0..<40).map { line("2026-12-01T12:00:\(String(format: "%02d", $0))Z", $0, host: "mx1") }.joined()
        text += (0..<40).map { line("2026-12-01T15:00:\(String(format: "%02d", $0))Z", 100 + $0, host: "mx9") }.joined()
        text += (0..<20).map { line("2026-12-01T12:01:\(String(format: "%02d", $0))Z", 200 + $0, host: "mx1") }.joined()
        let log = dir.appendingPathComponent("mail.jsonl").path
        try text.write(toFile: log, atomically: false, encoding: .utf8)
        var o = TailOptions(patterns: [log])
        o.fromStart = true
        o.follow.usePolling = true
        o.idleAdvanceSeconds = 1e9
        let run = try TailRun(
            configuration: Configuration(), options: o, outputPath: alertsPath(dir),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        // The wall clock: 12:05 on that day.
        run.wallClock = { 1_796_126_700 }
        var seconds = 1000.0
        for _ in 0..<100 {
            seconds += 0.3
            let s = try run.step(now: seconds)
            if s.lines == 0 && !s.more { break }
        }
        let watermark = try #require(run.engine.watermark)
        #expect(watermark < EventTime(seconds: 1_796_126_700), "event time stayed before the wall clock: \(watermark)")
        #expect(run.engine.counters.lateEvents == 0)
        #expect(run.consumer.sink.futureOutliers == 40)
        #expect(run.summaryText.contains("0 late events dropped, 40 time outliers"))
    }
}

@Suite("Tail metrics")
struct TailMetricsTests {
    /// A run from the start of `text`, written to `dir/mail.log`, polled `polls` times and stopped.
    func followed(_ text: String, in dir: URL, polls limit: Int) throws -> (run: TailRun, log: String) {
        let log = dir.appendingPathComponent("mail.log").path
        try text.write(toFile: log, atomically: false, encoding: .utf8)
        var o = TailOptions(patterns: [log])
        o.fromStart = true
        o.follow.usePolling = true
        o.follow.pollIntervalMilliseconds = 5
        let run = try TailRun(
            configuration: TailTestData.configuration, options: o, outputPath: alertsPath(dir),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        var polls = 0
        try run.run(
            now: { Double(polls) },
            shouldStop: {
                polls += 1
                return polls > limit
            })
        return (run, log)
    }

    @Test("The run publishes its figures for the metrics endpoint")
    func figures() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (run, log) = try followed(TailTestData.lines.prefix(20_000).joined(), in: dir, polls: 100)
        let m = run.metrics.snapshot
        #expect(m.lines == 20_000)
        #expect(!m.alertsByKind.isEmpty)
        #expect(m.files.map(\.path) == [log])
        #expect(m.memoryBudgetBytes == 536_870_912)
        #expect(m.pathsWithoutFile == 0)
        #expect(m.linesByClass.contains { $0.class == "understood" && $0.count > 0 })
        // The class label is bounded: three values.
        #expect(Set(m.linesByClass.map(\.class)).isSubset(of: ["understood", "irrelevant", "not_recognised"]))
    }

    @Test("A line over input.max_line_bytes is counted line_too_long in the summary and the metrics, as replay does")
    func overlong() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = Array(TailTestData.lines.prefix(200))
        let long = "Dec  1 10:00:00 mx1 postfix/smtpd[1]: warning: " + String(repeating: "A", count: 70_000) + "\n"
        let (run, _) = try followed(lines[..<100].joined() + long + lines[100...].joined(), in: dir, polls: 20)
        // Before, the line was dropped without a trace: 200 lines, 0 not recognised, no line_too_long.
        let m = run.metrics.snapshot
        #expect(m.lines == 201)
        #expect(m.skipped.contains { $0.reason == "line_too_long" && $0.count == 1 })
        let parsed = m.linesByClass.reduce(0) { $0 + $1.count }
        #expect(parsed == 201, "\(m.linesByClass)")
        #expect(run.summaryText.hasPrefix("sendwatch tail: 201 lines, "), "\(run.summaryText)")
        #expect(run.summaryText.contains("1 longer than input.max_line_bytes"), "\(run.summaryText)")
    }
}

@Suite("Tail under output and disk failures", .serialized)
struct TailFailureTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func options(_ dir: URL) -> TailOptions {
        var o = TailOptions(patterns: [dir.appendingPathComponent("mail.log").path])
        o.stateDirectory = dir.appendingPathComponent("state").path
        o.fromStart = true
        o.follow.usePolling = true
        o.idleAdvanceSeconds = 1e9
        return o
    }

    func catchUp(_ run: TailRun) throws {
        var t = 0.0
        for _ in 0..<10_000 {
            t += 0.1
            let s = try run.step(now: t)
            if s.lines == 0 && !s.more { return }
        }
    }

    /// A run over the whole dataset, written to `dir/mail.log`, whose alerts go to `sink`.
    func datasetRun(_ dir: URL, into sink: MemoryAlertSink) throws -> TailRun {
        let log = dir.appendingPathComponent("mail.log").path
        try TailTestData.lines.joined().write(toFile: log, atomically: false, encoding: .utf8)
        return try TailRun(
            configuration: TailTestData.configuration, options: options(dir), output: sink, logger: logger)
    }

    @Test("Alerts that cannot be written (full disk) stop the run without moving the checkpoint past them")
    func unwritableOutput() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mail.log").path
        let all = TailTestData.lines
        try all.prefix(2000).joined().write(toFile: log, atomically: false, encoding: .utf8)
        let good = dir.appendingPathComponent("alerts.jsonl").path
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: good, logger: logger)
            try catchUp(run)
            try run.drain(now: 1e6)
        }
        let checkpoint = dir.appendingPathComponent("state/checkpoint").path
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        let h = try #require(FileHandle(forWritingAtPath: log))
        h.seekToEndOfFile()
        h.write(Data(all.dropFirst(2000).joined().utf8))
        try h.close()

        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: options(dir), outputPath: "/dev/full",
                logger: logger)
            run.abandonRetry = { true }
            let failure = try #require(throws: TailError.self) { try catchUp(run) }
            #expect(failure.code == .outputFailed)
            #expect(failure.underlyingErrno == ENOSPC)
            #expect(failure.path == "/dev/full")
            #expect(throws: TailError.self) { try run.drain(now: 2e6) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == before, "checkpoint not advanced")
        }

        // With the output back, the next start writes every alert of the second part, once.
        let again = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: good, logger: logger)
        try catchUp(again)
        try again.drain(now: 3e6)
        let written = try String(contentsOfFile: good, encoding: .utf8).split(separator: "\n").map(String.init)
        let reference = try TailTestData.replayLines(all, in: dir)
        #expect(Set(written).count == written.count)
        #expect(TailTestData.ids(written, action: "create") == TailTestData.ids(reference, action: "create"))
    }

    @Test("A reader that went away (EPIPE) stops the run at once, with the output's code and errno, unretried")
    func brokenPipe() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sink = MemoryAlertSink()
        sink.failing = EPIPE
        let run = try datasetRun(dir, into: sink)
        var asked = false
        run.abandonRetry = {
            asked = true
            return true
        }
        let error = try #require(throws: TailError.self) { try catchUp(run) }
        #expect(error.code == .outputFailed)
        #expect(error.underlyingErrno == EPIPE)
        #expect(error.path == "memory")
        // The output's own failure is kept, typed: its code and errno, not words to search.
        #expect(error.output?.code == .writeFailed)
        #expect(error.output?.isBrokenPipe == true)
        #expect(!asked, "a closed pipe is not retried")
        #expect(sink.delivered.isEmpty)
        // The summary counts the records written, not those the detector made and the pipe refused.
        #expect(run.summaryText.contains(", 0 alert records ("), "\(run.summaryText)")
    }

    @Test("tail writes through the sink its caller hands it, the records replay's DetectionSink writes")
    func callerSink() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tailSink = MemoryAlertSink()
        let run = try datasetRun(dir, into: tailSink)
        try catchUp(run)
        try run.drain(now: 1e6)
        let replaySink = MemoryAlertSink()
        var replay = DetectionSink(
            engine: DetectionEngine(configuration: TailTestData.configuration.detection), output: replaySink)
        _ = EventsRun(configuration: TailTestData.configuration).run(
            paths: [dir.appendingPathComponent("mail.log").path], sink: &replay
        ) { _ in }
        replay.flush()
        #expect(!replaySink.delivered.isEmpty)
        #expect(tailSink.text == replaySink.text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["mail.log", "state"])
    }

    @Test("A checkpoint that cannot be written (full disk) is an error, and the previous one stays intact")
    func fullDiskCheckpoint() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mail.log").path
        try TailTestData.lines.prefix(500).joined().write(toFile: log, atomically: false, encoding: .utf8)
        let out = dir.appendingPathComponent("alerts.jsonl").path
        let run = try TailRun(
            configuration: TailTestData.configuration, options: options(dir), outputPath: out, logger: logger)
        try catchUp(run)
        try run.checkpoint()
        let checkpoint = dir.appendingPathComponent("state/checkpoint").path
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        // The temporary file the next checkpoint is written to lands on a full device.
        try FileManager.default.createSymbolicLink(atPath: checkpoint + ".tmp", withDestinationPath: "/dev/full")
        #expect {
            try run.checkpoint()
        } throws: { error in
            (error as? TailError)?.code == .checkpointFailed && "\(error)".contains("No space left on device")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == before)
        #expect(!FileManager.default.fileExists(atPath: checkpoint + ".tmp"))
    }
}

@Suite("Tail streams and configuration", .serialized)
struct TailStreamTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("A glob's files are separate streams with their own parsers and formats, feeding one engine")
    func globOfFormats() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A Postfix log and a JSON-lines log, both matching *.log.
        try TailTestData.lines.prefix(3000).joined()
            .write(toFile: dir.appendingPathComponent("mail.log").path, atomically: false, encoding: .utf8)
        var source = try InputSource.open(path: TestPaths.dataset("notify-sample.jsonl.log.zst"))
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        try Data(buffer[0..<n]).write(to: dir.appendingPathComponent("notify.log"))

        func events(of paths: [String]) throws -> Int {
            var o = TailOptions(patterns: paths)
            o.fromStart = true
            let outputPath = dir.appendingPathComponent("alerts-\(paths.count).jsonl").path
            o.follow.usePolling = true
            let run = try TailRun(
                configuration: TailTestData.configuration, options: o, outputPath: outputPath, logger: logger)
            var t = 0.0
            for _ in 0..<1000 {
                t += 0.1
                let s = try run.step(now: t)
                if s.lines == 0 && !s.more { break }
            }
            try run.drain(now: t)
            // The JSON-lines sample is from March: behind the Postfix log's November events by far more than
            // the allowed lateness, so in one engine those events are counted late, not lost silently.
            return run.metrics.snapshot.detection.events + run.metrics.snapshot.detection.lateEvents
        }
        let postfix = try events(of: [dir.appendingPathComponent("mail.log").path])
        let jsonl = try events(of: [dir.appendingPathComponent("notify.log").path])
        #expect(postfix > 0)
        #expect(jsonl > 0)
        #expect(try events(of: [dir.path + "/*.log"]) == postfix + jsonl)
    }

    @Test(
        "A changed window keeps account ages, parser and follower state, starts only what depends on it empty, and names the key"
    )
    func changedConfiguration() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mail.log").path
        try TailTestData.lines.prefix(20_000).joined().write(toFile: log, atomically: false, encoding: .utf8)
        var o = TailOptions(patterns: [log])
        o.fromStart = true
        o.stateDirectory = dir.appendingPathComponent("state").path
        o.follow.usePolling = true
        // Accounts seen early (established in the warm-up) and late (young when first seen).
        let accounts = ["sven.keller@southridge.example.org"] + Self.lateAccounts(TailTestData.lines.prefix(20_000))
        try #require(accounts.count > 1)
        let before: [AccountAge?]
        let watermark: EventTime
        do {
            let run = try TailRun(
                configuration: TailTestData.configuration, options: o, outputPath: alertsPath(dir), logger: logger)
            try run.drain(now: 1)
            watermark = try #require(run.engine.watermark)
            before = accounts.map { run.engine.ages.peek(account: $0, at: watermark) }
        }
        #expect(before.allSatisfy { $0 != nil })

        var changed = TailTestData.configuration
        #expect(changed.set("rules.slot_content.window", to: "2h") == nil)
        let records = LogRecords()
        let logging = Logger(label: "test") { _ in records }
        let run = try TailRun(configuration: changed, options: o, outputPath: alertsPath(dir), logger: logging)
        #expect(run.restoredFromCheckpoint)
        #expect(run.changedKeys == ["rules.slot_content.window"])
        #expect(!run.resetState.isEmpty)
        #expect(!run.resetState.contains("account_ages"))
        let warning = try #require(records.lines.first { $0.contains("configuration changed") })
        #expect(warning.contains("config.changed=rules.slot_content.window"), "\(warning)")
        #expect(warning.contains("state.reset="), "\(warning)")
        // Account ages survive: an account seen before is not new (young from 0) again.
        #expect(accounts.map { run.engine.ages.peek(account: $0, at: watermark) } == before)
        // The follower resumes where it was: nothing is read again.
        let step = try run.step(now: 2)
        #expect(step.lines == 0)
        try run.drain(now: 3)
        #expect(run.engine.counters.events > 0, "the event counters were kept")
    }

    /// Sending accounts (the account header) that first appear in the last quarter of `lines`.
    static func lateAccounts(_ lines: ArraySlice<String>) -> [String] {
        func login(_ line: String) -> String? {
            guard let r = line.range(of: "X-Account-Id: ") else { return nil }
            return String(line[r.upperBound...].prefix { $0 != " " && $0 != "\n" })
        }
        let cut = lines.startIndex + lines.count * 3 / 4
        let early = Set(lines[..<cut].compactMap(login))
        return Array(Set(lines[cut...].compactMap(login)).subtracting(early).sorted().prefix(5))
    }
}

/// A log handler that keeps each record as a `message key=value…` line, for tests that check what was logged.
final class LogRecords: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "\(event.message)"
        for (k, v) in (event.metadata ?? [:]).sorted(by: { $0.key < $1.key }) { line += " \(k)=\(v)" }
        lock.lock()
        stored.append(line)
        lock.unlock()
    }

    /// The lines logged so far.
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
