import Foundation
import Testing

@testable import SendWatchIngest

/// logrotate's rename cascade caught half-way by a search of the rotated names: the follower listed the names,
/// then `name.2.gz` -> `name.3.gz` and `name.1` -> `name.2` happened before it looked at them. The test renames
/// at exactly that moment through the follower's test hook (``LogFollower/afterRotatedNamesListed``).
@Suite("LogFollower rotation cascade during a search", .serialized)
struct LogFollowerCascadeWindowTests {
    let dir = LogDirectory()
    let clock = ManualMilliseconds()

    func follower() throws -> LogFollower {
        var configuration = FollowConfiguration()
        configuration.startAtEnd = false
        configuration.usePolling = true
        return try LogFollower(
            patterns: [dir.full("mail.log")], configuration: configuration, restoring: nil, clock: clock.closure)
    }

    @Test("A cascade half done when the names are searched: the file renamed under the search is still read")
    func cascadeDuringSearch() throws {
        let (w, v, x, y, z) = (
            paddedLines("w", 150), paddedLines("v", 150), paddedLines("x", 150), paddedLines("y", 150),
            paddedLines("z", 150)
        )
        dir.create("mail.log")
        dir.appendLines(w)
        let follower = try follower()
        var first = RotatingCollector(onLine: { _ in })
        _ = follower.poll(into: &first)
        #expect(first.texts == w)
        // Two rotations while the follower sleeps: w is mail.log.2.gz, v mail.log.1, x at the name.
        dir.rotateDelayCompress()
        dir.appendLines(v)
        dir.rotateDelayCompress()
        dir.appendLines(x)
        // The next poll queues v and reads it. While it does, a third rotation: w .3.gz, v .2.gz, x .1, y at
        // the name. Before the name's file (y) is opened, the rotated names are searched for what is newer than
        // v; right after that listing, a fourth rotation renames half its cascade (.3.gz -> .4.gz, .2.gz ->
        // .3.gz, .1 -> .2): the names listed no longer hold the files listed, x is at .2.
        var rotatedWhileReading = false
        var cascaded = false
        follower.afterRotatedNamesListed = {
            guard rotatedWhileReading, !cascaded else { return }
            cascaded = true
            dir.cascadeRotatedNames()
        }
        var during = RotatingCollector(onLine: { text in
            guard !rotatedWhileReading, text.hasPrefix("v1 ") else { return }
            rotatedWhileReading = true
            dir.rotateDelayCompress()
            dir.appendLines(y)
        })
        let searched = follower.poll(into: &during)
        #expect(cascaded)
        // The repeated search is a decision the logs show at debug level.
        #expect(searched.decisions.map(\.code).contains(.rotatedNamesChanged), "\(searched.decisions)")
        #expect(searched.decisions.map(\.code).contains(.rotatedFilesQueued), "\(searched.decisions)")
        // The fourth rotation finishes; z is written at the new name.
        dir.finishRotation { dir.compress($0, as: "gz") }
        dir.appendLines(z)
        var codes: [FollowDiagnostic.Code] = []
        for _ in 0..<4 {
            let report = follower.poll(into: &during)
            codes += report.diagnostics.map(\.code)
        }
        #expect(dir.exists("mail.log.1") && dir.exists("mail.log.2.gz") && dir.exists("mail.log.4.gz"))
        // With a single search on the stale listing, x (moved from .1 to .2 under it) was skipped: v y z.
        #expect(letterRuns(during.texts) == "v150 x150 y150 z150")
        #expect(during.texts == v + x + y + z)
        #expect(codes.isEmpty)
    }
}
