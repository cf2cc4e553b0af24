import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchPipeline
import SendWatchTesting
import Testing

/// The run summary splits lines into understood, irrelevant and not recognised, and warns when a non-empty
/// input gives no events (issue 14, item 6).
@Suite struct RunSummaryTests {
    static func write(_ text: String, name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("The classic Postfix fixture: 7 lines understood, 1 irrelevant, 1 of another program; no warning")
    func split() throws {
        let (summary, events, _) = runEvents([TestPaths.formatsFixture("shapes/postfix-classic.log")])
        #expect(events.count == 2)
        #expect(summary.parse.understood == 7)
        #expect(summary.parse.irrelevant == 1)
        #expect(summary.linesNotRecognised == 1)
        #expect(
            summary.text.contains("7 lines understood, 1 irrelevant, 1 not recognised (1 of other programs, 0 skipped)")
        )
        #expect(summary.warning == nil)
    }

    @Test("An ISO-prefixed Postfix log is read as Postfix, and --format still overrides detection")
    func isoPostfix() throws {
        let path = TestPaths.formatsFixture("shapes/postfix-iso-space.log")
        let auto = runEvents([path])
        #expect(auto.summary.inputFormats.map(\.format) == [.postfix])
        #expect(auto.events.count == 2)
        var configuration = Configuration()
        configuration.format = .exim
        let forced = runEvents([path], configuration: configuration)
        #expect(forced.summary.inputFormats.map(\.format) == [.exim])
        #expect(forced.events.isEmpty)
        #expect(forced.summary.warning != nil)
    }

