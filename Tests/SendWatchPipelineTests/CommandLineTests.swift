import Foundation
import SendWatchCore
import SendWatchPipeline
import SendWatchTesting
import Testing

/// Runs the built `sendwatch` executable, which SwiftPM puts beside the test bundle.
struct CommandLine {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var executable: URL? { sendwatchExecutable }

    /// Runs `sendwatch` with `arguments` (at most 10 minutes: a replay of a bundled dataset takes seconds).
    static func run(_ arguments: [String], stdin: Data? = nil) throws -> Result {
        let exe = try #require(executable, "the sendwatch executable is built beside the tests")
        let run = try ProgramRun.run(exe, arguments, stdin: stdin, timeout: .seconds(600))
        #expect(!run.timedOut)
        return Result(status: run.status, stdout: run.stdoutText, stderr: run.stderr)
    }
}

@Suite struct CommandLineTests {
    @Test("A quoted glob is read as its files, oldest first, with the events of the files named one by one")
    func quotedGlob() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = try String(
            contentsOfFile: TestPaths.formatsFixture("postfix/postlogd-subset.log"), encoding: .utf8)
        let lines = fixture.split(separator: "\n", omittingEmptySubsequences: false)
        let half = lines.count / 2
        let older = dir.appendingPathComponent("mail.log.1").path
        let live = dir.appendingPathComponent("mail.log").path
        try (lines[..<half].joined(separator: "\n") + "\n").write(toFile: older, atomically: false, encoding: .utf8)
        try lines[half...].joined(separator: "\n").write(toFile: live, atomically: false, encoding: .utf8)
        let named = try CommandLine.run(["events", "--year", "2026", live, older])
        let quoted = try CommandLine.run(["events", "--year", "2026", dir.path + "/mail.log*"])
        #expect(named.status == 0 && quoted.status == 0, "\(quoted.stderr)")
        #expect(!named.stdout.isEmpty && quoted.stdout == named.stdout)
        // Before: "no file matches this pattern (the shell passed it on unexpanded)", exit 1, no events.
        #expect(quoted.stderr.contains("mail.log* matches 2 files, read as the shell would expand it"))
    }

    @Test("Errors found after the flags parsed: one clean line, no usage line, the system's reason")
    func runErrors() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml").path
        try "detect: [\n".write(toFile: bad, atomically: false, encoding: .utf8)
        let yaml = try CommandLine.run(["config", "check", bad])
        #expect(yaml.status == 1)
        // Before, Yams' message over four lines, printed with `\x0a` escapes on one.
        #expect(yaml.stderr.contains("not valid YAML: 2:1: error: parser: "), "\(yaml.stderr)")
        #expect(!yaml.stderr.contains("\\x0a") && yaml.stderr.split(separator: "\n").count == 1, "\(yaml.stderr)")
        // A directory: before, "(NSCocoaErrorDomain error 256.)" and the root command's usage line.
        let directory = try CommandLine.run(["config", "check", dir.path])
        #expect(directory.status == 64)
        #expect(directory.stderr == "Error: cannot read \(dir.path): Is a directory\n", "\(directory.stderr)")
        let replay = try CommandLine.run(["replay", "--config", bad, "-"], stdin: Data())
        #expect(replay.status == 64)
        #expect(!replay.stderr.contains("Usage:"), "\(replay.stderr)")
        #expect(replay.stderr.hasPrefix("Error: \(bad): not valid YAML: "), "\(replay.stderr)")
    }

    @Test("events writes the same lines and summary with and without --single-thread")
    func eventsThreads() throws {
        for name in ["mixed-s11.postfix.log.zst", "mixed-s13.jsonl.log.zst", "real-exim-4.96.exim.log.zst"] {
            let path = TestPaths.dataset(name)
            let threaded = try CommandLine.run(["events", "--year", "2026", path])
            let single = try CommandLine.run(["events", "--year", "2026", "--single-thread", path])
            #expect(threaded.status == 0)
            #expect(threaded.stdout.count > 10_000)
            #expect(threaded.stdout == single.stdout)
            #expect(threaded.stderr == single.stderr)
        }
    }

    @Test("events writes one line per event and a summary on stderr, exit 0")
    func events() throws {
        let r = try CommandLine.run(["events", TestPaths.dataset("real-exim-4.96.exim.log.zst")])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count > 500)
        #expect(r.stderr.contains("sendwatch: 1 input, 2692 lines, \(lines.count) events"))
    }

    @Test("The help of replay, eval and report names the alert schema versions written and read today")
    func helpNamesSchemaVersions() throws {
        // Help is wrapped at the terminal's width: compare with every run of blanks as one space.
        func help(_ command: String) throws -> String {
            let run = try CommandLine.run([command, "--help"])
            #expect(run.status == 0)
            return run.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        }
        let replay = try help("replay")
        #expect(replay.contains("schema version \(Alert.schemaVersion))"), "\(replay)")
        #expect(replay.contains("sendwatch (schema v\(Alert.schemaVersion), default)"), "\(replay)")
        for command in ["eval", "report"] {
            let text = try help(command)
            #expect(text.contains("schema v1 to \(Alert.schemaVersion)"), "\(command): \(text)")
        }
    }

    @Test("A zstd stream on stdin is read like a file")
    func standardInput() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.dataset("notify-sample.jsonl.log.zst")))
        let viaStdin = try CommandLine.run(["events", "-"], stdin: data)
        let viaFile = try CommandLine.run(["events", TestPaths.dataset("notify-sample.jsonl.log.zst")])
        #expect(viaStdin.status == 0)
        #expect(!viaStdin.stdout.isEmpty)
        #expect(viaStdin.stdout == viaFile.stdout)
    }

    @Test("--count-only prints nothing on stdout")
    func countOnly() throws {
        let r = try CommandLine.run([
            "events", "--count-only", "--year", "2026", TestPaths.dataset("real-postfix-3.7.postfix.log.zst"),
        ])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("events"))
    }

    @Test("A damaged input gives exit 1 and names the file; the other inputs are still read")
    func damaged() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.dataset("real-exim-4.96.exim.log.zst")))
        let cut = dir.appendingPathComponent("cut.zst")
        try data.prefix(data.count / 3).write(to: cut)
        let r = try CommandLine.run(["events", cut.path, TestPaths.dataset("notify-sample.jsonl.log.zst")])
        #expect(r.status == 1)
        #expect(r.stderr.contains(cut.path))
        #expect(r.stdout.contains("\"account\":\"t-4821\""))
    }

    @Test("Bad flags and bad configuration files are usage errors that name the problem")
    func usageErrors() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bogus = try CommandLine.run(["events", "--format", "sendmail", "-"])
        #expect(bogus.status == 64)
        #expect(bogus.stderr.contains("--format"))
        let config = dir.appendingPathComponent("bad.yaml")
        try Data("input:\n  colour: blue\n".utf8).write(to: config)
        let bad = try CommandLine.run(["events", "--config", config.path, "-"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("input.colour: unknown key"))
        let check = try CommandLine.run(["config", "check", config.path])
        #expect(check.status == 1)
        #expect(check.stderr.contains("input.colour: unknown key"))
    }

    @Test("config defaults prints a file that config check accepts")
    func defaults() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLine.run(["config", "defaults"])
        #expect(r.status == 0)
        let file = dir.appendingPathComponent("defaults.yaml")
        try Data(r.stdout.utf8).write(to: file)
        let check = try CommandLine.run(["config", "check", file.path])
        #expect(check.status == 0)
    }
}

