public import SendWatchCore

/// The formats SendWatch reads, in registration order (which is the order of ``LogFormat/allCases``, of the
/// detector's saved votes and of the parsers in tail's checkpoint). One line per format: a new format adds
/// its component here and nowhere else outside its folder. Checkpoints name each saved parser by its format
/// (``SavedParserStates``), so adding a format or changing this order leaves every saved state readable.
public typealias RegisteredFormats = Formats<PostfixFormat, Formats<EximFormat, Formats<JSONLinesFormat, NoFormats>>>

/// A list of formats known at compile time, and one optional parser per format.
///
/// Built as a chain of types (``Formats`` of a head and the rest, ended by ``NoFormats``) rather than an array
/// of existentials so that the code that runs a parser is specialised for that parser's concrete type: a
/// caller picks the format once (``withParser(at:in:settings:_:)``, by the format's index in the list) and its
/// per-line loop is generic over the parser, with no existential and no switch per line. The operations that
/// are not per line (counters, checkpoints) walk the chain.
public protocol FormatList {
    /// One optional parser per format of the list, created when the format is first used.
    associatedtype Parsers: Sendable
    /// One optional saved parser state per format of the list.
    associatedtype Saved: Hashable, Sendable
    /// The components, in order.
    static var components: [any FormatComponent.Type] { get }
    /// No parser created yet.
    static var noParsers: Parsers { get }
    /// No parser saved.
    static var nothingSaved: Saved { get }
    /// Hands the parser of the format at `index` (made from `settings` if there is none yet) to `visitor`,
    /// and keeps the parser the visitor returns. The parser moves in and out: it is never copied.
    static func withParser<Visitor: ParserVisitor & ~Copyable>(
        at index: Int, in parsers: inout Parsers, settings: FormatSettings, _ visitor: inout Visitor)
    /// Starts an input on the parser of the format at `index`, making the parser if there is none yet.
    static func beginInput(at index: Int, in parsers: inout Parsers, settings: FormatSettings, yearHint: YearHint)
    /// Parses one line with the parser of the format at `index`; `.rejected(.unknownFormat)` when that parser
    /// was never begun. For callers that interleave inputs of different formats line by line (`tail`).
    static func parse(
        at index: Int, _ line: UnsafeRawBufferPointer, in parsers: inout Parsers, into events: inout EventBatch
    ) -> LineOutcome
    /// The latest time the parser of the format at `index` gave a year-less timestamp of its current input
    /// (``EventParser/latestYearlessTime``); `nil` when that parser was never made.
    static func latestYearlessTime(at index: Int, in parsers: Parsers) -> EventTime?
    /// Ends the run on every parser made.
    static func finish(_ parsers: inout Parsers, into events: inout EventBatch)
    /// Adds the counters of every parser made to `total`.
    static func addCounters(of parsers: Parsers, to total: inout ParseCounters)
    /// The state of every parser made.
    static func save(_ parsers: Parsers) -> Saved
    /// Parsers rebuilt from saved state.
    static func restore(_ saved: Saved, settings: FormatSettings) throws -> Parsers
    /// Writes each saved parser as three values: its format's name, its checkpoint version
    /// (``CheckpointingParser/checkpointVersion``) and its state. Parsers never made write nothing.
    static func encode(_ saved: Saved, to container: inout any UnkeyedEncodingContainer) throws
    /// Reads the state of the parser of the format named `name`, saved with checkpoint version `version`, from
    /// `decoder` into `saved`.
    ///
    /// - Returns: false when no format of the list has that name (nothing was read).
    /// - Throws: `DecodingError.dataCorrupted` when `version` is not one the parser reads
    ///   (``CheckpointingParser/readCheckpointVersions``), when the format's state was read already, or when the
    ///   state does not decode as that version's layout.
    static func decodeState(named name: String, version: Int, from decoder: any Decoder, into saved: inout Saved)
        throws -> Bool
}

/// Receives a parser picked at run time, as its concrete type.
public protocol ParserVisitor: ~Copyable {
    /// Uses `parser` (of `format`) and gives it back.
    mutating func visit<Format: FormatComponent>(_ format: Format.Type, parser: consuming Format.Parser)
        -> Format.Parser
}

/// A format (`Head`) followed by the formats of `Tail`.
public enum Formats<Head: FormatComponent, Tail: FormatList>: FormatList {
    /// `Head`'s parser and the parsers of `Tail`.
    public struct Parsers: Sendable {
        @usableFromInline var head: Head.Parser?
        @usableFromInline var tail: Tail.Parsers

        @inlinable init(head: Head.Parser?, tail: Tail.Parsers) {
            self.head = head
            self.tail = tail
        }
    }

    /// `Head`'s saved parser and those of `Tail`.
    public struct Saved: Hashable, Sendable {
        var head: Head.Parser.Checkpoint?
        var tail: Tail.Saved
    }

    public static var components: [any FormatComponent.Type] { [Head.self] + Tail.components }

    @inlinable
    public static var noParsers: Parsers { Parsers(head: nil, tail: Tail.noParsers) }

    public static var nothingSaved: Saved { Saved(head: nil, tail: Tail.nothingSaved) }

