public import SendWatchCore
public import SendWatchFormats
public import SendWatchIngest

/// What `sendwatch events` (and later `replay`) counted over a run.
public struct RunSummary: Sendable {
    /// Inputs opened.
    public var inputs = 0
    /// Lines framed (including skipped ones, excluding those dropped as too long).
    public var lines = 0
    /// Lines longer than `input.max_line_bytes`, skipped.
    public var linesTooLong = 0
    /// Partial lines dropped at the point where a compressed stream was damaged.
    public var partialLinesDropped = 0
    /// Events produced.
    public var events = 0
    /// The parsers' counters, all formats together.
    public var parse = ParseCounters()
    /// Inputs that could not be opened or were damaged, with the message for each.
    public var failures: [String] = []
    /// Decompressed bytes read.
    public var bytes: Int64 = 0
    /// Each input opened, with the format it was read as (`nil`: no line of a known format).
    public var inputFormats: [(name: String, format: LogFormat?)] = []
    /// Inputs whose first lines were recognised as a known other MTA's log (``ForeignFormat``), whether the
    /// format was recognised or given (`--format`).
    public var foreignFormats: [(name: String, format: ForeignFormat)] = []
    /// Inputs read with a format given (`--format`) whose first lines look like another format SendWatch reads
    /// (``FormatDetector/bestGuess``), so that a run without events can name the format to give.
    public var otherFormatGuesses: [(name: String, read: LogFormat, looksLike: LogFormat)] = []
    /// Inputs whose year-less timestamps were given a year by inference (no `--year`) and reach more than
    /// ``yearlessAheadMarginSeconds`` past the reference time the year came from: the latest such time, the
    /// reference, and whether the reference is the input's modification time (else the time reading began, for
    /// a pipe). At most one entry per input.
    public var yearlessAhead: [(name: String, latest: EventTime, reference: EventTime, modificationTime: Bool)] = []
    /// Inputs without a modification time (a pipe, standard input) whose year-less timestamps took their year
    /// from the time reading began (no `--year`) and stayed within ``yearlessAheadMarginSeconds`` of it: the name
    /// and that time. Inputs of full timestamps (ISO, JSON lines) are never listed.
    public var yearlessFromClock: [(name: String, reference: EventTime)] = []
    /// Files whose zone-less (year-less) timestamps reach more than ``zoneAheadMarginSeconds`` (and at most
    /// ``yearlessAheadMarginSeconds``) past the file's modification time: the latest such time and the
    /// modification time. A line cannot be later than the file's last write, so the log is probably in a zone
    /// east of the one it was read in. At most one entry per input; plain files only (not a pipe).
    public var zoneAhead: [(name: String, latest: EventTime, modified: EventTime)] = []

    /// Events that carried a subject or a template id, when the run counted them (``SubjectCount``: `replay`
    /// counts the events detection took); `nil` when it did not (`events`), and then nothing is said about it.
    public var eventsWithSubject: Int?

    public init() {}

    /// Skipped lines by reason, including `line_too_long`, in a stable order.
    public var skipped: [(RejectReason, Int)] {
        var all = parse.rejected
        if linesTooLong > 0 { all[.lineTooLong, default: 0] += linesTooLong }
        return RejectReason.allCases.compactMap { r in all[r].map { (r, $0) } }
    }

    /// The lines that were not recognised: other programs' lines, skipped lines and overlong ones.
    public var linesNotRecognised: Int { parse.otherPrograms + skipped.reduce(0) { $0 + $1.1 } }

