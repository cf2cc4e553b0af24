import Foundation
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// glibc's pseudo-terminal calls, which Swift's Glibc module does not export (they need _XOPEN_SOURCE).
@_silgen_name("posix_openpt") private func openTerminalMaster(_ flags: Int32) -> Int32
@_silgen_name("grantpt") private func grantTerminal(_ fd: Int32) -> Int32
@_silgen_name("unlockpt") private func unlockTerminal(_ fd: Int32) -> Int32
@_silgen_name("ptsname") private func terminalName(_ fd: Int32) -> UnsafeMutablePointer<CChar>?

/// A pseudo-terminal: `master` is the keyboard side (write to it as a user types), `terminal` the side a command
/// reads as its standard input. Close `master` when done.
private struct PseudoTerminal {
    let master: Int32
    let terminal: FileHandle

    init() throws {
        master = openTerminalMaster(O_RDWR | O_NOCTTY)
        try #require(master >= 0)
        try #require(grantTerminal(master) == 0 && unlockTerminal(master) == 0)
        let name = try #require(terminalName(master).map { String(cString: $0) })
        terminal = try #require(FileHandle(forUpdatingAtPath: name))
    }

    /// `exe arguments` started with this terminal as its standard input, no output, its standard error piped.
    func start(_ exe: URL, _ arguments: [String]) throws -> (process: Process, stderr: Pipe) {
        let process = Process()
        process.executableURL = exe
        process.arguments = arguments
        let err = Pipe()
        process.standardInput = terminal
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        return (process, err)
    }
}

/// The command line the way administrators use it: a file named twice, standard input at a terminal, an output
/// that cannot be opened, a misspelt configuration key.
@Suite struct CommandLineHardeningTests {
    /// A Postfix log split into `mail.log.1` (older half) and `mail.log` in `dir`; returns the live file's path.
    static func splitLog(in dir: URL) throws -> String {
        let fixture = try String(
            contentsOfFile: TestPaths.formatsFixture("postfix/postlogd-subset.log"), encoding: .utf8)
        let lines = fixture.split(separator: "\n", omittingEmptySubsequences: false)
        let half = lines.count / 2
        let live = dir.appendingPathComponent("mail.log").path
        try (lines[..<half].joined(separator: "\n") + "\n").write(
            toFile: dir.appendingPathComponent("mail.log.1").path, atomically: false, encoding: .utf8)
        try lines[half...].joined(separator: "\n").write(toFile: live, atomically: false, encoding: .utf8)
        return live
    }

