import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchTesting
import Testing

/// The same Postfix and Exim messages in every line shape real systems write (`Fixtures/shapes/`): each shape
/// must be recognised by content and give the events of the classic shape.
@Suite struct LogShapeTests {
    static func lines(_ name: String) throws -> [[UInt8]] {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/shapes"))
        let data = try Data(contentsOf: url)
        return data.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { Array($0) }
    }

    /// The format `--format auto` picks for the lines.
    static func detect(_ lines: [[UInt8]]) -> LogFormat? {
        var detector = FormatDetector()
        for line in lines {
            if let decided = line.withUnsafeBytes({ detector.observe(line: $0) }) { return decided }
        }
        return detector.bestGuess
    }

    static func parse<P: EventParser>(_ parser: inout P, _ lines: [[UInt8]]) -> (
        events: [SendEvent], outcomes: [LineOutcome]
    ) {
        parser.beginInput(yearHint: .year(2026))
        var events: EventBatch = []
        var outcomes: [LineOutcome] = []
        for line in lines { outcomes.append(line.withUnsafeBytes { parser.parse(line: $0, into: &events) }) }
        parser.finish(into: &events)
        return (events, outcomes)
    }

    /// Events with their times cut to whole seconds (shapes with fractions carry them; the classic one has none).
    static func seconds(_ events: [SendEvent]) -> [SendEvent] {
        events.map { e in
            var e = e
            e.time = EventTime(seconds: e.time.seconds)
            return e
        }
    }

    static let postfixShapes = [
        "postfix-single-space-day.log", "postfix-iso-space.log", "postfix-rfc3339.log", "postfix-rfc5424.log",
        "postfix-journal-short-precise.log", "postfix-journal-short-full.log", "postfix-journal-short-iso.log",
        "postfix-journal-short-unix.log", "postfix-journal.json", "postfix-docker.json", "postfix-facility-tag.log",
        "postfix-busybox.log", "postfix-journal-seq.json", "postfix-journal-bytes.json", "postfix-syslog-name.log",
    ]

    @Test(
        "Each Postfix line shape is detected as Postfix and gives the classic shape's events", arguments: postfixShapes)
    func postfixShape(_ name: String) throws {
        var classicParser = PostfixParser()
        let classic = Self.parse(&classicParser, try Self.lines("postfix-classic.log"))
        #expect(classic.events.count == 2)
        let lines = try Self.lines(name)
        #expect(Self.detect(lines) == .postfix)
        var parser = PostfixParser()
        let shaped = Self.parse(&parser, lines)
        #expect(Self.seconds(shaped.events) == classic.events)
        #expect(shaped.outcomes == classic.outcomes)
        #expect(parser.counters.otherPrograms == 1)
        #expect(parser.counters.understood == 7 && parser.counters.irrelevant == 1)
    }

    static let eximShapes = [
        "exim-single-space-day.log", "exim-iso-space.log", "exim-rfc3339.log", "exim-rfc5424.log",
        "exim-journal-short-precise.log", "exim-journal-short-full.log", "exim-journal-short-iso.log",
        "exim-journal-short-unix.log", "exim-journal.json", "exim-docker.json", "exim-facility-tag.log",
        "exim-own-time.log",
        "exim-iso-own-time.log", "exim-busybox.log",
    ]

    @Test(
        "Each Exim line shape through syslog is detected as Exim and gives the classic shape's events",
        arguments: eximShapes)
    func eximShape(_ name: String) throws {
        var classicParser = EximParser()
        let classic = Self.parse(&classicParser, try Self.lines("exim-classic.log"))
        #expect(classic.events.count == 2)
        let lines = try Self.lines(name)
        #expect(Self.detect(lines) == .exim)
        var parser = EximParser()
        let shaped = Self.parse(&parser, lines)
        #expect(Self.seconds(shaped.events) == classic.events)
        #expect(shaped.outcomes == classic.outcomes)
        #expect(parser.counters.otherPrograms == 1)
    }