    /// The one-paragraph summary printed on stderr (the commands print ``warning`` after it).
    ///
    /// Lines are split three ways: *understood* (they made or contributed to an event), *irrelevant* (lines of
    /// the format read that carry nothing for send events: connects, statistics, daemon chatter, blank lines)
    /// and *not recognised* (other programs' lines, and skipped lines by reason).
    public var text: String {
        let skippedTotal = skipped.reduce(0) { $0 + $1.1 }
        var s = "sendwatch: \(inputs) input\(inputs == 1 ? "" : "s"), \(lines + linesTooLong) lines, \(events) events, "
        s +=
            "\(parse.understood) lines understood, \(parse.irrelevant) irrelevant, \(linesNotRecognised) not recognised"
        s += " (\(parse.otherPrograms) of other programs, \(skippedTotal) skipped"
        if skippedTotal > 0 {
            s += ": " + skipped.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ")
        }
        s += ")"
        s += ", \(parse.incompleteMessages) incomplete messages"
        if parse.evictedMessages > 0 { s += " (\(parse.evictedMessages) evicted at messages.max_open)" }
        s += ", \(parse.nonDeliveryNotices) non-delivery notices"
        if parse.undecodedSubjectWords.count > 0 {
            s += ", \(parse.undecodedSubjectWords.count) undecoded_subject_words"
        }
        if partialLinesDropped > 0 { s += ", \(partialLinesDropped) partial lines dropped at damage" }
        if !failures.isEmpty { s += ", \(failures.count) input\(failures.count == 1 ? "" : "s") failed" }
        return s
    }

    /// The warnings of the run, one a line, or `nil` when there is none: lines were read but no event came of
    /// them (naming the log the input looks like when it was recognised as one SendWatch does not read), every
    /// input opened was empty, inputs read as Postfix held Exim's lines or the other way round, a pipe's
    /// year-less timestamps took the year of the time reading began (``yearlessFromClock``), or an input's
    /// year-less timestamps were given a year that puts them in the future (``yearlessAhead``).
    public var warning: String? {
        let all = warnings
        return all.isEmpty ? nil : all.joined(separator: "\n")
    }

    /// ``warning``, one line an element, for printing a line at a time: the year notes
    /// (``yearlessFromClockWarnings``, then ``yearlessAheadWarnings``) after the others.
    public var warnings: [String] {
        [noEventsWarning, unknownZoneWarning, otherMailServerWarning, noSubjectWarning].compactMap { $0 }
            + undecodedCharsetWarnings
            + yearlessFromClockWarnings
            + yearlessAheadWarnings + zoneAheadWarnings
    }

    /// Lines skipped `unknown_time_zone`: their zone abbreviation (the first one seen) is not one of the
    /// configured zone's; `nil` when there were none.
    private var unknownZoneWarning: String? {
        guard let n = parse.rejected[.unknownTimeZone], n > 0 else { return nil }
        let name = parse.unknownZoneAbbreviation.map { "'\(TerminalText.escaped($0))'" } ?? "zone abbreviations"
        return "sendwatch: warning: \(n) line\(n == 1 ? "" : "s") skipped (unknown_time_zone): their time carries "
            + "\(name), which is not UTC, GMT or an abbreviation of the configured zone (input.timezone, by default "
            + "the system's); give the log's zone with --timezone (say --timezone Europe/Berlin for CET and CEST), "
            + "or export with journalctl -o short-iso"
    }

    /// One warning per input of ``zoneAhead``.
    private var zoneAheadWarnings: [String] {
        zoneAhead.map { input in
            let minutes = (input.latest.seconds - input.modified.seconds) / 60
            return "sendwatch: warning: the last lines of \(TerminalText.escaped(input.name)) read \(input.latest), "
                + "\(minutes / 60) h \(minutes % 60) min after its modification time (\(input.modified)); a line "
                + "cannot be later than the file's last write: the log is probably in another zone than the one it "
                + "was read in; give its zone with --timezone (or input.timezone)"
        }
    }

    /// One line per charset whose encoded words were left literal (neither the decoder nor iconv knows it):
    /// their subjects are mined as the raw `=?...?=` text.
    private var undecodedCharsetWarnings: [String] {
        let undecoded = parse.undecodedSubjectWords
        var lines = undecoded.charsets.sorted { $0.key < $1.key }.map { name, n in
            "sendwatch: warning: \(n) subject word\(n == 1 ? "" : "s") in charset \(TerminalText.escaped(name)) "
                + "\(n == 1 ? "was" : "were") left encoded (the C library's iconv does not know the charset)"
        }
        let named = undecoded.charsets.values.reduce(0, +)
        if undecoded.count > named {
            lines.append(
                "sendwatch: warning: \(undecoded.count - named) more subject words in other charsets were left encoded")
        }
        return lines
    }

