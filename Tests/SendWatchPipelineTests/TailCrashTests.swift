import Foundation
import SendWatchCore
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch tail` killed with SIGKILL at random points while a writer appends and rotates.
@Suite("Tail crash", .serialized)
struct TailCrashTests {
    struct Rng {
        var state: UInt64
        mutating func next(_ range: ClosedRange<Int>) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return range.lowerBound + Int((state >> 33) % UInt64(range.count))
        }
    }

    func start(_ dir: URL, stderr: FileHandle) throws -> Process {
        try launchSendwatch(
            [
                "tail", "--state", dir.appendingPathComponent("state").path,
                "--output", dir.appendingPathComponent("alerts.jsonl").path, "--from-start",
                "--checkpoint-interval", "1s", "--idle-advance", "1d", "--year", "2026", "--poll-interval", "50",
                "--log-level", "debug",
                dir.appendingPathComponent("mail.log").path,
            ], stderr: stderr)
    }

    func sleep(milliseconds: Int) {
        var t = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        _ = nanosleep(&t, nil)
    }

    @Test("SIGKILL during appends and rotations: the alerts equal replay's, none twice", .timeLimit(.minutes(5)))
    func killAndRestart() throws {
        let all = TailTestData.lines
        try #require(all.count > 50_000)
        let dir = try TestPaths.makeTemporaryDirectory()
        // Kept when the test fails (its path is in the failure): the logs, the state and tail's stderr tell why.
        var passed = false
        defer { if passed { try? FileManager.default.removeItem(at: dir) } }
        let reference = try TailTestData.replayLines(all, in: dir)
        let log = dir.appendingPathComponent("mail.log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("tail.stderr").path, contents: nil)
        let stderr = try #require(FileHandle(forWritingAtPath: dir.appendingPathComponent("tail.stderr").path))
        defer { try? stderr.close() }

        var rng = Rng(state: 20_261_129)
        var process = try start(dir, stderr: stderr)
        var starts = 1
        // The promise starts at the first checkpoint, which a first start writes before it reads anything: a
        // file rotated away before that is history `tail` never knew (on a loaded machine a debug build took
        // longer to start than the writer took to fill and rotate the first file, and that file was missing).
        #expect(
            waitUntil(seconds: 120) {
                FileManager.default.fileExists(atPath: dir.appendingPathComponent("state/checkpoint").path)
            })
        var nextKill = Date().addingTimeInterval(Double(rng.next(1500...3500)) / 1000)
        var kills = 0
        var rotations = 0
        var written = 0
        var sinceRotation = 0
        let writer = try #require(FileHandle(forWritingAtPath: log))
        var current = writer
        while written < all.count {
            let n = min(all.count - written, rng.next(200...900))
            current.seekToEndOfFile()
            current.write(Data(all[written..<written + n].joined().utf8))
            written += n
            sinceRotation += n
            if sinceRotation > 14_000 {
                // Rotation as logrotate with `rotate 9` and `delaycompress` does it: .8.gz -> .9.gz ... .2.gz ->
                // .3.gz, .1 -> .2 then gzip, mail.log -> .1, new mail.log. The test rotates 6 times, so no file
                // is deleted: a reader that falls more rotations behind than logrotate keeps loses the oldest
                // file's lines by design (saved_file_not_found), and a debug build killed every 2 s on a loaded
                // machine can fall that far behind (with `rotate 5` it did, 2 runs in 3 with both cores busy).
                try current.close()
                let one = log + ".1"
                for n in stride(from: 8, through: 2, by: -1)
                where FileManager.default.fileExists(atPath: log + ".\(n).gz") {
                    _ = rename(log + ".\(n).gz", log + ".\(n + 1).gz")
                }
                if FileManager.default.fileExists(atPath: one) {
                    _ = rename(one, log + ".2")
                    let gz = Process()
                    gz.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    gz.arguments = ["gzip", "-f", log + ".2"]
                    try gz.run()
                    gz.waitUntilExit()
                }
                _ = rename(log, one)
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                current = try #require(FileHandle(forWritingAtPath: log))
                sinceRotation = 0
                rotations += 1
            }
            sleep(milliseconds: 100)
            if Date() >= nextKill {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                kills += 1
                // The state each start takes over, kept for a failure's post-mortem (removed when the test passes).
                try? FileManager.default.copyItem(
                    at: dir.appendingPathComponent("state"), to: dir.appendingPathComponent("state.start-\(starts + 1)")
                )
                process = try start(dir, stderr: stderr)
                starts += 1
                nextKill = Date().addingTimeInterval(Double(rng.next(1500...3500)) / 1000)
            }
        }
        try current.close()
        // Let it catch up, then a clean stop (drains and checkpoints).
        // Each start logs "following …" once its signal handlers are in place: wait for the last one (a SIGTERM
        // before that would end it like a crash), then give it a moment to catch up.
        let stderrPath = dir.appendingPathComponent("tail.stderr").path
        _ = waitUntil(seconds: 30) {
            fileText(atPath: stderrPath).components(separatedBy: " following ").count - 1 >= starts
        }
        sleep(milliseconds: 1500)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(kills >= 4)
        #expect(rotations >= 3)

        let output = try String(contentsOfFile: dir.appendingPathComponent("alerts.jsonl").path, encoding: .utf8)
        let lines = output.split(separator: "\n").map(String.init)
        let messages =
            (try? String(contentsOfFile: dir.appendingPathComponent("tail.stderr").path, encoding: .utf8)) ?? ""
        let kept = "(kept: \(dir.path))"
        let checks = [
            (output.isEmpty || output.hasSuffix("\n"), "the output ends with a whole line"),
            (Set(lines).count == lines.count, "no alert line twice"),
            (TailTestData.ids(lines, action: "create") == TailTestData.ids(reference, action: "create"), "create ids"),
            (Set(lines).subtracting(reference).isEmpty, "every line is one replay writes"),
            (lines.count == reference.count, "\(lines.count) lines, replay \(reference.count)"),
            (!messages.contains(" error "), "errors: \(messages.suffix(2000))"),
            (!messages.contains("saved_file_not_found"), "lost a file: \(messages.suffix(2000))"),
        ]
        for (ok, what) in checks { #expect(ok, "\(what) \(kept)") }
        passed = checks.allSatisfy(\.0) && process.terminationStatus == 0 && kills >= 4 && rotations >= 3
    }
}

/// A reader of the alerts that stops reading: `tail` must block (backpressure), not queue.
@Suite("Tail backpressure")
struct TailBackpressureTests {
    @Test("A stalled reader of standard output stops tail from reading further; nothing is lost when it resumes")
    func stalledReader() throws {
        let all = TailTestData.lines
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try TailTestData.replayLines(all, in: dir)
        let referenceBytes = reference.reduce(0) { $0 + $1.utf8.count + 1 }
        try #require(referenceBytes > 4 * 65_536, "more alert bytes than a pipe holds")
        let log = dir.appendingPathComponent("mail.log").path
        try all.joined().write(toFile: log, atomically: false, encoding: .utf8)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)

        let exe = try #require(CommandLine.executable)
        let p = Process()
        p.executableURL = exe
        let state = dir.appendingPathComponent("state").path
        p.arguments = ["tail", "--state", state, "--from-start", "--checkpoint-interval", "1s", "--year", "2026", log]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Nobody reads for a while.
        var pause = timespec(tv_sec: 4, tv_nsec: 0)
        _ = nanosleep(&pause, nil)
        let raw = try Data(contentsOf: URL(fileURLWithPath: state + "/checkpoint"))
        let header = String(decoding: raw.prefix { $0 != 0x0A }, as: UTF8.self)
        let offset =
            header.range(of: "\"offset\":").map { Int(header[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
        #expect(offset < size, "tail stopped reading while its output was stalled (checkpoint at \(offset) of \(size))")
        let rss =
            (try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .map { Int($0.split(separator: " ").dropFirst().first ?? "0") ?? 0 } ?? 0
        #expect(rss < 400_000, "RSS \(rss) kB while stalled")
        kill(p.processIdentifier, SIGTERM)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(TailTestData.ids(lines, action: "create") == TailTestData.ids(reference, action: "create"))
        #expect(Set(lines).subtracting(reference).isEmpty)
    }
}

@Suite("Tail command line")
struct TailCommandLineTests {
    @Test(
        "Bad tail flags are usage errors (exit 64) naming the flag",
        arguments: [
            (["tail"], "<paths>"),
            (["tail", "--fsync", "sometimes", "/tmp/x.log"], "--fsync"),
            (["tail", "--poll-interval", "0", "/tmp/x.log"], "--poll-interval"),
            (["tail", "--max-files", "0", "/tmp/x.log"], "--max-files"),
            (["tail", "--checkpoint-interval", "soon", "/tmp/x.log"], "--checkpoint-interval"),
            (["tail", "--alert-format", "xml", "/tmp/x.log"], "--alert-format"),
            (["tail", "--log-level", "loud", "/tmp/x.log"], "--log-level"),
        ])
    func badFlags(arguments: [String], mention: String) throws {
        let r = try CommandLine.run(arguments)
        #expect(r.status == 64)
        #expect(r.stderr.contains(mention))
    }

    @Test("A damaged checkpoint stops tail with exit 1 and a message naming the file")
    func damagedCheckpoint() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        try Data("not a checkpoint".utf8).write(to: state.appendingPathComponent("checkpoint"))
        let r = try CommandLine.run(["tail", "--state", state.path, dir.appendingPathComponent("mail.log").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("checkpoint"))
        #expect(r.stderr.contains("move the file away"))
    }
}

@Suite("Tail under systemd")
struct TailUnitFileTests {
    @Test("The unit stops restarting on exactly the exit statuses tail gives for what a restart cannot mend")
    func restartPreventExitStatus() throws {
        let unit = try String(
            contentsOf: TestPaths.repositoryRoot.appendingPathComponent("packaging/sendwatch.service"), encoding: .utf8)
        let line = try #require(unit.split(separator: "\n").first { $0.hasPrefix("RestartPreventExitStatus=") })
        let prevented = Set(line.dropFirst("RestartPreventExitStatus=".count).split(separator: " ").map { Int32($0) })
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.yaml").path
        try "detect:\n  no_such_key: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let log = dir.appendingPathComponent("mail.log").path
        let badConfiguration = try CommandLine.run(["tail", "--config", config, log])
        let badFlag = try CommandLine.run(["tail", "--fsync", "sometimes", log])
        #expect(badConfiguration.stderr.contains("no_such_key"), "\(badConfiguration.stderr)")
        #expect(prevented == [badConfiguration.status, badFlag.status])
        // Another run on the state directory (75) is retried until it ends: not prevented.
        #expect(!prevented.contains(75))
    }
}
