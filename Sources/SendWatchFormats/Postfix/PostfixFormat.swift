extension LogFormat {
    /// Postfix via syslog or `postlogd` (`maillog_file`).
    public static let postfix = LogFormat(declaring: "postfix")
}

/// The Postfix format: ``PostfixParser``, recognised by syslog program names starting with `postfix`
/// (`postfix/smtpd`, `postfix-out/smtp`), or of another `syslog_name` before a Postfix daemon (`mailout/smtpd`:
/// ``PostfixParser/isCustomInstance(_:_:firstEnd:)``).
public enum PostfixFormat: FormatComponent {
    public typealias Parser = PostfixParser
    public static var format: LogFormat { .postfix }
    public static var syslogProgramPrefixes: [StaticString] { ["postfix"] }
    public static func recognizesSyslogProgram(_ line: UnsafeRawBufferPointer, _ program: Range<Int>) -> Bool {
        PostfixParser.isPostfixProgram(line, program)
    }
}

extension PostfixParser: ConfigurationRestoredParser {
    /// 1: the layout of ``Checkpoint`` since parsers' states were saved with a version (`tail` state format 11).
    /// 2: the parse counters save ``ParseCounters/otherMailServerLines`` (after the rejected lines).
    public static let checkpointVersion = 2
    /// Version 1 is still read, with ``ParseCounters/otherMailServerLines`` 0; the next checkpoint is version 2.
    public static let readCheckpointVersions = [checkpointVersion, 1]

    /// Makes or only counts events as `settings.eventOutput` says, new or restored.
    public mutating func apply(_ settings: FormatSettings) { eventOutput = settings.eventOutput }
}