    @Test("journalctl's marker lines (-- Boot … --, -- Journal begins at … --) are irrelevant, not broken times")
    func journalMarkers() throws {
        let markers = [
            "-- Journal begins at Sun 2026-11-01 00:00:01 UTC, ends at Tue 2026-12-01 10:00:05 UTC. --",
            "-- Logs begin at Sun 2026-11-01 00:00:01 UTC, end at Tue 2026-12-01 10:00:05 UTC. --",
            "-- Boot 0123456789abcdef0123456789abcdef --", "-- Reboot --", "-- No entries --",
        ].map { Array($0.utf8) }
        for name in ["postfix-classic.log", "exim-classic.log"] {
            let classicLines = try Self.lines(name)
            let lines =
                [markers[0], markers[1]] + classicLines.prefix(3) + [markers[2], markers[3]]
                + classicLines.dropFirst(3) + [markers[4]]
            #expect(Self.detect(lines) == Self.detect(classicLines), "\(name)")
            func check<P: EventParser>(_ plainParser: inout P, _ parser: inout P) {
                let plain = Self.parse(&plainParser, classicLines)
                let marked = Self.parse(&parser, lines)
                #expect(marked.events == plain.events, "\(name): the markers change no event")
                #expect(parser.counters.rejected.isEmpty, "\(name): \(parser.counters.rejected)")
                for k in [0, 1, 5, 6, lines.count - 1] { #expect(marked.outcomes[k] == .ignored, "\(name) \(k)") }
                #expect(parser.counters.irrelevant == plainParser.counters.irrelevant + 5, "\(name)")
            }
            if name.hasPrefix("postfix") {
                var a = PostfixParser()
                var b = PostfixParser()
                check(&a, &b)
            } else {
                var a = EximParser()
                var b = EximParser()
                check(&a, &b)
            }
        }
        // Only a whole marker: a line that merely starts with `-- ` is still a broken line.
        var parser = PostfixParser()
        let r = Self.parse(&parser, [Array("-- Boot 0123".utf8)])
        #expect(r.outcomes == [.rejected(.badTimestamp)])
    }

    @Test("Exim's main log inside Docker's json-file lines gives the main log's events")
    func eximMainlogInDocker() throws {
        var plainParser = EximParser()
        let plain = Self.parse(&plainParser, try Self.lines("exim-mainlog.log"))
        let lines = try Self.lines("exim-mainlog-docker.json")
        #expect(Self.detect(lines) == .exim)
        var parser = EximParser()
        let docker = Self.parse(&parser, lines)
        #expect(docker.events.count == 2)
        #expect(docker.events == plain.events)
    }

    @Test("Fractions of a second are kept from the shapes that write them")
    func fractionsKept() throws {
        var parser = PostfixParser()
        let precise = Self.parse(&parser, try Self.lines("postfix-journal-short-precise.log"))
        #expect(precise.events.map { $0.time.microseconds % 1_000_000 } == [300_001, 400_001])
        var journalParser = PostfixParser()
        let journal = Self.parse(&journalParser, try Self.lines("postfix-journal.json"))
        #expect(journal.events.map { $0.time.microseconds % 1_000_000 } == [3, 4])
    }

    @Test("journalctl -o short-unix: epoch seconds are UTC in any input.timezone, keep their fraction, need no year")
    func shortUnixTimes() throws {
        let lines = try Self.lines("postfix-journal-short-unix.log")
        var parser = PostfixParser(configuration: FormatConfiguration(zone: LocalTimeZone(offsetSeconds: 3600)))
        parser.beginInput(yearHint: .none)
        var events: EventBatch = []
        for line in lines { _ = line.withUnsafeBytes { parser.parse(line: $0, into: &events) } }
        // 2026-12-01 10:00:03.700007 UTC and 10:00:04.800008 UTC.
        #expect(events.map(\.time.microseconds) == [1_796_119_203_700_007, 1_796_119_204_800_008])
        #expect(parser.counters.rejected.isEmpty)
    }

    @Test(
        "Near misses of the short-unix time are broken times, not epochs",
        arguments: [
            "1796119203 mx1 postfix/smtp[1]: 4A1B2C3D4E: removed",  // no fraction
            "1796119203. mx1 postfix/smtp[1]: 4A1B2C3D4E: removed",  // a dot without digits
            "17961192.123456 mx1 postfix/smtp[1]: 4A1B2C3D4E: removed",  // 8 digits: 1970
            "99999999999.123456 mx1 postfix/smtp[1]: 4A1B2C3D4E: removed",  // year 5138
            "1796119203.123456mx1 postfix/smtp[1]: 4A1B2C3D4E: removed",  // no space after the time
        ])
    func shortUnixNearMisses(_ line: String) {
        func rejected(_ outcomes: [LineOutcome]) -> Bool {
            guard outcomes.count == 1, case .rejected(let reason) = outcomes[0] else { return false }
            return reason == .badTimestamp || reason == .notSyslog
        }
        var parser = PostfixParser()
        #expect(rejected(Self.parse(&parser, [Array(line.utf8)]).outcomes))
        var exim = EximParser()
        let eximLine = line.replacingOccurrences(of: "postfix/smtp", with: "exim")
        #expect(rejected(Self.parse(&exim, [Array(eximLine.utf8)]).outcomes))
    }

    @Test("Exim's [1/3] [2\\3] [3/3] parts through syslog are joined; an unfinished line is counted at the end")
    func eximSplitLines() throws {
        var classicParser = EximParser()
        let classic = Self.parse(&classicParser, try Self.lines("exim-classic.log"))
        let lines = try Self.lines("exim-split.log")
        #expect(Self.detect(lines) == .exim)
        var parser = EximParser()
        let joined = Self.parse(&parser, lines)
        #expect(joined.events == classic.events)
        // Parts before the last are used; the other process's [1/2] never finishes and is given up at the end.
        #expect(Array(joined.outcomes[2...5]) == [.used, .used, .used, .used])
        #expect(parser.counters.rejected == [.splitLineIncomplete: 1])
        #expect(parser.counters.understood == 6)
    }

    static let splitHeader = "Dec  1 10:00:01 mx1 exim[77]: "

    @Test("A split part out of order, or announcing another count, gives up its line and is counted")
    func eximSplitOutOfOrder() {
        let first = "\(Self.splitHeader)[1/3] 2026-12-01 10:00:01 1vABCD-000123-AB <= a@example.net"
        let cases: [[String]] = [
            [first, "\(Self.splitHeader)[3/3] for b@example.org"],
            [first, "\(Self.splitHeader)[2/4] for b@example.org"],
            ["\(Self.splitHeader)[2/3] for b@example.org"],
        ]
        for lines in cases {
            var parser = EximParser()
            let r = Self.parse(&parser, lines.map { Array($0.utf8) })
            #expect(r.outcomes.last == .rejected(.splitLineIncomplete))
            #expect(parser.counters.rejected[.splitLineIncomplete] == lines.count)
            #expect(parser.counters.understood == 0)
        }
    }

    @Test("At most 8 split lines are joined at a time: a ninth gives up the one waiting longest")
    func eximSplitBound() {
        var lines: [[UInt8]] = []
        for pid in 0..<9 {
            lines.append(Array("Dec  1 10:00:01 mx1 exim[\(pid)]: [1/2] 1vABCD-00012\(pid)-AB <= a@example.net".utf8))
        }
        lines.append(Array("Dec  1 10:00:01 mx1 exim[0]: [2/2]  for b@example.org".utf8))
        var parser = EximParser()
        let r = Self.parse(&parser, lines)
        #expect(r.outcomes.last == .rejected(.splitLineIncomplete))
        // pid 0's first part (given up at the ninth), its second part, and the 8 others at the end.
        #expect(parser.counters.rejected[.splitLineIncomplete] == 10)
    }

    @Test("A joined line longer than the bound is given up and counted")
    func eximSplitTooLong() {
        let part = String(repeating: "x", count: 30_000)
        let lines = [
            "\(Self.splitHeader)[1/2] 2026-12-01 10:00:01 1vABCD-000123-AB <= a@example.net \(part)",
            "\(Self.splitHeader)[2/2] \(part)",
        ].map { Array($0.utf8) }
        var parser = EximParser()
        let r = Self.parse(&parser, lines)
        #expect(r.outcomes == [.used, .rejected(.splitLineIncomplete)])
        #expect(parser.counters.rejected[.splitLineIncomplete] == 2)
    }

    @Test("A checkpoint between two parts of a split line restores them: the same events follow")
    func eximSplitCheckpoint() throws {
        let lines = try Self.lines("exim-split.log")
        var whole = EximParser()
        let expected = Self.parse(&whole, lines)
        var first = EximParser()
        first.beginInput(yearHint: .year(2026))
        var events: EventBatch = []
        for line in lines.prefix(3) { _ = line.withUnsafeBytes { first.parse(line: $0, into: &events) } }
        let saved = try JSONDecoder().decode(
            EximParser.Checkpoint.self, from: try JSONEncoder().encode(first.checkpoint()))
        var second = try EximParser(configuration: .init(), restoring: saved)
        for line in lines.dropFirst(3) { _ = line.withUnsafeBytes { second.parse(line: $0, into: &events) } }
        second.finish(into: &events)
        #expect(events == expected.events)
        #expect(second.counters == whole.counters)
    }

    @Test(
        "Time zones of journalctl -o short-full: UTC, GMT and numeric are read; an abbreviation is a counted skip",
        arguments: [
            ("Tue 2026-12-01 10:00:01 GMT", LineOutcome.ignored),
            ("Tue 2026-12-01 10:00:01 UTC", .ignored),
            ("Tue 2026-12-01 11:00:01 +0100", .ignored),
            ("Tue 2026-12-01 11:00:01 +01", .ignored),
            ("Tue 2026-12-01 11:00:01 CET", .rejected(.unknownTimeZone)),
            // No zone at all: the host is read where the zone belongs.
            ("Tue 2026-12-01 11:00:01", .rejected(.unknownTimeZone)),
        ])
    func shortFullZones(_ prefix: String, _ outcome: LineOutcome) {
        var parser = PostfixParser()
        let r = Self.parse(&parser, [Array("\(prefix) mx1 postfix/smtpd[1]: connect from x[192.0.2.1]".utf8)])
        #expect(r.outcomes == [outcome])
    }

    @Test(
        "RFC 5424 lines without a time, program or structured data are skipped, not misread",
        arguments: [
            ("<22>1 - mx1 postfix/smtpd 1 - - connect from x[192.0.2.1]", RejectReason.badTimestamp),
            ("<22>1 2026-12-01T10:00:01Z mx1 - 1 - - connect from x[192.0.2.1]", .notSyslog),
            ("<22>1 2026-12-01T10:00:01Z mx1 postfix/smtpd 1 - [unclosed connect", .notSyslog),
            ("<22>1 2026-12-01T10:00:01Z mx1 postfix/smtpd 1 -", .notSyslog),
        ])
    func rfc5424Broken(_ line: String, _ reason: RejectReason) {
        var parser = PostfixParser()
        let r = Self.parse(&parser, [Array(line.utf8)])
        #expect(r.outcomes == [.rejected(reason)])
    }

    @Test("A journal record without MESSAGE text or identifier is malformed; other JSON is read as before")
    func journalMalformed() {
        let lines = [
            #"{"__REALTIME_TIMESTAMP":"1796119201000000","SYSLOG_IDENTIFIER":"postfix/smtpd","MESSAGE":["a"]}"#,
            #"{"__REALTIME_TIMESTAMP":"1796119201000000","MESSAGE":"connect from x[192.0.2.1]"}"#,
            #"{"__REALTIME_TIMESTAMP":"99","SYSLOG_IDENTIFIER":"postfix/smtpd","MESSAGE":"connect"}"#,
            #"{"ts":"2026-12-01T10:00:01Z","to":"a@example.org"}"#,
        ].map { Array($0.utf8) }
        var parser = PostfixParser()
        let r = Self.parse(&parser, lines)
        #expect(
            r.outcomes == [
                .rejected(.malformed), .rejected(.malformed), .rejected(.timestampOutOfRange),
                .rejected(.badTimestamp),
            ])
    }

