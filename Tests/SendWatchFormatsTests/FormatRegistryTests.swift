import Foundation
import SendWatchCore
import SendWatchTesting
import Testing

@testable import SendWatchFormats

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
            ("  {\"ts\":1}", .jsonl),
            ("  {", nil),
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

/// The registered formats in another order: what a build with a format added before the others (or the list
/// reordered) would decode a checkpoint with.
private typealias ReorderedFormats = Formats<
    JSONLinesFormat, Formats<EximFormat, Formats<PostfixFormat, NoFormats>>
>

/// Collects each visited parser's checkpoint, encoded, by format name.
private struct CheckpointCollector: ParserVisitor {
    var saved: [String: [UInt8]] = [:]

    mutating func visit<Format: FormatComponent>(_ format: Format.Type, parser: consuming Format.Parser)
        -> Format.Parser
    {
        saved[Format.format.rawValue] = try? encodedState(parser.checkpoint())
        return parser
    }
}

/// One saved parser written by hand: a name, a checkpoint version and a Postfix parser's state.
private struct HandWrittenEntry: Encodable {
    var name: String
    var version: Int
    var state: PostfixParser.Checkpoint

    func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(name)
        try c.encode(version)
        try state.encode(to: c.superEncoder())
    }
}

@Suite struct SavedParsersByNameTests {
    static let settings = FormatSettings(configuration: FormatConfiguration(maxOpenMessages: 8))

    /// Parsers of Postfix (with an open message) and JSON lines (with counted lines); no Exim parser.
    static func usedParsers() -> RegisteredFormats.Parsers {
        var parsers = RegisteredFormats.noParsers
        var events: EventBatch = []
        let lines: [(LogFormat, String)] = [
            (
                .postfix,
                "Nov 29 05:29:42 mx1 postfix/smtpd[1]: 05E63FA1A2: client=unknown[127.0.0.11], sasl_username=a@x"
            ),
            (.jsonl, #"{"ts":"2026-11-29T05:00:00Z","account":"a","to":"r@x"}"#),
            (.jsonl, "not json"),
        ]
        for (format, line) in lines {
            let index = format.registryIndex
            RegisteredFormats.beginInput(at: index, in: &parsers, settings: settings, yearHint: .year(2026))
            _ = Array(line.utf8).withUnsafeBytes { RegisteredFormats.parse(at: index, $0, in: &parsers, into: &events) }
        }
        return parsers
    }

    /// Each made parser's checkpoint, encoded, by format name.
    static func checkpoints(_ parsers: RegisteredFormats.Parsers) -> [String: [UInt8]] {
        var parsers = parsers
        var collector = CheckpointCollector()
        for format in LogFormat.allCases where format != .exim {
            RegisteredFormats.withParser(at: format.registryIndex, in: &parsers, settings: settings, &collector)
        }
        return collector.saved
    }

    @Test("The saved state is keyed by format name: a registry in another order restores each parser's state")
    func reorderedRegistry() throws {
        let parsers = Self.usedParsers()
        let bytes = try encodedState(SavedParsers(parsers))
        let reordered = try decodedState(SavedParserStates<ReorderedFormats>.self, from: bytes)
        let restored = try reordered.restore(settings: Self.settings)
        // Saved again by the reordered list and read by the registered one: the same states, format by format.
        let back = try decodedState(
            SavedParsers.self, from: encodedState(SavedParserStates<ReorderedFormats>(restored)))
        #expect(back == SavedParsers(parsers))
        let again = try back.restore(settings: Self.settings)
        let original = Self.checkpoints(parsers)
        #expect(original.keys.sorted() == ["jsonl", "postfix"])
        #expect(Self.checkpoints(again) == original)
        var a = ParseCounters()
        var b = ParseCounters()
        RegisteredFormats.addCounters(of: parsers, to: &a)
        ReorderedFormats.addCounters(of: restored, to: &b)
        #expect(a == b && a.lines == 3)
    }

    @Test("A saved parser of a format the build lacks, or of another checkpoint version, is refused by name")
    func refusals() throws {
        let bytes = try encodedState(SavedParsers(Self.usedParsers()))
        #expect {
            _ = try decodedState(SavedParserStates<Formats<PostfixFormat, NoFormats>>.self, from: bytes)
        } throws: { error in
            "\(error)".contains("format 'jsonl', which this SendWatch does not read")
        }
        let postfix = try decodedState(
            PostfixParser.Checkpoint.self, from: try #require(Self.checkpoints(Self.usedParsers())["postfix"]))
        let newer = try encodedState(
            HandWrittenEntry(name: "postfix", version: PostfixParser.checkpointVersion + 1, state: postfix))
        #expect {
            _ = try decodedState(SavedParsers.self, from: newer)
        } throws: { error in
            "\(error)".contains(
                "the postfix parser's state has checkpoint version \(PostfixParser.checkpointVersion + 1)")
        }
        let current = try encodedState(
            HandWrittenEntry(name: "postfix", version: PostfixParser.checkpointVersion, state: postfix))
        #expect(try decodedState(SavedParsers.self, from: current) != SavedParsers(RegisteredFormats.noParsers))
    }

    @Test("Parsers saved by position (tail state format 10) are migrated to the same states")
    func positionalMigration() throws {
        let parsers = Self.usedParsers()
        let saved = Self.checkpoints(parsers)
        let positional = VersionOnePositionalParsers(
            postfix: try decodedState(PostfixParser.Checkpoint.self, from: try #require(saved["postfix"])),
            exim: nil,
            jsonl: try decodedState(JSONLinesParser.Checkpoint.self, from: try #require(saved["jsonl"])))
        let bytes = try StateCoding.encode(positional)
        let migrated = try StateCoding.decode(
            SavedParsers.self, from: bytes,
            userInfo: [SavedParsersLayout.userInfoKey: SavedParsersLayout.positionalPostfixEximJSONLines])
        #expect(migrated == SavedParsers(parsers))
        // Without being told the layout, the positional bytes are not mistaken for states saved by name.
        #expect(throws: DecodingError.self) { _ = try StateCoding.decode(SavedParsers.self, from: bytes) }
    }
}