    @Test("A file named twice (the shell's mail.log mail.log*, ./a and a, a link) is read once, and said so")
    func sameFileTwice() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let live = try Self.splitLog(in: dir)
        let older = dir.appendingPathComponent("mail.log.1").path
        let link = dir.appendingPathComponent("link.log").path
        #expect(symlink(live, link) == 0)
        let once = try CommandLine.run(["events", "--year", "2026", older, live])
        #expect(once.status == 0 && !once.stdout.isEmpty, "\(once.stderr)")
        // `events /d/mail.log /d/mail.log*` as the shell expands it: mail.log, mail.log, mail.log.1.
        let shell = try CommandLine.run(["events", "--year", "2026", live, live, older])
        #expect(shell.status == 0)
        // Before: every event of mail.log twice.
        #expect(shell.stdout == once.stdout)
        #expect(shell.stderr.contains("sendwatch: \(live) is given twice; read once"), "\(shell.stderr)")
        let spellings = try CommandLine.run([
            "events", "--year", "2026", older, live, dir.path + "/./mail.log", link,
        ])
        #expect(spellings.stdout == once.stdout)
        #expect(
            spellings.stderr.contains(
                "sendwatch: \(dir.path)/./mail.log is the same file as \(live); read once, as \(live)"))
        #expect(spellings.stderr.contains("sendwatch: \(link) is the same file as \(live); read once, as \(live)"))
        // Different files are all read, standard input too.
        let piped = try CommandLine.run(
            ["events", "--year", "2026", older, "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: live)))
        // (standard input is a log of its own beside mail.log.1, so a message across the split is not joined:
        // its count differs a little from `once`; it is read whole.)
        let olderAlone = try CommandLine.run(["events", "--year", "2026", older])
        #expect(piped.status == 0)
        #expect(piped.stdout.split(separator: "\n").count > olderAlone.stdout.split(separator: "\n").count + 100)
        #expect(!piped.stderr.contains("read once"))
    }

    @Test("replay --output into a directory that does not exist: exit 2 (the output), as documented; not 64")
    func outputCannotBeOpened() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let live = try Self.splitLog(in: dir)
        let out = dir.appendingPathComponent("no/such/dir/alerts.jsonl").path
        for command in ["replay", "events"] {
            let run = try CommandLine.run([command, "--year", "2026", "--output", out, live])
            #expect(run.status == 2, "\(command): \(run.stderr)")
            #expect(run.stderr.hasPrefix("sendwatch: "), "\(run.stderr)")
            #expect(run.stderr.contains("no/such/dir/alerts.jsonl"))
        }
    }

    @Test("config check: a misspelt or misplaced key gets the nearest known key; exit 1, 64 when unreadable")
    func configSuggestion() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("c.yaml").path
        try "detect:\n  warmpu: 1h\nnew_account_age: 3d\ninput:\n  colour: blue\n".write(
            toFile: file, atomically: false, encoding: .utf8)
        let check = try CommandLine.run(["config", "check", file])
        #expect(check.status == 1)
        #expect(check.stderr.contains("detect.warmpu: unknown key (did you mean detect.warmup?)"), "\(check.stderr)")
        #expect(
            check.stderr.contains("new_account_age: unknown key (did you mean detect.new_account_age?)"),
            "\(check.stderr)")
        #expect(check.stderr.contains("input.colour: unknown key\n"), "nothing near: no guess")
        #expect(try CommandLine.run(["config", "check", dir.appendingPathComponent("none.yaml").path]).status == 64)
    }

    @Test("Standard input at a terminal: a one-line hint on stderr, then it reads until Ctrl-D")
    func terminalHint() throws {
        let exe = try #require(CommandLine.executable)
        let tty = try PseudoTerminal()
        defer { close(tty.master) }
        for arguments in [["events"], ["replay", "--warmup", "0", "-"]] {
            let (process, err) = try tty.start(exe, arguments)
            // Ctrl-D at the start of a line: the end of input, as a user typing it.
            _ = [UInt8(4)].withUnsafeBytes { write(tty.master, $0.baseAddress, 1) }
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)")
            // Before: nothing until the input ended, so a run given no file looked hung.
            #expect(
                text.hasPrefix(
                    "sendwatch: reading the log from standard input, a terminal (give log files as arguments, "
                        + "or pipe one in; Ctrl-D ends)\n"), "\(arguments): \(text)")
        }
        // Not a terminal: no hint.
        #expect(!(try CommandLine.run(["events"], stdin: Data())).stderr.contains("a terminal"))
    }

    @Test("tail and ship reading a terminal say so in their log; they keep running (a live command is stopped)")
    func liveTerminalHint() throws {
        let exe = try #require(CommandLine.executable)
        let tty = try PseudoTerminal()
        defer { close(tty.master) }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("sw-live-tty-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state) }
        // ship connects at its first publish, so a closed port is no problem before any line is read.
        for arguments in [["tail", "-"], ["ship", "--nats", "nats://127.0.0.1:1", "--state", state.path, "-"]] {
            let (process, err) = try tty.start(exe, arguments)
            var text = ""
            let deadline = Date().addingTimeInterval(20)
            while !text.contains("Ctrl-D ends"), Date() < deadline, process.isRunning {
                var probe = pollfd(fd: err.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
                if poll(&probe, 1, 200) > 0 {
                    let chunk = err.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
            }
            process.terminate()
            process.waitUntilExit()
            // Before (ship): nothing said, so `sendwatch ship --nats URL` with no file looked hung.
            #expect(
                text.contains(
                    "reading the log from standard input, a terminal (pipe one in, or give log files or globs to "
                        + "follow; Ctrl-D ends)"), "\(arguments): \(text)")
        }
    }
}
