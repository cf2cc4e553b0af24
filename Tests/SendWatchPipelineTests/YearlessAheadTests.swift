import Foundation
import SendWatchCore
import SendWatchPipeline
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The year rule of year-less syslog timestamps stays month-granular; a run whose inferred years put an input's
/// events more than a day past the reference time (a file's modification time, or the time a pipe was read)
/// says so at the end (``RunSummary/yearlessAhead``).
@Suite struct YearlessAheadTests {
    /// The UTC time of `yyyy-mm-dd hh:mm:ss`.
    static func utc(_ y: Int, _ m: Int, _ d: Int, _ hh: Int = 0, _ mm: Int = 0, _ ss: Int = 0) -> EventTime {
        EventTime(
            seconds: CivilDate(year: y, month: m, day: d).daysSinceEpoch * 86_400 + Int64(hh * 3600 + mm * 60 + ss))
    }

    /// Reading began on 2026-12-06 at 21:50 UTC (the clock of a pipe's run, injected).
    static let december6 = utc(2026, 12, 6, 21, 50)

    /// One delivered message of the Postfix log, its lines stamped `stamp` (`Dec 31 23:59:58`, or an ISO time).
    static func message(_ stamp: String, id: String) -> String {
        """
        \(stamp) mx1 postfix/submission/smtpd[1234]: \(id): client=unknown[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.net
        \(stamp) mx1 postfix/qmgr[1236]: \(id): from=<alice@example.net>, size=1234, nrcpt=1 (queue active)
        \(stamp) mx1 postfix/smtp[1237]: \(id): to=<bob@example.org>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=2.0.0, status=sent (250 OK)
        \(stamp) mx1 postfix/qmgr[1236]: \(id): removed

        """
    }

    /// Last year's New Year: `Dec 31` then `Jan  1`.
    static let newYear = message("Dec 31 23:59:58", id: "4A1B2C3D4E") + message("Jan  1 00:00:01", id: "5B2C3D4E5F")

    /// Runs the events stage over `text` written into a FIFO (as `cat log | sendwatch events` reads it), with
    /// the pipe's reference time `december6`, and `others` read after it (each a log of its own when `logs`).
    static func runPipe(
        _ text: String, others: [String] = [], configuration: Configuration = Configuration(), logs: Bool = false
    ) throws -> (summary: RunSummary, events: [SendEvent], fifo: String) {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("mail.fifo").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            // Opening the write end waits for the reader.
            let fd = open(fifo, O_WRONLY)
            guard fd >= 0 else { return }
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        writer.start()
        let run = runEvents(
            [fifo] + others, configuration: configuration, fallbackYearHint: .modified(december6), logs: logs)
        return (run.summary, run.events, fifo)
    }

