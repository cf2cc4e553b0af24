import Foundation
import SendWatchCore
import SendWatchPipeline
import SendWatchTesting
import Testing

/// Zone-less times on a real server: the default zone is the system's (`local`), a file whose lines lie after
/// its modification time is flagged, and a log across the end of daylight saving time keeps its order.
@Suite struct TimeZoneRunTests {
    /// The Postfix lines of one delivered message stamped `stamp`.
    static func message(_ stamp: String, id: String) -> String {
        YearlessAheadTests.message(stamp, id: id)
    }

    @Test(
        "The default zone is the system's (TZ in the child's environment); --timezone UTC overrides it",
        arguments: [
            (["TZ=Asia/Tokyo"], [String](), "2026-11-29T01:00:00"),
            (["TZ=:Europe/Berlin"], [], "2026-11-29T09:00:00"),
            (["TZ=America/New_York"], [], "2026-11-29T15:00:00"),
            (["TZ=Asia/Tokyo"], ["--timezone", "UTC"], "2026-11-29T10:00:00"),
            (["TZ=UTC"], ["--timezone", "local"], "2026-11-29T10:00:00"),
            (["TZ=UTC"], ["--timezone", "Asia/Tokyo"], "2026-11-29T01:00:00"),
        ])
    func systemZone(_ environment: [String], _ flags: [String], _ expected: String) throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mail.log")
        try Data(Self.message("Nov 29 10:00:00", id: "4A1B2C3D4E").utf8).write(to: log)
        let r = try ReplayDeterminismTests.run(environment, ["events", "--year", "2026"] + flags + [log.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(expected), "\(r.stdout)")
    }

    @Test("A file whose zone-less lines lie hours after its modification time warns once: another zone")
    func linesAfterModificationTime() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = Self.message("Nov 29 15:00:00", id: "4A1B2C3D4E") + Self.message("Nov 29 15:10:00", id: "5B2C3D4E5F")
        // Written in Tokyo (06:10 UTC), read as UTC: the lines read 15:10 UTC, nine hours after the last write.
        let tokyo = try YearlessAheadTests.file(
            text, name: "tokyo.log", modified: YearlessAheadTests.utc(2026, 11, 29, 6, 10), in: dir)
        var utc = Configuration()
        utc.timezone = "UTC"
        let ahead = runEvents([tokyo], configuration: utc, fallbackYearHint: .none)
        #expect(ahead.summary.zoneAhead.map(\.name) == [tokyo])
        let warning = try #require(ahead.summary.warnings.last)
        #expect(warning.contains("9 h 0 min after its modification time"), "\(warning)")
        #expect(warning.contains("--timezone"))
        // Read in its zone, or written at 15:10 UTC (or within the hour), it does not warn.
        var asia = Configuration()
        asia.timezone = "Asia/Tokyo"
        #expect(runEvents([tokyo], configuration: asia, fallbackYearHint: .none).summary.zoneAhead.isEmpty)
        let utcFile = try YearlessAheadTests.file(
            text, name: "utc.log", modified: YearlessAheadTests.utc(2026, 11, 29, 14, 30), in: dir)
        let fine = runEvents([utcFile], configuration: utc, fallbackYearHint: .none)
        #expect(fine.summary.zoneAhead.isEmpty && fine.summary.warnings.isEmpty, "\(fine.summary.warnings)")
    }

    @Test("A pipe has no modification time: lines after the time reading began do not warn of a zone")
    func pipeDoesNotWarn() throws {
        var utc = Configuration()
        utc.timezone = "UTC"
        // Three hours after the pipe's reference time (Dec 6, 21:50 UTC).
        let (summary, _, _) = try YearlessAheadTests.runPipe(
            Self.message("Dec  7 00:50:00", id: "4A1B2C3D4E"), configuration: utc)
        #expect(summary.zoneAhead.isEmpty)
    }

    @Test("A Berlin log across the end of DST (2026-10-25) is read in order: the repeated hour is not late")
    func repeatedHourInOrder() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // One message every 5 minutes from 00:00 to 02:55 UTC: 02:00–02:55 CEST, then 02:00–02:55 CET again.
        var text = ""
        var expected: [EventTime] = []
        for k in 0..<36 {
            let utcSeconds = Int64(k * 300)
            let local = utcSeconds + (utcSeconds < 3600 ? 7200 : 3600)
            func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
            let stamp = "Oct 25 \(two(local / 3600)):\(two(local % 3600 / 60)):00"
            text += Self.message(stamp, id: "4A1B2C" + String(0xA000 + k, radix: 16, uppercase: true))
            expected.append(
                EventTime(seconds: CivilDate(year: 2026, month: 10, day: 25).daysSinceEpoch * 86_400 + utcSeconds))
        }
        let log = dir.appendingPathComponent("berlin.log")
        try Data(text.utf8).write(to: log)
        var berlin = withYear(2026)
        berlin.timezone = "Europe/Berlin"
        let run = runEvents([log.path], configuration: berlin)
        #expect(run.events.map(\.time) == expected)
    }
}