    @inlinable
    public static func withParser<Visitor: ParserVisitor & ~Copyable>(
        at index: Int, in parsers: inout Parsers, settings: FormatSettings, _ visitor: inout Visitor
    ) {
        guard index == 0 else {
            Tail.withParser(at: index - 1, in: &parsers.tail, settings: settings, &visitor)
            return
        }
        let parser = parsers.head.take() ?? Head.makeParser(settings)
        parsers.head = visitor.visit(Head.self, parser: parser)
    }

    @inlinable
    public static func beginInput(
        at index: Int, in parsers: inout Parsers, settings: FormatSettings, yearHint: YearHint
    ) {
        guard index == 0 else {
            Tail.beginInput(at: index - 1, in: &parsers.tail, settings: settings, yearHint: yearHint)
            return
        }
        if parsers.head == nil { parsers.head = Head.makeParser(settings) }
        // Safe to force unwrap: made on the line above.
        parsers.head!.beginInput(yearHint: yearHint)
    }

    @inlinable
    public static func parse(
        at index: Int, _ line: UnsafeRawBufferPointer, in parsers: inout Parsers, into events: inout EventBatch
    ) -> LineOutcome {
        guard index == 0 else { return Tail.parse(at: index - 1, line, in: &parsers.tail, into: &events) }
        guard parsers.head != nil else { return .rejected(.unknownFormat) }
        // Safe to force unwrap: checked on the line above.
        return parsers.head!.parse(line: line, into: &events)
    }

    public static func latestYearlessTime(at index: Int, in parsers: Parsers) -> EventTime? {
        guard index == 0 else { return Tail.latestYearlessTime(at: index - 1, in: parsers.tail) }
        return parsers.head?.latestYearlessTime
    }

    public static func finish(_ parsers: inout Parsers, into events: inout EventBatch) {
        if parsers.head != nil {
            // Safe to force unwrap: checked on the line above.
            parsers.head!.finish(into: &events)
        }
        Tail.finish(&parsers.tail, into: &events)
    }

    public static func addCounters(of parsers: Parsers, to total: inout ParseCounters) {
        if let c = parsers.head?.counters { total.merge(c) }
        Tail.addCounters(of: parsers.tail, to: &total)
    }

    public static func save(_ parsers: Parsers) -> Saved {
        Saved(head: parsers.head?.checkpoint(), tail: Tail.save(parsers.tail))
    }

    public static func restore(_ saved: Saved, settings: FormatSettings) throws -> Parsers {
        Parsers(
            head: try saved.head.map { try Head.makeParser(settings, restoring: $0) },
            tail: try Tail.restore(saved.tail, settings: settings))
    }

    public static func encode(_ saved: Saved, to container: inout any UnkeyedEncodingContainer) throws {
        if let head = saved.head {
            try container.encode(Head.format.rawValue)
            try container.encode(Head.Parser.checkpointVersion)
            try head.encode(to: container.superEncoder())
        }
        try Tail.encode(saved.tail, to: &container)
    }

    public static func decodeState(
        named name: String, version: Int, from decoder: any Decoder, into saved: inout Saved
    ) throws -> Bool {
        guard name == Head.format.rawValue else {
            return try Tail.decodeState(named: name, version: version, from: decoder, into: &saved.tail)
        }
        let reads = Head.Parser.readCheckpointVersions
        guard reads.contains(version) else {
            let versions = reads.sorted().map(String.init).joined(separator: ", ")
            throw StateCheck.corrupt(
                "the \(name) parser's state has checkpoint version \(version), and this SendWatch reads "
                    + "version\(reads.count == 1 ? "" : "s") \(versions): run the version that wrote it, or move the "
                    + "checkpoint away to start over",
                decoder.codingPath)
        }
        guard saved.head == nil else {
            throw StateCheck.corrupt("the \(name) parser's state is saved twice", decoder.codingPath)
        }
        saved.head = try Head.Parser.decodeCheckpoint(from: decoder, version: version)
        return true
    }
}

/// The end of a ``FormatList``: no format.
public enum NoFormats: FormatList {
    /// Nothing.
    public struct Parsers: Sendable {
        @inlinable init() {}
    }
    /// Nothing.
    public struct Saved: Hashable, Sendable {}

    public static var components: [any FormatComponent.Type] { [] }
    @inlinable public static var noParsers: Parsers { Parsers() }
    public static var nothingSaved: Saved { Saved() }

    /// Does nothing: indices come from ``LogFormat``, whose values are all registered.
    @inlinable
    public static func withParser<Visitor: ParserVisitor & ~Copyable>(
        at index: Int, in parsers: inout Parsers, settings: FormatSettings, _ visitor: inout Visitor
    ) {}

    @inlinable
    public static func beginInput(
        at index: Int, in parsers: inout Parsers, settings: FormatSettings, yearHint: YearHint
    ) {}

    @inlinable
    public static func parse(
        at index: Int, _ line: UnsafeRawBufferPointer, in parsers: inout Parsers, into events: inout EventBatch
    ) -> LineOutcome { .rejected(.unknownFormat) }

