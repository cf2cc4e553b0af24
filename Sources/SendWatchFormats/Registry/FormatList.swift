public import SendWatchCore

/// The formats SendWatch reads, in registration order (which is the order of ``LogFormat/allCases``, of the
/// detector's saved votes and of the parsers in tail's checkpoint). One line per format: a new format adds
/// its component here and nowhere else outside its folder.
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
    /// Ends the run on every parser made.
    static func finish(_ parsers: inout Parsers, into events: inout EventBatch)
    /// Adds the counters of every parser made to `total`.
    static func addCounters(of parsers: Parsers, to total: inout ParseCounters)
    /// The state of every parser made.
    static func save(_ parsers: Parsers) -> Saved
    /// Parsers rebuilt from saved state.
    static func restore(_ saved: Saved, settings: FormatSettings) throws -> Parsers
    /// Writes each saved parser under its format's name (absent ones as absent).
    static func encode(_ saved: Saved, to container: inout KeyedEncodingContainer<FormatCodingKey>) throws
    /// Reads what ``encode(_:to:)`` wrote.
    static func decode(from container: KeyedDecodingContainer<FormatCodingKey>) throws -> Saved
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

    public static func encode(_ saved: Saved, to container: inout KeyedEncodingContainer<FormatCodingKey>) throws {
        try container.encodeIfPresent(saved.head, forKey: FormatCodingKey(Head.format))
        try Tail.encode(saved.tail, to: &container)
    }

    public static func decode(from container: KeyedDecodingContainer<FormatCodingKey>) throws -> Saved {
        let head = try container.decodeIfPresent(Head.Parser.Checkpoint.self, forKey: FormatCodingKey(Head.format))
        return Saved(head: head, tail: try Tail.decode(from: container))
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

    public static func finish(_ parsers: inout Parsers, into events: inout EventBatch) {}
    public static func addCounters(of parsers: Parsers, to total: inout ParseCounters) {}
    public static func save(_ parsers: Parsers) -> Saved { Saved() }
    public static func restore(_ saved: Saved, settings: FormatSettings) throws -> Parsers { Parsers() }
    public static func encode(_ saved: Saved, to container: inout KeyedEncodingContainer<FormatCodingKey>) throws {}
    public static func decode(from container: KeyedDecodingContainer<FormatCodingKey>) throws -> Saved { Saved() }
}

/// The key a format's saved parser is written under: the format's name.
public struct FormatCodingKey: CodingKey, Sendable {
    public let stringValue: String
    public var intValue: Int? { nil }

    /// The key of `format`.
    public init(_ format: LogFormat) { stringValue = format.rawValue }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// The saved parsers of one input stream, one per registered format that was used, written under the format's
/// name (``FormatCodingKey``) in registration order.
public struct SavedParsers: Codable, Hashable, Sendable {
    var saved: RegisteredFormats.Saved

    /// The state of `parsers`.
    public init(_ parsers: RegisteredFormats.Parsers) { saved = RegisteredFormats.save(parsers) }

    /// Parsers rebuilt from this state with `settings`.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when a parser's state is inconsistent.
    public func restore(settings: FormatSettings) throws -> RegisteredFormats.Parsers {
        try RegisteredFormats.restore(saved, settings: settings)
    }

    public init(from decoder: any Decoder) throws {
        saved = try RegisteredFormats.decode(from: decoder.container(keyedBy: FormatCodingKey.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: FormatCodingKey.self)
        try RegisteredFormats.encode(saved, to: &c)
    }
}
