import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchTesting
import Testing

/// Records which format a ``FormatList`` handed over, and counts the lines it parsed with it.
private struct RecordingVisitor: ParserVisitor {
    var visited: [LogFormat] = []
    var line: [UInt8] = []
    var events: EventBatch = []

    mutating func visit<Format: FormatComponent>(_ format: Format.Type, parser: consuming Format.Parser)
        -> Format.Parser
    {
        visited.append(Format.format)
        var parser = parser
        line.withUnsafeBytes { _ = parser.parse(line: $0, into: &events) }
        return parser
    }
}

@Suite struct FormatRegistryTests {
    @Test("The registered formats keep the names and order the command line, config and checkpoints use")
    func names() throws {
        #expect(LogFormat.allCases.map(\.rawValue) == ["postfix", "exim", "jsonl"])
        #expect(LogFormat.allCases == [.postfix, .exim, .jsonl])
        for (i, f) in LogFormat.allCases.enumerated() {
            #expect(LogFormat(rawValue: f.rawValue) == f)
            #expect(f.registryIndex == i)
            #expect(RegisteredFormats.components[i].format == f)
        }
        #expect(LogFormat(rawValue: "auto") == nil)
        #expect(LogFormat(rawValue: "Postfix") == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(LogFormat.self, from: Data(#""sendmail""#.utf8))
        }
    }

    @Test("withParser hands over the parser of the format at the index, made once and kept between visits")
    func withParser() throws {
        var parsers = RegisteredFormats.noParsers
        var visitor = RecordingVisitor(line: Array(#"{"ts":"2026-11-29T05:00:00Z","account":"a","to":"r@x"}"#.utf8))
        for _ in 0..<3 {
            RegisteredFormats.withParser(
                at: LogFormat.jsonl.registryIndex, in: &parsers, settings: FormatSettings(), &visitor)
        }
        RegisteredFormats.withParser(
            at: LogFormat.exim.registryIndex, in: &parsers, settings: FormatSettings(), &visitor)
        #expect(visitor.visited == [.jsonl, .jsonl, .jsonl, .exim])
        #expect(visitor.events.count == 3)
        var total = ParseCounters()
        RegisteredFormats.addCounters(of: parsers, to: &total)
        // Three JSON lines on one kept parser, one (rejected) JSON line on the Exim parser; no Postfix parser.
        #expect(total.lines == 4)
        #expect(total.events == 3)
        let saved = SavedParsers(parsers)
        let json = String(decoding: try JSONEncoder().encode(saved), as: UTF8.self)
        #expect(json.contains("\"jsonl\"") && json.contains("\"exim\"") && !json.contains("\"postfix\""))
    }

    @Test("Saved parsers round-trip through StateCoding and restore with their state, keyed by format")
    func savedParsers() throws {
        var parsers = RegisteredFormats.noParsers
        let settings = FormatSettings(configuration: FormatConfiguration(maxOpenMessages: 8))
        RegisteredFormats.beginInput(
            at: LogFormat.postfix.registryIndex, in: &parsers, settings: settings, yearHint: .year(2026))
        var events: EventBatch = []
        let line = "Nov 29 05:29:42 mx1 postfix/smtpd[1]: 05E63FA1A2: client=unknown[127.0.0.11], sasl_username=a@x"
        let outcome = Array(line.utf8).withUnsafeBytes {
            RegisteredFormats.parse(at: LogFormat.postfix.registryIndex, $0, in: &parsers, into: &events)
        }
        #expect(outcome == .used)
        // A format whose parser was never begun rejects the line rather than making a parser mid-stream.
        let unbegun = Array(line.utf8).withUnsafeBytes {
            RegisteredFormats.parse(at: LogFormat.exim.registryIndex, $0, in: &parsers, into: &events)
        }
        #expect(unbegun == .rejected(.unknownFormat))

        let saved = try roundTrip(SavedParsers(parsers))
        #expect(saved == SavedParsers(parsers))
        let restored = try saved.restore(settings: settings)
        #expect(SavedParsers(restored) == saved)
        var a = ParseCounters()
        var b = ParseCounters()
        RegisteredFormats.addCounters(of: parsers, to: &a)
        RegisteredFormats.addCounters(of: restored, to: &b)
        #expect(a == b && a.lines == 1)
        // Nothing saved restores to no parser at all.
        var none = ParseCounters()
        RegisteredFormats.addCounters(
            of: try roundTrip(SavedParsers(RegisteredFormats.noParsers)).restore(settings: settings), to: &none)
        #expect(none == ParseCounters())
    }

    @Test(
        "Each line votes for the format whose layout or syslog program it has",
        arguments: [
            ("{\"ts\":1}", LogFormat?.some(.jsonl)),
            ("  {", .jsonl),
            ("2026-11-29 05:00:00 1xXXZj-0000c0-39 <= u@example.com", .exim),
            ("Nov 29 05:00:00 mx1 exim[12]: 1xXXZj-0000c0-39 Completed", .exim),
            ("Nov 29 05:00:00 mx1 postfix/smtpd[1]: connect from x", .postfix),
            ("2026-11-29T05:00:00.1+00:00 mx1 postfix-out/smtp[1]: x", .postfix),
            ("Nov 29 05:00:00 mx1 sshd[1]: x", nil),
            ("2026-11-29T05:00:00 no header", nil),
            ("   ", nil),
        ])
    func votes(line: String, expected: LogFormat?) {
        var detector = FormatDetector(decisiveVotes: 1)
        let vote = Array(line.utf8).withUnsafeBytes { detector.observe(line: $0) }
        #expect(vote == expected)
        #expect(detector.bestGuess == expected)
    }
}
