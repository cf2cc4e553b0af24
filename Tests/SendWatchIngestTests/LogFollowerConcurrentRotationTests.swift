import Foundation
import SendWatchIngest
import SendWatchTesting
import Testing

/// A rotation that happens while the follower is between its search of the rotated names and its open of the
/// file at the name (logrotate running concurrently with `sendwatch tail` that is behind). The consumer of the
/// lines runs the rotation, so the moment is exact: while a queued rotated file is read, before the name's file
/// is opened.
@Suite("LogFollower rotation during a drain", .serialized)
struct LogFollowerConcurrentRotationTests {
    let dir = LogDirectory()
    let clock = ManualMilliseconds()

    func follower() throws -> LogFollower {
        var configuration = FollowConfiguration()
        configuration.startAtEnd = false
        configuration.usePolling = true
        return try LogFollower(
            patterns: [dir.full("mail.log")], configuration: configuration, restoring: nil, clock: clock.closure)
    }

    @Test("A rotation while a queued rotated file is read: the file rotated then is read before the new name's")
    func rotationWhileBacklogIsRead() throws {
        let w = paddedLines("w", 150)
        let x = paddedLines("x", 150)
        let y = paddedLines("y", 150)
        let z = paddedLines("z", 150)
        dir.create("mail.log")
        dir.appendLines(w)
        let follower = try follower()
        var collector = RotatingCollector(onLine: { _ in })
        _ = follower.poll(into: &collector)
        #expect(collector.texts == w)
        // Two rotations while the follower sleeps: w is mail.log.2.gz, x mail.log.1, y at the name. The next
        // poll queues x and reads it; while it does, a third rotation moves y to mail.log.1, z to the name.
        dir.rotateDelayCompress()
        dir.appendLines(x)
        dir.rotateDelayCompress()
        dir.appendLines(y)
        var rotated = false
        var during = RotatingCollector(onLine: { text in
            guard !rotated, text.hasPrefix("x1 ") else { return }
            rotated = true
            dir.rotateDelayCompress()
            dir.appendLines(z)
        })
        var codes: [FollowDiagnostic.Code] = []
        for _ in 0..<4 {
            let report = follower.poll(into: &during)
            codes += report.diagnostics.map(\.code)
        }
        #expect(rotated)
        #expect(dir.exists("mail.log.1") && dir.exists("mail.log.2.gz") && dir.exists("mail.log.3.gz"))
        // Before the fix y (mail.log.1 at the open) was skipped whole, without a diagnostic: "x150 z150".
        #expect(letterRuns(during.texts) == "x150 y150 z150")
        #expect(during.texts == x + y + z)
        #expect(codes.isEmpty)
    }
}
