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

    /// logrotate with `delaycompress` as the crash test runs it: `.N.gz` -> `.N+1.gz`, `.1` -> `.2` then gzip,
    /// `mail.log` -> `.1`, a new empty `mail.log`.
    func rotate() {
        for n in stride(from: 8, through: 2, by: -1) where dir.exists("mail.log.\(n).gz") {
            dir.rename("mail.log.\(n).gz", "mail.log.\(n + 1).gz")
        }
        if dir.exists("mail.log.1") {
            dir.rename("mail.log.1", "mail.log.2")
            dir.compress("mail.log.2", as: "gz")
        }
        dir.rename("mail.log", "mail.log.1")
        dir.create("mail.log")
    }

    /// `count` lines of about 40 bytes, so that a file of them passes the 4 KiB fingerprint.
    func lines(_ prefix: String, _ count: Int) -> [String] {
        (1...count).map { "\(prefix)\($0) " + String(repeating: "z", count: 30) }
    }

    func append(_ lines: [String]) { dir.append("mail.log", lines.map { $0 + "\n" }.joined()) }

    /// The lines as runs of their first letter (the file they came from): `x150 y150 z150`.
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

    @Test("A rotation while a queued rotated file is read: the file rotated then is read before the new name's")
    func rotationWhileBacklogIsRead() throws {
        let w = lines("w", 150)
        let x = lines("x", 150)
        let y = lines("y", 150)
        let z = lines("z", 150)
        dir.create("mail.log")
        append(w)
        let follower = try follower()
        var collector = RotatingCollector(onLine: { _ in })
        _ = follower.poll(into: &collector)
        #expect(collector.texts == w)
        // Two rotations while the follower sleeps: w is mail.log.2.gz, x mail.log.1, y at the name. The next
        // poll queues x and reads it; while it does, a third rotation moves y to mail.log.1, z to the name.
        rotate()
        append(x)
        rotate()
        append(y)
        var rotated = false
        var during = RotatingCollector(onLine: { text in
            guard !rotated, text.hasPrefix("x1 ") else { return }
            rotated = true
            rotate()
            append(z)
        })
        var codes: [FollowDiagnostic.Code] = []
        for _ in 0..<4 {
            let report = follower.poll(into: &during)
            codes += report.diagnostics.map(\.code)
        }
        #expect(rotated)
        #expect(dir.exists("mail.log.1") && dir.exists("mail.log.2.gz") && dir.exists("mail.log.3.gz"))
        // Before the fix y (mail.log.1 at the open) was skipped whole, without a diagnostic: "x150 z150".
        #expect(runs(during.texts) == "x150 y150 z150")
        #expect(during.texts == x + y + z)
        #expect(codes.isEmpty)
    }
}
