import SendWatchPipeline
import SendWatchTesting
import Testing

/// The second stage's resume point in the forwarded stream (``ForwardedFeed/resumePoint(holding:)``), scripted (no
/// broker): a feed stopped after any fetch and resumed from its point delivers every event not delivered before
/// and every one the run still held, in events-stream order.
@Suite
struct ForwardedResumeTests {
    /// A forwarded stream as `forward` workers write it: events 1 … `events` of the events stream spread over
    /// `partitions` partitions at random; each partition forwarded in batches of 1 to 4, followed by its
    /// watermark (every event of the partition up to it forwarded); the partitions' batches interleaved at random;
    /// now and then two events of a batch swapped (a repeated window lands after later ones) and an earlier event
    /// forwarded again (a takeover after the duplicate window).
    static func forwarded(events: Int, partitions: Int, seed: UInt64) -> [FeedMessage] {
        var random = SplitMix64(seed: seed)
        var members = Array(repeating: [UInt64](), count: partitions)
        for s in 1...events { members[Int(random.next() % UInt64(partitions))].append(UInt64(s)) }
        var next = Array(repeating: 0, count: partitions)
        var bodies: [(partition: Int, body: [UInt8])] = []
        while let p = (0..<partitions).filter({ next[$0] < members[$0].count }).randomElement(using: &random) {
            let count = min(members[p].count - next[p], 1 + Int(random.next() % 4))
            var batch = Array(members[p][next[p]..<(next[p] + count)])
            if batch.count >= 2 && random.next() % 3 == 0 { batch.swapAt(0, 1) }
            if next[p] > 0 && random.next() % 7 == 0 { batch.append(members[p][Int(random.next() % UInt64(next[p]))]) }
            for s in batch { bodies.append((p, ForwardedMessage.eventBody(sequence: s, record: Array("{}".utf8)))) }
            next[p] += count
            let w = next[p] < members[p].count ? members[p][next[p]] - 1 : UInt64(events)
            bodies.append((p, ForwardedMessage.watermarkBody(w)))
        }
        return bodies.enumerated().map { i, b in
            FeedMessage(
                sequence: UInt64(i + 1), payload: b.body, pending: UInt64(bodies.count - i - 1), partition: b.partition)
        }
    }

    typealias Feed = ForwardedFeed<DetectRefillTests.ResumableFeed, ForwardedFeedTests.ScriptedSource>

    static func feed(_ messages: [FeedMessage], events: Int, partitions: Int, batch: Int) -> Feed {
        ForwardedFeed(
            inner: DetectRefillTests.ResumableFeed(messages: messages, batch: batch),
            source: ForwardedFeedTests.ScriptedSource(last: UInt64(events)), partitions: partitions)
    }

    /// Everything `feed` delivers until its forwarded stream is read.
    static func drain(_ feed: inout Feed, fetches: Int) -> [FeedMessage] {
        var out: [FeedMessage] = []
        for _ in 0..<fetches {
            if case .messages(let m) = feed.fetch(maxMessages: 100, timeoutMilliseconds: 0) { out += m }
        }
        return out
    }

    @Test(
        "Stopped after any fetch and resumed from its point, the feed delivers what is not delivered and what is held")
    func resumeFromAnyCut() {
        let (events, partitions) = (120, 3)
        // Restarts that went wrong with the latest watermarks instead of those as of the point.
        var wrongWithLatest = 0
        for seed in UInt64(1)...12 {
            let messages = Self.forwarded(events: events, partitions: partitions, seed: seed)
            let batch = 3 + Int(seed % 5)
            let fetches = messages.count / batch + 2
            var whole = Self.feed(messages, events: events, partitions: partitions, batch: batch)
            whole.resume(after: 0)
            #expect(Self.drain(&whole, fetches: fetches).map(\.sequence) == Array(1...UInt64(events)), "seed \(seed)")
            var random = SplitMix64(seed: seed * 31)
            for cut in 0..<fetches {
                var feed = Self.feed(messages, events: events, partitions: partitions, batch: batch)
                feed.resume(after: 0)
                let before = Self.drain(&feed, fetches: cut)
                let delivered = before.last?.sequence ?? 0
                let rest = Array(stride(from: delivered + 1, through: UInt64(events), by: 1))
                // The run holds, per host (two, by the sequence's parity), its last few delivered events, as the
                // per-host event-time merge does.
                var kept: [FeedMessage] = []
                for host in UInt64(0)...1 {
                    let mine = before.filter { $0.sequence % 2 == host }
                    kept += mine.suffix(Int(random.next() % 4))
                }
                let point = feed.resumePoint(holding: kept.map(\.position).min())
                #expect(point != nil)
                let after = kept.map(\.sequence).min().map { $0 - 1 } ?? delivered
                var resumed = Self.feed(messages, events: events, partitions: partitions, batch: batch)
                resumed.resume(after: after, at: point)
                let again = Self.drain(&resumed, fetches: fetches).map(\.sequence)
                let context = "seed \(seed), cut after fetch \(cut), point \(String(describing: point))"
                #expect(zip(again, again.dropFirst()).allSatisfy { $0 < $1 }, "in order: \(context)")
                #expect(again.filter { $0 > delivered } == rest, "\(context)")
                #expect(Set(kept.map(\.sequence)).isSubset(of: again), "the held events again: \(context)")

                var latest = Self.feed(messages, events: events, partitions: partitions, batch: batch)
                latest.resume(
                    after: after, at: point.map { FeedResumePoint(position: $0.position, watermarks: feed.watermarks) })
                let wrong = Self.drain(&latest, fetches: fetches).map(\.sequence)
                if wrong.filter({ $0 > delivered }) != rest
                    || !Set(kept.map(\.sequence)).isSubset(of: wrong)
                {
                    wrongWithLatest += 1
                }
            }
        }
        // Why the point keeps the watermarks as of its message: the latest ones lose events.
        #expect(wrongWithLatest > 0)
    }

    @Test("A point behind the watermark changes kept is none: the restart reads the forwarded stream from its start")
    func noPointBeyondTheKeptChanges() {
        let (events, partitions) = (60, 2)
        let messages = Self.forwarded(events: events, partitions: partitions, seed: 7)
        var feed = ForwardedFeed(
            inner: DetectRefillTests.ResumableFeed(messages: messages, batch: messages.count),
            source: ForwardedFeedTests.ScriptedSource(last: UInt64(events)), partitions: partitions,
            maxWatermarkChanges: 4)
        feed.resume(after: 0)
        let all = Self.drain(&feed, fetches: 1)
        #expect(all.count == events)
        #expect(feed.resumePoint(holding: all.first?.position) == nil, "the first event's point is folded away")
        let point = feed.resumePoint(holding: nil)
        #expect(point?.position == UInt64(messages.count) + 1, "holding nothing: after the last message read")
        #expect(point?.watermarks == [UInt64(events), UInt64(events)])
        // A resume without a point reads from the start.
        var again = ForwardedFeed(
            inner: DetectRefillTests.ResumableFeed(messages: messages, batch: messages.count),
            source: ForwardedFeedTests.ScriptedSource(last: UInt64(events)), partitions: partitions)
        again.resume(after: 10, at: nil)
        #expect(again.inner.next == 0)
        #expect(Self.drain(&again, fetches: 1).map(\.sequence) == Array(11...UInt64(events)))
    }
}
