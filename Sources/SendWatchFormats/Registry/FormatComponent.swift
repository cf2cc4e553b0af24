public import SendWatchCore

/// One log format as a component: its name, how the auto-detector recognises its lines, and how its parser
/// is made, saved and restored.
///
/// A format lives in one folder (`Postfix/`, `Exim/`, `JSONLines/`): its parser, its parser's checkpoint,
/// and a caseless enum adopting this protocol (`PostfixFormat`). Listing that enum in ``RegisteredFormats``
/// is the only edit outside the folder; the pipeline, the detector and tail's checkpoint reach the format
/// through the registry.
///
/// Recognition (``FormatDetector``) has two steps, so that formats never compete for a line: first every
/// format's ``recognizesLayout(of:at:)`` (a layout only this format writes, such as `{` or Exim's
/// `YYYY-MM-DD HH:MM:SS`), then, for a syslog line, the program name against every format's
/// ``syslogProgramPrefixes``.
public protocol FormatComponent {
    /// The parser this format reads lines with.
    associatedtype Parser: CheckpointingParser & Sendable
    /// The format's name (declared as a static ``LogFormat`` in the format's folder).
    static var format: LogFormat { get }
    /// Whether the line's own layout marks it as this format, checked before any syslog header is read.
    ///
    /// - Parameters:
    ///   - line: the whole line.
    ///   - start: the first byte after leading spaces and tabs (`start < line.count`).
    static func recognizesLayout(of line: UnsafeRawBufferPointer, at start: Int) -> Bool
    /// The program-name prefixes of this format's lines in a shared syslog file, e.g.
    /// `postfix` for `postfix/smtpd`. Empty for a format that is never logged through syslog.
    static var syslogProgramPrefixes: [StaticString] { get }
    /// Whether a syslog program name none of the formats' ``syslogProgramPrefixes`` matched is still this
    /// format's (Postfix's `mailout/smtpd`: any `syslog_name` before a Postfix daemon).
    static func recognizesSyslogProgram(_ line: UnsafeRawBufferPointer, _ program: Range<Int>) -> Bool
    /// A new parser for a run.
    static func makeParser(_ settings: FormatSettings) -> Parser
    /// A parser rebuilt from saved state (`sendwatch tail` after a restart).
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the saved state is inconsistent.
    static func makeParser(_ settings: FormatSettings, restoring checkpoint: Parser.Checkpoint) throws -> Parser
}

extension FormatComponent where Parser: ConfigurationRestoredParser {
    /// A new parser from `settings.configuration` (``ConfigurationRestoredParser/init(configuration:)``), with
    /// the rest of `settings` applied (``ConfigurationRestoredParser/apply(_:)``).
    public static func makeParser(_ settings: FormatSettings) -> Parser {
        var parser = Parser(configuration: settings.configuration)
        parser.apply(settings)
        return parser
    }

    /// A parser rebuilt from `settings.configuration` and `checkpoint`
    /// (``ConfigurationRestoredParser/init(configuration:restoring:)``), with the rest of `settings` applied as
    /// for a new parser (``ConfigurationRestoredParser/apply(_:)``).
    public static func makeParser(_ settings: FormatSettings, restoring checkpoint: Parser.Checkpoint) throws -> Parser
    {
        var parser = try Parser(configuration: settings.configuration, restoring: checkpoint)
        parser.apply(settings)
        return parser
    }
}

extension FormatComponent {
    /// No layout of its own: the format is recognised by its syslog program name only.
    public static func recognizesLayout(of line: UnsafeRawBufferPointer, at start: Int) -> Bool { false }
    /// Not logged through syslog.
    public static var syslogProgramPrefixes: [StaticString] { [] }
    /// Only the prefixes recognise a program name.
    public static func recognizesSyslogProgram(_ line: UnsafeRawBufferPointer, _ program: Range<Int>) -> Bool {
        false
    }
}

/// A parser whose state between two lines can be saved and restored: the type of that state.
public protocol CheckpointingParser: EventParser {
    /// Everything the parser carries from one line to the next; checked when decoded.
    associatedtype Checkpoint: Codable, Hashable, Sendable
    /// The version of ``Checkpoint``'s layout, saved beside it (``SavedParserStates``). Checkpoints are encoded
    /// by position, so a parser raises it whenever its saved fields change; a state of a version not in
    /// ``readCheckpointVersions`` is refused with a message naming the format. The parser's own business: no
    /// other version moves with it.
    static var checkpointVersion: Int { get }
    /// The checkpoint versions read: ``checkpointVersion`` and the older layouts the parser still knows (their
    /// states are read into the current ``Checkpoint``, and the next checkpoint is written in the current
    /// version, as `detect` reads its state format 5 and writes 6). By default the current version only.
    static var readCheckpointVersions: [Int] { get }
    /// Decodes a state saved with checkpoint `version`, one of ``readCheckpointVersions``. By default the
    /// current layout (`Checkpoint(from:)`).
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the state does not decode as that version's layout.
    static func decodeCheckpoint(from decoder: any Decoder, version: Int) throws -> Checkpoint
    /// The parser's state between two lines.
    func checkpoint() -> Checkpoint
}

