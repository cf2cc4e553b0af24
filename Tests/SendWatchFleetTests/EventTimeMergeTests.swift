import SendWatchCore
import SendWatchPipeline
import SendWatchTesting
import Testing

/// The worker's pieces without a broker: reading an event record back, and merging hosts by event time.
@Suite
struct EventTimeMergeTests {
    static func event(_ seconds: Int64, host: String?, _ n: Int) -> SendEvent {
        SendEvent(
            time: EventTime(seconds: seconds), host: host, account: "acct\(n)", accountSource: .authenticated,
            sender: "a\(n)@example.org", recipient: "r\(n)@example.net", status: .sent)
    }

    @Test("An event record decodes to the event that wrote it, every field, optional ones missing or set")
    func eventRecordRoundTrip() throws {
        let full = SendEvent(
            time: EventTime(microseconds: 1_795_000_000_123_456), host: "mx1", account: "acc \"q\" ü",
            accountSource: .header, accountCreated: EventTime(seconds: 1_794_000_000), sender: "s@example.org",
            recipient: "r@example.net", subject: "Hi\n\u{1}there", template: "t1", messageID: "m@x", queueID: "Q1",
            clientIP: "192.0.2.1", login: "l", claimedAccount: "c", status: .deferred)
        var decoder = EventRecordDecoder()
        for e in [full, Self.event(1_795_000_000, host: nil, 1)] {
            var w = JSONWriter()
            e.writeJSONLine(to: &w)
            let back = w.bytes.withUnsafeBytes { decoder.decode($0) }
            #expect(back == e)
        }
        for bad in ["[]", "{}", "{\"time\":\"yesterday\"}", "not json"] {
            #expect(Array(bad.utf8).withUnsafeBytes { decoder.decode($0) } == nil)
        }
    }

    @Test("Hosts' events arriving interleaved come out in time order, equal times by host name")
    func mergesByTimeOnceEverySourcePassed() {
        var merge = EventTimeMerge(maxBuffered: 100)
        var out: EventBatch = []
        // mx2 publishes 10, 20, 30 before mx1's 10, 15 arrive.
        for (t, n) in [(10, 0), (20, 1), (30, 2)] {
            merge.add(Self.event(Int64(t), host: "mx2", n), sequence: 0, releasingInto: &out)
        }
        for (t, n) in [(10, 3), (15, 4)] {
            merge.add(Self.event(Int64(t), host: "mx1", n), sequence: 0, releasingInto: &out)
        }
        merge.release(into: &out)
        // 10 (mx1 first on the tie), 10 (mx2), 15 go; then mx1 holds nothing and might send 16: 20 waits.
        #expect(out.map(\.account) == ["acct3", "acct0", "acct4"])
        out.removeAll()
        // mx1's next event is earlier than its last one (a host's events are not in strict time order): it
        // still goes first.
        merge.add(Self.event(12, host: "mx1", 5), sequence: 0, releasingInto: &out)
        merge.release(into: &out)
        #expect(out.map(\.account) == ["acct5"])
        out.removeAll()
        merge.release(into: &out, idleSources: ["mx1"])
        #expect(out.map(\.account) == ["acct1", "acct2"], "an idle host no longer holds the others back")
        #expect(merge.buffered == 0)
    }

    @Test("A full buffer releases its earliest event and counts it")
    func boundedBuffer() {
        var merge = EventTimeMerge(maxBuffered: 2)
        var out: EventBatch = []
        merge.add(Self.event(10, host: "a", 0), sequence: 0, releasingInto: &out)
        merge.add(Self.event(11, host: "a", 1), sequence: 0, releasingInto: &out)
        #expect(out.isEmpty)
        merge.add(Self.event(12, host: "a", 2), sequence: 0, releasingInto: &out)
        #expect(out.map(\.account) == ["acct0"])
        #expect(merge.forcedReleases == 1)
        merge.releaseAll(into: &out)
        #expect(out.map(\.account) == ["acct0", "acct1", "acct2"])
    }

    @Test("A host that never runs empty does not keep the events it released (memory bounded by what is held)")
    func releasedEventsAreDropped() {
        var merge = EventTimeMerge(maxBuffered: 1_000_000)
        var out: EventBatch = []
        // mx1 is always 10 events ahead of mx2: it never holds nothing, so its storage was never reset.
        for i in 0..<10 { merge.add(Self.event(Int64(i), host: "mx1", i), sequence: UInt64(i), releasingInto: &out) }
        for i in 0..<20_000 {
            merge.add(Self.event(Int64(i), host: "mx2", i), sequence: UInt64(2 * i + 10), releasingInto: &out)
            merge.add(Self.event(Int64(i + 10), host: "mx1", i), sequence: UInt64(2 * i + 11), releasingInto: &out)
            merge.release(into: &out)
            out.removeAll(keepingCapacity: true)
        }
        #expect(merge.buffered == 10)
        // Before, mx1's storage held all 20,010 events it had taken in.
        #expect(merge.storedEvents <= 2 * merge.buffered + 2 * 1024, "\(merge.storedEvents) events stored")
    }
}