    /// ``SubjectCount/warning(events:withSubject:formats:)`` for the run's events and the formats its inputs
    /// were read as; `nil` when the subjects were not counted (``eventsWithSubject``).
    private var noSubjectWarning: String? {
        guard let withSubject = eventsWithSubject else { return nil }
        return SubjectCount.warning(
            events: events, withSubject: withSubject, formats: inputFormats.compactMap(\.format))
    }

    /// How far past the reference time (``YearHint/modified(_:)``) the year-less timestamps of an input may reach
    /// before the run warns: one day, more than any zone offset between the log's local time and the reference
    /// in UTC, so a log read as it is written never warns.
    public static let yearlessAheadMarginSeconds: Int64 = 86_400

    /// How far past its file's modification time the year-less timestamps of an input may reach before the run
    /// says the log is probably in another zone: one hour (a writer's buffering and a clock's drift stay well
    /// below it; any zone between the log's and the one it is read in that is an hour or more east reaches it).
    public static let zoneAheadMarginSeconds: Int64 = 3_600

    /// Records `name` in ``yearlessAhead`` when its year-less timestamps, given a year from `hint`'s reference
    /// time, reach more than ``yearlessAheadMarginSeconds`` past it. `latest` is the latest time given to one
    /// (``EventParser/latestYearlessTime``); nothing is recorded for `--year` (``YearHint/year(_:)``).
    /// Otherwise, an input without a modification time whose year came from the time reading began is recorded
    /// in ``yearlessFromClock``.
    mutating func noteYearlessTimes(of name: String, hint: YearHint, modificationTime: Bool, latest: EventTime?) {
        guard case .modified(let reference) = hint, let latest else { return }
        let ahead = latest.microseconds - reference.microseconds
        if ahead > Self.yearlessAheadMarginSeconds * 1_000_000 {
            yearlessAhead.append((name, latest, reference, modificationTime))
        } else if modificationTime && ahead > Self.zoneAheadMarginSeconds * 1_000_000 {
            zoneAhead.append((name, latest, reference))
        } else if !modificationTime {
            yearlessFromClock.append((name, reference))
        }
    }

    /// One line per input of ``yearlessFromClock``: its year-less timestamps got the year of the time reading
    /// began, which is right for a log being written now and wrong for last year's log piped in.
    private var yearlessFromClockWarnings: [String] {
        yearlessFromClock.map { input in
            "sendwatch: warning: \(TerminalText.escaped(input.name)) is not a regular file and has no modification "
                + "time; its year-less timestamps got the year of the time reading began (\(input.reference)): give "
                + "--year YYYY if the log is from another year"
        }
    }

    /// One warning per input of ``yearlessAhead``: the month-only year rule (a log cannot hold lines written
    /// after it was last modified, or read) put its lines in the future, which happens to a log of an earlier
    /// year whose months lie after the reference's (read in December, a log of last December and January).
    private var yearlessAheadWarnings: [String] {
        yearlessAhead.map { input in
            let days = (input.latest.seconds - input.reference.seconds) / 86_400
            var s = "sendwatch: warning: year-less timestamps of \(TerminalText.escaped(input.name)) reach "
            s += "\(input.latest), \(days) day\(days == 1 ? "" : "s") after "
            s += input.modificationTime ? "its modification time" : "the time reading began"
            s += " (\(input.reference)); if the log is from an earlier year, give --year YYYY (the year of its "
            s += "first line)"
            return s
        }
    }

    /// The mail server whose lines were not read, in an input read as the other one (by the inputs' formats).
    private var otherMailServer: (read: String, other: String, flag: String)? {
        let formats = Set(inputFormats.compactMap(\.format))
        if formats == [.postfix] { return ("Postfix", "Exim", "exim") }
        if formats == [.exim] { return ("Exim", "Postfix", "postfix") }
        return nil
    }

