import SendWatchCore
import SendWatchFormats
import SendWatchIngest

/// One log of a merged run (``EventsRun/run(logs:sink:prefetch:diagnose:)``): its files read one after another
/// as one stream, a chunk at a time, with parsers of its own, so that the run can take events from whichever
/// log is earliest.
///
/// A class because it owns the open ``InputSource`` (noncopyable) and sits in an array of logs; it is made once
/// per log, never per line.
///
/// Memory: one open input (its input buffer and decoder state, see ``InputSource``), one chunk buffer of
/// ``chunkBytes``, the framer's carry (up to `input.max_line_bytes`), the lines held while a file's format is
/// being recognised (``FormatDetection``), the events parsed from one chunk, and its own parsers' tables (each
/// bounded by `messages.max_open`).
final class MergedLog {
    /// Bytes read per step: 256 KiB, as the single-log loop.
    static let chunkBytes = 256 * 1024

    /// The log's files, oldest first.
    let paths: [String]
    /// Index in ``paths`` of the next file to open.
    private var nextPath = 0
    /// The file being read, if any.
    private var source: InputSource?
    /// The name and year hint of the file being read, and whether the hint is its modification time.
    private var name = ""
    private var hint = YearHint.none
    private var hintIsModificationTime = false
    private let configuration: Configuration
    private let fallbackYearHint: YearHint
    private let buffer: UnsafeMutableRawBufferPointer
    var framer: LineFramer
    var consumer: MergedLogConsumer
    /// Index in `consumer.events` of the next event to hand on.
    private var head = 0
    /// Every file was read and the parsers finished.
    private(set) var ended = false

    init(paths: [String], configuration: Configuration, settings: FormatSettings, fallbackYearHint: YearHint) {
        self.paths = paths
        self.configuration = configuration
        self.fallbackYearHint = fallbackYearHint
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkBytes, alignment: 16)
        self.framer = LineFramer(maxLineBytes: configuration.maxLineBytes)
        self.consumer = MergedLogConsumer(settings: settings, configured: configuration.format)
    }

    deinit { buffer.deallocate() }

    /// The time of the next event to hand on, or `nil` when none is parsed (call ``fill(_:diagnose:)``).
    var headTime: EventTime? { head < consumer.events.count ? consumer.events[head].time : nil }

    /// Appends the next event to `batch`; only when ``headTime`` is not `nil`.
    func takeHead(into batch: inout EventBatch) {
        batch.append(consumer.events[head])
        head += 1
    }

    /// Reads and parses until an event is waiting (``headTime``) or the log has ended; opening, ending and
    /// damage of its files are recorded in `summary` (and damage and open failures reported to `diagnose`).
    func fill(_ summary: inout RunSummary, diagnose: (String) -> Void) {
        while headTime == nil && !ended {
            if head > 0 {
                consumer.events.removeAll(keepingCapacity: true)
                head = 0
            }
            guard var file = source.take() else {
                openNext(&summary, diagnose: diagnose)
                continue
            }
            do {
                if try readChunk(from: &file, into: buffer, framer: &framer, to: &consumer) {
                    source = consume file
                } else {
                    endFile(&summary)
                }
            } catch {
                diagnose(
                    "sendwatch: \(error) The events before this point were written; the rest of this input is skipped.")
                summary.failures.append("\(error)")
                endFile(&summary)
            }
        }
    }

    /// Opens the next file, or finishes the parsers when there is none.
    private func openNext(_ summary: inout RunSummary, diagnose: (String) -> Void) {
        guard nextPath < paths.count else {
            consumer.finish()
            ended = true
            return
        }
        let path = paths[nextPath]
        nextPath += 1
        do {
            let file = try InputSource.open(path: path)
            summary.inputs += 1
            name = file.name
            hint = configuration.yearHint(for: file, fallback: fallbackYearHint)
            hintIsModificationTime = file.modificationTime != nil
            consumer.beginInput(yearHint: hint)
            source = consume file
        } catch {
            diagnose("sendwatch: \(error)")
            summary.failures.append("\(error)")
        }
    }

    /// Ends the file being read (its last line was framed, or it was damaged): decides its format from the
    /// votes when it was not decided, and records the file in `summary`.
    private func endFile(_ summary: inout RunSummary) {
        let format = consumer.endInput()
        if let foreign = consumer.detection.detector.foreignGuess {
            summary.foreignFormats.append((name, foreign))
        }
        summary.noteOtherFormat(of: name, consumer.detection)
        summary.inputFormats.append((name, format))
        if let format {
            summary.noteYearlessTimes(
                of: name, hint: hint, modificationTime: hintIsModificationTime,
                latest: RegisteredFormats.latestYearlessTime(at: format.registryIndex, in: consumer.parsers))
        }
    }
}

/// The lines of one ``MergedLog`` into its parsers: while a file's format is not known the lines are held and
/// vote (``FormatDetection``, as in the single-log loop; with a configured format too, which then decides),
/// then they and every later line are parsed with that format's parser.
///
/// Parses through ``FormatList/parse(at:_:in:into:)`` (a short chain of index tests per line) rather than a
/// loop specialised per parser: only merged runs take this path, and the single-log path keeps its
/// specialised loop.
struct MergedLogConsumer: LineConsumer {
    var parsers = RegisteredFormats.noParsers
    let settings: FormatSettings
    /// The format of the file being read, once known.
    var format: LogFormat?
    var detection = FormatDetection()
    var yearHint = YearHint.none
    /// Events parsed and not yet handed on.
    var events: EventBatch = []
    /// Lines framed.
    var lines = 0

    init(settings: FormatSettings, configured: LogFormat?) {
        self.settings = settings
        detection.configured = configured
    }

    mutating func consume(line: UnsafeRawBufferPointer) {
        lines += 1
        if let format {
            _ = RegisteredFormats.parse(at: format.registryIndex, line, in: &parsers, into: &events)
        } else if let decided = detection.hold(line) {
            begin(decided)
        }
    }

    /// Starts a file: its first lines are held until its format is known.
    mutating func beginInput(yearHint: YearHint) {
        self.yearHint = yearHint
        self.format = nil
        detection.beginInput()
    }

    /// Ends a file; returns the format it was read as (`nil`: no line of a known format).
    mutating func endInput() -> LogFormat? {
        if format == nil, let guess = detection.settle() { begin(guess) }
        return format
    }

    /// Ends the log: what the parsers still hold goes into ``events``.
    mutating func finish() {
        RegisteredFormats.finish(&parsers, into: &events)
    }

    /// The file's format is known: starts its parser and parses the lines held so far.
    private mutating func begin(_ decided: LogFormat) {
        format = decided
        RegisteredFormats.beginInput(
            at: decided.registryIndex, in: &parsers, settings: settings, yearHint: yearHint)
        for line in detection.takeHeld() {
            line.withUnsafeBytes {
                _ = RegisteredFormats.parse(at: decided.registryIndex, $0, in: &parsers, into: &events)
            }
        }
    }
}
