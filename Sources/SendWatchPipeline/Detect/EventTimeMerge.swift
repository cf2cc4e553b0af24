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
/// others hold, and counted in ``forcedReleases``), and released events not dropped yet (``storedEvents``: at most
/// as many again plus 1,024 per source; each with its stream sequence and resume position, 16 bytes), plus one
/// entry per source (at most ``maxSources``; events of
/// hosts beyond that share one source, named ``overflowSource``). Sources are never forgotten (a host that
/// stopped sending is idle, and is kept in the checkpoint).
///
/// A checkpoint does not hold the held events themselves (``saved()``: per source the stream sequence of its first
/// held event and how many it held, O(sources)): a restored merge is refilled from the stream
/// (``refill(_:sequence:)``), whose messages from the earliest of those sequences on are read again. Each source's
/// held events are the ones it took in last, so every message of that source from its first held sequence up to the
/// checkpoint's last one is one of them.
public struct EventTimeMerge: Sendable {
    /// One source's held events.
    struct Source: Sendable {
        var name: String
        var events: [SendEvent] = []
        /// The stream sequence of each event in ``events``.
        var sequences: [UInt64] = []
        /// The feed's resume position of each event in ``events`` (``FeedMessage/position``).
        var positions: [UInt64] = []
        var head = 0
        /// While the merge is refilled after a restore: the stream sequence of this source's first event held at
        /// the checkpoint (nil: it held none).
        var refillFrom: UInt64?
        var isEmpty: Bool { head >= events.count }
        var headTime: EventTime? { isEmpty ? nil : events[head].time }
    }

    /// Released events a source keeps before its head at least, before they are dropped (when they are also
    /// at least as many as it holds): 1024.
    static let compactionThreshold = 1024
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
    /// During a refill: the events the checkpoint said were held.
    private var expectedRefill = 0

    /// An empty merge holding at most `maxBuffered` events (at least 1).
    public init(maxBuffered: Int) {
        self.maxBuffered = max(1, maxBuffered)
    }

    /// Events in the sources' storage: the held ones plus released ones not dropped yet, at most
    /// `2 × buffered + 1024 × sources`.
    public var storedEvents: Int { sources.reduce(0) { $0 + $1.events.count } }

    /// The source names, in tie order.
    public var sourceNames: [String] { sources.map(\.name) }