    /// Records `name` in ``otherFormatGuesses`` when it was read with a configured format and its first lines
    /// voted for another one.
    mutating func noteOtherFormat(of name: String, _ detection: FormatDetection) {
        guard let read = detection.configured, let guess = detection.detector.bestGuess, guess != read else { return }
        otherFormatGuesses.append((name, read, guess))
    }

    /// The fewest lines of the other mail server that warn (``otherMailServerWarning``): one Exim message logs
    /// 3 to 5 lines, so 10 are a few messages, not a stray line.
    static let otherMailServerMinimumLines = 10
    /// The smallest share of the parsed lines, in lines per 1,000, that the other mail server's lines must reach to
    /// warn: a line a day of a cron job in a month of a busy server's log stays below it, and an Exim host with
    /// 1 in 1,000 of a central file's lines (a host among hundreds) is still named.
    static let otherMailServerMinimumPerMille = 1

    /// A warning when inputs read as Postfix held syslog lines of Exim, or the other way round, next to lines of
    /// their own (a central syslog file of Postfix hosts and Exim hosts): one input is read as one format, so
    /// those lines gave no events. It says how to split such a file. `nil` otherwise, and when they are fewer than
    /// ``otherMailServerMinimumLines`` or than ``otherMailServerMinimumPerMille`` of the lines parsed (stray
    /// lines; the summary still counts them among other programs' lines).
    private var otherMailServerWarning: String? {
        let n = parse.otherMailServerLines
        guard n >= Self.otherMailServerMinimumLines, n * 1000 >= parse.lines * Self.otherMailServerMinimumPerMille,
            parse.understood > 0
        else { return nil }
        let mailInputs = inputFormats.filter { $0.format == .postfix || $0.format == .exim }
        let file = mailInputs.count == 1 ? TerminalText.escaped(mailInputs[0].name) : "FILE"
        let (read, other) = otherMailServer.map { ($0.read, $0.other) } ?? ("Postfix or Exim", "the other server")
        var s = "sendwatch: warning: \(n) syslog line\(n == 1 ? " is" : "s are") \(other)'s in "
        s += mailInputs.count == 1 ? "\(file), read as \(read)" : "inputs read as \(read)"
        s += ", and gave no events: one input is read as one format. Split a central log of Postfix and Exim hosts "
        s += "by program and give both parts (they are merged by time): "
        // The program is followed by ": " (classic syslog, `exim[PID]: `) or by a process id (RFC 5424, `exim 12 `).
        let program = "' exim[^ :]*(: | [0-9-]+ )'"
        s += "grep -E \(program) \(file) > exim.log; grep -v -E \(program) \(file) > postfix.log"
        return s
    }