    @Test("A journal MESSAGE of byte values is the message's bytes; an element not a byte is malformed")
    func journalByteMessage() {
        let head = #"{"__REALTIME_TIMESTAMP":"1796119201000000","SYSLOG_IDENTIFIER":"postfix/cleanup","MESSAGE":"#
        // `4A1B2C3D4E: warning: header Subject: caf\xE9 from x` (a raw Latin-1 byte: not UTF-8, so journald
        // wrote an array).
        let subject = Array("4A1B2C3D4E: warning: header Subject: caf".utf8) + [0xE9] + Array(" from x".utf8)
        let good = head + "[" + subject.map(String.init).joined(separator: ", ") + "]}"
        var envelope = JSONEnvelope()
        var out: [UInt8] = []
        #expect(Array(good.utf8).withUnsafeBytes { envelope.unwrap($0, into: &out) } == .unwrapped)
        #expect(Array(out.suffix(subject.count)) == subject)
        for bad in ["[256]", "[-1]", "[1.5]", "[[1]]", "[1,,2]", "[1 2]", "[1,]", "[,1]"] {
            #expect(Array((head + bad + "}").utf8).withUnsafeBytes { envelope.unwrap($0, into: &out) } != .unwrapped)
        }
    }

    @Test("journalctl -o json-pretty is recognised, votes for no format, and its warning names it")
    func journalPretty() throws {
        let lines = try Self.lines("postfix-journal-pretty.json")
        var detector = FormatDetector()
        for line in lines { #expect(line.withUnsafeBytes { detector.observe(line: $0) } == nil) }
        #expect(detector.bestGuess == nil)
        #expect(detector.foreignGuess == .journalJSONPretty)
        #expect(ForeignFormat.journalJSONPretty.advice.contains("json-pretty"))
        #expect(ForeignFormat.journalJSONPretty.advice.contains("journalctl -o json"))
    }

    @Test("Other mail programs' lines, some with a Postfix daemon's name after a slash, are not read as Postfix")
    func notPostfixPrograms() {
        let lines = [
            "Dec  1 10:00:00 mx1 dovecot[801]: imap-login: Login: user=<alice@example.net>, method=PLAIN",
            "Dec  1 10:00:00 mx1 dovecot: lmtp(4242): Connect from local",
            "Dec  1 10:00:00 mx1 dovecot/lmtp[4242]: 4A1B2C3D4E: to=<bob@example.org>, status=sent (saved)",
            "Dec  1 10:00:00 mx1 cyrus/lmtp[77]: 4A1B2C3D4E: to=<bob@example.org>, status=sent",
            "Dec  1 10:00:00 mx1 cyrus/pipe[77]: 4A1B2C3D4E: to=<bob@example.org>, status=sent",
            "Dec  1 10:00:00 mx1 amavis[2101]: (02101-01) Passed CLEAN {RelayedInbound}, <a@example.net> -> <b@example.org>",
            "Dec  1 10:00:00 mx1 amavis/smtp[2101]: 4A1B2C3D4E: to=<bob@example.org>, status=sent",
            "Dec  1 10:00:00 mx1 opendkim[611]: 4A1B2C3D4E: DKIM-Signature field added (s=mail, d=example.net)",
            "Dec  1 10:00:00 mx1 rspamd[901]: <4a1b2c>; proxy; rspamd_task_write_log: id: <n1@example.net>",
            "Dec  1 10:00:00 mx1 app/worker[5]: 4A1B2C3D4E: to=<bob@example.org>, status=sent",
        ].map { Array($0.utf8) }
        #expect(Self.detect(lines) == nil)
        var parser = PostfixParser()
        let r = Self.parse(&parser, lines)
        #expect(r.events.isEmpty)
        #expect(parser.counters.otherPrograms == lines.count)
        // The daemon is the last component: an instance with a Postfix daemon there is read.
        #expect(
            Self.detect([Array("Dec  1 10:00:00 mx1 out/submission/smtpd[5]: connect from x[192.0.2.1]".utf8)])
                == .postfix)
    }

