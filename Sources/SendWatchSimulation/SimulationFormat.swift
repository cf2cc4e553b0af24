/// A log format the simulator writes: a ``LogWriter`` that names its format and is made from the run's
/// configuration. Registered in ``SimulationFormat/writers``.
public protocol SimulatedFormat: LogWriter, Sendable {
    /// The format's name: the `--format` value of `sendwatch simulate` and the `format` of the labels.
    static var formatName: String { get }
    /// The writer of a run of `configuration`.
    init(configuration: SimulationConfiguration)
}

/// The log format the simulator writes: one of ``writers``, by name.
///
/// The registered formats are ``SimulationFormat/postfix``, ``SimulationFormat/exim`` and
/// ``SimulationFormat/jsonl``; `sendwatch simulate` lists and accepts ``allCases``.
public struct SimulationFormat: RawRepresentable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The formats the simulator writes, in the order `sendwatch simulate` lists them. One line per format: a new
    /// format adds its writer (a ``SimulatedFormat``) here and nowhere else outside the writer's file.
    static var writers: [any SimulatedFormat.Type] {
        [PostfixLogWriter.self, EximLogWriter.self, JSONLinesLogWriter.self]
    }

    /// The writer's type.
    let writer: any SimulatedFormat.Type

    /// The format's name (``SimulatedFormat/formatName``).
    public var rawValue: String { writer.formatName }
    /// The format's name, as `--format` takes it.
    public var description: String { rawValue }

    /// The registered format named `rawValue`; `nil` when no writer has that name.
    public init?(rawValue: String) {
        guard let writer = Self.writers.first(where: { $0.formatName == rawValue }) else { return nil }
        self.writer = writer
    }

    /// The format `writer` writes.
    init(_ writer: any SimulatedFormat.Type) { self.writer = writer }

    /// Every registered format, in registration order.
    public static var allCases: [SimulationFormat] { writers.map(SimulationFormat.init) }

    public static func == (a: SimulationFormat, b: SimulationFormat) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// The names of ``allCases`` as a sentence: `postfix, exim or jsonl`.
    public static var namesText: String {
        let names = allCases.map(\.rawValue)
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// A writer of this format for a run of `configuration`.
    func makeWriter(_ configuration: SimulationConfiguration) -> any SimulatedFormat {
        writer.init(configuration: configuration)
    }
}