@Suite struct ReplayCommandTests {
    @Test("replay writes the same alerts twice, exits 0, and summarises on stderr")
    func replay() throws {
        let path = TestPaths.dataset("mixed-s13.jsonl.log.zst")
        let a = try CommandLine.run(["replay", path])
        let b = try CommandLine.run(["replay", path])
        #expect(a.status == 0)
        #expect(!a.stdout.isEmpty)
        #expect(a.stdout == b.stdout)
        #expect(a.stderr.contains("alert records"))
        for line in a.stdout.split(separator: "\n") {
            #expect(line.hasPrefix(#"{"v":5,"id":"sw-"#))
        }
    }

    @Test("replay and events exit 2 naming the output and its errno when it cannot be written (full disk)")
    func unwritableOutput() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let path = TestPaths.dataset("mixed-s13.jsonl.log.zst")
        for command in ["replay", "events"] {
            for threads in [[], ["--single-thread"]] {
                let r = try CommandLine.run([command, "--output", "/dev/full"] + threads + [path])
                #expect(r.status == 2, "\(command) \(threads)")
                #expect(r.stderr.contains("output /dev/full: cannot write (No space left on device, errno 28)"))
                #expect(r.stderr.contains("events"), "the summary is still printed")
            }
        }
    }

    @Test("replay writes the same alerts and summary with and without --single-thread")
    func replayThreads() throws {
        for name in ["mixed-s11.postfix.log.zst", "mixed-s12.exim.log.zst"] {
            let path = TestPaths.dataset(name)
            let threaded = try CommandLine.run(["replay", path])
            let single = try CommandLine.run(["replay", "--single-thread", path])
            #expect(threaded.status == 0)
            #expect(threaded.stdout.count > 1000)
            #expect(threaded.stdout == single.stdout)
            #expect(threaded.stderr == single.stderr)
        }
    }

    @Test("replay exits 0 when it finds nothing")
    func nothing() throws {
        let r = try CommandLine.run(["replay", TestPaths.dataset("real-postfix-3.7.postfix.log.zst")])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
    }

    @Test("--accounts registry: creation times make accounts young; bad lines are reported")
    func registry() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var log = ""
        for i in 0..<120 {
            log +=
                #"{"ts":"2026-11-29T05:00:\#(String(format: "%02d", i % 60))Z","account":"tenant-new","to":"v\#(i)@m\#(i % 5).example","subject":"Hello \#(i)"}"#
                + "\n"
        }
        let input = dir.appendingPathComponent("log.jsonl")
        try Data(log.utf8).write(to: input)
        let registry = dir.appendingPathComponent("accounts.csv")
        try Data("account,created_at\n# comment\ntenant-new,2026-11-29T04:00:00Z\nbroken line\n".utf8).write(
            to: registry)
        let without = try CommandLine.run(["replay", input.path])
        #expect(without.stdout.isEmpty, "first seen in the warm-up: established")
        let with = try CommandLine.run(["replay", "--accounts", registry.path, input.path])
        #expect(with.status == 0)
        #expect(with.stdout.contains(#""kind":"young_account_burst""#))
        #expect(with.stderr.contains("line 4"))
    }

    @Test("Bad replay flags are usage errors")
    func flags() throws {
        #expect(try CommandLine.run(["replay", "--warmup", "soon", "-"]).status == 64)
        #expect(try CommandLine.run(["replay", "--alert-format", "xml", "-"]).status == 64)
        #expect(try CommandLine.run(["replay", "--accounts", "/nonexistent", "-"]).status == 64)
    }

    @Test(
        "detect and forward refuse a lease time outside 1s to 10m before they connect",
        arguments: ["detect", "forward"])
    func leaseTimeRange(command: String) throws {
        // Port 9 (discard) has no broker: a refusal here comes from the check, not from a connection.
        for value in ["500ms", "601s", "11m", "1h"] {
            let run = try CommandLine.run([command, "--nats", "nats://127.0.0.1:9", "--lease-time", value])
            #expect(run.status == 64, "\(command) --lease-time \(value)")
            #expect(run.stderr.contains("--lease-time must be 1s to 10m"), "--lease-time \(value): \(run.stderr)")
        }
        #expect(try CommandLine.run([command, "--nats", "nats://127.0.0.1:9", "--lease-time", "0s"]).status == 64)
        #expect(try CommandLine.run([command, "--nats", "nats://127.0.0.1:9", "--lease-bucket", "a.b"]).status == 64)
        #expect(
            try CommandLine.run([command, "--nats", "nats://127.0.0.1:9", "--duplicate-window", "2d"]).status == 64)
    }

    @Test("detect and forward say what their lease flags mean, each for its own role")
    func leaseHelp() throws {
        let detect = try CommandLine.run(["detect", "--help"]).stdout.split(whereSeparator: \.isWhitespace)
            .joined(separator: " ")
        let forward = try CommandLine.run(["forward", "--help"]).stdout.split(whereSeparator: \.isWhitespace)
            .joined(separator: " ")
        #expect(detect.contains("A standby takes the lease over when the holder has not renewed it this long"))
        #expect(detect.contains("Key-value bucket of the workers' leases. (default: SENDWATCH_LEASES)"))
        #expect(
            detect.contains("the alerts stream drops repeated message ids; longer than a restart takes. (default: 10m)")
        )
        #expect(
            forward.contains("A partition's lease is taken over when not renewed this long (1s to 10m). (default: 10s)")
        )
        #expect(forward.contains("Key-value bucket of the leases and of the live workers."))
        #expect(forward.contains("the forwarded stream drops repeated message ids; longer than a takeover takes."))
    }
}

@Suite struct AccountRegistryTests {
    @Test("Registry lines: header, comments, quotes, CRLF, epoch seconds; problems by line")
    func parse() {
        let (entries, problems) = AccountRegistry.parse(
            "account,created_at\r\n# c\n\"a,b\",2026-01-02T03:04:05Z\nplain,1700000000\nbad,yesterday\nnocomma\n")
        #expect(entries.map(\.0) == ["a,b", "plain"])
        #expect(entries.map(\.1.seconds) == [1_767_323_045, 1_700_000_000])
        #expect(problems.map(\.line) == [5, 6])
    }
}