extension CheckpointingParser {
    /// The current version only.
    public static var readCheckpointVersions: [Int] { [checkpointVersion] }

    /// The current layout; any other `version` is refused (`DecodingError.dataCorrupted`): a parser that reads
    /// an older layout says so with ``VersionedCheckpoint``.
    public static func decodeCheckpoint(from decoder: any Decoder, version: Int) throws -> Checkpoint {
        guard version == checkpointVersion else {
            // A parser that lists an older version must say how to read it (the module's "Adding a format").
            assert(
                !readCheckpointVersions.contains(version),
                "\(Self.self) reads checkpoint version \(version), but its Checkpoint is not a VersionedCheckpoint")
            throw unreadVersion(version, decoder)
        }
        return try Checkpoint(from: decoder)
    }

    /// The error for a state of checkpoint `version`, not one of ``readCheckpointVersions``.
    static func unreadVersion(_ version: Int, _ decoder: any Decoder) -> DecodingError {
        let versions = readCheckpointVersions.sorted().map(String.init).joined(separator: ", ")
        let plural = readCheckpointVersions.count == 1 ? "" : "s"
        return StateCheck.corrupt(
            "the \(Self.self) state has checkpoint version \(version), and this SendWatch reads version\(plural) "
                + "\(versions)",
            decoder.codingPath)
    }
}

extension CheckpointingParser where Checkpoint: VersionedCheckpoint {
    /// The error for writing a state in checkpoint `version`, not one of ``readCheckpointVersions``: SendWatch
    /// writes the current version only, and a test an older one it still reads.
    static func unwrittenVersion(_ version: Int, _ value: Checkpoint, _ encoder: any Encoder) -> EncodingError {
        let versions = readCheckpointVersions.sorted().map(String.init).joined(separator: ", ")
        return EncodingError.invalidValue(
            value,
            EncodingError.Context(
                codingPath: encoder.codingPath,
                debugDescription: "cannot write a \(Self.self) state in checkpoint version \(version): not one of "
                    + "\(versions)"))
    }
}

extension CheckpointingParser where Checkpoint: VersionedCheckpoint, Checkpoint.Parser == Self {
    /// The layout of `version` (``VersionedCheckpoint/init(from:version:)``), one of ``readCheckpointVersions``;
    /// any other is refused (`DecodingError.dataCorrupted`).
    public static func decodeCheckpoint(from decoder: any Decoder, version: Int) throws -> Checkpoint {
        try Checkpoint(from: decoder, version: version)
    }
}

/// A parser made from the settings all formats share, new or with its checkpoint (Postfix, Exim), and then
/// given the settings of single formats it reads, if any (``apply(_:)``): its format gets both
/// ``FormatComponent/makeParser(_:)`` and ``FormatComponent/makeParser(_:restoring:)`` from these, so a new and
/// a restored parser are made with the same settings.
public protocol ConfigurationRestoredParser: CheckpointingParser {
    /// A new parser with `configuration`.
    init(configuration: FormatConfiguration)
    /// A parser rebuilt from `configuration` (not part of the checkpoint) and a saved state.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the saved state is inconsistent.
    init(configuration: FormatConfiguration, restoring checkpoint: Checkpoint) throws
    /// Takes the settings beyond `settings.configuration` that this parser reads (``PostfixParser`` its
    /// ``FormatSettings/eventOutput``); called on a new and on a restored parser before its first line. Does
    /// nothing by default.
    mutating func apply(_ settings: FormatSettings)
}

extension ConfigurationRestoredParser {
    /// Nothing: the parser reads no setting beyond `settings.configuration`.
    public mutating func apply(_ settings: FormatSettings) {}
}

/// Everything a format's parser is made from: the settings all formats share and those of single formats.
public struct FormatSettings: Sendable {
    /// Account and template headers, time zone and the bounds of the open-message tables.
    public var configuration: FormatConfiguration
    /// Where the fields of a JSON-lines record are (`jsonl.fields`).
    public var jsonMapping: JSONFieldMapping
    /// Whether events are made or only counted (``EventOutput``), for parsers that support counting.
    public var eventOutput: EventOutput

    /// Creates settings; every field has the parsers' default.
    public init(
        configuration: FormatConfiguration = .init(), jsonMapping: JSONFieldMapping = .init(),
        eventOutput: EventOutput = .events
    ) {
        self.configuration = configuration
        self.jsonMapping = jsonMapping
        self.eventOutput = eventOutput
    }
}
