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

    public init() {}

    /// Skipped lines by reason, including `line_too_long`, in a stable order.
    public var skipped: [(RejectReason, Int)] {
        var all = parse.rejected
        if linesTooLong > 0 { all[.lineTooLong, default: 0] += linesTooLong }
        return RejectReason.allCases.compactMap { r in all[r].map { (r, $0) } }
    }

    /// The one-paragraph summary printed on stderr.
    public var text: String {
        let skippedTotal = skipped.reduce(0) { $0 + $1.1 }
        var s = "sendwatch: \(inputs) input\(inputs == 1 ? "" : "s"), \(lines + linesTooLong) lines, \(events) events, "
        s += "\(parse.ignored) lines ignored, \(skippedTotal) skipped"
        if skippedTotal > 0 {
            s += " (" + skipped.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ") + ")"
        }
        s += ", \(parse.incompleteMessages) incomplete messages"
        if parse.evictedMessages > 0 { s += " (\(parse.evictedMessages) evicted at messages.max_open)" }
        s += ", \(parse.nonDeliveryNotices) non-delivery notices"
        if partialLinesDropped > 0 { s += ", \(partialLinesDropped) partial lines dropped at damage" }
        if !failures.isEmpty { s += ", \(failures.count) input\(failures.count == 1 ? "" : "s") failed" }
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

/// The parsers of a run, one per format, created when first needed and kept for the whole run so that state
/// (Postfix queue ids, Exim message ids) carries from one rotated file to the next.
///
/// Held as separate optionals rather than an enum of parsers: mutating a parser inside an enum payload would
/// copy its tables on every line.
struct ParserSet {
    let configuration: Configuration
    let jsonMapping: JSONFieldMapping
    var postfix: PostfixParser?
    var exim: EximParser?
    var jsonl: JSONLinesParser?
    /// Set on each parser when it is created.
    var eventOutput: EventOutput = .events

    mutating func begin(_ format: LogFormat, yearHint: YearHint) {
        switch format {
        case .postfix:
            if postfix == nil {
                postfix = PostfixParser(configuration: configuration.parserConfiguration)
                postfix?.eventOutput = eventOutput
            }
            postfix?.beginInput(yearHint: yearHint)
        case .exim:
            if exim == nil { exim = EximParser(configuration: configuration.parserConfiguration) }
            exim?.beginInput(yearHint: yearHint)
        case .jsonl:
            if jsonl == nil {
                jsonl = JSONLinesParser(configuration: configuration.parserConfiguration, mapping: jsonMapping)
            }
            jsonl?.beginInput(yearHint: yearHint)
        }
    }

    @inline(__always)
    mutating func parse(_ format: LogFormat, _ line: UnsafeRawBufferPointer, into batch: inout EventBatch) -> LineOutcome {
        switch format {
        case .postfix: return postfix?.parse(line: line, into: &batch) ?? .rejected(.unknownFormat)
        case .exim: return exim?.parse(line: line, into: &batch) ?? .rejected(.unknownFormat)
        case .jsonl: return jsonl?.parse(line: line, into: &batch) ?? .rejected(.unknownFormat)
        }
    }

    mutating func finish(into batch: inout EventBatch) -> ParseCounters {
        postfix?.finish(into: &batch)
        exim?.finish(into: &batch)
        jsonl?.finish(into: &batch)
        return counters
    }

    /// The counters of every parser created so far.
    var counters: ParseCounters {
        var total = ParseCounters()
        if let c = postfix?.counters { total.merge(c) }
        if let c = exim?.counters { total.merge(c) }
        if let c = jsonl?.counters { total.merge(c) }
        return total
    }
}

extension Configuration {
    /// The settings the format parsers take, with the zone resolved (UTC if the name is unknown; `load`
    /// rejects unknown names, so that only happens for a configuration built in code).
    var parserConfiguration: FormatConfiguration {
        var f = formats
        f.zone = localTimeZone ?? .utc
        return f
    }
}

/// Frames lines into the parser of the input's format; recognises the format from the first lines when it
/// is not configured. Lines read before the format is known are held (at most ``detectionLineLimit`` lines
/// and ``detectionByteLimit`` bytes) and parsed once it is.
struct ParsingConsumer<Sink: EventSink>: LineConsumer {
    static var detectionLineLimit: Int { 64 }
    static var detectionByteLimit: Int { 1 << 20 }

    var parsers: ParserSet
    /// The caller's sink, written through in place: holding a copy would make every array in the sink (the
    /// detection engine's tables) copy itself on its first write, and again when the copy is handed back.
    let sink: UnsafeMutablePointer<Sink>
    var batch: EventBatch = []
    var format: LogFormat?
    var yearHint: YearHint = .none
    var detector = FormatDetector()
    var held: [[UInt8]] = []
    var heldBytes = 0
    var unknownFormatLines = 0
    var lines = 0