    /// A warning when lines were read but no event came of them, naming the other MTA the input looks like
    /// when it was recognised as one, or when every input opened was empty; `nil` otherwise.
    private var noEventsWarning: String? {
        let total = lines + linesTooLong
        if total == 0 && inputs > 0 && failures.isEmpty {
            return
                "sendwatch: warning: no line read: \(inputs == 1 ? "the input is" : "all \(inputs) inputs are") empty"
        }
        guard total > 0, events == 0 else { return nil }
        var s = "sendwatch: warning: \(total) line\(total == 1 ? "" : "s") read and no send event found"
        if let (name, foreign) = foreignFormats.first {
            s += ": \(TerminalText.escaped(name)) \(foreign.advice)"
        } else if parse.otherMailServerLines == 0, let (name, read, looksLike) = otherFormatGuesses.first {
            // (Syslog lines of the other mail server have their own hint below, with their count.)
            s += ": \(TerminalText.escaped(name)) was read as --format \(read.rawValue), but its first lines look like "
            s += "\(looksLike.rawValue): leave --format out or give --format \(looksLike.rawValue)"
        } else if parse.understood == 0 && parse.irrelevant == 0 && parse.otherPrograms == 0
            && parse.rejected[.unknownTimeZone, default: 0] > 0
            && parse.rejected[.unknownTimeZone, default: 0] == parse.rejectedTotal
        {
            s += ": their times carry a zone abbreviation that was not read (see below)"
        } else if parse.understood == 0 && parse.irrelevant == 0 {
            s += ": no line was recognised as Postfix, Exim or JSON lines"
            // The other mail server's lines are among the other programs' lines: each line is named once.
            let mailServer = otherMailServer.map { _ in parse.otherMailServerLines } ?? 0
            let others = parse.otherPrograms - mailServer
            if others > 0 {
                s +=
                    others == 1
                    ? " (1 is another program's syslog line)" : " (\(others) are other programs' syslog lines)"
            }
            if mailServer > 0, let (read, other, flag) = otherMailServer {
                s += "; \(mailServer) are \(other)'s, read as \(read): leave --format out or give --format \(flag)"
            }
            s += "; check --format and the input (each line needs its time and program, as syslog and "
            s += "journalctl -o short-iso, -o short-unix and -o json write them; journalctl -o cat and "
            s += "-o short-monotonic lines, which carry no time of day, are not read)"
        } else if parse.understood == 0 {
            s +=
                ": the lines recognised carry no sends (connects, statistics); is this the log of the submission server?"
        } else {
            s += ": messages were seen but none was delivered in this input"
        }
        return s
    }
}

/// Counts the events that carry a subject or a template id, without which the template rules (`template_swarm`,
/// `slot_content`, `shared_artefact`) never fire, and says so when (almost) none does: a Postfix without its
/// `header_checks` lines, an Exim without `log_selector = +subject`. `replay` and `tail` share it.
public enum SubjectCount {
    /// The fewest events that warn: a handful of events without a subject (a few bounces, a test message) say
    /// little about the log's configuration.
    public static let minimumEvents = 10
    /// The largest share of events with a subject, in events per 1,000, that still warns: under 1 %, so that a
    /// stray header line in a log whose server does not log subjects does not hide the warning.
    public static let maximumPerMille = 10

    /// Whether `event` counts: it carries a subject or a template id.
    @inlinable
    public static func counts(_ event: borrowing SendEvent) -> Bool { event.subject != nil || event.template != nil }

    /// The events of `batch` that ``counts(_:)``.
    public static func count(in batch: borrowing EventBatch) -> Int {
        var n = 0
        for i in batch.indices where counts(batch[i]) { n += 1 }
        return n
    }

    /// A warning when at least ``minimumEvents`` events were read and fewer than ``maximumPerMille`` of them carried
    /// a subject or template id: it names what the formats read (`formats`) need to log one, and the section of
    /// docs/formats.md. `nil` otherwise.
    public static func warning(events: Int, withSubject: Int, formats: [LogFormat]) -> String? {
        guard events >= minimumEvents, withSubject * 1000 < events * maximumPerMille else { return nil }
        var s = "sendwatch: warning: \(withSubject == 0 ? "none" : "only \(withSubject)") of the \(events) events "
        s += "carried a subject or template id, so the template rules (template_swarm, slot_content, "
        s += "shared_artefact) cannot fire"
        var advice: [String] = []
        for format in Set(formats).sorted(by: { $0.rawValue < $1.rawValue }) {
            switch format.rawValue {
            case "postfix":
                advice.append(
                    "Postfix logs the subject only through header_checks (/^Subject:/ WARN, see docs/formats.md, "
                        + "Postfix)")
            case "exim":
                advice.append("Exim logs it with log_selector = +subject (see docs/formats.md, Exim)")
            case "jsonl":
                advice.append(
                    "JSON lines need a subject or template_id field, or its mapping in jsonl.fields (see "
                        + "docs/formats.md, JSON lines)")
            default: break
            }
        }
        if !advice.isEmpty { s += ": " + advice.joined(separator: "; ") }
        return s
    }
}

