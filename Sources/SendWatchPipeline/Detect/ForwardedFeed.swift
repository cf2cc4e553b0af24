public import SendWatchCore

/// The events stream as the forwarding stage (``ForwardRun``) saw it: its last sequence and its messages per
/// partition, asked of the broker (`NATSStreamWatch` of SendWatchFleet, or a test double).
public protocol ForwardSource {
    /// The events stream's last sequence (0: empty); nil when the broker cannot tell now.
    mutating func lastSequence() -> UInt64?
    /// The sequence of the last message of partition `partition` (0: none); nil when the broker cannot tell now.
    mutating func lastSequence(inPartition partition: Int) -> UInt64?
    /// How many messages the events stream holds in each partition; nil when the broker cannot tell now.
    mutating func messagesPerPartition() -> [Int: UInt64]?
}

/// The body of a message of the forwarded stream (`sendwatch forward` writes them, ``ForwardedFeed`` reads them):
/// an event `E<source sequence>\n<event record>`, or `E<source sequence> C<microseconds>\n<event record>` when the
/// first stage annotated it with its account's creation time from the account registry (`forward --accounts`;
/// the time in microseconds since the Unix epoch), or a watermark `W<sequence>` (every message of its partition up
/// to that events-stream sequence is forwarded).
public enum ForwardedMessage: Equatable, Sendable {
    /// An event record read from the events stream at `sequence`; `created` is its account's creation time when
    /// the first stage's registry has one.
    case event(sequence: UInt64, record: ArraySlice<UInt8>, created: EventTime?)
    /// Every message of the partition up to `sequence` of the events stream is forwarded.
    case watermark(UInt64)

    /// The body of an event forwarded from events-stream sequence `sequence`, annotated with its account's
    /// creation time `created` when there is one.
    public static func eventBody(sequence: UInt64, record: [UInt8], created: EventTime? = nil) -> [UInt8] {
        Array((created.map { "E\(sequence) C\($0.microseconds)\n" } ?? "E\(sequence)\n").utf8) + record
    }

    /// The body of a watermark.
    public static func watermarkBody(_ sequence: UInt64) -> [UInt8] { Array("W\(sequence)".utf8) }

    /// The decimal number of at most 20 digits at `i` in `body` and the index after it; nil for none or an
    /// overflow.
    private static func number(_ body: [UInt8], at start: Int) -> (UInt64, Int)? {
        var value: UInt64 = 0
        var i = start
        while i < body.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(body[i]), i - start < 20 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(body[i] - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = sum
            i += 1
        }
        return i > start ? (value, i) : nil
    }

    /// Decodes a body; nil when it is none of the forms.
    public init?(_ body: [UInt8]) {
        guard let kind = body.first, kind == UInt8(ascii: "E") || kind == UInt8(ascii: "W"),
            let (value, end) = Self.number(body, at: 1)
        else { return nil }
        var i = end
        if kind == UInt8(ascii: "W") {
            guard i == body.count else { return nil }
            self = .watermark(value)
            return
        }
        var created: EventTime?
        if i + 1 < body.count, body[i] == UInt8(ascii: " "), body[i + 1] == UInt8(ascii: "C") {
            let negative = i + 2 < body.count && body[i + 2] == UInt8(ascii: "-")
            guard let (micros, after) = Self.number(body, at: i + (negative ? 3 : 2)), micros <= UInt64(Int64.max)
            else { return nil }
            created = EventTime(microseconds: negative ? -Int64(micros) : Int64(micros))
            i = after
        }
        guard i < body.count, body[i] == UInt8(ascii: "\n") else { return nil }
        self = .event(sequence: value, record: body[(i + 1)...], created: created)
    }
}

