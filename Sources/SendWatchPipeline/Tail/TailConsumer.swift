import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchIngest

/// Where a ``TailConsumer``'s streams hand their events: told which stream the next events come from.
protocol StreamEventSink: EventSink {
    /// Called before stream `index` parses (a line, held lines being settled, its end): the events handed over
    /// until the next call are that stream's, in the order its parser made them.
    mutating func beginStream(_ index: Int)
}

/// Takes parsed events into the detection engine and keeps the alerts it emits until the run writes them.
///
/// Events stamped later than ``latestAccepted`` (the wall clock plus ``TailOptions/maxFutureSeconds``, set by
/// the run before each poll) are set aside and counted in ``futureOutliers``: live logs are not written in the
/// future, so such a line comes from a wrong clock, a wrong time zone or a forger, and must not move event
/// time (which the checkpoint would keep across restarts).
struct TailEventSink: StreamEventSink {
    var engine: DetectionEngine
    var alerts: [Alert] = []
    /// The latest event time taken; later events are time outliers. Default: no bound.
    var latestAccepted = EventTime(microseconds: .max)
    /// Events set aside for being later than ``latestAccepted`` (this run).
    var futureOutliers = 0
    /// Events taken (this run), and those of them with a subject or template id (``SubjectCount``).
    var events = 0
    var eventsWithSubject = 0

    mutating func accept(_ batch: inout EventBatch) {
        events += batch.count
        eventsWithSubject += SubjectCount.count(in: batch)
        // The bound is checked in the engine's own pass over the batch.
        futureOutliers += engine.process(&batch, notAfter: latestAccepted, into: &alerts)
    }

    mutating func flush() {}

    @inline(__always)
    mutating func beginStream(_ index: Int) {}
}

/// Every followed stream's parsing and the one sink they all write to, in one value mutated in place.
///
/// One value so that handing the sink to a stream's parser (`streams[i]!.consume(line:sink: &sink)`) is an
/// access to two stored properties of a struct the compiler checks for overlap when it compiles, with no check
/// at run time (two stored properties of a class would each get a dynamic exclusivity check per line). The
/// consumer reaches it through one property, once per call.
struct ParsedStreams<Sink: StreamEventSink> {
    /// The engine and pending alerts (`tail`) or the events to publish (`ship`).
    var sink: Sink
    /// Per stream index.
    var streams: [StreamParsing?] = []
    /// Names of the streams seen, by index.
    var names: [String?] = []
    var linesSinceTake = 0

    /// Counts `line` and, if stream `index` is open, parses it into the sink; false when the stream is not open
    /// (the line is counted but not parsed).
    @inline(__always)
    mutating func consume(stream index: Int, line: UnsafeRawBufferPointer) -> Bool {
        linesSinceTake += 1
        guard index < streams.count, streams[index] != nil else { return false }
        parse(stream: index, line: line)
        return true
    }

    /// Parses `line` of stream `index`, which is open, into the sink.
    @inline(__always)
    mutating func parse(stream index: Int, line: UnsafeRawBufferPointer) {
        sink.beginStream(index)
        // Safe to force unwrap: the callers check it is open.
        streams[index]!.consume(line: line, sink: &sink)
    }

    /// Stream `index` hands over the events its parsers still hold, if it is open.
    mutating func finish(stream index: Int) {
        guard index < streams.count, streams[index] != nil else { return }
        sink.beginStream(index)
        // Safe to force unwrap: checked in the guard.
        streams[index]!.finish(sink: &sink)
    }

    /// Every open stream settles a format still undecided.
    mutating func settleUndecided() {
        for i in streams.indices where streams[i] != nil {
            sink.beginStream(i)
            // Safe to force unwrap: checked in the where clause.
            streams[i]!.settleUndecided(sink: &sink)
        }
    }
}

/// One parser chain per followed stream, all feeding one sink: the detection engine (`tail`) or the events to
/// publish (`ship`).
///
/// A class, shared by the run and its follower's polls; the streams and the sink are one stored value
/// (``ParsedStreams``), which the streams' parsers write to in turn.
final class TailConsumer<Sink: StreamEventSink>: FollowedLineConsumer {
    let configuration: Configuration
    /// The streams' parsing and the sink, owned here for the consumer's lifetime (never copied: a copy of the
    /// sink would make every table of the engine copy itself on its next write).
    private var parsed: ParsedStreams<Sink>
    /// The sink (the engine and pending alerts, or the events to publish), read and changed in place.
    var sink: Sink {
        _read { yield parsed.sink }
        _modify { yield &parsed.sink }
    }
    /// Parser state restored from a checkpoint, by stream name, applied when the stream first delivers a line.
    private var pending: [String: ParsingCheckpoint] = [:]
    /// The year hint for streams started in this run (the current time; year-less timestamps of live logs
    /// are recent).
    let yearHint: YearHint

    init(configuration: Configuration, sink initial: consuming Sink, wallSeconds: Double) {
        self.configuration = configuration
        parsed = ParsedStreams(sink: initial)
        if let year = configuration.year {
            yearHint = .year(year)
        } else {
            yearHint = .modified(EventTime(seconds: Int64(wallSeconds)))
        }
    }

    func restore(_ saved: [String: ParsingCheckpoint]) { pending = saved }

