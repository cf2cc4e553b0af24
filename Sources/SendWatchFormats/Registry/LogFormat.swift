import SendWatchCore

/// The name of a log format SendWatch reads: `postfix`, `exim` or `jsonl`, as the command line, the
/// configuration file and checkpoints spell it.
///
/// Each format declares its value next to its parser (``postfix`` in `Postfix/PostfixFormat.swift`, and so
/// on) and is listed once in ``RegisteredFormats``; ``allCases`` and ``init(rawValue:)`` know exactly the
/// registered formats. `Codable` as its name; decoding an unknown name throws `DecodingError.dataCorrupted`.
public struct LogFormat: RawRepresentable, Hashable, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// The format's name.
    public let rawValue: String

    /// A format's declaration (only format folders declare formats, so every value is registered).
    init(declaring name: String) { rawValue = name }

    /// The registered format named `rawValue`, or `nil` when no registered format has that name.
    public init?(rawValue: String) {
        guard let found = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = found
    }

    /// Every registered format, in registration order.
    public static var allCases: [LogFormat] { RegisteredFormats.components.map { $0.format } }

    /// The registered formats' names for help texts and messages, in registration order: `postfix, exim or
    /// jsonl`. Help and errors name what is registered, so that a new format's folder and registration line
    /// are all it takes for the command line and the configuration file to offer it.
    public static var namesText: String {
        let names = allCases.map(\.rawValue)
        guard let last = names.last, names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + last
    }

    /// The format's position in ``RegisteredFormats``: the index ``FormatList`` picks its parser by.
    public var registryIndex: Int {
        // Safe to force unwrap: every value is declared by a registered format folder.
        RegisteredFormats.components.firstIndex { $0.format == self }!
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let format = LogFormat(rawValue: name) else {
            throw StateCheck.corrupt("unknown log format '\(name.prefix(64))'", decoder.codingPath)
        }
        self = format
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
