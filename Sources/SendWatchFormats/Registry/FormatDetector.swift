import SendWatchCore

/// Recognises a log's format from its first lines (`--format auto`).
///
/// Each line votes for at most one registered format (``RegisteredFormats``): first by the line's own layout
/// (``FormatComponent/recognizesLayout(of:at:)``, e.g. `{` for JSON lines, `YYYY-MM-DD HH:MM:SS` for Exim's main
/// log), else, for a syslog line, by its program name (``FormatComponent/syslogProgramPrefixes``: `postfix…`,
/// `exim…`). Lines that match nothing do not vote. The format with the most votes wins once ``decisiveVotes``
/// lines agree, or at the end of the sample; a tie goes to the name that sorts first.
public struct FormatDetector: Sendable {
    /// How many agreeing lines settle the question early.
    public var decisiveVotes: Int
    // Internal (not private) for the checkpoint extension (FormatDetector+Checkpoint.swift).
    var votes: [LogFormat: Int] = [:]
    var header = SyslogHeaderReader(zone: .utc, yearHint: .year(2000))

    public init(decisiveVotes: Int = 16) { self.decisiveVotes = decisiveVotes }

    /// Feeds one line; returns the format once a decision is reached.
    ///
    /// - Complexity: O(line length + registered formats); for the first lines of an input only.
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
        let components = RegisteredFormats.components
        for c in components where c.recognizesLayout(of: p, at: i) { return c.format }
        // The header is read once, and only for lines no layout claimed: its year state is saved with the votes.
        guard case .success(let h) = header.read(p) else { return nil }
        for c in components {
            for prefix in c.syslogProgramPrefixes where Bytes.hasPrefix(prefix, in: p, at: h.program.lowerBound) {
                return c.format
            }
        }
        return nil
    }
}
