import Foundation
import Logging
import SendWatchCore
import SendWatchIngest
import SendWatchPipeline
import Testing

/// `ship`'s run with an in-memory publisher (no broker): outages, refusals and the message ids a restart gives.
@Suite("Ship run", .serialized)
struct ShipRunTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A publisher that answers from a script, then acknowledges; it records every acknowledged message and
    /// every window it was given.
    struct ScriptedPublisher: ShipPublisher {
        var windowSize = 1
        var script: [PublishOutcome] = []
        /// Refuses the message at this position of the acknowledged sequence (0-based), once.
        var refuseAt: Int?
        var acknowledged: [ShipMessage] = []
        var attempts = 0
        var windows: [Int] = []

        mutating func publish(_ messages: ArraySlice<ShipMessage>) -> [PublishOutcome] {
            windows.append(messages.count)
            return messages.map { message in
                attempts += 1
                if !script.isEmpty { return script.removeFirst() }
                if let r = refuseAt, acknowledged.count == r {
                    refuseAt = nil
                    return .refused("test refusal")
                }
                acknowledged.append(message)
                return .acknowledged(duplicate: false)
            }
        }
    }

    /// A copy of the JSON-lines fixture (16 lines, 18 events) in a new directory, and a state directory there.
    func setUp() throws -> (log: String, state: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ship-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../SendWatchFormatsTests/Fixtures/jsonl/notifications.jsonl").standardized
        let log = dir.appendingPathComponent("notify.log")
        try FileManager.default.copyItem(at: fixture, to: log)
        return (log.path, dir.appendingPathComponent("state").path)
    }

    func options(_ paths: (log: String, state: String)) -> ShipOptions {
        var o = ShipOptions(patterns: [paths.log], host: "mta1")
        o.stateDirectory = paths.state
        o.once = true
        o.fromStart = true
        o.follow.usePolling = true
        o.maxBackoffSeconds = 0.05
        return o
    }

    @Test("While the broker is unavailable the run repeats the same message until it is acknowledged")
    func outageIsRetried() throws {
        let paths = try setUp()
        var publisher = ScriptedPublisher()
        publisher.script = [.unavailable("down"), .unavailable("down"), .unavailable("down")]
        let run = try ShipRun(
            configuration: Configuration(), options: options(paths), publisher: publisher, logger: logger)
        try run.run { false }
        #expect(run.totals.retries == 3)
        #expect(run.publisher.acknowledged.count == 18)
        #expect(run.totals.published == 18)
        #expect(Set(run.publisher.acknowledged.map(\.messageID)).count == 18)
    }

    @Test("A refused event stops the run before it; the restart publishes from the checkpoint with the same ids")
    func refusalStopsAndRestartRepeatsTheSameIDs() throws {
        let paths = try setUp()
        var first = ScriptedPublisher()
        first.refuseAt = 10
        // Each run in a function of its own, so that it (and its state directory's lock) is gone after it.
        func runOnce(_ publisher: ScriptedPublisher) throws -> ScriptedPublisher {
            let run = try ShipRun(
                configuration: Configuration(), options: options(paths), publisher: publisher, logger: logger)
            do {
                try run.run { false }
            } catch {
                #expect(error.code == .publishRefused)
            }
            return run.publisher
        }
        let before = try runOnce(first).acknowledged
        #expect(before.count == 10)
        let after = try runOnce(ScriptedPublisher()).acknowledged
        // The restart resumed at the last checkpoint, before everything the first run published: the events it
        // repeats carry the ids they had, so the broker would drop them, and together they are the 18 events.
        #expect(after.count == 18)
        #expect(Array(after.prefix(10)) == before)
        #expect(Set((before + after).map(\.messageID)).count == 18)
        // A third run on the finished state has nothing to publish.
        #expect(try runOnce(ScriptedPublisher()).attempts == 0)
    }

    @Test(
        "A window of publishes: unavailable ones are repeated with their ids, the rest are not, and no window is larger than asked"
    )
    func windowRepeatsOnlyTheUnanswered() throws {
        let paths = try setUp()
        var publisher = ScriptedPublisher()
        publisher.windowSize = 8
        // The 2nd and 5th messages of the first window get no answer.
        publisher.script = [
            .acknowledged(duplicate: false), .unavailable("timed out"), .acknowledged(duplicate: false),
            .acknowledged(duplicate: false), .unavailable("timed out"),
        ]
        let run = try ShipRun(
            configuration: Configuration(), options: options(paths), publisher: publisher, logger: logger)
        try run.run { false }
        #expect(run.publisher.windows.allSatisfy { $0 <= 8 })
        #expect(run.publisher.windows.prefix(2) == [8, 2])
        #expect(run.totals.retries == 2)
        // 3 acknowledged by the script, 15 recorded; 18 events, each id once.
        #expect(run.totals.published == 18)
        #expect(run.publisher.acknowledged.count == 15)
        #expect(run.publisher.attempts == 20)
        #expect(Set(run.publisher.acknowledged.map(\.messageID)).count == 15)
    }
}