/// Receives the events of a run, one parsed line's worth at a time.
public protocol EventSink {
    /// Takes the events in `batch`. The sink reads them in place or takes the whole array (leaving `batch`
    /// empty); the caller empties `batch` afterwards either way.
    ///
    /// `inout` so that the events are handed over without a copy: reading a borrowed array's elements across
    /// an opaque call copies each one (a retain and a release per string field).
    mutating func accept(_ batch: inout EventBatch)
    /// Called at the end of each input and of the run.
    mutating func flush()
    /// What the parsers hand this sink: ``EventOutput/events`` (the default) or, for a sink that only counts,
    /// ``EventOutput/countOnly`` (parsers that support it then count events without making them; the run's
    /// ``RunSummary/events`` is the same either way).
    static var eventOutput: EventOutput { get }
    /// How many events the parsing stage gathers before it calls ``accept(_:)`` (a batch can pass it by the
    /// events of one line): 1 (the default) hands over each line's events at once; a sink on another thread
    /// (``ThreadedSink``) wants large batches. Every event is handed over before ``flush()`` either way.
    static var preferredBatchCount: Int { get }
}

extension EventSink {
    public static var eventOutput: EventOutput { .events }
    public static var preferredBatchCount: Int { 1 }
}

extension Configuration {
    /// The settings the format parsers take, with the zone resolved (UTC if the name is unknown; `load`
    /// rejects unknown names, so that only happens for a configuration built in code).
    func formatSettings(eventOutput: EventOutput = .events) -> FormatSettings {
        var f = formats
        f.zone = localTimeZone ?? .utc
        return FormatSettings(configuration: f, jsonMapping: jsonFieldMapping, eventOutput: eventOutput)
    }
}

/// Runs the ingest and parse stages over a list of inputs: `sendwatch events`.
///
/// Usage:
/// ```swift
/// var run = EventsRun(configuration: config)
/// let summary = run.run(paths: ["mail.log.1.zst", "mail.log"], sink: &sink) { message in print(message) }
/// ```
public struct EventsRun {
    /// The configuration of the run.
    public var configuration: Configuration
    /// The year hint for inputs without a modification time (stdin, pipes); nil = reject year-less lines.
    public var fallbackYearHint: YearHint

    public init(configuration: Configuration, fallbackYearHint: YearHint = .none) {
        self.configuration = configuration
        self.fallbackYearHint = fallbackYearHint
    }

    /// The most logs ``run(logs:sink:prefetch:diagnose:)`` merges: 32. Each merged log keeps a file open, its
    /// own decoder and parsers (see ``MergedLog``), so the bound keeps a run's memory and descriptors in
    /// proportion; a run given more logs reads nothing and fails with a message that says so.
    public static let maxMergedLogs = 32