    /// Creates the parsing chain of stream `index` (named `name`), from saved state when there is some.
    func open(stream index: Int, name: String) throws {
        while parsed.streams.count <= index {
            parsed.streams.append(nil)
            parsed.names.append(nil)
        }
        guard parsed.streams[index] == nil else { return }
        var c = StreamParsing(
            settings: configuration.formatSettings(), format: configuration.format, yearHint: yearHint)
        if let saved = pending.removeValue(forKey: name) { try c.restore(saved) }
        parsed.streams[index] = c
        parsed.names[index] = name
    }

    /// The name stream `index` was opened with, until it is retired.
    func openedName(ofStream index: Int) -> String? { index < parsed.names.count ? parsed.names[index] : nil }

    /// The name of a stream index (set by the run from the follower).
    var nameOf: (Int) -> String? = { _ in nil }
    /// A restore that failed while opening a stream; the run stops with it.
    private var failure: String?

    func consume(stream: Int, line: UnsafeRawBufferPointer) {
        // One access to the consumer's state per line; opening a stream is the rare path.
        if parsed.consume(stream: stream, line: line) { return }
        let name = nameOf(stream) ?? "stream \(stream)"
        do {
            try open(stream: stream, name: name)
        } catch {
            if failure == nil { failure = "the checkpoint's parser state for \(name) cannot be restored: \(error)" }
            return
        }
        parsed.parse(stream: stream, line: line)
    }

    /// Ends a stream the follower retired (a glob match that is gone and fully read) as the end of its input
    /// ends a file in `replay`: its parsers hand over what they still hold (the lines of a format not decided
    /// yet), its counters stay in the totals (the lines of no known format and the messages left incomplete
    /// included); then it is forgotten, and its index may be reused for another file.
    ///
    /// Before, a retired stream was dropped as it was: a short file read and deleted in one quiet period lost
    /// its events (tail retires before it settles undecided formats), and its unknown-format lines left the
    /// totals, so a counter went down.
    func retire(stream index: Int) {
        guard index < parsed.streams.count else { return }
        finish(stream: index)
        if let c = parsed.streams[index] {
            retiredCounters.merge(c.counters)
            let unknown = c.detection.unknownFormatLines
            if unknown > 0 { retiredCounters.rejected[.unknownFormat, default: 0] += unknown }
        }
        parsed.streams[index] = nil
        parsed.names[index] = nil
    }

    /// Stream `index` hands over the events its parsers still hold (``StreamParsing/finish(sink:)``); a
    /// second call hands over nothing more.
    func finish(stream index: Int) { parsed.finish(stream: index) }

    /// Settles the format of streams still undecided (fewer lines than detection wants so far): called when
    /// the logs are quiet, so a short file is not held back until more lines come.
    func settleUndecided() { parsed.settleUndecided() }

    /// The end of the input (`ship --once`): every stream hands over the events its parsers still hold.
    func finish() {
        for i in parsed.streams.indices { parsed.finish(stream: i) }
    }

    /// Counters of retired streams (this run only).
    private var retiredCounters = ParseCounters()

    func takeFailure() -> String? {
        defer { failure = nil }
        return failure
    }

    /// Lines consumed since the last call.
    func takeLines() -> Int {
        defer { parsed.linesSinceTake = 0 }
        return parsed.linesSinceTake
    }

    /// Every stream's parsing state by name, plus saved states of streams not seen yet in this run.
    /// The parser state of every stream, by name, for a checkpoint: the streams opened in this run, and the
    /// state restored for streams that have not delivered a line yet if they are still `followed`. Restored
    /// state of a name no longer followed (its file went while the run was stopped, and the follower retired
    /// or dropped it) is forgotten here; before, it was carried into every later checkpoint, so a glob over
    /// dated or per-host files grew the checkpoint by one entry per vanished name for ever.
    func checkpoint(followed: Set<String>) -> [String: ParsingCheckpoint] {
        pending = pending.filter { followed.contains($0.key) }
        var out = pending
        for (i, c) in parsed.streams.enumerated() {
            if let c, let name = parsed.names[i] { out[name] = c.checkpoint() }
        }
        return out
    }

    /// Records in `summary` what `replay` records of each input's format, for each open stream: the format it
    /// was read as, a known other MTA its first lines look like, another format its first lines look like when
    /// one was given (``RunSummary/warnings`` names them).
    func noteFormats(in summary: inout RunSummary) {
        for (i, c) in parsed.streams.enumerated() {
            guard let c else { continue }
            let name = (i < parsed.names.count ? parsed.names[i] : nil) ?? "input"
            summary.inputFormats.append((name, c.format))
            if let foreign = c.detection.detector.foreignGuess { summary.foreignFormats.append((name, foreign)) }
            summary.noteOtherFormat(of: name, c.detection)
        }
    }

    /// The parsers' counters over every stream.
    func parseCounters() -> ParseCounters {
        var total = retiredCounters
        for c in parsed.streams {
            guard let c else { continue }
            total.merge(c.counters)
            let unknown = c.detection.unknownFormatLines
            if unknown > 0 { total.rejected[.unknownFormat, default: 0] += unknown }
        }
        return total
    }
}

extension TailConsumer where Sink == TailEventSink {
    /// The alerts produced since the last call.
    func takeAlerts() -> [Alert] {
        defer { parsed.sink.alerts.removeAll(keepingCapacity: true) }
        return parsed.sink.alerts
    }
}