    /// Writes `text` to a file in `dir` whose modification time is `modified`.
    static func file(_ text: String, name: String, modified: EventTime, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: Double(modified.seconds))], ofItemAtPath: url.path)
        return url.path
    }

    @Test("Piped on Dec 6: last year's Dec 31 and Jan 1 keep the month rule's year, and the run says they are ahead")
    func pipeNewYear() throws {
        let (summary, events, fifo) = try Self.runPipe(Self.newYear)
        // The year rule is unchanged: the first month (Dec) is not after the reference's, so 2026.
        #expect(events.map(\.time) == [Self.utc(2026, 12, 31, 23, 59, 58), Self.utc(2027, 1, 1, 0, 0, 1)])
        #expect(summary.yearlessAhead.count == 1)
        #expect(summary.yearlessAhead.first?.latest == Self.utc(2027, 1, 1, 0, 0, 1))
        #expect(summary.yearlessAhead.first?.modificationTime == false)
        // One warning: the lines ahead, not also the pipe's year note.
        #expect(summary.warnings.count == 1 && summary.yearlessFromClock.isEmpty)
        let warning = try #require(summary.warnings.last)
        #expect(
            warning
                == "sendwatch: warning: year-less timestamps of \(fifo) reach 2027-01-01T00:00:01Z, 25 days after "
                + "the time reading began (2026-12-06T21:50:00Z); if the log is from an earlier year, give --year "
                + "YYYY (the year of its first line)")
    }

    @Test("A file whose modification time is before its lines: the warning names its modification time")
    func fileModifiedBeforeItsLines() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Modified on Nov 20 at noon; its lines say Nov 28 (a clock behind the data, or a generated log).
        let path = try Self.file(
            Self.message("Nov 28 10:00:00", id: "4A1B2C3D4E"), name: "mail.log", modified: Self.utc(2026, 11, 20, 12),
            in: dir)
        let (summary, events, _) = runEvents([path], fallbackYearHint: .none)
        #expect(events.map(\.time) == [Self.utc(2026, 11, 28, 10)])
        let warning = try #require(summary.warnings.last)
        #expect(warning.contains("of \(path) reach 2026-11-28T10:00:00Z, 7 days after its modification time"))
        // Merged with another log, the decision is per input: only this one is named.
        let other = try Self.file(
            Self.message("Nov 19 10:00:00", id: "6C3D4E5F6A"), name: "other.log", modified: Self.utc(2026, 11, 20, 12),
            in: dir)
        let merged = runEvents([other, path], fallbackYearHint: .none, logs: true)
        #expect(merged.events.count == 2)
        #expect(merged.summary.yearlessAhead.map(\.name) == [path])
    }

    @Test("replay and events print the warning on a line of its own after the summary")
    func commands() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.file(
            Self.message("Nov 28 10:00:00", id: "4A1B2C3D4E"), name: "mail.log", modified: Self.utc(2026, 11, 20, 12),
            in: dir)
        // `--warmup 0`: a one-event log lies within the default warm-up, which replay says after the year's warning.
        for command in [
            ["events", "--count-only"], ["replay", "--warmup", "0", "--output", dir.appendingPathComponent("a").path],
        ] {
            let result = try CommandLine.run(command + [path])
            #expect(result.status == 0)
            let lines = result.stderr.split(separator: "\n")
            #expect(
                lines.last?.hasPrefix("sendwatch: warning: year-less timestamps of \(path) reach 2026-11-28") == true,
                "\(result.stderr)")
            #expect(lines.dropLast().last?.hasPrefix("sendwatch: 1 input") == true, "\(result.stderr)")
            let given = try CommandLine.run(command + ["--year", "2026", path])
            #expect(!given.stderr.contains("year-less timestamps of"), "\(given.stderr)")
        }
    }

    @Test("No warning: a log read after it was written, ISO timestamps, --year; a pipe within a day says its year")
    func noWarning() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Last week's log, modified after its last line.
        let normal = try Self.file(
            Self.message("Nov 29 05:13:14", id: "4A1B2C3D4E"), name: "mail.log", modified: Self.december6, in: dir)
        let read = runEvents([normal], fallbackYearHint: .none)
        #expect(read.events.count == 1)
        #expect(read.summary.yearlessAhead.isEmpty && read.summary.warning == nil)
        // Piped: a line 23 hours after the reference (a zone east of UTC, or a clock a little fast).
        let near = try Self.runPipe(Self.message("Dec  7 20:50:00", id: "4A1B2C3D4E"))
        #expect(near.events.map(\.time) == [Self.utc(2026, 12, 7, 20, 50)])
        #expect(near.summary.yearlessAhead.isEmpty)
        // It still says where the year came from: a pipe has no modification time.
        #expect(
            near.summary.warnings == [
                "sendwatch: warning: \(near.fifo) is not a regular file and has no modification time; its year-less "
                    + "timestamps got the year of the time reading began (2026-12-06T21:50:00Z): give --year YYYY if "
                    + "the log is from another year"
            ])
        // ISO timestamps carry their year: a month after the reference, and no warning.
        let iso = try Self.runPipe(
            Self.message("2027-01-01T00:00:01+00:00", id: "4A1B2C3D4E"), others: [normal])
        #expect(iso.events.count == 2)
        #expect(iso.summary.warnings.isEmpty)
        // --year: the year is given, not inferred.
        let given = try Self.runPipe(Self.newYear, configuration: withYear(2026))
        #expect(given.events.map(\.time) == [Self.utc(2026, 12, 31, 23, 59, 58), Self.utc(2027, 1, 1, 0, 0, 1)])
        #expect(given.summary.warnings.isEmpty)
    }
}
