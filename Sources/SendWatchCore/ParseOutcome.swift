/// What a parser did with one line.
///
/// A line can yield several events (a JSON-lines record with a `to` array, an Exim delivery that completes a
/// group), so events go into the caller's ``EventBatch`` and the outcome only says how the line was classified.
public enum LineOutcome: Hashable, Sendable {
    /// The line was understood and used (it may or may not have completed any event).
    case used
    /// The line was understood and is irrelevant to send events (daemon chatter, connects, statistics).
    case ignored
    /// The line could not be used; the reason is counted.
    case rejected(RejectReason)
}

/// Why a line (or a message) was skipped. The raw value is the bounded snake_case code that summaries and
/// metrics count.
public enum RejectReason: String, Hashable, Sendable, CaseIterable, Error {
    /// The framer dropped a line longer than the configured maximum.
    case lineTooLong = "line_too_long"
    /// No timestamp the format allows at the start of the line.
    case badTimestamp = "bad_timestamp"
    /// A timestamp that parsed but lies outside the plausible range (before 1990 or after 2200).
    case timestampOutOfRange = "timestamp_out_of_range"
    /// Not a syslog line of a mail program (no `program[pid]:` header) for a syslog-based format.
    case notSyslog = "not_syslog"
    /// A known line kind whose fields could not be read.
    case malformed
    /// A delivery line for a queue id the parser never saw arrive (the log started mid-message) and for which
    /// not even the envelope sender is known.
    case unknownQueueID = "unknown_queue_id"
    /// A JSON-lines record that is not valid JSON.
    case badJSON = "bad_json"
    /// A JSON-lines record nested deeper than the scanner's bound.
    case jsonTooDeep = "json_too_deep"
    /// A JSON-lines line whose top level is not an object.
    case jsonNotObject = "json_not_object"
    /// A record without a field the format requires (time, recipient).
    case missingField = "missing_field"
    /// A line containing a NUL byte.
    case nulByte = "nul_byte"
    /// A line of no supported format (`--format auto` could not place it).
    case unknownFormat = "unknown_format"
    /// A `journalctl -o short-full` time whose zone abbreviation (`IST`, `CST`) is not one the configured zone
    /// uses; `UTC`, `GMT`, numeric zones and the configured zone's abbreviations are read.
    case unknownTimeZone = "unknown_time_zone"
    /// A part of a long Exim line that syslog carried in pieces (`[1/3]`, `[2/3]`, …) whose line could not be
    /// joined: a part missing or out of order, the joined line over its bound, or the input ended before the
    /// last part. Counted once per part given up.
    case splitLineIncomplete = "split_line_incomplete"
}

/// A reusable batch of events. Parsers append; the consumer drains and calls `removeAll(keepingCapacity:)`.
public typealias EventBatch = [SendEvent]

/// Counters a parser keeps while it runs; summed into the run summary.
public struct ParseCounters: Hashable, Sendable {
    /// Lines handed to the parser.
    public var lines: Int = 0
    /// Events emitted.
    public var events: Int = 0
    /// Lines classified as ``LineOutcome/ignored``: irrelevant lines of the parser's own format (connects,
    /// statistics, daemon chatter, blank lines) and, counted again in ``otherPrograms``, lines of other
    /// programs in a shared syslog file.
    public var ignored: Int = 0
    /// The subset of ``ignored`` that are syslog lines of programs other than the parser's MTA (a shared
    /// `/var/log/syslog`, or a log of another MTA read with the wrong `--format`): not recognised, rather than
    /// irrelevant.
    public var otherPrograms: Int = 0
    /// The subset of ``otherPrograms`` that are syslog lines of the other mail server SendWatch reads (`exim`
    /// lines given to the Postfix parser, `postfix/…` lines given to the Exim parser): a central syslog file of
    /// Postfix and Exim hosts read as one format, whose other half is not read.
    public var otherMailServerLines: Int = 0
    /// Lines skipped, per reason (indexed like `RejectReason.allCases`).
    public var rejected: [RejectReason: Int] = [:]
    /// Messages that were still open (arrived, not all recipients attempted) when their state was dropped:
    /// at the end of input, by expiry, or by the table's size bound.
    public var incompleteMessages: Int = 0
    /// Messages evicted from a bounded per-message table before they completed (subset of
    /// ``incompleteMessages``).
    public var evictedMessages: Int = 0
    /// Non-delivery notices (bounces) the MTA generated itself; never counted as an account's sends.
    public var nonDeliveryNotices: Int = 0
    /// The first zone abbreviation of a line skipped `unknown_time_zone` (`IST`), for the run's message: a note,
    /// no part of the counters' value (equality, hash) and not saved in checkpoints.
    public var unknownZoneAbbreviation: String? {
        get { zoneNote.text }
        set { zoneNote.text = newValue }
    }
    private var zoneNote = Note()

