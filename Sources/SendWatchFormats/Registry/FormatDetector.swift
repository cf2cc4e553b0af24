import SendWatchCore

/// Recognises a log's format from its first lines (`--format auto`).
///
/// Each line votes for at most one registered format (``RegisteredFormats``), by content, in this order:
/// 1. a journal or Docker JSON record (``JSONEnvelope``) is replaced by the line it carries, which votes by
///    the next two rules (a carried line that is itself JSON does not vote);
/// 2. a syslog line, in any layout ``SyslogHeaderReader`` reads, votes by its program name
///    (``FormatComponent/syslogProgramPrefixes``: `postfix…`, `exim…`; then
///    ``FormatComponent/recognizesSyslogProgram(_:_:)``: `mailout/smtpd`), so that `2026-12-05 10:00:01 host
///    postfix/smtp[1]: …` is Postfix although its date looks like Exim's main log;
/// 3. else the line's own layout (``FormatComponent/recognizesLayout(of:at:)``, e.g. `{` for JSON lines,
///    `YYYY-MM-DD HH:MM:SS` for Exim's main log).
///
/// Lines that match nothing do not vote; lines of a log SendWatch knows and does not read (``ForeignFormat``:
/// another MTA, a journal exported without the time of day) are tallied apart (``foreignGuess``) so that a run
/// without events can name what it read. The format with the most votes wins once ``decisiveVotes`` lines
/// agree, or at the end of the sample; a tie goes to the name that sorts first.
public struct FormatDetector: Sendable {
    /// How many agreeing lines settle the question early.
    public var decisiveVotes: Int
    // Internal (not private) for the checkpoint extension (FormatDetector+Checkpoint.swift).
    var votes: [LogFormat: Int] = [:]
    var header = SyslogHeaderReader(zone: .utc, yearHint: .year(2000))
    /// Lines of known other MTAs seen (not saved: it only names what a run without events read).
    var foreignVotes: [ForeignFormat: Int] = [:]
    private var envelope = JSONEnvelope()
    private var envelopeLine: [UInt8] = []

    public init(decisiveVotes: Int = 16) {
        self.decisiveVotes = decisiveVotes
        header.acceptsUnknownZoneAbbreviations = true
    }

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

    /// The known other MTA most lines were recognised as, or `nil`. A journal file's magic decides alone (the
    /// file's other lines are binary data too).
    public var foreignGuess: ForeignFormat? {
        if foreignVotes[.systemdJournalFile] != nil { return .systemdJournalFile }
        return foreignVotes.max { a, b in a.value != b.value ? a.value < b.value : a.key.rawValue > b.key.rawValue }?
            .key
    }

    private mutating func classify(_ p: UnsafeRawBufferPointer) -> LogFormat? {
        // Binary data (a journal file, an executable) votes for nothing, whatever a line of it starts with.
        if let foreign = ForeignFormat(binary: p) {
            foreignVotes[foreign, default: 0] += 1
            return nil
        }
        guard JSONEnvelope.mayWrap(p) else { return classify(p, carried: false) }
        var inner: [UInt8] = []
        swap(&inner, &envelopeLine)
        defer { swap(&inner, &envelopeLine) }
        switch envelope.unwrap(p, into: &inner) {
        case .notEnvelope: return classify(p, carried: false)
        case .rejected: return nil
        case .unwrapped: return inner.withUnsafeBytes { classify($0, carried: true) }
        }
    }

    private mutating func classify(_ p: UnsafeRawBufferPointer, carried: Bool) -> LogFormat? {
        var i = 0
        while i < p.count && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
        guard i < p.count else { return nil }
        // Carried JSON is not unwrapped twice, and no parser reads JSON lines out of an envelope.
        if carried && p[i] == UInt8(ascii: "{") { return nil }
        // A lone brace opens or closes a record spread over lines (`journalctl -o json-pretty`): no JSON line.
        if Bytes.isBlank(UnsafeRawBufferPointer(rebasing: p[(i + 1)...]))
            && (p[i] == UInt8(ascii: "{") || p[i] == UInt8(ascii: "}"))
        {
            return nil
        }
        let components = RegisteredFormats.components
        // Every line's header is read (its year state is saved with the votes); a program tag decides first.
        if case .success(let h) = header.read(p) {
            for c in components {
                for prefix in c.syslogProgramPrefixes where Bytes.hasPrefix(prefix, in: p, at: h.program.lowerBound) {
                    return c.format
                }
            }
            for c in components where c.recognizesSyslogProgram(p, h.program) { return c.format }
            if let foreign = ForeignFormat(syslog: p, header: h) { foreignVotes[foreign, default: 0] += 1 }
            // Another program's `PROGRAM[PID]:` line (a shared syslog file) is no main-log line either.
            if h.program.upperBound < p.count && p[h.program.upperBound] == UInt8(ascii: "[") { return nil }
        } else if let foreign = ForeignFormat(layoutOf: p, at: i) {
            foreignVotes[foreign, default: 0] += 1
            return nil
        }
        for c in components where c.recognizesLayout(of: p, at: i) { return c.format }
        return nil
    }
}
