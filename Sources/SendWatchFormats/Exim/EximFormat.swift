extension LogFormat {
    /// Exim's main log, plain or wrapped in syslog.
    public static let exim = LogFormat(declaring: "exim")
}

/// The Exim format: ``EximParser``, recognised by a main-log line's `YYYY-MM-DD HH:MM:SS` start (a space, not
/// `T`, after the date) or by syslog program names starting with `exim`.
public enum EximFormat: FormatComponent {
    public typealias Parser = EximParser
    public static var format: LogFormat { .exim }
    public static var syslogProgramPrefixes: [StaticString] { ["exim"] }

    public static func recognizesLayout(of line: UnsafeRawBufferPointer, at start: Int) -> Bool {
        guard line.count >= start + 19 && Timestamps.isDigit(line[start]) && line[start + 10] == 0x20 else {
            return false
        }
        var zone = LocalTimeZone.utc
        return Timestamps.readDateTime(line, at: start, zone: &zone) != nil
    }
}

extension EximParser: ConfigurationRestoredParser {
    /// 1: the layout of ``Checkpoint`` since parsers' states were saved with a version (`tail` state format 11).
    /// 2: the parse counters save ``ParseCounters/otherMailServerLines`` (after the rejected lines).
    public static let checkpointVersion = 2
    /// Version 1 is still read, with ``ParseCounters/otherMailServerLines`` 0; the next checkpoint is version 2.
    public static let readCheckpointVersions = [checkpointVersion, 1]
}