    @Test("Blank lines are irrelevant, not bad_timestamp, for Postfix and Exim")
    func blankLines() {
        let lines = ["", "   ", "\t\r"].map { Array($0.utf8) }
        var postfix = PostfixParser()
        #expect(Self.parse(&postfix, lines).outcomes == [.ignored, .ignored, .ignored])
        #expect(postfix.counters.rejected.isEmpty && postfix.counters.irrelevant == 3)
        var exim = EximParser()
        #expect(Self.parse(&exim, lines).outcomes == [.ignored, .ignored, .ignored])
        #expect(exim.counters.rejected.isEmpty && exim.counters.irrelevant == 3)
    }

    @Test("An ISO-prefixed shared syslog file votes Postfix, not Exim, whatever its other programs")
    func isoSharedSyslog() {
        var lines: [[UInt8]] = []
        for k in 0..<20 { lines.append(Array("2026-12-01 10:00:0\(k % 10) mx1 CRON[\(k)]: (root) CMD (true)".utf8)) }
        lines.append(Array("2026-12-01 10:00:09 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]".utf8))
        #expect(Self.detect(lines) == .postfix)
    }

    @Test(
        "Logs of other MTAs are recognised by name, and vote for no format",
        arguments: [
            (
                "Dec  1 10:00:01 mx1 sendmail[812]: 4B1AbC12345: from=<a@example.net>, size=12, class=0, nrcpts=1",
                ForeignFormat.sendmail
            ),
            ("Dec  1 10:00:01 mx1 sm-mta[812]: 4B1AbC12345: to=<b@example.org>, delay=00:00:01, stat=Sent", .sendmail),
            ("#Software: Microsoft Exchange Server", .exchangeMessageTracking),
            ("#Fields: date-time,client-ip,client-hostname,server-ip", .exchangeMessageTracking),
            // A row without the header lines (a file cut from the middle): before, "no line was recognised".
            (
                "2026-12-01T10:00:01.234Z,10.0.0.5,CLIENT01,10.0.0.9,EXCH01,08DE1A2B3C4D5E6F;250 2.6.0,"
                    + "Default Receive Connector,SMTP,RECEIVE,4398046511105,<m1@example.net>,,b@example.org,,512,1,,,"
                    + "Hello,a@example.net,a@example.net,",
                .exchangeMessageTracking
            ),
            (
                "2026-12-01T10:00:01Z,,,,EXCH01,,,STOREDRIVER,DELIVER,1,<m2@x>,,b@x,250,1,1,,,S,a@x,a@x,",
                .exchangeMessageTracking
            ),
        ])
    func foreignFormats(_ line: String, _ foreign: ForeignFormat) {
        var detector = FormatDetector()
        #expect(Array(line.utf8).withUnsafeBytes { detector.observe(line: $0) } == nil)
        #expect(detector.bestGuess == nil)
        #expect(detector.foreignGuess == foreign)
    }