/// The second stage's feed (`sendwatch detect --forwarded-partitions P`): reads the forwarded stream (`Inner`, in
/// the order the forwarding workers published) and delivers its events **in events-stream order**, each as a
/// ``FeedMessage`` whose sequence is its events-stream sequence and whose partition is its source partition. So
/// the ``DetectRun`` behind it takes in exactly the sequence a worker reading the events stream itself would, and
/// makes the same records.
///
/// Each forwarding worker publishes, per partition, the events it read and then a watermark `W` (every message of
/// that partition up to events-stream sequence `W` is forwarded; an idle partition's watermark follows the events
/// stream's last sequence). An event of sequence `s` is delivered once every partition's watermark is at least
/// `s - 1`: no event before it can come any more. A partition that has no watermark yet holds everything back
/// (a stage-one worker that died holds its partitions' events back until another takes them over).
///
/// Caught up (pending 0) only when the forwarded stream is read, nothing is held, and every watermark has reached
/// the events stream's last sequence (``ForwardSource``): `--once` ends when everything shipped went through.
///
/// **Resuming.** Each delivered event carries the forwarded-stream sequence of its message as its
/// ``FeedMessage/position``. The run's checkpoint keeps a ``FeedResumePoint`` (``resumePoint(holding:)``): the
/// earliest forwarded-stream sequence of any event still held, here or by the run (its per-host merge, which a
/// restart refills), or the message after the last one read when none is held; and every partition's watermark
/// as of the message before it. A watermark read later than that would be wrong there: it says every event up to
/// it was forwarded *before the watermark's own message*, so with earlier messages still to read it would let an
/// event go before an earlier one that is read later (which would then be skipped). From the resume point every
/// event not delivered yet, and every one the run held, is read again, and the watermarks grow as they did. A
/// checkpoint without a resume point (or of another partition count) reads the forwarded stream from its first
/// message and skips what was delivered.
///
/// Memory: the held events, at most ``maxHeld`` (beyond it the earliest is delivered regardless and counted in
/// ``releasedEarly``), one watermark per partition, and the watermark changes read since the last resume point
/// given (at most ``maxWatermarkChanges``, 24 bytes each; beyond it the oldest half is folded away, and a resume
/// point before what is left cannot be given: the checkpoint then has none).
public struct ForwardedFeed<Inner: StreamFeed, Source: ForwardSource>: StreamFeed {
    /// The forwarded stream.
    public var inner: Inner
    /// The events stream, for its last sequence and per-partition counts.
    public var source: Source
    /// The events stream's partitions (`ship --partitions`).
    public let partitions: Int
    /// The most events held.
    public let maxHeld: Int
    /// Per partition its watermark (0: none yet).
    public private(set) var watermarks: [UInt64]
    /// Per partition its held events (sequence, record, account creation time, forwarded-stream sequence), in
    /// sequence order from ``heads``' index on (the ones before it are delivered, dropped once they are 1,024 and at
    /// least half).
    private var held: [[(sequence: UInt64, record: [UInt8], created: EventTime?, position: UInt64)]]
    /// Per partition the index of its first held event in ``held``.
    private var heads: [Int]
    /// Events held now.
    public private(set) var heldCount = 0
    /// The events-stream sequence of the last event delivered.
    public private(set) var delivered: UInt64 = 0
    /// Events delivered before their turn because more than ``maxHeld`` were held.
    public private(set) var releasedEarly = 0
    /// Messages that were neither an event nor a watermark, or named a partition outside `0..<partitions`.
    public private(set) var undecodable = 0
    /// The pending count of the forwarded stream's last message read (nil before the first).
    private var innerPending: UInt64?
    /// The forwarded-stream sequence of the last message read (after a resume: the one before its point).
    public private(set) var lastRead: UInt64 = 0
    /// The most watermark changes kept for resume points (65,536 by default: 1.5 MiB).
    public let maxWatermarkChanges: Int
    /// The watermarks as of the message before ``historyStart``.
    private var historyBase: [UInt64]
    /// The forwarded-stream sequence from which ``changes`` holds every watermark raised.
    private var historyStart: UInt64 = 1
    /// The watermarks raised from ``historyStart`` on, in stream order: (message, partition, watermark).
    private var changes: [(position: UInt64, partition: Int, watermark: UInt64)] = []