    /// Adds an event that arrived from the host `event.host` (nil: the source named ""), after every earlier one of
    /// that host, read from stream sequence `sequence` (and the feed's resume `position`, ``earliestHeldPosition``);
    /// releases the earliest held event into `batch` when the buffer is full.
    public mutating func add(
        _ event: SendEvent, sequence: UInt64, position: UInt64 = 0, releasingInto batch: inout EventBatch
    ) {
        let i = sourceIndex(event.host ?? "")
        sources[i].events.append(event)
        sources[i].sequences.append(sequence)
        sources[i].positions.append(position)
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
            sources[s].sequences.removeAll(keepingCapacity: sources[s].sequences.capacity <= 4096)
            sources[s].positions.removeAll(keepingCapacity: sources[s].positions.capacity <= 4096)
            sources[s].head = 0
        } else if sources[s].head >= Self.compactionThreshold && sources[s].head * 2 >= sources[s].events.count {
            // A source that never runs empty (its host always ahead of another) would otherwise keep every event
            // it ever released before its head: the whole run's events (958 MiB for 2.5 M events before).
            sources[s].events.removeFirst(sources[s].head)
            sources[s].sequences.removeFirst(sources[s].head)
            sources[s].positions.removeFirst(sources[s].head)
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
    /// What a checkpoint keeps of a merge: per source its name, the stream sequence of its first held event and
    /// how many it held. The events themselves are read again from the stream (``refill(_:sequence:)``).
    struct Saved: Codable {
        struct SavedSource: Codable {
            var name: String
            /// The stream sequence of the source's first held event; nil: it held none.
            var firstHeld: UInt64?
            var held: Int
        }
        var sources: [SavedSource]
        var forcedReleases: Int
    }

    /// The state to checkpoint.
    ///
    /// - Complexity: O(sources).
    func saved() -> Saved {
        Saved(
            sources: sources.map { s in
                .init(name: s.name, firstHeld: s.isEmpty ? nil : s.sequences[s.head], held: s.events.count - s.head)
            },
            forcedReleases: forcedReleases)
    }

    /// A merge restored from `saved`, holding nothing yet: the caller reads the stream again from ``refillStart``
    /// on and hands each event up to the checkpoint's last sequence to ``refill(_:sequence:)``, then calls
    /// ``endRefill()``.
    init(maxBuffered: Int, restoring saved: Saved) {
        self.init(maxBuffered: maxBuffered)
        for s in saved.sources {
            var source = Source(name: s.name)
            source.refillFrom = s.firstHeld
            sources.append(source)
            expectedRefill += s.held
        }
        sources.sort { $0.name < $1.name }
        for (i, s) in sources.enumerated() { indexOfName[s.name] = i }
        forcedReleases = saved.forcedReleases
    }

    /// The lowest resume position (``FeedMessage/position``) of the events held; nil when none is held.
    ///
    /// - Complexity: O(held events).
    public var earliestHeldPosition: UInt64? {
        var lowest: UInt64?
        for s in sources where !s.isEmpty {
            for p in s.positions[s.head...] where lowest.map({ p < $0 }) ?? true { lowest = p }
        }
        return lowest
    }

    /// The earliest stream sequence a refill needs (nil: the checkpoint held no events).
    var refillStart: UInt64? { sources.compactMap(\.refillFrom).min() }

    /// During a refill: takes the event read again from `sequence` (resume `position`) back in if its source held
    /// it at the checkpoint (its sequence is at or after that source's first held one), in stream order. False: it
    /// had been released.
    @discardableResult
    mutating func refill(_ event: SendEvent, sequence: UInt64, position: UInt64 = 0) -> Bool {
        let host = event.host ?? ""
        guard let i = indexOfName[host] ?? indexOfName[Self.overflowSource],
            let from = sources[i].refillFrom, sequence >= from
        else { return false }
        sources[i].events.append(event)
        sources[i].sequences.append(sequence)
        sources[i].positions.append(position)
        buffered += 1
        return true
    }

    /// Ends a refill; returns how many events the checkpoint said were held that did not come back (the stream's
    /// limits removed their messages meanwhile): 0 normally.
    mutating func endRefill() -> Int {
        for i in sources.indices { sources[i].refillFrom = nil }
        defer { expectedRefill = 0 }
        return max(0, expectedRefill - buffered)
    }
}

extension EventTimeMerge.Saved {
    /// Decodes a saved merge, checked (``StateCheck``): at most ``EventTimeMerge/maxSources`` sources and the one
    /// they overflow into, each named once, and counts that are not negative and whose sum (what a restore
    /// expects to read again) stays within 2^56.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sources = try c.decode([SavedSource].self, forKey: .sources)
        forcedReleases = try c.decodeCount(forKey: .forcedReleases, "merge: events released early")
        try StateCheck.require(
            sources.count <= EventTimeMerge.maxSources + 1, "merge: \(sources.count) sources", decoder)
        try StateCheck.require(
            Set(sources.map(\.name)).count == sources.count, "merge: a source is saved twice", decoder)
        var held = 0
        for s in sources {
            held += s.held
            try StateCheck.require(held <= StateCheck.maxCount, "merge: \(held) held events or more", decoder)
        }
    }
}

extension EventTimeMerge.Saved.SavedSource {
    /// Decodes a saved source, its count of held events checked (``StateCheck``).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        firstHeld = try c.decodeIfPresent(UInt64.self, forKey: .firstHeld)
        held = try c.decodeCount(forKey: .held, "merge: events held by a source")
    }
}