    @Test(
        "Lines that start with a time and a comma but are no Exchange row are not named as Exchange",
        arguments: [
            "2026-12-01T10:00:01.234Z,a,b,c",
            "2026-12-01T10:00:01.234Z,1,2,3,4,5,6,7,8,9,10,11,12,13",
            "2026-12-01T10:00:01.234+00:00 mx1 postfix/smtp[1]: A: to=<b@x>, relay=x, SEND,a,b,c,d,e,f,g,h,i,j,k,l",
        ])
    func notExchange(_ line: String) {
        var detector = FormatDetector()
        _ = Array(line.utf8).withUnsafeBytes { detector.observe(line: $0) }
        #expect(detector.foreignGuess == nil)
    }

    @Test("A central log of a Postfix host and an Exim host: each parser counts the other server's lines apart")
    func centralPostfixExim() throws {
        let lines = try Self.lines("central-postfix-exim.log")
        #expect(Self.detect(lines) == .postfix)
        var postfix = PostfixParser()
        #expect(Self.parse(&postfix, lines).events.count == 2)
        #expect(postfix.counters.otherPrograms == 6 && postfix.counters.otherMailServerLines == 5)
        var exim = EximParser()
        #expect(Self.parse(&exim, lines).events.count == 2)
        #expect(exim.counters.otherPrograms == 9 && exim.counters.otherMailServerLines == 8)
        // The count survives a checkpoint (tail) like every other count (checkpoint version 2).
        let restored = try PostfixFormat.makeParser(FormatSettings(), restoring: roundTrip(postfix.checkpoint()))
        #expect(restored.counters == postfix.counters)
        let restoredExim = try EximFormat.makeParser(FormatSettings(), restoring: roundTrip(exim.checkpoint()))
        #expect(restoredExim.counters == exim.counters)
        // Only the other server's lines: a CRON line is another program's, not another mail server's.
        var plain = PostfixParser()
        _ = Self.parse(&plain, try Self.lines("postfix-classic.log"))
        #expect(plain.counters.otherPrograms == 1 && plain.counters.otherMailServerLines == 0)
    }

