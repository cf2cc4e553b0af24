public import SendWatchCore

/// Merges the events of several sources (each the events of one host, in that host's log order) into one
/// sequence by event time exactly as `replay` merges separate logs: the earliest next event of any source first,
/// on equal times the source whose name sorts first.
///
/// A worker reads the events of many agents interleaved as they were published, so the next event of a source
/// may not have arrived yet. An event is released only when every other source's next event is known (held
/// here), which is `replay`'s own rule: a host's events are not in strict time order (an event is logged when its
/// message is done, stamped with its first delivery attempt), so the time of a host's last event is no bound on
/// its next one, and only the next event itself says whether it goes first. A source that sends nothing would
/// stall the others for ever: ``release(into:idleSources:)`` is told which sources the caller considers idle (the
/// worker: caught up with the stream and nothing from them for a while), and ``releaseAll(into:)`` empties the
/// buffer at the end of a run.
///
/// Memory: the events held, at most ``maxBuffered`` (when more arrive, the earliest is released whatever the
/// others hold, and counted in ``forcedReleases``), plus one entry per source (at most ``maxSources``; events of
/// hosts beyond that share one source, named ``overflowSource``). Sources are never forgotten (a host that
/// stopped sending is idle, and is kept in the checkpoint).
public struct EventTimeMerge: Sendable {
    /// One source's held events.
    struct Source: Sendable {
        var name: String
        var events: [SendEvent] = []
        var head = 0
        var isEmpty: Bool { head >= events.count }
        var headTime: EventTime? { isEmpty ? nil : events[head].time }
    }

    /// The most sources kept apart: 4096.
    public static let maxSources = 4096
    /// The name of the source events of further hosts share once ``maxSources`` exist.
    public static let overflowSource = "\u{10FFFF}overflow"
    /// The most events held before the earliest is released regardless.
    public let maxBuffered: Int
    /// Sources sorted by name (the tie order).
    private(set) var sources: [Source] = []
    private var indexOfName: [String: Int] = [:]
    /// Events held now.
    public private(set) var buffered = 0
    /// Events released because the buffer was full, before every source had passed their time.
    public private(set) var forcedReleases = 0

    /// An empty merge holding at most `maxBuffered` events (at least 1).
    public init(maxBuffered: Int) {
        self.maxBuffered = max(1, maxBuffered)
    }

    /// The source names, in tie order.
    public var sourceNames: [String] { sources.map(\.name) }

    /// Adds an event that arrived from the host `event.host` (nil: the source named ""), after every earlier one of
    /// that host; releases the earliest held event into `batch` when the buffer is full.
    public mutating func add(_ event: SendEvent, releasingInto batch: inout EventBatch) {
        let i = sourceIndex(event.host ?? "")
        sources[i].events.append(event)
        buffered += 1
        if buffered > maxBuffered, let first = earliest() {
            take(first, into: &batch)
            forcedReleases += 1
        }
    }

    /// Releases into `batch`, in merge order, every event that is safe to release. A source whose name is in
    /// `idleSources` and holds nothing does not hold the others back.
    ///
    /// - Complexity: O(released × sources).
    public mutating func release(into batch: inout EventBatch, idleSources: Set<String> = []) {
        while let s = earliest() {
            // Another source's next event, not here yet, might go first.
            let waiting = sources.indices.contains { r in
                r != s && sources[r].isEmpty && !idleSources.contains(sources[r].name)
            }
            if waiting { return }
            take(s, into: &batch)
        }
    }

    /// Releases every held event into `batch`, in merge order (at the end of input).
    public mutating func releaseAll(into batch: inout EventBatch) {
        while let s = earliest() { take(s, into: &batch) }
    }

    /// The source with the earliest next event (the first in tie order on equal times).
    private func earliest() -> Int? {
        var best: Int?
        for i in sources.indices {
            guard let t = sources[i].headTime else { continue }
            if let b = best, let bt = sources[b].headTime, bt <= t { continue }
            best = i
        }
        return best
    }

    private mutating func take(_ s: Int, into batch: inout EventBatch) {
        batch.append(sources[s].events[sources[s].head])
        sources[s].head += 1
        buffered -= 1
        if sources[s].isEmpty {
            sources[s].events.removeAll(keepingCapacity: sources[s].events.capacity <= 4096)
            sources[s].head = 0
        }
    }

    private mutating func sourceIndex(_ host: String) -> Int {
        if let i = indexOfName[host] { return i }
        let name = sources.count >= Self.maxSources ? Self.overflowSource : host
        if let i = indexOfName[name] { return i }
        let at = sources.firstIndex { $0.name > name } ?? sources.count
        sources.insert(Source(name: name), at: at)
        indexOfName = [:]
        for (i, s) in sources.enumerated() { indexOfName[s.name] = i }
        return at
    }
}

extension EventTimeMerge {
    /// What a checkpoint keeps of a merge: per source its name and held events (each as the JSON object
    /// `sendwatch events` writes).
    struct Saved: Codable {
        struct SavedSource: Codable {
            var name: String
            var events: [String]
        }
        var sources: [SavedSource]
        var forcedReleases: Int
    }

    /// The state to checkpoint.
    func saved() -> Saved {
        Saved(
            sources: sources.map { s in
                let events = s.events[s.head...].map { e -> String in
                    var w = JSONWriter(capacity: 512)
                    e.writeJSONLine(to: &w)
                    return String(decoding: w.bytes.dropLast(), as: UTF8.self)
                }
                return .init(name: s.name, events: events)
            },
            forcedReleases: forcedReleases)
    }

    /// A merge restored from `saved`; nil when a held event does not decode.
    init?(maxBuffered: Int, restoring saved: Saved) {
        self.init(maxBuffered: maxBuffered)
        var decoder = EventRecordDecoder()
        for s in saved.sources {
            var source = Source(name: s.name)
            for text in s.events {
                var bytes = Array(text.utf8)
                guard let e = bytes.withUnsafeMutableBytes({ decoder.decode(UnsafeRawBufferPointer($0)) }) else {
                    return nil
                }
                source.events.append(e)
            }
            buffered += source.events.count
            sources.append(source)
        }
        sources.sort { $0.name < $1.name }
        for (i, s) in sources.enumerated() { indexOfName[s.name] = i }
        forcedReleases = saved.forcedReleases
    }
}
