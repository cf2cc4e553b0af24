import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// ``SyslogHeaderReader`` on BusyBox syslogd's `TIME HOST facility.priority PROGRAM[PID]: MESSAGE` shape, and the
/// tokens it must not take for a `facility.priority`.
@Suite struct SyslogHeaderTests {
    /// The header of `line`, with its host, program and message as strings, or the reason it was refused.
    static func read(_ line: String) -> Result<(host: String, program: String, message: String), RejectReason> {
        var reader = SyslogHeaderReader(zone: .utc, yearHint: .year(2026))
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBytes { p in
            reader.read(p).map { h in
                (
                    Bytes.string(p, h.host), Bytes.string(p, h.program),
                    Bytes.string(p, h.messageStart..<p.count)
                )
            }
        }
    }

    @Test(
        "BusyBox's facility.priority after the host is skipped, in every layout before it",
        arguments: [
            "Nov 29 05:29:39 mx1 mail.info postfix/smtpd[29953]: connect from x",
            "Nov 29 05:29:39 mx1 local0.notice postfix/smtpd[29953]: connect from x",
            "Nov 29 05:29:39 mx1 mail.warn postfix/smtpd[29953]: connect from x",
            "Nov 29 05:29:39 mx1 mail.err postfix/smtpd[29953]: connect from x",
            "Nov 29 05:29:39 mx1 authpriv.warning postfix/smtpd[29953]: connect from x",
            "Nov 29 05:29:39 mx1 kern.emerg postfix/smtpd[29953]: connect from x",
            "Nov 29 05:29:39.123456 mx1 mail.debug postfix/smtpd[29953]: connect from x",
            "2026-11-29T05:29:39+00:00 mx1 mail.info postfix/smtpd[29953]: connect from x",
            "<22>Nov 29 05:29:39 mx1 mail.info postfix/smtpd[29953]: connect from x",
        ])
    func busyBoxTag(_ line: String) throws {
        let h = try Self.read(line).get()
        #expect(h.host == "mx1")
        #expect(h.program == "postfix/smtpd")
        #expect(h.message == "connect from x")
    }

    @Test("A program without a pid after the tag")
    func busyBoxTagNoPid() throws {
        let h = try Self.read("Nov 29 05:29:39 mx1 mail.info exim: 1vABCD-000123-AB Completed").get()
        #expect(h.program == "exim")
        #expect(h.message == "1vABCD-000123-AB Completed")
    }

    @Test("A real program tag is the program, even one shaped like facility.priority")
    func programTagKept() throws {
        let plain = try Self.read("Nov 29 05:29:39 mx1 postfix/smtpd[29953]: connect from x").get()
        #expect(plain.program == "postfix/smtpd")
        let tagLike = try Self.read("Nov 29 05:29:39 mx1 mail.info: hello").get()
        #expect(tagLike.program == "mail.info")
        #expect(tagLike.message == "hello")
        let tagLikePid = try Self.read("Nov 29 05:29:39 mx1 mail.info[3]: hello").get()
        #expect(tagLikePid.program == "mail.info")
    }

    @Test(
        "A token that is not a syslog facility.priority is not skipped: the line stays not_syslog",
        arguments: [
            "Nov 29 05:29:39 mx1 mail.example.com postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 mail.infos postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 mail.inf postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 mails.info postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 local8.info postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 Mail.Info postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 mail. postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 .info postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 mail.none postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 mail.info.x postfix/smtpd[1]: connect from x",
            "Nov 29 05:29:39 mx1 authprivx.warning postfix/smtpd[1]: connect from x",
            // Only one tag.
            "Nov 29 05:29:39 mx1 mail.info mail.info postfix/smtpd[1]: connect from x",
            // A tag and nothing after it.
            "Nov 29 05:29:39 mx1 mail.info ",
            "Nov 29 05:29:39 mx1 mail.info postfix/smtpd[1] connect from x",
        ])
    func notATag(_ line: String) {
        guard case .failure(let reason) = Self.read(line) else {
            Issue.record("read as a syslog line: \(line)")
            return
        }
        #expect(reason == .notSyslog)
    }