    /// A feed of the forwarded stream `inner` over `partitions` partitions of the events stream `source`, holding
    /// at most `maxHeld` events and keeping at most `maxWatermarkChanges` watermark changes for resume points.
    public init(
        inner: Inner, source: Source, partitions: Int, maxHeld: Int = 200_000, maxWatermarkChanges: Int = 1 << 16
    ) {
        self.inner = inner
        self.source = source
        self.partitions = max(1, partitions)
        self.maxHeld = max(1, maxHeld)
        self.maxWatermarkChanges = max(2, maxWatermarkChanges)
        watermarks = Array(repeating: 0, count: self.partitions)
        historyBase = watermarks
        held = Array(repeating: [], count: self.partitions)
        heads = Array(repeating: 0, count: self.partitions)
    }

    public var streamName: String { inner.streamName }
    public var redeliveries: Int { inner.redeliveries }
    public var remakes: Int { inner.remakes }

    public mutating func resume(after sequence: UInt64) { resume(after: sequence, at: nil) }

    /// Resumes delivering after events-stream sequence `sequence`, reading the forwarded stream from `point` (its
    /// watermarks as the point says), or from its first message when there is none or it has another partition
    /// count.
    public mutating func resume(after sequence: UInt64, at point: FeedResumePoint?) {
        delivered = sequence
        if let point, point.position >= 1, point.watermarks.count == partitions {
            watermarks = point.watermarks
            historyStart = point.position
        } else {
            watermarks = Array(repeating: 0, count: partitions)
            historyStart = 1
        }
        historyBase = watermarks
        changes.removeAll()
        lastRead = historyStart - 1
        held = Array(repeating: [], count: partitions)
        heads = Array(repeating: 0, count: partitions)
        heldCount = 0
        innerPending = nil
        inner.resume(after: lastRead)
    }

    /// The point a restart resumes from: the lowest forwarded-stream sequence of the events held here and of
    /// `earliestHeld` (the run's), or the message after the last one read; with the watermarks as of the message
    /// before it. nil when the watermark changes kept no longer reach back that far (the restart then reads the
    /// forwarded stream from its first message). The changes before the point are folded away: a later point is
    /// never earlier (the events held later are held now or read later).
    ///
    /// - Complexity: O(held events + watermark changes).
    public mutating func resumePoint(holding earliestHeld: @autoclosure () -> UInt64?) -> FeedResumePoint? {
        var position = lastRead + 1
        if let earliest = earliestHeld() { position = min(position, earliest) }
        for p in held.indices {
            for e in held[p][heads[p]...] where e.position < position { position = e.position }
        }
        guard position >= historyStart else { return nil }
        let folded = changes.prefix { $0.position < position }.count
        for c in changes.prefix(folded) { historyBase[c.partition] = max(historyBase[c.partition], c.watermark) }
        changes.removeFirst(folded)
        historyStart = position
        return FeedResumePoint(position: position, watermarks: historyBase)
    }

