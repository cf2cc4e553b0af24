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

    /// The first half of a `delaycompress` rotation: the renames of the rotated names, oldest first.
    func cascade() {
        for n in stride(from: 8, through: 2, by: -1) where dir.exists("mail.log.\(n).gz") {
            dir.rename("mail.log.\(n).gz", "mail.log.\(n + 1).gz")
        }
        if dir.exists("mail.log.1") { dir.rename("mail.log.1", "mail.log.2") }
    }

    /// The second half: compress the file just moved to `.2`, move the log to `.1`, create a new log.
    func finishRotation() {
        if dir.exists("mail.log.2") { dir.compress("mail.log.2", as: "gz") }
        dir.rename("mail.log", "mail.log.1")
        dir.create("mail.log")
    }

    func rotate() {
        cascade()
        finishRotation()
    }

    /// `count` lines of about 40 bytes, so that a file of them passes the 4 KiB fingerprint.
    func lines(_ prefix: String, _ count: Int) -> [String] {
        (1...count).map { "\(prefix)\($0) " + String(repeating: "z", count: 30) }
    }

    func append(_ lines: [String]) { dir.append("mail.log", lines.map { $0 + "\n" }.joined()) }

    /// The lines as runs of their first letter (the file they came from): `v150 x150`.
    func runs(_ texts: [String]) -> String {
        var runs: [(Character, Int)] = []
        for text in texts {
            guard let first = text.first else { continue }
            if let last = runs.last, last.0 == first {
                runs[runs.count - 1].1 += 1
            } else {
                runs.append((first, 1))
            }
        }
        return runs.map { "\($0.0)\($0.1)" }.joined(separator: " ")
    }

    /// Collects lines and calls `onLine` with each (the test rotates from there).
    struct RotatingCollector: FollowedLineConsumer {
        var texts: [String] = []
        let onLine: (String) -> Void
        mutating func consume(stream: Int, line: UnsafeRawBufferPointer) {
            let text = String(decoding: line, as: UTF8.self)
            texts.append(text)
            onLine(text)
        }
    }

    @Test("A cascade half done when the names are searched: the file renamed under the search is still read")
    func cascadeDuringSearch() throws {
        let (w, v, x, y, z) = (lines("w", 150), lines("v", 150), lines("x", 150), lines("y", 150), lines("z", 150))
        dir.create("mail.log")
        append(w)
        let follower = try follower()
        var first = RotatingCollector(onLine: { _ in })
        _ = follower.poll(into: &first)
        #expect(first.texts == w)
        // Two rotations while the follower sleeps: w is mail.log.2.gz, v mail.log.1, x at the name.
        rotate()
        append(v)
        rotate()
        append(x)
        // The next poll queues v and reads it. While it does, a third rotation: w .3.gz, v .2.gz, x .1, y at
        // the name. Before the name's file (y) is opened, the rotated names are searched for what is newer than
        // v; right after that listing, a fourth rotation renames half its cascade (.3.gz -> .4.gz, .2.gz ->
        // .3.gz, .1 -> .2): the names listed no longer hold the files listed, x is at .2.
        var rotatedWhileReading = false
        var cascaded = false
        follower.afterRotatedNamesListed = {
            guard rotatedWhileReading, !cascaded else { return }
            cascaded = true
            cascade()
        }
        var during = RotatingCollector(onLine: { text in
            guard !rotatedWhileReading, text.hasPrefix("v1 ") else { return }
            rotatedWhileReading = true
            rotate()
            append(y)
        })
        let searched = follower.poll(into: &during)
        #expect(cascaded)
        // The repeated search is a decision the logs show at debug level.
        #expect(searched.decisions.map(\.code).contains(.rotatedNamesChanged), "\(searched.decisions)")
        #expect(searched.decisions.map(\.code).contains(.rotatedFilesQueued), "\(searched.decisions)")
        // The fourth rotation finishes; z is written at the new name.
        finishRotation()
        append(z)
        var codes: [FollowDiagnostic.Code] = []
        for _ in 0..<4 {
            let report = follower.poll(into: &during)
            codes += report.diagnostics.map(\.code)
        }
        #expect(dir.exists("mail.log.1") && dir.exists("mail.log.2.gz") && dir.exists("mail.log.4.gz"))
        // With a single search on the stale listing, x (moved from .1 to .2 under it) was skipped: v y z.
        #expect(runs(during.texts) == "v150 x150 y150 z150")
        #expect(during.texts == v + x + y + z)
        #expect(codes.isEmpty)
    }
}
