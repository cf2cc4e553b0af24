import Foundation
import Logging
import SendWatchCore
import SendWatchFormats
import SendWatchTesting
import Testing

@testable import SendWatchPipeline

/// `tail` says once, in its log, what `replay` warns about the lines read: nothing recognised, no subject.
@Suite("tail diagnoses its input once", .serialized)
struct TailDiagnosisTests {
    /// The lines `tail --from-start` logs over `text` as `mail.log`, in two polls.
    func tailLog(_ text: String, format: String? = nil) throws -> [String] {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(text.utf8).write(to: dir.appendingPathComponent("mail.log"))
        let records = LogRecords()
        var configuration = TailTestData.configuration
        configuration.format = format.flatMap(LogFormat.init(rawValue:))
        let run = try TailRun(
            configuration: configuration, options: TailRunTests().options(dir),
            outputPath: alertsPath(dir), logger: Logger(label: "test") { _ in records })
        try run.step(now: 1)
        try run.step(now: 2)
        return records.lines
    }

    @Test("Lines of no mail log: the replay warning, logged once at the first poll that read lines")
    func nothingRecognised() throws {
        let text = (0..<30).map { "127.0.0.1 - - [01/Dec/2026:10:00:\(10 + $0) +0000] \"GET / HTTP/1.1\" 200 1\n" }
        let lines = try tailLog(text.joined())
        let warnings = lines.filter { $0.contains("no line was recognised as Postfix, Exim or JSON lines") }
        #expect(warnings.count == 1, "\(lines)")
        #expect(!(warnings.first ?? "").contains("sendwatch: warning:"))
    }

    @Test("A Postfix log without its Subject lines: one warning naming header_checks")
    func noSubjects() throws {
        let lines = try tailLog(QuietRunWarningTests.postfixLog(messages: 30, every: 20, subjects: false))
        let warnings = lines.filter { $0.contains("carried a subject") }
        #expect(warnings.count == 1, "\(lines)")
        #expect((warnings.first ?? "").contains("header_checks"))
        #expect(!lines.contains { $0.contains("no send event found") })
    }

    @Test("A Postfix log with its Subject lines: no diagnosis")
    func quietWhenFine() throws {
        let lines = try tailLog(QuietRunWarningTests.postfixLog(messages: 30, every: 20))
        #expect(!lines.contains { $0.contains("carried a subject") || $0.contains("recognised") }, "\(lines)")
    }

    @Test("An Exim log read with --format postfix: the warning says to check --format, once")
    func wrongFormat() throws {
        let text = (0..<30).map { k in
            "2026-12-01 10:00:\(10 + k) 1xXXZj-0000c0-\(10 + k) <= a@example.net H=(h) [192.0.2.7] P=esmtpa "
                + "A=plain:a@example.net S=500 id=m\(k)@example.net T=\"Hello\"\n"
        }
        let lines = try tailLog(text.joined(), format: "postfix")
        let warnings = lines.filter { $0.contains("no send event found") }
        #expect(warnings.count == 1, "\(lines)")
        // As replay does, tail looks at the first lines of a stream whose format is given, and names the format
        // they look like. (Before, it could only say that no line was recognised.)
        #expect(
            (warnings.first ?? "").contains(
                "was read as --format postfix, but its first lines look like exim: leave --format out or give --format exim"
            ), "\(lines)")
    }
}