    @Test("isFacilityPriority reads whole tokens only")
    func facilityPriorityTokens() {
        func check(_ token: String) -> Bool {
            let bytes = Array(("xx " + token + " yy").utf8)
            return bytes.withUnsafeBytes { SyslogHeaderReader.isFacilityPriority($0, 3..<(3 + token.utf8.count)) }
        }
        for good in [
            "mail.info", "local0.notice", "local7.debug", "user.panic", "daemon.error", "lpr.crit", "ftp.alert",
            "uucp.warn", "news.err", "syslog.info", "cron.notice", "auth.info",
        ] {
            #expect(check(good), "\(good)")
        }
        for bad in ["mail", "mail.", "mail.example.com", "mx1.example", "local.info", "kern.infoo", "12345.67890", ""] {
            #expect(!check(bad), "\(bad)")
        }
    }

    /// Real Postfix lines in BusyBox's shape (`Fixtures/postfix/busybox-subset.log`, see the README there) give
    /// the events, outcomes and counters of the same lines without the `facility.priority` token.
    @Test("A real Postfix capture in BusyBox syslogd's shape gives the events of the captured lines")
    func busyBoxCapture() throws {
        let url = try #require(
            Bundle.module.url(forResource: "busybox-subset", withExtension: "log", subdirectory: "Fixtures/postfix"))
        let busybox = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(busybox.count == 54)
        // Remove the third token after the time (the tag): `Nov 29 05:29:39 mx1 mail.info postfix/…`.
        let plain = busybox.map { line -> String in
            var parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
            #expect(parts[4].hasPrefix("mail."))
            parts.remove(at: 4)
            return parts.joined(separator: " ")
        }
        #expect(busybox.filter { $0.contains(" mail.warn ") }.count == 6)
        func parse(_ lines: [String]) -> ([SendEvent], [LineOutcome], ParseCounters) {
            var parser = PostfixParser()
            parser.beginInput(yearHint: .year(2026))
            var events: EventBatch = []
            var outcomes: [LineOutcome] = []
            for line in lines {
                outcomes.append(Array(line.utf8).withUnsafeBytes { parser.parse(line: $0, into: &events) })
            }
            parser.finish(into: &events)
            return (events, outcomes, parser.counters)
        }
        let (plainEvents, plainOutcomes, plainCounters) = parse(plain)
        let (events, outcomes, counters) = parse(busybox)
        #expect(plainEvents.count == 9)
        #expect(events == plainEvents)
        #expect(outcomes == plainOutcomes)
        #expect(counters == plainCounters)
        #expect(counters.rejected.isEmpty)
        var detector = FormatDetector()
        var decided: LogFormat?
        for line in busybox where decided == nil {
            decided = Array(line.utf8).withUnsafeBytes { detector.observe(line: $0) }
        }
        #expect((decided ?? detector.bestGuess) == .postfix)
    }

    /// Exim through BusyBox syslogd with a date-time in front (the layout Exim's main log also starts with): the
    /// tag must not make the line look like a main-log body.
    @Test("Exim lines with a date-time, host and facility.priority give the events of the same lines without it")
    func eximIsoTimeWithTag() throws {
        let iso = try LogShapeTests.lines("exim-iso-space.log")
        // `2026-12-01 10:00:00 mx1 exim[4320]: …` → `2026-12-01 10:00:00 mx1 mail.info exim[4320]: …`
        let tagged = iso.map { line -> [UInt8] in
            let tag = Array((line[24...].starts(with: Array("CRON".utf8)) ? "cron.info " : "mail.info ").utf8)
            return Array(line[..<24]) + tag + Array(line[24...])
        }
        var plainParser = EximParser()
        let plain = LogShapeTests.parse(&plainParser, iso)
        var parser = EximParser()
        let shaped = LogShapeTests.parse(&parser, tagged)
        #expect(plain.events.count == 2)
        #expect(shaped.events == plain.events)
        #expect(shaped.outcomes == plain.outcomes)
        #expect(parser.counters == plainParser.counters)
        #expect(LogShapeTests.detect(tagged) == .exim)
    }
}