    @Test("A Sendmail log: no events, and the warning names Sendmail")
    func sendmail() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.write(
            """
            Dec  1 10:00:01 mx1 sendmail[812]: 4B1AbC12345: from=<a@example.net>, size=120, class=0, nrcpts=1, msgid=<x@example.net>, proto=ESMTP, daemon=MTA, relay=client [192.0.2.10]
            Dec  1 10:00:02 mx1 sendmail[813]: 4B1AbC12345: to=<b@example.org>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120120, relay=mx.example.org. [198.51.100.7], dsn=2.0.0, stat=Sent (OK)

            """, name: "maillog", in: dir)
        let (summary, events, _) = runEvents([path])
        #expect(events.isEmpty)
        #expect(summary.foreignFormats.map(\.format) == [.sendmail])
        let warning = try #require(summary.warning)
        #expect(warning.contains("Sendmail"))
        #expect(warning.contains("no send event"))
        // With the format given (`--format postfix`), the first lines are still looked at, and named.
        var configuration = Configuration()
        configuration.format = .postfix
        let forced = runEvents([path], configuration: configuration)
        #expect(forced.events.isEmpty)
        #expect(forced.summary.inputFormats.map(\.format) == [.postfix])
        #expect(forced.summary.foreignFormats.map(\.format) == [.sendmail])
        #expect(try #require(forced.summary.warning).contains("looks like a Sendmail log"))
        // Merged with a second log, the same.
        let merged = runEvents([path, path + ".missing"], configuration: configuration, logs: true)
        #expect(merged.summary.foreignFormats.map(\.format) == [.sendmail])
    }

    @Test(
        "journalctl exports without the time of day: the warning names the output mode and what to use instead",
        arguments: [
            ("shapes/postfix-journal-short-monotonic.log", "journalctl -o short-monotonic output"),
            ("shapes/exim-journal-short-monotonic.log", "journalctl -o short-monotonic output"),
            ("shapes/postfix-journal-cat.log", "journalctl -o cat output"),
            ("shapes/exim-journal-cat.log", "journalctl -o cat output"),
        ])
    func timelessJournal(_ fixture: String, _ named: String) throws {
        for format in [nil, LogFormat.postfix, .exim] {
            var configuration = Configuration()
            configuration.format = format
            let (summary, events, _) = runEvents([TestPaths.formatsFixture(fixture)], configuration: configuration)
            #expect(events.isEmpty)
            let warning = try #require(summary.warning)
            #expect(warning.contains("looks like \(named)"), "\(warning)")
            #expect(warning.contains("journalctl -o short-iso (or -o short-unix, or -o json) instead"))
        }
    }

    @Test("journalctl -o json-pretty: no events, and the warning names it and what to use instead")
    func journalPretty() throws {
        let (summary, events, _) = runEvents([TestPaths.formatsFixture("shapes/postfix-journal-pretty.json")])
        #expect(events.isEmpty)
        let warning = try #require(summary.warning)
        #expect(warning.contains("looks like journalctl -o json-pretty output"), "\(warning)")
    }

    @Test("Subject words in a charset iconv does not know: counted in the summary, one warning per charset")
    func undecodedSubjectWords() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classic = try String(
            contentsOfFile: TestPaths.formatsFixture("shapes/postfix-classic.log"), encoding: .utf8)
        let log = try Self.write(
            classic.replacingOccurrences(of: "Your invoice is ready", with: "=?x-nope?q?Your?= invoice"),
            name: "x.log", in: dir)
        let (summary, events, _) = runEvents([log])
        #expect(events.map(\.subject) == ["=?x-nope?q?Your?= invoice", "=?x-nope?q?Your?= invoice"])
        #expect(summary.text.contains(", 1 undecoded_subject_words"), "\(summary.text)")
        #expect(
            summary.warnings.filter { $0.contains("left encoded") } == [
                "sendwatch: warning: 1 subject word in charset x-nope was left encoded (the C library's iconv does not know the charset)"
            ])
        // A plain log says nothing of it.
        let plain = runEvents([TestPaths.formatsFixture("shapes/postfix-classic.log")])
        #expect(!plain.summary.text.contains("undecoded"))
    }

    @Test(
        "A central log of Postfix and Exim hosts: the other server's lines are counted, the warning says how to split")
    func centralPostfixExim() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = TestPaths.formatsFixture("shapes/central-postfix-exim.log")
        // The fixture's 5 Exim lines (one message) are below the warning's 10 lines: counted, no warning.
        let few = runEvents([fixture])
        #expect(few.summary.parse.otherMailServerLines == 5)
        #expect(few.summary.warning == nil)
        // With its Exim lines three times, after 20 more Postfix lines (so that Postfix stays the majority the
        // format is detected by): 15 of 44 lines, it warns.
        let text = try String(contentsOfFile: fixture, encoding: .utf8)
        let all = text.split(separator: "\n").map(String.init)
        let exim = all.filter { $0.contains(" exim[") }
        let connect = "Dec  1 10:00:05 mx1 postfix/smtpd[1234]: connect from unknown[192.0.2.10]"
        let central = all + Array(repeating: connect, count: 20) + exim + exim
        let path = try Self.write(central.joined(separator: "\n") + "\n", name: "central.log", in: dir)
        let (summary, events, _) = runEvents([path])
        #expect(summary.inputFormats.map(\.format) == [.postfix])
        #expect(events.count == 2)
        #expect(summary.parse.otherMailServerLines == 15)
        let warning = try #require(summary.warning)
        #expect(warning.hasPrefix("sendwatch: warning: 15 syslog lines are Exim's in "), "\(warning)")
        #expect(warning.contains(", read as Postfix, and gave no events"))
        let program = "' exim[^ :]*(: | [0-9-]+ )'"
        #expect(warning.contains("grep -E \(program) \(path) > exim.log; grep -v -E \(program) \(path)"))
        // The split the warning gives reads both messages.
        let eximPath = try Self.write(exim.joined(separator: "\n") + "\n", name: "exim.log", in: dir)
        let postfix = all.filter { !$0.contains(" exim[") }
        let postfixPath = try Self.write(postfix.joined(separator: "\n") + "\n", name: "postfix.log", in: dir)
        let split = runEvents([eximPath, postfixPath], logs: true)
        #expect(split.events.count == 4)
        #expect(split.summary.warning == nil)
        // The Postfix classic log alone: no such warning; the Postfix log read as Exim: the hint names --format.
        #expect(runEvents([TestPaths.formatsFixture("shapes/postfix-classic.log")]).summary.warning == nil)
        var configuration = Configuration()
        configuration.format = .exim
        let forced = runEvents([TestPaths.formatsFixture("shapes/postfix-classic.log")], configuration: configuration)
        let hint = try #require(forced.summary.warning)
        #expect(hint.contains("8 are Postfix's, read as Exim: leave --format out or give --format postfix"), "\(hint)")
        // Each line is named once: the 8 Postfix lines are not also counted among other programs' (before:
        // "(9 are other programs' syslog lines); 8 are Postfix's").
        #expect(hint.contains("(1 is another program's syslog line); 8 are Postfix's"), "\(hint)")
        #expect(!hint.contains("grep"))
        // The same 15 Exim lines among 20,000 more Postfix lines are fewer than 1 in 1,000: no warning.
        let busy = all + Array(repeating: connect, count: 20_000) + exim + exim
        let busyPath = try Self.write(busy.joined(separator: "\n") + "\n", name: "busy.log", in: dir)
        let busyRun = runEvents([busyPath])
        #expect(busyRun.summary.parse.otherMailServerLines == 15 && busyRun.events.count == 2)
        #expect(busyRun.summary.warning == nil)
    }

    @Test(
        "The other server's lines warn from exactly 10 lines and exactly 1 in 1,000 of the lines parsed",
        arguments: [
            // (lines parsed, other server's lines, warns)
            (100, 9, false), (100, 10, true),
            (10_000, 10, true), (10_001, 10, false), (20_000, 20, true), (20_000, 19, false),
        ])
    func otherMailServerThresholds(_ lines: Int, _ other: Int, _ warns: Bool) {
        var summary = RunSummary()
        summary.inputs = 1
        summary.lines = lines
        summary.events = 1
        summary.inputFormats = [(name: "central.log", format: .postfix)]
        summary.parse.lines = lines
        summary.parse.events = 1
        summary.parse.ignored = other
        summary.parse.otherPrograms = other
        summary.parse.otherMailServerLines = other
        let warning = summary.warning
        #expect((warning != nil) == warns, "\(lines) lines, \(other) of the other server: \(warning ?? "no warning")")
        if warns { #expect(warning?.contains("\(other) syslog lines are Exim's in central.log") == true) }
    }

    @Test(
        "A format given that does not fit: the warning names the format the first lines look like",
        arguments: [
            ("exim/mainlog", LogFormat.postfix, "exim"), ("postfix/postlogd-subset.log", .jsonl, "postfix"),
            ("jsonl/notifications.jsonl", .exim, "jsonl"),
        ])
    func wrongFormat(_ fixture: String, _ given: LogFormat, _ looksLike: String) throws {
        var configuration = Configuration()
        configuration.format = given
        for logs in [false, true] {
            let path = TestPaths.formatsFixture(fixture)
            let (summary, events, _) = runEvents([path], configuration: configuration, logs: logs)
            #expect(events.isEmpty)
            let warning = try #require(summary.warning)
            // Before, only "no line was recognised as Postfix, Exim or JSON lines; check --format and the input".
            #expect(
                warning.contains(
                    "\(path) was read as --format \(given), but its first lines look like \(looksLike): leave --format "
                        + "out or give --format \(looksLike)"), "\(warning)")
        }
        // Read as what it is, no warning.
        let right = runEvents([TestPaths.formatsFixture(fixture)])
        #expect(!right.events.isEmpty && right.summary.warning == nil)
    }

    @Test("Binary data: a journal file and an executable are named as such, not as a log without sends")
    func binary() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A systemd journal file's header (magic, then binary fields), and a line of text that starts with `{`
        // as executables hold: before, read as JSON lines and warned "the lines recognised carry no sends".
        var journal: [UInt8] = Array("LPKSHHRH".utf8) + [0, 0, 0, 0, 2, 0, 0, 0, 0x0A]
        journal += Array("{\"compressed\":1}\n".utf8) + [0x01, 0x00, 0x7F, 0x0A, 0x0A] + Array("o\0k\n".utf8)
        let journalURL = dir.appendingPathComponent("system.journal")
        try Data(journal).write(to: journalURL)
        var elf: [UInt8] = [0x7F] + Array("ELF".utf8) + [2, 1, 1, 0, 0, 0, 0x0A, 0x0A]
        for k in 0..<5 { elf += Array("{k\(k)}\n".utf8) + [0x00, 0xFF, 0x0A] }
        let elfURL = dir.appendingPathComponent("sendwatch")
        try Data(elf).write(to: elfURL)
        for format in [nil, LogFormat.postfix] {
            var configuration = Configuration()
            configuration.format = format
            let j = runEvents([journalURL.path], configuration: configuration)
            #expect(j.events.isEmpty)
            #expect(j.summary.foreignFormats.map(\.format) == [.systemdJournalFile])
            let jw = try #require(j.summary.warning)
            #expect(jw.contains("system.journal is a systemd journal file, which only journalctl reads"), "\(jw)")
            #expect(jw.contains("journalctl --file FILE -o short-iso | sendwatch replay -"))
            let e = runEvents([elfURL.path], configuration: configuration)
            #expect(e.events.isEmpty)
            let ew = try #require(e.summary.warning)
            #expect(ew.contains("sendwatch looks like binary data, not a text log"), "\(ew)")
            #expect(!ew.contains("carry no sends"))
        }
        // A text log is never binary: the bundled fixtures name nothing foreign.
        #expect(runEvents([TestPaths.formatsFixture("exim/mainlog")]).summary.foreignFormats.isEmpty)
    }

    @Test("An Exchange message tracking log: the warning names Exchange")
    func exchange() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.write(
            """
            #Software: Microsoft Exchange Server
            #Version: 15.02.1118.007
            #Log-type: Message Tracking Log
            #Date: 2026-12-01T10:00:00.000Z
            #Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id
            2026-12-01T10:00:01.123Z,192.0.2.10,client,198.51.100.7,mx1,,Default,SMTP,RECEIVE

            """, name: "MSGTRK20261201-1.LOG", in: dir)
        let (summary, events, _) = runEvents([path])
        #expect(events.isEmpty)
        let warning = try #require(summary.warning)
        #expect(warning.contains("Microsoft Exchange message tracking"))
    }

    @Test("Only connects and other programs: a warning that says nothing carried a send; blank lines are irrelevant")
    func nothingUseful() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var text = ""
        for k in 0..<20 {
            text += "Dec  1 10:00:\(10 + k) mx1 postfix/smtpd[1]: connect from unknown[192.0.2.\(k)]\n\n"
        }
        text += "Dec  1 10:01:00 mx1 CRON[99]: (root) CMD (true)\n"
        let path = try Self.write(text, name: "mail.log", in: dir)
        let (summary, events, _) = runEvents([path])
        #expect(events.isEmpty)
        #expect(summary.skipped.isEmpty)
        #expect(summary.parse.irrelevant == 40)
        #expect(summary.parse.otherPrograms == 1)
        let warning = try #require(summary.warning)
        #expect(warning.contains("carry no sends"))
    }

    @Test("Lines of no known format: the warning says none was recognised")
    func nothingRecognised() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.write("hello\nworld\n", name: "noise.txt", in: dir)
        let (summary, _, _) = runEvents([path])
        let warning = try #require(summary.warning)
        #expect(warning.contains("no line was recognised"))
    }

    @Test("The command prints the warning on stderr after the summary")
    func commandWarns() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.write(
            "Dec  1 10:00:01 mx1 sendmail[812]: 4B1AbC12345: from=<a@example.net>, size=1, nrcpts=1\n",
            name: "maillog", in: dir)
        let r = try CommandLine.run(["events", "--year", "2026", path])
        #expect(r.status == 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("sendwatch: warning: 1 line read and no send event found") == true)
        #expect(lines.last?.contains("Sendmail") == true)
    }

    @Test("An empty input is not silent: the warning says no line was read")
    func emptyInput() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Self.write("", name: "mail.log", in: dir)
        let b = try Self.write("", name: "mail.log.1", in: dir)
        #expect(runEvents([a]).summary.warning == "sendwatch: warning: no line read: the input is empty")
        #expect(runEvents([b, a]).summary.warning == "sendwatch: warning: no line read: all 2 inputs are empty")
        // An input that failed to open is reported as such, not as empty.
        #expect(runEvents([a + ".missing"]).summary.warning == nil)
    }

    @Test("replay prints the warning on a line of its own after the summary, as events does")
    func replayWarnsOnItsOwnLine() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.write("hello\nworld\n", name: "noise.txt", in: dir)
        for threads in [[], ["--single-thread"]] {
            let r = try CommandLine.run(["replay"] + threads + [path])
            #expect(r.status == 0)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 2, "\(r.stderr)")
            #expect(lines.first?.contains("alert records") == true)
            #expect(lines.last?.hasPrefix("sendwatch: warning: 2 lines read and no send event found") == true)
            #expect(lines.last?.contains("journalctl -o short-iso") == true)
            #expect(!r.stderr.contains("\\x0a"))
        }
    }

    @Test("A directory, a pattern the shell left unexpanded: exit 1, with what to do; no year warning")
    func inputMistakes() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let directory = try CommandLine.run(["replay", dir.path])
        #expect(directory.status == 1)
        #expect(directory.stderr.contains("is a directory: name the log files in it instead"), "\(directory.stderr)")
        #expect(!directory.stderr.contains("modification time"), "\(directory.stderr)")
        let pattern = dir.appendingPathComponent("mail.log*").path
        let glob = try CommandLine.run(["replay", pattern])
        #expect(glob.status == 1)
        #expect(glob.stderr.contains("no file matches this pattern"), "\(glob.stderr)")
        let missing = try CommandLine.run(["replay", dir.appendingPathComponent("mail.log").path])
        #expect(missing.stderr.contains("cannot open the file (No such file or directory"), "\(missing.stderr)")
    }

    @Test("Standard input redirected from a file takes the year from the file, like the file named")
    func standardInputFromFile() throws {
        let exe = try #require(CommandLine.executable)
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.write(
            """
            Dec 31 23:59:58 mx1 postfix/qmgr[3]: 0A0000000A: from=<u@example.com>, size=100, nrcpt=1 (queue active)
            Dec 31 23:59:58 mx1 postfix/smtp[4]: 0A0000000A: to=<r@example.org>, relay=x[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)

            """, name: "mail.log.1", in: dir)
        // Written on 2 January 2025: the December line is from 2024, whatever today's date.
        let mtime = Date(timeIntervalSince1970: 1_735_776_000)
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: path)
        let named = try CommandLine.run(["events", path])
        let redirected = try ProgramRun.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", #"exec "$0" events - < "$1""#, exe.path, path],
            timeout: .seconds(600))
        #expect(redirected.status == 0)
        #expect(named.stdout.contains(#""time":"2024-12-31T23:59:58Z""#), "\(named.stdout)")
        #expect(redirected.stdoutText == named.stdout)
        #expect(!redirected.stderr.contains("modification time"), "\(redirected.stderr)")
    }
}