    @Test(
        "journalctl -o short-monotonic and -o cat exports are recognised, vote for no format, and are not read",
        arguments: [
            ("postfix-journal-short-monotonic.log", ForeignFormat.journalMonotonic),
            ("exim-journal-short-monotonic.log", .journalMonotonic), ("postfix-journal-cat.log", .journalCat),
            ("exim-journal-cat.log", .journalCat),
        ])
    func timelessJournal(_ name: String, _ foreign: ForeignFormat) throws {
        let lines = try Self.lines(name)
        var detector = FormatDetector()
        for line in lines { #expect(line.withUnsafeBytes { detector.observe(line: $0) } == nil) }
        #expect(detector.bestGuess == nil)
        #expect(detector.foreignGuess == foreign)
        #expect(foreign.advice.contains("journalctl -o short-iso"))
        var postfix = PostfixParser()
        var exim = EximParser()
        #expect(Self.parse(&postfix, lines).events.isEmpty)
        #expect(Self.parse(&exim, lines).events.isEmpty)
    }

    @Test("A short-delta line is a monotonic one; a bracketed word or a bare number is neither")
    func timelessNearMisses() {
        func guess(_ line: String) -> ForeignFormat? {
            var detector = FormatDetector()
            _ = Array(line.utf8).withUnsafeBytes { detector.observe(line: $0) }
            return detector.foreignGuess
        }
        #expect(guess("[86001.370371 <    0.000012>] mx1 postfix/smtp[1237]: 4A1B2C3D4E: removed") == .journalMonotonic)
        #expect(guess("[info] mx1 postfix/smtp[1237]: 4A1B2C3D4E: removed") == nil)
        #expect(guess("[86001.370371]") == nil)
        #expect(guess("4A1B2C3D4E: warning: unknown thing") == nil)
        #expect(guess("12345 <= looks like nothing") == nil)
    }
}