    /// Reads separate logs, merged by event time, and hands the events to `sink`.
    ///
    /// `logs` lists each log's files in reading order (``InputOrder/logs(_:isRegularFile:)``: the rotated
    /// files of one log oldest first). One log is read exactly as ``run(paths:sink:prefetch:diagnose:)`` reads
    /// it. Several logs (hosts' logs, or a central log and one host's) are read side by side, each with parsers
    /// of its own (messages are joined within a log, never across logs), and their events are merged by event
    /// time: the sink gets the earliest next event of any log, the log named first on equal times. Each log's
    /// own order is kept (a log's events are only as ordered as its lines), so the merge adds no disorder.
    ///
    /// Merged logs are decoded on the reading thread (no ``Prefetch`` thread; the sink's own thread, as with
    /// ``ThreadedSink``, still applies). More than ``maxMergedLogs`` logs: nothing is read, `diagnose` is told
    /// why, and the summary lists the failure.
    ///
    /// - Complexity: O(n × k) for n events of k logs; memory: per log one open input, one chunk and the
    ///   events parsed from it, and its parsers' tables.
    public func run<Sink: EventSink>(
        logs: [[String]], sink: inout Sink, prefetch: Prefetch = .automatic, diagnose: (String) -> Void
    ) -> RunSummary {
        guard logs.count > 1 else {
            return run(paths: logs.first ?? [], sink: &sink, prefetch: prefetch, diagnose: diagnose)
        }
        var summary = RunSummary()
        guard logs.count <= Self.maxMergedLogs else {
            let message =
                "sendwatch: \(logs.count) separate logs given; at most \(Self.maxMergedLogs) are merged by time "
                + "in one run (rotated files of one log count once): merge some of them first, or run per group"
            diagnose(message)
            summary.failures.append(message)
            return summary
        }
        let settings = configuration.formatSettings(eventOutput: Sink.eventOutput)
        let merged = logs.map {
            MergedLog(
                paths: $0, configuration: configuration, settings: settings, fallbackYearHint: fallbackYearHint)
        }
        var batch: EventBatch = []
        batch.reserveCapacity(max(64, Sink.preferredBatchCount))
        for log in merged { log.fill(&summary, diagnose: diagnose) }
        while true {
            // The log with the earliest next event, the first named on a tie.
            var first = -1
            var firstTime = EventTime(microseconds: .max)
            for (i, log) in merged.enumerated() {
                if let t = log.headTime, first < 0 || t < firstTime {
                    first = i
                    firstTime = t
                }
            }
            guard first >= 0 else { break }
            // Its events go on while they stay before every other log's next event (on a tie, before those of
            // logs named later).
            var limit = EventTime(microseconds: .max)
            var limitIndex = Int.max
            for (i, log) in merged.enumerated() where i != first {
                if let t = log.headTime, t < limit {
                    limit = t
                    limitIndex = i
                }
            }
            let log = merged[first]
            while let t = log.headTime, t < limit || (t == limit && first < limitIndex) {
                log.takeHead(into: &batch)
                if batch.count >= Sink.preferredBatchCount { Self.handOver(&batch, to: &sink) }
                if log.headTime == nil { log.fill(&summary, diagnose: diagnose) }
            }
        }
        Self.handOver(&batch, to: &sink)
        sink.flush()
        var counters = ParseCounters()
        var unknownFormatLines = 0
        for log in merged {
            RegisteredFormats.addCounters(of: log.consumer.parsers, to: &counters)
            unknownFormatLines += log.consumer.detection.unknownFormatLines
            summary.lines += log.consumer.lines
            summary.bytes += log.framer.bytes
            summary.linesTooLong += log.framer.linesTooLong
            summary.partialLinesDropped += log.framer.partialLinesDropped
        }
        summary.parse = counters
        if unknownFormatLines > 0 { summary.parse.rejected[.unknownFormat, default: 0] += unknownFormatLines }
        summary.events = counters.events
        return summary
    }

