import Foundation
import SendWatchCore
import SendWatchPipeline
import SendWatchTesting
import Testing

/// Runs that read a real log and would otherwise end in "0 alert records" without a word: the warnings that say
/// why, on stderr after the summary.
@Suite struct QuietRunWarningTests {
    /// A Postfix log of `messages` messages of one account, one every `every` seconds from 10:00, each with its
    /// `header_checks` Subject line when `subjects`.
    static func postfixLog(messages: Int, every: Int, subjects: Bool = true) -> String {
        var text = ""
        for k in 0..<messages {
            let t = 36_000 + k * every
            let stamp = String(format: "Dec  1 %02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
            let qid = String(format: "0A1B2C%04X", k)
            text += "\(stamp) mx1 postfix/smtpd[1]: \(qid): client=unknown[192.0.2.7], sasl_method=PLAIN, "
            text += "sasl_username=new@example.net\n"
            if subjects {
                text += "\(stamp) mx1 postfix/cleanup[2]: \(qid): warning: header Subject: Your invoice \(k) from "
                text += "unknown[192.0.2.7]; from=<new@example.net> to=<r\(k)@example.org> proto=ESMTP helo=<h>\n"
            }
            text += "\(stamp) mx1 postfix/qmgr[3]: \(qid): from=<new@example.net>, size=500, nrcpt=1 (queue active)\n"
            text += "\(stamp) mx1 postfix/smtp[4]: \(qid): to=<r\(k)@example.org>, relay=x[192.0.2.9]:25, delay=1, "
            text += "delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n"
            text += "\(stamp) mx1 postfix/qmgr[3]: \(qid): removed\n"
        }
        return text
    }

    static func write(_ text: String, name: String) throws -> (dir: URL, path: String) {
        let dir = try TestPaths.makeTemporaryDirectory()
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return (dir, url.path)
    }

    @Test("A log shorter than the warm-up: replay says every account counted as established, and what to give")
    func logWithinWarmup() throws {
        // 40 messages in 13 minutes: all within the default 1 h warm-up.
        let (dir, path) = try Self.write(Self.postfixLog(messages: 40, every: 20), name: "mail.log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLine.run(["replay", "--year", "2026", path])
        #expect(r.status == 0)
        #expect(r.stderr.contains("; detection: 0 events of young accounts"))
        let warning = try #require(r.stderr.split(separator: "\n").first { $0.contains("warm-up") })
        #expect(warning.hasPrefix("sendwatch: warning: the 40 events of the input span 13m of event time"))
        #expect(warning.contains("within the warm-up (1h from the first event)"))
        #expect(warning.contains("--warmup 0"))
        #expect(warning.contains("--accounts FILE"))

        // With the warm-up off the account is young: no such warning.
        let off = try CommandLine.run(["replay", "--year", "2026", "--warmup", "0", path])
        #expect(off.status == 0)
        #expect(off.stderr.contains("; detection: 40 events of young accounts"))
        #expect(!off.stderr.contains("warm-up"))
    }

    @Test("A log that reaches past the warm-up does not warn about it")
    func logPastWarmup() throws {
        // 40 messages in 2 h 10 min: the warm-up's hour is a part of it.
        let (dir, path) = try Self.write(Self.postfixLog(messages: 40, every: 200), name: "mail.log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLine.run(["replay", "--year", "2026", path])
        #expect(r.status == 0)
        #expect(!r.stderr.contains("warm-up"))
    }

    @Test("Postfix without its header_checks lines: replay says no event carried a subject, and how to log it")
    func noSubjects() throws {
        let (dir, path) = try Self.write(Self.postfixLog(messages: 40, every: 20, subjects: false), name: "mail.log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLine.run(["replay", "--year", "2026", "--warmup", "0", path])
        #expect(r.status == 0)
        let warning = try #require(r.stderr.split(separator: "\n").first { $0.contains("subject") })
        #expect(warning.hasPrefix("sendwatch: warning: none of the 40 events carried a subject or template id"))
        #expect(warning.contains("template_swarm, slot_content, shared_artefact"))
        #expect(warning.contains("header_checks (/^Subject:/ WARN, see docs/formats.md, Postfix)"))

        // The same log with its Subject lines: no such warning.
        let (withDir, withPath) = try Self.write(Self.postfixLog(messages: 40, every: 20), name: "mail.log")
        defer { try? FileManager.default.removeItem(at: withDir) }
        let logged = try CommandLine.run(["replay", "--year", "2026", "--warmup", "0", withPath])
        #expect(logged.status == 0)
        #expect(!logged.stderr.contains("carried a subject"))
    }

    @Test("JSON lines without subject or template_id: the warning names the fields")
    func noSubjectsJSON() throws {
        var text = ""
        for k in 0..<12 {
            text += "{\"ts\":\"2026-12-01T10:00:\(10 + k)Z\",\"to\":\"r\(k)@example.org\",\"account\":\"a\"}\n"
        }
        let (dir, path) = try Self.write(text, name: "sends.jsonl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CommandLine.run(["replay", "--warmup", "0", path])
        #expect(r.status == 0)
        let warning = try #require(r.stderr.split(separator: "\n").first { $0.contains("carried a subject") })
        #expect(warning.contains("JSON lines need a subject or template_id field"))
        #expect(!warning.contains("Postfix"))
    }
}
