import Foundation
import Logging
import SendWatchCore
import SendWatchIngest
import SendWatchPipeline
import Testing

/// Message ids must not depend on where a run took its checkpoints: that depends on timing (the interval), and
/// a run killed between two checkpoints has published events the restart parses again (issue 15).
@Suite("Ship checkpoint timing", .serialized)
struct ShipCheckpointTimingTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A run that stops after `refuseAt` acknowledged events (as a kill would: no checkpoint after them), its
    /// clock `now`, reading at most 64 KiB (the least allowed) per poll.
    func run(
        _ paths: (log: String, state: String), window: Int, refuseAt: Int?, now: @escaping () -> Double
    ) throws -> [ShipMessage] {
        var options = ShipRunTests().options(paths)
        options.follow.maxBytesPerStreamPerPoll = 64 * 1024
        var publisher = ShipRunTests.ScriptedPublisher()
        publisher.windowSize = window
        publisher.refuseAt = refuseAt
        let run = try ShipRun(
            configuration: Configuration(), options: options, publisher: publisher, logger: logger)
        do {
            try run.run(now: now) { false }
        } catch {
            #expect(error.code == .publishRefused)
        }
        return run.publisher.acknowledged
    }

    @Test("A restart that checkpoints where the killed run did not gives the events that run published their ids")
    func idsDoNotDependOnWhereCheckpointsFell() throws {
        let paths = try ShipRunTests().setUp()
        // The 16-line fixture (18 events) 200 times over: 3,600 events in five polls.
        let one = try String(contentsOfFile: paths.log, encoding: .utf8)
        try String(repeating: one, count: 200).write(toFile: paths.log, atomically: false, encoding: .utf8)
        // The first run's clock stands still: no checkpoint after the one before reading; it publishes 3,000
        // events over four polls, then stops (one at a time: nothing after the refused event is acknowledged).
        let first = try run(paths, window: 1, refuseAt: 3000) { 0 }
        #expect(first.count == 3000)
        // The restart's clock jumps 10 s per look: a checkpoint after every poll but its first.
        var clock = 0.0
        let second = try run(paths, window: 64, refuseAt: nil) {
            clock += 10
            return clock
        }
        #expect(second.count == 3600)
        // It repeats the first run's events with their ids (the broker drops them), then the other 600.
        let changed = zip(first, second).filter { $0 != $1 }.count
        #expect(changed == 0, "\(changed) of the first run's events got another id (or payload) in the restart")
        #expect(Set((first + second).map(\.messageID)).count == 3600)
    }
}