    init(parsers: ParserSet, sink: UnsafeMutablePointer<Sink>) {
        self.parsers = parsers
        self.sink = sink
        batch.reserveCapacity(max(64, Sink.preferredBatchCount))
    }

    mutating func beginInput(format configured: LogFormat?, yearHint: YearHint) {
        self.yearHint = yearHint
        detector = FormatDetector()
        held.removeAll()
        heldBytes = 0
        format = configured
        if let configured { parsers.begin(configured, yearHint: yearHint) }
    }

    @inline(__always)
    mutating func consume(line: UnsafeRawBufferPointer) {
        lines += 1
        guard let format else {
            detect(line)
            return
        }
        _ = parsers.parse(format, line, into: &batch)
        if batch.count >= Sink.preferredBatchCount { handOver() }
    }

    /// Hands the gathered events to the sink.
    mutating func handOver() {
        guard !batch.isEmpty else { return }
        sink.pointee.accept(&batch)
        batch.removeAll(keepingCapacity: true)
    }

    private mutating func detect(_ line: UnsafeRawBufferPointer) {
        held.append(Array(line))
        heldBytes += line.count
        if let decided = detector.observe(line: line) {
            settle(decided)
        } else if held.count >= Self.detectionLineLimit || heldBytes >= Self.detectionByteLimit {
            settle(detector.bestGuess)
        }
    }

    /// Chooses the format (or none) and parses the held lines.
    mutating func settle(_ decided: LogFormat?) {
        let pending = held
        held.removeAll()
        heldBytes = 0
        guard let decided else {
            unknownFormatLines += pending.count
            return
        }
        format = decided
        parsers.begin(decided, yearHint: yearHint)
        for line in pending {
            line.withUnsafeBytes { raw in
                _ = parsers.parse(decided, raw, into: &batch)
            }
            if batch.count >= Sink.preferredBatchCount { handOver() }
        }
    }

    /// Ends an input: settles a format still undecided (a short file).
    mutating func endInput() {
        if format == nil && !held.isEmpty { settle(detector.bestGuess) }
        handOver()
        sink.pointee.flush()
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

    /// Reads every input in order and hands the events to `sink`.
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
        let parsers = ParserSet(
            configuration: configuration, jsonMapping: configuration.jsonFieldMapping,
            postfix: nil, exim: nil, jsonl: nil, eventOutput: Sink.eventOutput)
        // Safe: the pointer is used only inside this closure, while `sink` is not accessed otherwise.
        return withUnsafeMutablePointer(to: &sink) { sinkPointer in
        var consumer = ParsingConsumer(parsers: parsers, sink: sinkPointer)
        var framer = LineFramer(maxLineBytes: configuration.maxLineBytes)
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
            let hint: YearHint
            if let year = configuration.year {
                hint = .year(year)
            } else if let mtime = source.modificationTime {
                hint = .modified(mtime)
            } else {
                hint = fallbackYearHint
            }
            consumer.beginInput(format: configuration.format, yearHint: hint)
            do {
                try readLines(from: &source, framer: &framer, into: &consumer, prefetch: prefetch)
            } catch {
                diagnose("sendwatch: \(error); the events before this point were written, the rest of this input is skipped")
                summary.failures.append("\(error)")
            }
            consumer.endInput()
            summary.inputFormats.append((source.name, consumer.format))
        }
        let counters = consumer.parsers.finish(into: &consumer.batch)
        consumer.handOver()
        consumer.sink.pointee.flush()
        summary.parse = counters
        summary.bytes = framer.bytes
        if consumer.unknownFormatLines > 0 {
            summary.parse.rejected[.unknownFormat, default: 0] += consumer.unknownFormatLines
        }
        summary.lines = consumer.lines
        summary.linesTooLong = framer.linesTooLong
        summary.partialLinesDropped = framer.partialLinesDropped
        summary.events = counters.events
        return summary
        }
    }
}

extension Configuration {
    /// The JSON-lines field mapping from `jsonl.fields`.
    public var jsonFieldMapping: JSONFieldMapping {
        func path(_ name: String) -> [String] {
            // An empty path leaves an optional field unmapped.
            JSONFieldMapping.path(jsonFields[name] ?? name)
        }
        return JSONFieldMapping(
            time: path("ts"), account: path("account"), accountCreated: path("account_created"),
            sender: path("sender"), recipients: path("to"), subject: path("subject"), template: path("template_id"),
            messageID: path("message_id"), clientIP: path("client_ip"), host: path("host"), status: path("status"))
    }
}