    /// Reads every input in order, as one log, and hands the events to `sink`.
    ///
    /// An input that cannot be opened, or whose compressed data is damaged, is reported through `diagnose`
    /// and listed in ``RunSummary/failures``; the events before the damage have been handed to the sink and
    /// the next input is read.
    ///
    /// With `prefetch` ``Prefetch/automatic`` (the default), compressed inputs are decoded on a second thread
    /// when the machine has at least two cores; ``Prefetch/off`` and ``Prefetch/thread`` force the choice. The
    /// events and the summary are the same either way.
    public func run<Sink: EventSink>(
        paths: [String], sink: inout Sink, prefetch: Prefetch = .automatic, diagnose: (String) -> Void
    ) -> RunSummary {
        var summary = RunSummary()
        let settings = configuration.formatSettings(eventOutput: Sink.eventOutput)
        // One parser per format for the whole run, so that state carries from one rotated file to the next.
        var parsers = RegisteredFormats.noParsers
        // The sink moves into each input's consumer and back (see `ParsingConsumer`); present between inputs.
        var owned: Sink? = consume sink
        var batch: EventBatch = []
        batch.reserveCapacity(max(64, Sink.preferredBatchCount))
        var framer = LineFramer(maxLineBytes: configuration.maxLineBytes)
        var detection = FormatDetection(configured: configuration.format)
        var lines = 0
        for path in paths {
            var source: InputSource
            do {
                source = try InputSource.open(path: path)
            } catch {
                diagnose("sendwatch: \(error)")
                summary.failures.append("\(error)")
                continue
            }
            summary.inputs += 1
            let name = source.name
            let hint = configuration.yearHint(for: source, fallback: fallbackYearHint)
            let modificationTime = source.modificationTime != nil
            func damaged(_ error: IngestError) {
                diagnose(
                    "sendwatch: \(error) The events before this point were written; the rest of this input is skipped.")
                summary.failures.append("\(error)")
            }
            var ended = false
            detection.beginInput()
            // The first lines are looked at even with a configured format (which then always decides), so that
            // a run without events can name the other MTA a log belongs to; the rest is read by the parser.
            var detecting = DetectingConsumer(detection: consume detection)
            do {
                ended = try detecting.read(&source, framer: &framer)
            } catch {
                damaged(error)
                ended = true
            }
            detection = detecting.detection
            lines += detecting.lines
            let format = detecting.decided ?? (ended ? detection.settle() : nil)
            if let foreign = detection.detector.foreignGuess { summary.foreignFormats.append((name, foreign)) }
            summary.noteOtherFormat(of: name, detection)
            if let format {
                var visit = InputVisit<Sink>(
                    source: source, sink: owned.take(), framer: consume framer, batch: consume batch,
                    held: detection.takeHeld(),
                    yearHint: hint, readRest: !ended, prefetch: prefetch)
                RegisteredFormats.withParser(at: format.registryIndex, in: &parsers, settings: settings, &visit)
                lines += visit.lines
                owned = visit.sink.take()
                framer = visit.framer
                batch = visit.batch
                if let failure = visit.failure { damaged(failure) }
                summary.noteYearlessTimes(
                    of: name, hint: hint, modificationTime: modificationTime,
                    latest: RegisteredFormats.latestYearlessTime(at: format.registryIndex, in: parsers))
            }
            // Safe to force unwrap: the sink is back from the input's consumer.
            Self.handOver(&batch, to: &owned!)
            owned!.flush()
            summary.inputFormats.append((name, format))
        }
        RegisteredFormats.finish(&parsers, into: &batch)
        // Safe to force unwrap: the sink is back from the last input's consumer.
        Self.handOver(&batch, to: &owned!)
        owned!.flush()
        sink = owned.take()!
        var counters = ParseCounters()
        RegisteredFormats.addCounters(of: parsers, to: &counters)
        summary.parse = counters
        summary.bytes = framer.bytes
        if detection.unknownFormatLines > 0 {
            summary.parse.rejected[.unknownFormat, default: 0] += detection.unknownFormatLines
        }
        summary.lines = lines
        summary.linesTooLong = framer.linesTooLong
        summary.partialLinesDropped = framer.partialLinesDropped
        summary.events = counters.events
        return summary
    }

    private static func handOver<Sink: EventSink>(_ batch: inout EventBatch, to sink: inout Sink) {
        guard !batch.isEmpty else { return }
        sink.accept(&batch)
        batch.removeAll(keepingCapacity: true)
    }
}

extension Configuration {
    /// Where the year of `source`'s year-less (classic syslog) timestamps comes from: ``year`` (`--year`) when
    /// set, else the file's modification time, else `fallback` (standard input and pipes have no such time).
    func yearHint(for source: borrowing InputSource, fallback: YearHint) -> YearHint {
        if let year { return .year(year) }
        if let modified = source.modificationTime { return .modified(modified) }
        return fallback
    }

    /// The JSON-lines field mapping from `jsonl.fields`.
    public var jsonFieldMapping: JSONFieldMapping {
        func path(_ name: String) -> [String] {
            // An empty path leaves an optional field unmapped.
            JSONFieldMapping.path(jsonFields[name] ?? name)
        }
        return JSONFieldMapping(
            time: path("ts"), account: path("account"), accountCreated: path("account_created"),
            sender: path("sender"), recipients: path("to"), subject: path("subject"), template: path("template_id"),
            messageID: path("message_id"), clientIP: path("client_ip"), host: path("host"), status: path("status"),
            login: path("login"), subjectCut: path("subject_cut"))
    }
}
