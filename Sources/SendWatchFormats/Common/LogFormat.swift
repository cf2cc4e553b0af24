import SendWatchCore

/// The log formats SendWatch reads.
///
/// `Codable` as its raw value (`"postfix"`, `"exim"`, `"jsonl"`), e.g. in a checkpoint.
public enum LogFormat: String, Hashable, Sendable, CaseIterable, Codable {
    /// Postfix via syslog or `postlogd` (`maillog_file`).
    case postfix
    /// Exim's main log, plain or wrapped in syslog.
    case exim
    /// JSON lines from a notification service, one object per send.
    case jsonl
}

/// Recognises a log's format from its first lines (`--format auto`).
///
/// Each line votes: a line starting with `{` for JSON lines; a line starting `YYYY-MM-DD HH:MM:SS` (space, not
/// `T`) for Exim's main log; a syslog line for whichever of Postfix or Exim its program name names. Lines that
/// match nothing do not vote. The format with the most votes wins once ``decisiveVotes`` lines agree, or at
/// the end of the sample.
public struct FormatDetector: Sendable {
    /// How many agreeing lines settle the question early.
    public var decisiveVotes: Int
    // Internal (not private) for the checkpoint extension (FormatDetector+Checkpoint.swift).
    var votes: [LogFormat: Int] = [:]
    var header = SyslogHeaderReader(zone: .utc, yearHint: .year(2000))

    public init(decisiveVotes: Int = 16) { self.decisiveVotes = decisiveVotes }

    /// Feeds one line; returns the format once a decision is reached.
    public mutating func observe(line p: UnsafeRawBufferPointer) -> LogFormat? {
        guard let vote = classify(p) else { return nil }
        votes[vote, default: 0] += 1
        return votes[vote, default: 0] >= decisiveVotes ? vote : nil
    }

    /// The best guess from the lines seen so far, or `nil` when no line voted.
    public var bestGuess: LogFormat? {
        votes.max { a, b in a.value != b.value ? a.value < b.value : a.key.rawValue > b.key.rawValue }?.key
    }

    private mutating func classify(_ p: UnsafeRawBufferPointer) -> LogFormat? {
        var i = 0
        while i < p.count && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
        guard i < p.count else { return nil }
        if p[i] == UInt8(ascii: "{") { return .jsonl }
        if p.count >= i + 19 && Timestamps.isDigit(p[i]) && p[i + 10] == 0x20 {
            var zone = LocalTimeZone.utc
            if Timestamps.readDateTime(p, at: i, zone: &zone) != nil { return .exim }
        }
        guard case .success(let h) = header.read(p) else { return nil }
        if Bytes.hasPrefix("postfix", in: p, at: h.program.lowerBound) { return .postfix }
        if Bytes.hasPrefix("exim", in: p, at: h.program.lowerBound) { return .exim }
        return nil
    }
}