    public static func latestYearlessTime(at index: Int, in parsers: Parsers) -> EventTime? { nil }
    public static func finish(_ parsers: inout Parsers, into events: inout EventBatch) {}
    public static func addCounters(of parsers: Parsers, to total: inout ParseCounters) {}
    public static func save(_ parsers: Parsers) -> Saved { Saved() }
    public static func restore(_ saved: Saved, settings: FormatSettings) throws -> Parsers { Parsers() }
    public static func encode(_ saved: Saved, to container: inout any UnkeyedEncodingContainer) throws {}
    public static func decodeState(
        named name: String, version: Int, from decoder: any Decoder, into saved: inout Saved
    ) throws -> Bool { false }
}

/// The key of a format's saved parser in the checkpoints that laid the parsers out by position
/// (``SavedParsersLayout/positionalPostfixEximJSONLines``): the format's name.
struct FormatCodingKey: CodingKey, Sendable {
    let stringValue: String
    var intValue: Int? { nil }

    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// How a checkpoint body lays out the saved parsers of a stream, told to the decoder through its `userInfo`
/// under ``userInfoKey`` (absent: ``byName``).
public enum SavedParsersLayout: Sendable {
    /// Each saved parser as its format's name, its checkpoint version and its state (``SavedParserStates``):
    /// `tail` state format 11 and later, `ship` state format 2 and later.
    case byName
    /// One optional state per format of the registry of that time, by position (Postfix, Exim, JSON lines),
    /// each of checkpoint version 1 (read as such, ``CheckpointingParser/readCheckpointVersions``): `tail` state
    /// formats 10 and earlier, `ship` state format 1. Read so that those checkpoints are migrated rather than
    /// refused; never written.
    case positionalPostfixEximJSONLines

    /// The `userInfo` key the layout is given under.
    public static let userInfoKey = CodingUserInfoKey(rawValue: "sendwatch.savedParsersLayout")!

    /// The formats, in order, and their checkpoint version, of ``positionalPostfixEximJSONLines``.
    static let positionalFormats = ["postfix", "exim", "jsonl"]
}

/// The saved parsers of one input stream: one entry per format of `List` whose parser was made, each with its
/// format's name and its parser's checkpoint version (``CheckpointingParser/checkpointVersion``).
///
/// Keyed by name, not by position, so that the state a checkpoint saved does not depend on the formats
/// registered or their order: a build with a format more (or in another order) restores every parser it
/// knows, and a parser's checkpoint change raises its own version only. A saved state of a format `List` does
/// not have, or of a checkpoint version its parser does not read, is refused with a message that names the
/// format (`DecodingError.dataCorrupted`).
///
/// Memory: the parsers' checkpoints (see each parser's `Checkpoint`), plus the names.
public struct SavedParserStates<List: FormatList>: Codable, Hashable, Sendable {
    var saved: List.Saved

    /// The state of `parsers`.
    public init(_ parsers: List.Parsers) { saved = List.save(parsers) }

    /// Parsers rebuilt from this state with `settings`.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when a parser's state is inconsistent.
    public func restore(settings: FormatSettings) throws -> List.Parsers {
        try List.restore(saved, settings: settings)
    }

    /// Reads the layout `decoder.userInfo` names (``SavedParsersLayout``; by name when it names none).
    ///
    /// - Throws: `DecodingError.dataCorrupted` for a format `List` does not have, a checkpoint version its
    ///   parser does not read, a format saved twice, or a state that does not decode.
    public init(from decoder: any Decoder) throws {
        var saved = List.nothingSaved
        let path = decoder.codingPath
        if decoder.userInfo[SavedParsersLayout.userInfoKey] as? SavedParsersLayout == .positionalPostfixEximJSONLines {
            let c = try decoder.container(keyedBy: FormatCodingKey.self)
            for name in SavedParsersLayout.positionalFormats {
                // Safe to force unwrap: this initialiser never fails.
                let key = FormatCodingKey(stringValue: name)!
                guard try !c.decodeNil(forKey: key) else { continue }
                guard try List.decodeState(named: name, version: 1, from: c.superDecoder(forKey: key), into: &saved)
                else {
                    throw StateCheck.corrupt("a saved \(name) parser, a format this SendWatch does not read", path)
                }
            }
        } else {
            var c = try decoder.unkeyedContainer()
            while !c.isAtEnd {
                let name = try c.decode(String.self)
                let version = try c.decode(Int.self)
                guard try List.decodeState(named: name, version: version, from: c.superDecoder(), into: &saved) else {
                    throw StateCheck.corrupt(
                        "a saved parser of format '\(name.prefix(64))', which this SendWatch does not read", path)
                }
            }
        }
        self.saved = saved
    }

    /// Writes the layout ``SavedParsersLayout/byName``.
    public func encode(to encoder: any Encoder) throws {
        var c: any UnkeyedEncodingContainer = encoder.unkeyedContainer()
        try List.encode(saved, to: &c)
    }
}

/// The saved parsers of the registered formats: what `tail` and `ship` checkpoint per stream.
public typealias SavedParsers = SavedParserStates<RegisteredFormats>
