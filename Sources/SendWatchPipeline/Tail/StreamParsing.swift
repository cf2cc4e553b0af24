import SendWatchCore
import SendWatchFormats

/// The saved state of one stream's parsing: the format it settled on, lines held while the format was still
/// undecided, and the parsers' state, keyed by format (``SavedParsers``).
struct ParsingCheckpoint: Codable {
    var format: LogFormat?
    var held: [[UInt8]]
    var detector: FormatDetector.Checkpoint
    var lines: Int
    var unknownFormatLines: Int
    var parsers: SavedParsers
}

/// The parsing of one followed stream: recognises its format from the first lines (``FormatDetection``), then
/// parses each line with the parser of that format.
///
/// Lines of different streams arrive interleaved, one at a time, so the parser is picked per line by the
/// format's index in ``RegisteredFormats`` (a compare per registered format, generated from the registry, with
/// a direct call to the parser); ``EventsRun`` instead picks it once per input.
struct StreamParsing {
    let settings: FormatSettings
    let yearHint: YearHint
    var parsers = RegisteredFormats.noParsers
    var format: LogFormat?
    /// ``format``'s index in ``RegisteredFormats``.
    private var formatIndex: Int?
    var detection = FormatDetection()
    var batch: EventBatch = []
    var lines = 0
    /// With a configured format: whether the first lines still vote (up to ``FormatDetection/lineLimit`` lines
    /// or a decisive vote), so that a stream without events can name the format or the other MTA it looks like,
    /// as `replay` does. The lines are parsed with the configured format all the same.
    private var observing: Bool

    init(settings: FormatSettings, format configured: LogFormat?, yearHint: YearHint) {
        self.settings = settings
        self.yearHint = yearHint
        batch.reserveCapacity(64)
        detection.configured = configured
        observing = configured != nil
        if let configured { begin(configured, at: configured.registryIndex) }
    }

    private mutating func begin(_ decided: LogFormat, at index: Int) {
        format = decided
        formatIndex = index
        RegisteredFormats.beginInput(at: index, in: &parsers, settings: settings, yearHint: yearHint)
    }

    @inline(__always)
    mutating func consume<S: EventSink>(line: UnsafeRawBufferPointer, sink: inout S) {
        lines += 1
        guard let formatIndex else {
            if let decided = detection.hold(line) { settle(decided, sink: &sink) }
            return
        }
        if observing, lines > FormatDetection.lineLimit || detection.detector.observe(line: line) != nil {
            observing = false
        }
        _ = RegisteredFormats.parse(at: formatIndex, line, in: &parsers, into: &batch)
        if batch.count >= S.preferredBatchCount { handOver(to: &sink) }
    }

    private mutating func handOver<S: EventSink>(to sink: inout S) {
        guard !batch.isEmpty else { return }
        sink.accept(&batch)
        batch.removeAll(keepingCapacity: true)
    }

    /// Chooses the format (`nil`: none) and parses the held lines with it.
    mutating func settle<S: EventSink>(_ decided: LogFormat?, sink: inout S) {
        guard let decided else { return }
        let pending = detection.takeHeld()
        let index = decided.registryIndex
        begin(decided, at: index)
        for line in pending {
            line.withUnsafeBytes { raw in
                _ = RegisteredFormats.parse(at: index, raw, in: &parsers, into: &batch)
            }
            if batch.count >= S.preferredBatchCount { handOver(to: &sink) }
        }
    }

    /// Settles a format still undecided (fewer lines than detection wants so far) with the best guess.
    mutating func settleUndecided<S: EventSink>(sink: inout S) {
        guard format == nil && !detection.held.isEmpty else { return }
        settle(detection.settle(), sink: &sink)
    }

    /// The end of the input (`ship --once`): settles an undecided format, then hands over the events the parsers
    /// still hold (messages whose last line has not come), as `events` does at the end of a file.
    mutating func finish<S: EventSink>(sink: inout S) {
        settleUndecided(sink: &sink)
        guard format != nil else { return }
        RegisteredFormats.finish(&parsers, into: &batch)
        handOver(to: &sink)
    }

    /// The parsers' counters, with the lines of no known format.
    var counters: ParseCounters {
        var total = ParseCounters()
        RegisteredFormats.addCounters(of: parsers, to: &total)
        return total
    }

    func checkpoint() -> ParsingCheckpoint {
        ParsingCheckpoint(
            format: format, held: detection.held, detector: detection.detector.checkpoint(), lines: lines,
            unknownFormatLines: detection.unknownFormatLines, parsers: SavedParsers(parsers))
    }

    mutating func restore(_ c: ParsingCheckpoint) throws {
        format = c.format
        formatIndex = c.format?.registryIndex
        detection.held = c.held
        detection.heldBytes = c.held.reduce(0) { $0 + $1.count }
        detection.detector = try FormatDetector(restoring: c.detector)
        detection.unknownFormatLines = c.unknownFormatLines
        lines = c.lines
        parsers = try c.parsers.restore(settings: settings)
    }
}
