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

    mutating func accept(_ batch: inout EventBatch) {
        // The bound is checked in the engine's own pass over the batch.
        futureOutliers += engine.process(&batch, notAfter: latestAccepted, into: &alerts)
    }

    mutating func flush() {}

    @inline(__always)
    mutating func beginStream(_ index: Int) {}
}

/// One parser chain per followed stream, all feeding one sink: the detection engine (`tail`) or the events to
/// publish (`ship`).
///
/// A class: it owns the sink's storage, which every stream's ``StreamParsing`` writes to in turn.
final class TailConsumer<Sink: StreamEventSink>: FollowedLineConsumer {
    let configuration: Configuration
    /// Owned storage of the sink (the engine and pending alerts); stable for the consumer's lifetime.
    ///
    /// A pointer, not a stored value: every stream's ``StreamParsing`` writes to it in turn, `inout`, once per
    /// line, and a stored property of a class passed `inout` costs a dynamic exclusivity check per access
    /// (never copied either way: the engine's tables stay in place). All of them run on the tail loop's
    /// thread, one call at a time. A stored `var` would make the compiler check that instead; the cost of its
    /// checks on this per-line path has not been measured.
    let sink: UnsafeMutablePointer<Sink>
    /// Per stream index.
    private var streams: [StreamParsing?] = []
    /// Parser state restored from a checkpoint, by stream name, applied when the stream first delivers a line.
    private var pending: [String: ParsingCheckpoint] = [:]
    /// Names of the streams seen, by index.
    private var names: [String?] = []
    private var linesSinceTake = 0
    /// The year hint for streams started in this run (the current time; year-less timestamps of live logs
    /// are recent).
    let yearHint: YearHint

    init(configuration: Configuration, sink initial: consuming Sink, wallSeconds: Double) {
        self.configuration = configuration
        sink = .allocate(capacity: 1)
        sink.initialize(to: initial)
        if let year = configuration.year {
            yearHint = .year(year)
        } else {
            yearHint = .modified(EventTime(seconds: Int64(wallSeconds)))
        }
    }

    deinit {
        sink.deinitialize(count: 1)
        sink.deallocate()
    }

    func restore(_ saved: [String: ParsingCheckpoint]) { pending = saved }

    /// Creates the parsing chain of stream `index` (named `name`), from saved state when there is some.
    func open(stream index: Int, name: String) throws {
        while streams.count <= index {
            streams.append(nil)
            names.append(nil)
        }
        guard streams[index] == nil else { return }
        var c = StreamParsing(
            settings: configuration.formatSettings(), format: configuration.format, yearHint: yearHint)
        if let saved = pending.removeValue(forKey: name) { try c.restore(saved) }
        streams[index] = c
        names[index] = name
    }

    /// The name stream `index` was opened with, until it is retired.
    func openedName(ofStream index: Int) -> String? { index < names.count ? names[index] : nil }

    /// The name of a stream index (set by the run from the follower).
    var nameOf: (Int) -> String? = { _ in nil }
    /// A restore that failed while opening a stream; the run stops with it.
    private var failure: String?

    func consume(stream: Int, line: UnsafeRawBufferPointer) {
        linesSinceTake += 1
        if stream >= streams.count || streams[stream] == nil {
            let name = nameOf(stream) ?? "stream \(stream)"
            do {
                try open(stream: stream, name: name)
            } catch {
                if failure == nil { failure = "the checkpoint's parser state for \(name) cannot be restored: \(error)" }
                return
            }
        }
        sink.pointee.beginStream(stream)
        // Safe to force unwrap: opened just above.
        streams[stream]!.consume(line: line, sink: &sink.pointee)
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
        guard index < streams.count else { return }
        finish(stream: index)
        if let c = streams[index] {
            retiredCounters.merge(c.counters)
            let unknown = c.detection.unknownFormatLines
            if unknown > 0 { retiredCounters.rejected[.unknownFormat, default: 0] += unknown }
        }
        streams[index] = nil
        names[index] = nil
    }

    /// Stream `index` hands over the events its parsers still hold (``StreamParsing/finish(sink:)``); a
    /// second call hands over nothing more.
    func finish(stream index: Int) {
        guard index < streams.count, streams[index] != nil else { return }
        sink.pointee.beginStream(index)
        // Safe to force unwrap: checked in the guard.
        streams[index]!.finish(sink: &sink.pointee)
    }

    /// Settles the format of streams still undecided (fewer lines than detection wants so far): called when
    /// the logs are quiet, so a short file is not held back until more lines come.
    func settleUndecided() {
        for i in streams.indices where streams[i] != nil {
            sink.pointee.beginStream(i)
            // Safe to force unwrap: checked in the where clause.
            streams[i]!.settleUndecided(sink: &sink.pointee)
        }
    }

    /// The end of the input (`ship --once`): every stream hands over the events its parsers still hold.
    func finish() {
        for i in streams.indices { finish(stream: i) }
    }

    /// Counters of retired streams (this run only).
    private var retiredCounters = ParseCounters()

    func takeFailure() -> String? {
        defer { failure = nil }
        return failure
    }

    /// Lines consumed since the last call.
    func takeLines() -> Int {
        defer { linesSinceTake = 0 }
        return linesSinceTake
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
        for (i, c) in streams.enumerated() {
            if let c, let name = names[i] { out[name] = c.checkpoint() }
        }
        return out
    }

    /// The parsers' counters over every stream.
    func parseCounters() -> ParseCounters {
        var total = retiredCounters
        for c in streams {
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
        defer { sink.pointee.alerts.removeAll(keepingCapacity: true) }
        return sink.pointee.alerts
    }
}
