import Foundation
import SendWatchTesting
import Testing

@testable import SendWatchIngest

/// Rotations that happen while the follower works on the rotated names (logrotate running concurrently with
/// `sendwatch tail` that is behind). The test runs each rotation at an exact moment: from the consumer of the
/// lines (while a queued rotated file is read, before the name's file is opened), or from the follower's test
/// hook ``LogFollower/afterRotatedNamesListed`` (after the rotated names were listed, before they are looked at).
@Suite("LogFollower rotation during a drain or a search", .serialized)
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

    /// A follower that read `w` (150 lines) and then slept through two rotations: `w` is `mail.log.2.gz`, `older`
    /// `mail.log.1`, `newer` at the name.
    func followerBehindTwoRotations(older: [String], newer: [String]) throws -> LogFollower {
        let w = paddedLines("w", 150)
        dir.create("mail.log")
        dir.appendLines(w)
        let follower = try follower()
        var first = RotatingCollector(onLine: { _ in })
        _ = follower.poll(into: &first)
        #expect(first.texts == w)
        dir.rotateDelayCompress()
        dir.appendLines(older)
        dir.rotateDelayCompress()
        dir.appendLines(newer)
        return follower
    }

    @Test("A rotation while a queued rotated file is read: the file rotated then is read before the new name's")
    func rotationWhileBacklogIsRead() throws {
        let (x, y, z) = (paddedLines("x", 150), paddedLines("y", 150), paddedLines("z", 150))
        // The next poll queues x (mail.log.1) and reads it; while it does, a third rotation moves y to
        // mail.log.1, z to the name.
        let follower = try followerBehindTwoRotations(older: x, newer: y)
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

    @Test("A cascade half done when the names are searched: the file renamed under the search is still read")
    func cascadeDuringSearch() throws {
        let (v, x, y, z) = (paddedLines("v", 150), paddedLines("x", 150), paddedLines("y", 150), paddedLines("z", 150))
        // w is mail.log.2.gz, v mail.log.1, x at the name.
        let follower = try followerBehindTwoRotations(older: v, newer: x)
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

    @Test("Names that change under every search: searched at most three times, then the last result is taken")
    func searchesAreCapped() throws {
        let (v, x) = (paddedLines("v", 150), paddedLines("x", 150))
        let follower = try followerBehindTwoRotations(older: v, newer: x)
        // After every listing an old rotated name comes or goes: no listing ever holds still, and the files the
        // search looks for stay where they are.
        var listings = 0
        follower.afterRotatedNamesListed = {
            listings += 1
            if dir.exists("mail.log.9") { dir.remove("mail.log.9") } else { dir.create("mail.log.9") }
        }
        var during = RotatingCollector(onLine: { _ in })
        let report = follower.poll(into: &during)
        let repeats = report.decisions.filter { $0.code == .rotatedNamesChanged }.count
        #expect(listings > 0 && listings % LogFollower.maxRotatedSearches == 0, "\(listings) listings")
        #expect(repeats == listings / LogFollower.maxRotatedSearches * (LogFollower.maxRotatedSearches - 1))
        #expect(letterRuns(during.texts) == "v150 x150")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
    }

    @Test("Seventy files opened at once: 64 decisions kept, the rest counted")
    func decisionsAreCapped() throws {
        for n in 0..<70 {
            dir.create("host\(n).log")
            dir.append("host\(n).log", "line of host \(n)\n")
        }
        var configuration = FollowConfiguration()
        configuration.startAtEnd = false
        configuration.usePolling = true
        configuration.maxStreams = 128
        let follower = try LogFollower(
            patterns: [dir.full("*.log")], configuration: configuration, restoring: nil, clock: clock.closure)
        var collector = RotatingCollector(onLine: { _ in })
        let report = follower.poll(into: &collector)
        #expect(collector.texts.count == 70)
        #expect(report.decisions.count == PollReport.maxDiagnostics)
        #expect(report.decisions.allSatisfy { $0.code == .fileOpened })
        #expect(report.decisionsDropped == 70 - PollReport.maxDiagnostics)
    }
}
