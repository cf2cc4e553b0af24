extension LogFormat {
    /// JSON lines from a notification service, one object per send.
    public static let jsonl = LogFormat(declaring: "jsonl")
}

/// The JSON-lines format: ``JSONLinesParser`` with `settings.jsonMapping`, recognised by a line that starts
/// with `{`.
public enum JSONLinesFormat: FormatComponent {
    public static var format: LogFormat { .jsonl }

    public static func recognizesLayout(of line: UnsafeRawBufferPointer, at start: Int) -> Bool {
        line[start] == UInt8(ascii: "{")
    }

    public static func makeParser(_ settings: FormatSettings) -> JSONLinesParser {
        JSONLinesParser(configuration: settings.configuration, mapping: settings.jsonMapping)
    }

    public static func makeParser(
        _ settings: FormatSettings, restoring checkpoint: JSONLinesParser.Checkpoint
    ) throws -> JSONLinesParser {
        try JSONLinesParser(configuration: settings.configuration, mapping: settings.jsonMapping, restoring: checkpoint)
    }
}

extension JSONLinesParser: CheckpointingParser {
    /// 1: the layout of ``Checkpoint`` since parsers' states were saved with a version (`tail` state format 11).
    /// 2: the parse counters save ``ParseCounters/otherMailServerLines`` (after the rejected lines).
    public static let checkpointVersion = 2
    /// Version 1 is still read, with ``ParseCounters/otherMailServerLines`` 0; the next checkpoint is version 2.
    public static let readCheckpointVersions = [checkpointVersion, 1]
}
