import Foundation
import SendWatchIngest
import SendWatchTesting
import Testing

/// Restarts after rotations done as the crash test and logrotate with `rotate 9` and `delaycompress` do them
/// (`.N.gz` -> `.N+1.gz`, `.1` -> `.2` then `gzip -f`, the log -> `.1`, a new log): the saved file may be
/// several rotations back, compressed and renamed again.
@Suite("LogFollower restart after cascading rotations", .serialized)
struct LogFollowerCascadeRestartTests {
    let dir = LogDirectory()
    let clock = ManualMilliseconds()

    func follower(restoring state: FollowerState? = nil) throws -> LogFollower {
        var configuration = FollowConfiguration()
        configuration.startAtEnd = false
        configuration.usePolling = true
        return try LogFollower(
            patterns: [dir.full("mail.log")], configuration: configuration, restoring: state, clock: clock.closure)
    }

    func gzip(_ name: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else {
            dir.compress(name, as: "gz")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        process.arguments = ["-f", dir.full(name)]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    func rotate() throws {
        for n in stride(from: 8, through: 2, by: -1) where dir.exists("mail.log.\(n).gz") {
            dir.rename("mail.log.\(n).gz", "mail.log.\(n + 1).gz")
        }
        if dir.exists("mail.log.1") {
            dir.rename("mail.log.1", "mail.log.2")
            try gzip("mail.log.2")
        }
        dir.rename("mail.log", "mail.log.1")
        dir.create("mail.log")
    }

    func lines(_ prefix: String, _ count: Int) -> [String] {
        (1...count).map { "\(prefix)\($0) " + String(repeating: "z", count: 30) }
    }

    func append(_ lines: [String], recordingIn written: inout [String]) {
        written += lines
        dir.append("mail.log", lines.map { $0 + "\n" }.joined())
    }

    func drain(_ follower: LogFollower, into out: inout FollowCollector) -> [FollowDiagnostic.Code] {
        var codes: [FollowDiagnostic.Code] = []
        while true {
            let report = follower.poll(into: &out)
            codes += report.diagnostics.map(\.code)
            if !report.moreAvailable { break }
        }
        return codes
    }

    @Test(
        "State at offset 0 of the first file (short or full fingerprint), 1-5 cascading rotations while stopped",
        arguments: [3, 200], 1...5)
    func restartAtStart(initialLines: Int, rotations: Int) throws {
        var written: [String] = []
        var delivered = FollowCollector()
        dir.create("mail.log")
        append(lines("a", initialLines), recordingIn: &written)
        let saved = try roundTrip(try follower().state)
        #expect(saved.streams[0].file?.offset == 0)
        append(lines("b", 200), recordingIn: &written)
        for round in 1...rotations {
            try rotate()
            append(lines("r\(round)-", 150), recordingIn: &written)
        }
        let codes = drain(try follower(restoring: saved), into: &delivered)
        #expect(delivered.texts.count == written.count)
        #expect(delivered.texts == written)
        #expect(codes.isEmpty)
    }
}