    public mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
        switch inner.fetch(maxMessages: maxMessages, timeoutMilliseconds: timeoutMilliseconds) {
        case .messages(let messages):
            var out: [FeedMessage] = []
            for m in messages {
                innerPending = m.pending
                lastRead = max(lastRead, m.sequence)
                guard (0..<partitions).contains(m.partition), let body = ForwardedMessage(m.payload) else {
                    undecodable += 1
                    continue
                }
                switch body {
                case .watermark(let w):
                    if w > watermarks[m.partition] {
                        watermarks[m.partition] = w
                        noteChange(position: m.sequence, partition: m.partition, watermark: w)
                    }
                case .event(let sequence, let record, let created):
                    hold(
                        sequence: sequence, record: Array(record), created: created, position: m.sequence,
                        partition: m.partition, into: &out)
                }
            }
            release(into: &out)
            if !out.isEmpty {
                let after = pendingNow() ?? 1
                out[out.count - 1].pending = after
            }
            return .messages(out)
        case .unavailable(let why): return .unavailable(why)
        case .failed(let why): return .failed(why)
        }
    }

    public mutating func pendingAfterLastDelivered() -> UInt64? { pendingNow() }

    /// Events still to deliver: those held, those the forwarded stream holds after the last read, and the events
    /// stream's messages after the lowest watermark; nil when the broker cannot tell.
    public mutating func pendingNow() -> UInt64? {
        var innerAfter = innerPending
        if innerAfter == nil { innerAfter = inner.pendingAfterLastDelivered() }
        guard let innerAfter, let last = source.lastSequence() else { return nil }
        let lowest = watermarks.min() ?? 0
        return innerAfter + UInt64(heldCount) + (last > lowest ? last - lowest : 0)
    }

    public mutating func acknowledgeFetched() -> Bool { inner.acknowledgeFetched() }

    public mutating func messagesPerPartition() -> [Int: UInt64]? { source.messagesPerPartition() }

    /// Keeps a watermark raised at forwarded-stream sequence `position` for resume points; beyond
    /// ``maxWatermarkChanges`` the oldest half is folded into the base (no resume point before what is left).
    private mutating func noteChange(position: UInt64, partition: Int, watermark: UInt64) {
        changes.append((position, partition, watermark))
        guard changes.count > maxWatermarkChanges else { return }
        let folded = changes.count / 2
        for c in changes.prefix(folded) { historyBase[c.partition] = max(historyBase[c.partition], c.watermark) }
        changes.removeFirst(folded)
        historyStart = changes[0].position
    }

    /// Holds an event (in sequence order within its partition); one delivered before, or held already, is skipped.
    private mutating func hold(
        sequence: UInt64, record: [UInt8], created: EventTime?, position: UInt64, partition p: Int,
        into out: inout [FeedMessage]
    ) {
        guard sequence > delivered else { return }
        var at = held[p].count
        while at > heads[p], held[p][at - 1].sequence >= sequence {
            if held[p][at - 1].sequence == sequence { return }
            at -= 1
        }
        held[p].insert((sequence, record, created, position), at: at)
        heldCount += 1
        if heldCount > maxHeld, let first = earliest() {
            take(first, into: &out)
            releasedEarly += 1
        }
    }

    /// Delivers every held event no partition can still send an earlier one before.
    private mutating func release(into out: inout [FeedMessage]) {
        while let p = earliest() {
            let s = held[p][heads[p]].sequence
            guard watermarks.allSatisfy({ $0 + 1 >= s }) else { return }
            take(p, into: &out)
        }
    }

    /// The partition whose first held event has the lowest sequence.
    private func earliest() -> Int? {
        var best: Int?
        for p in held.indices where heads[p] < held[p].count {
            if let b = best, held[b][heads[b]].sequence < held[p][heads[p]].sequence { continue }
            best = p
        }
        return best
    }

    private mutating func take(_ p: Int, into out: inout [FeedMessage]) {
        let (sequence, record, created, position) = held[p][heads[p]]
        heads[p] += 1
        if heads[p] == held[p].count {
            held[p].removeAll(keepingCapacity: held[p].capacity <= 4096)
            heads[p] = 0
        } else if heads[p] >= 1024 && heads[p] * 2 >= held[p].count {
            held[p].removeFirst(heads[p])
            heads[p] = 0
        }
        heldCount -= 1
        delivered = max(delivered, sequence)
        var message = FeedMessage(sequence: sequence, payload: record, pending: 1, partition: p)
        message.accountCreated = created
        message.position = position
        out.append(message)
    }
}
