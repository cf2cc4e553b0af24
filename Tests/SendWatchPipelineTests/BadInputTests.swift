import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchFormats
import SendWatchPipeline
import Testing

@Suite struct BadInputTests {
    /// Lines of each format with hostile content mixed into valid ones.
    static func hostileLog(_ format: LogFormat) -> [UInt8] {
        var out: [UInt8] = []
        func line(_ s: String) { out += Array(s.utf8) + [0x0A] }
        func raw(_ b: [UInt8]) { out += b + [0x0A] }
        switch format {
        case .postfix:
            line(
                "Nov 29 05:00:00 mx1 postfix/smtpd[1]: 0A1B2C3D4E: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=u@example.com"
            )
            raw(
                Array("Nov 29 05:00:00 mx1 postfix/cleanup[2]: 0A1B2C3D4E: warning: header Subject: Bad \u{1}".utf8) + [
                    0xFF, 0xFE, 0x22, 0x5C,
                ]
                    + Array(
                        " from unknown[192.0.2.1]; from=<u@example.com> to=<r@example.org> proto=ESMTP helo=<h>".utf8))
            line(
                "Nov 29 05:00:00 mx1 postfix/qmgr[3]: 0A1B2C3D4E: from=<u@example.com>, size=100, nrcpt=1 (queue active)"
            )
            raw(
                Array("Nov 29 05:00:01 mx1 postfix/smtp[4]: 0A1B2C3D4E: to=<r@exa".utf8) + [0x00]
                    + Array("mple.org>, relay=x, status=sent".utf8))
            line(
                "Nov 29 05:00:01 mx1 postfix/smtp[4]: 0A1B2C3D4E: to=<r@example.org>, relay=x[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)"
            )
        case .exim:
            line(
                "2026-11-29 05:00:00 1xXXZj-0000c0-39 <= u@example.com H=(h) [192.0.2.1]:1 P=esmtpa A=plain:u S=1 id=x@y T=\"Bad \\001\\377\\\"q\\\\\" for r@example.org"
            )
            raw([0x32, 0x30, 0x32, 0x36, 0x00, 0xFF] + Array(" garbage".utf8))
            line(
                "2026-11-29 05:00:01 1xXXZj-0000c0-39 => r@example.org F=<u@example.com> R=r T=t H=h [192.0.2.9] C=\"250 ok\""
            )
        case .jsonl:
            raw(
                Array(#"{"ts":"2026-11-29T05:00:00Z","account":"a","to":"r@example.org","subject":"Bad "#.utf8) + [
                    0xFF, 0xC3,
                ] + Array(#"\u0001\"","x":1}"#.utf8))
            line(#"{"ts":"2026-11-29T05:00:00Z","account":"a","to":"r@example.org","subject":"\ud800 lone"}"#)
            line(String(repeating: "[", count: 10_000))
        default:
            Issue.record("no hostile lines for the format \(format)")
        }
        // Binary garbage and a 1 MB line, for every format.
        var rng = UInt64(0x9E37_79B9_7F4A_7C15)
        var garbage: [UInt8] = []
        for _ in 0..<4096 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let b = UInt8(truncatingIfNeeded: rng >> 56)
            garbage.append(b == 0x0A ? 0x0B : b)
        }
        raw(garbage)
        raw([UInt8](repeating: UInt8(ascii: "A"), count: 1 << 20))
        return out
    }

    @Test(
        "Hostile lines are counted, never fatal, and every event line is valid JSON",
        arguments: LogFormat.allCases)
    func hostile(format: LogFormat) throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("hostile.log")
        try Data(Self.hostileLog(format)).write(to: input)
        var config = Configuration()
        config.format = format
        config.year = 2026
        let outPath = dir.appendingPathComponent("events.jsonl").path
        let writer = try OutputWriter.appending(path: outPath).get()
        var sink = JSONLinesEventSink(output: writer)
        let summary = EventsRun(configuration: config).run(paths: [input.path], sink: &sink) { _ in }
        #expect(summary.failures.isEmpty)
        #expect(summary.linesTooLong == 1)
        #expect(summary.events >= 1)
        let skippedTotal = summary.skipped.reduce(0) { $0 + $1.1 }
        #expect(skippedTotal >= 2)
        let text = try Data(contentsOf: URL(fileURLWithPath: outPath))
        let lines = text.split(separator: 0x0A)
        #expect(lines.count == summary.events)
        for l in lines {
            #expect(!l.contains(where: { $0 < 0x20 }), "no raw control characters in JSON output")
            #expect(String(validating: Array(l), as: UTF8.self) != nil, "output is valid UTF-8")
            let obj = try JSONSerialization.jsonObject(with: Data(l)) as? [String: Any]
            #expect(obj?["recipient"] as? String == "r@example.org")
        }
    }

    @Test("Year-less timestamps take the year from the file's modification time and roll over at New Year")
    func yearFromModificationTime() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("mail.log.1")
        func delivery(_ stamp: String, _ qid: String) -> String {
            "\(stamp) mx1 postfix/qmgr[3]: \(qid): from=<u@example.com>, size=100, nrcpt=1 (queue active)\n"
                + "\(stamp) mx1 postfix/smtp[4]: \(qid): to=<r@example.org>, relay=x[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n"
        }
        let text = delivery("Dec 31 23:59:58", "0A0000000A") + delivery("Jan  1 00:00:02", "0B0000000B")
        try Data(text.utf8).write(to: file)
        // Written on 2 January 2027: the December line is from 2026.
        let mtime = Date(timeIntervalSince1970: 1_798_848_000 + 86_400)
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: file.path)
        let (_, events, _) = runEvents([file.path], fallbackYearHint: .none)
        #expect(events.map(\.time.description) == ["2026-12-31T23:59:58Z", "2027-01-01T00:00:02Z"])
    }

    @Test("Without any year hint, year-less lines are skipped as bad_timestamp rather than guessed")
    func noYearHint() throws {
        let data =
            "Nov 29 05:00:00 mx1 postfix/qmgr[3]: 0A0000000A: from=<u@example.com>, size=1, nrcpt=1 (queue active)\n"
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let writer = Thread {
            if let h = FileHandle(forWritingAtPath: fifo.path) {
                h.write(Data(data.utf8))
                try? h.close()
            }
        }
        writer.start()
        var config = Configuration()
        config.format = .postfix
        let (summary, _, _) = runEvents([fifo.path], configuration: config, fallbackYearHint: .none)
        #expect(summary.skipped.map(\.0) == [.badTimestamp])
    }
}