    /// Text that travels with the counters without being part of their value: every two notes are equal.
    private struct Note: Hashable, Sendable {
        var text: String?
        static func == (a: Note, b: Note) -> Bool { true }
        func hash(into hasher: inout Hasher) {}
    }
    /// Subject (and account, template header) encoded words left literal because their charset is one
    /// neither the decoder nor iconv knows. Not saved in checkpoints: a resumed run counts from 0.
    public var undecodedSubjectWords = UndecodedWords()

    public init() {}

    /// Records one rejected line.
    @inlinable
    public mutating func reject(_ reason: RejectReason) { rejected[reason, default: 0] += 1 }

    /// Records what became of one line (counted in ``lines`` by the caller): an ignored line in ``ignored``, a
    /// rejected one under its reason, a used one nowhere (its events are the count).
    @inlinable
    public mutating func record(_ outcome: LineOutcome) {
        switch outcome {
        case .used: break
        case .ignored: ignored += 1
        case .rejected(let reason): reject(reason)
        }
    }

    /// The total of all rejected lines.
    public var rejectedTotal: Int { rejected.values.reduce(0, +) }

    /// Lines that produced or contributed to an event (arrivals, headers, deliveries, `removed`): every line
    /// neither ignored nor rejected.
    public var understood: Int { max(0, lines - ignored - rejectedTotal) }
    /// Lines of the parser's own format that carry nothing for send events (``ignored`` less
    /// ``otherPrograms``).
    public var irrelevant: Int { max(0, ignored - otherPrograms) }
    /// Lines that were not recognised: other programs' lines (``otherPrograms``) and every skipped line
    /// (``rejected``).
    public var notRecognised: Int { otherPrograms + rejectedTotal }

    /// Adds `other` into `self`.
    public mutating func merge(_ other: ParseCounters) {
        lines += other.lines
        events += other.events
        ignored += other.ignored
        otherPrograms += other.otherPrograms
        otherMailServerLines += other.otherMailServerLines
        for (k, v) in other.rejected { rejected[k, default: 0] += v }
        incompleteMessages += other.incompleteMessages
        evictedMessages += other.evictedMessages
        nonDeliveryNotices += other.nonDeliveryNotices
        if unknownZoneAbbreviation == nil { unknownZoneAbbreviation = other.unknownZoneAbbreviation }
        undecodedSubjectWords.merge(other.undecodedSubjectWords)
    }
}

/// A log-format parser: bytes of one line in, events or a counted reason out. No I/O, no wall clock.
///
/// Parsers may keep state across lines (Postfix joins a message's lines by queue id) and across files (a
/// rotated log continues in the next file), so the pipeline keeps one parser for a whole run and calls
/// ``beginInput(yearHint:)`` before each input.
public protocol EventParser: ~Copyable {
    /// Starts a new input (file or stream). `yearHint` supplies the year for year-less timestamps.
    mutating func beginInput(yearHint: YearHint)
    /// Parses one line (without its line terminator) and appends any completed events to `events`.
    ///
    /// - Parameter line: the line's bytes, valid only during the call.
    mutating func parse(line: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome
    /// Ends the run: drops per-message state, counting what was incomplete.
    mutating func finish(into events: inout EventBatch)
    /// Counters so far.
    var counters: ParseCounters { get }
    /// The latest time given to a year-less (classic syslog) timestamp of the current input, or `nil` when it
    /// had none; the default, for formats whose timestamps always carry a year, is `nil`.
    var latestYearlessTime: EventTime? { get }
}

extension EventParser where Self: ~Copyable {
    public var latestYearlessTime: EventTime? { nil }
}

/// Where the year of a year-less (classic syslog) timestamp comes from.
public enum YearHint: Hashable, Sendable {
    /// The year is known (`--year`).
    case year(Int)
    /// The input's last modification time: the file's last line is not later than this, so the year is
    /// this time's year, or the one before when the first line's month is later than this time's month.
    case modified(EventTime)
    /// No hint: year-less timestamps are rejected with `bad_timestamp`.
    case none
}
