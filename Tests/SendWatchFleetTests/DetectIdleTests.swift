import Logging
import SendWatchCore
import SendWatchPipeline
import Testing

/// `detect --idle-after` (``DetectOptions/idleSeconds``) with a scripted stream (no broker): once the worker has
/// read everything, a host that sent nothing for the idle time no longer holds back the other hosts' events.
@Suite
struct DetectIdleTests {
    /// A stream that delivers its messages in the first fetch, then nothing.
    struct OneFetchFeed: StreamFeed {
        var messages: [FeedMessage]
        var delivered = false
        let streamName = "TEST"
        let redeliveries = 0

        mutating func resume(after sequence: UInt64) {}

        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            defer { delivered = true }
            return .messages(delivered ? [] : messages)
        }

        mutating func acknowledgeFetched() -> Bool { true }
    }

    /// Acknowledges every alert record.
    struct AcceptingPublisher: AlertPublisher {
        mutating func publish(_ record: [UInt8], messageID: String) -> PublishOutcome {
            .acknowledged(duplicate: false)
        }
    }

    static func record(_ seconds: Int64, host: String, _ n: Int) -> [UInt8] {
        let event = SendEvent(
            time: EventTime(seconds: 1_795_000_000 + seconds), host: host, account: "acct\(n)",
            accountSource: .authenticated, sender: "a\(n)@example.org", recipient: "r\(n)@example.net", status: .sent)
        var w = JSONWriter()
        event.writeJSONLine(to: &w)
        return Array(w.bytes.dropLast())
    }

    /// The stream's messages for `payloads`, in order, each saying how many come after it.
    static func messages(_ payloads: [[UInt8]]) -> [FeedMessage] {
        payloads.enumerated().map { i, payload in
            FeedMessage(sequence: UInt64(i + 1), payload: payload, pending: UInt64(payloads.count - i - 1))
        }
    }

    /// A worker on `messages` delivered in one fetch, publishing into nothing and logging nothing.
    static func scriptedRun(_ messages: [FeedMessage], _ options: DetectOptions) throws
        -> DetectRun<OneFetchFeed, AcceptingPublisher>
    {
        try DetectRun(
            configuration: Configuration(), options: options, feed: OneFetchFeed(messages: messages),
            publisher: AcceptingPublisher(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    @Test("A host silent for --idle-after, everything read, no longer holds back the others; not before")
    func silentHostStopsHoldingBackOthers() throws {
        // mx2 sends one event, then nothing; mx1 sends three later ones. Each waits for mx2's next event.
        let payloads = [
            Self.record(100, host: "mx2", 0), Self.record(110, host: "mx1", 1), Self.record(120, host: "mx1", 2),
            Self.record(130, host: "mx1", 3),
        ]
        let messages = Self.messages(payloads)
        var options = DetectOptions()
        options.idleSeconds = 5
        let run = try Self.scriptedRun(messages, options)
        var clock = 0.0
        var fetches = 0
        var held: [Int] = []
        try run.run(
            now: { clock },
            shouldStop: {
                // Called before each fetch: what the merge held after the previous one, then the wall time moves.
                if fetches > 0 { held.append(run.merge.buffered) }
                fetches += 1
                switch fetches {
                case 3: clock = 4.9  // not idle yet
                case 5: clock = 5.1  // idle: mx2's last event arrived 5.1 s ago, and the stream is read
                default: break
                }
                return fetches > 6
            })
        // After the first fetch mx2's event went (mx1's next one was known) and mx1's three wait for mx2.
        #expect(held.prefix(4) == [3, 3, 3, 3], "held while mx2 is not idle yet")
        #expect(held.last == 0, "released once mx2 was silent for --idle-after")
        #expect(run.totals.events == 4)
    }

    /// A stream whose first `emptyFetches` fetches come back empty (lost in a broker restart) although it holds
    /// its messages, which the broker's count says.
    struct LateFeed: StreamFeed {
        var messages: [FeedMessage]
        var emptyFetches: Int
        var delivered = 0
        let streamName = "TEST"
        let redeliveries = 0

        mutating func resume(after sequence: UInt64) {}

        mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
            if emptyFetches > 0 {
                emptyFetches -= 1
                return .messages([])
            }
            defer { delivered = messages.count }
            return .messages(Array(messages[delivered...]))
        }

        mutating func pendingAfterLastDelivered() -> UInt64? { UInt64(messages.count - delivered) }

        mutating func acknowledgeFetched() -> Bool { true }
    }

    @Test("--once does not take an empty first fetch for the stream's end while the broker says messages wait")
    func emptyFirstFetchIsNotTheEnd() throws {
        let payloads = (0..<4).map { Self.record(Int64($0 * 10), host: "mx1", $0) }
        let messages = Self.messages(payloads)
        var options = DetectOptions()
        options.once = true
        let run = try DetectRun(
            configuration: Configuration(), options: options, feed: LateFeed(messages: messages, emptyFetches: 2),
            publisher: AcceptingPublisher(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        var fetches = 0
        let end = try run.run(shouldStop: {
            fetches += 1
            return fetches > 10
        })
        #expect(end == .stopped)
        #expect(run.totals.events == 4, "every event read before --once ended")
        #expect(fetches == 3, "it ended at the fetch that read them")
    }

    @Test("With --hosts 2 a worker that has read the stream still waits for a host that has not sent yet")
    func expectedHostIsWaitedForAfterTheStreamIsRead() throws {
        // Only mx1 has published (mx2's agent starts late): its events wait for mx2's first one.
        let payloads = (0..<3).map { Self.record(Int64($0 * 10), host: "mx1", $0) }
        let messages = Self.messages(payloads)
        var options = DetectOptions()
        options.expectedHosts = 2
        let run = try Self.scriptedRun(messages, options)
        var fetches = 0
        try run.run(shouldStop: {
            fetches += 1
            return fetches > 4
        })
        #expect(run.totals.events == 3)
        #expect(run.merge.buffered == 3, "held for mx2, although everything the stream holds was read")
        // Without --hosts, reading the stream is what starts the merge: the one host's events go.
        options.expectedHosts = 0
        let alone = try Self.scriptedRun(messages, options)
        fetches = 0
        try alone.run(shouldStop: {
            fetches += 1
            return fetches > 4
        })
        #expect(alone.merge.buffered == 0)
    }
}
