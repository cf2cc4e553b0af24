import Foundation
import SendWatchCore
import SendWatchFormats
import Testing

/// ``LocalTimeZone``: the system's zone (`local`), the hours daylight saving time repeats and skips, and the
/// zone abbreviations of `journalctl -o short-full`; ``SyslogHeaderReader`` on `docker logs -t` lines.
@Suite struct LocalTimeZoneTests {
    /// Seconds since the epoch of a UTC date and time.
    static func seconds(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int = 0) -> Int64 {
        CivilDate(year: y, month: mo, day: d).daysSinceEpoch * 86_400 + Int64(h * 3600 + mi * 60 + s)
    }

    /// The header times of `lines` read in `zone`, in seconds, one input.
    static func times(_ lines: [String], zone: LocalTimeZone) -> [Result<Int64, RejectReason>] {
        var reader = SyslogHeaderReader(zone: zone, yearHint: .year(2026))
        return lines.map { line in
            Array(line.utf8).withUnsafeBytes { p in reader.read(p).map { $0.time.seconds } }
        }
    }

    static let tzCases: [(String, Int64)] = [
        ("Asia/Tokyo", 32_400), (":Asia/Tokyo", 32_400), ("/usr/share/zoneinfo/Asia/Tokyo", 32_400),
        ("America/New_York", -18_000), ("JST-9", 32_400), ("<+0530>-5:30", 19_800), ("", 0), ("UTC", 0),
    ]

    @Test(
        "local is the zone of TZ (with a leading colon, a zoneinfo path, a POSIX string), else UTC", arguments: tzCases)
    func localFromTZ(_ tz: String, _ offset: Int64) throws {
        var zone = try #require(LocalTimeZone(parsing: "local", environment: ["TZ": tz]))
        // 2026-12-01 10:00 local (winter: New York is on EST).
        let local = Self.seconds(2026, 12, 1, 10, 0)
        #expect(zone.utcSeconds(fromLocal: local) == local - offset)
    }

    @Test("Without TZ, local is the zone /etc/localtime names (or UTC); explicit zones are unchanged")
    func localWithoutTZ() throws {
        var zone = try #require(LocalTimeZone(parsing: "local", environment: [:]))
        let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime")
        let name = target.flatMap { $0.range(of: "zoneinfo/").map { String(target![$0.upperBound...]) } }
        let expected = name.flatMap { TimeZone(identifier: $0) } ?? TimeZone(identifier: "UTC")!
        let local = Self.seconds(2026, 12, 1, 10, 0)
        let offset = Int64(expected.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local))))
        #expect(zone.utcSeconds(fromLocal: local) == local - offset)
        var tokyo = try #require(LocalTimeZone(parsing: "Asia/Tokyo", environment: ["TZ": "Europe/Berlin"]))
        #expect(tokyo.utcSeconds(fromLocal: local) == local - 9 * 3600)
        #expect(LocalTimeZone(parsing: "Localtime") == nil)
    }

    @Test("The hour repeated when DST ends (Europe/Berlin, 2026-10-25) is read in order: first CEST, then CET")
    func repeatedHour() throws {
        let zone = try #require(LocalTimeZone(parsing: "Europe/Berlin"))
        let lines = [
            "Oct 25 01:59:00", "Oct 25 02:00:05", "Oct 25 02:30:00", "Oct 25 02:59:59",  // CEST
            "Oct 25 02:00:01", "Oct 25 02:29:58", "Oct 25 02:30:00", "Oct 25 02:59:59",  // CET, again
            "Oct 25 03:00:00",
        ].map { $0 + " mx1 postfix/smtpd[1]: connect" }
        let got = try Self.times(lines, zone: zone).map { try $0.get() }
        #expect(
            got == [
                Self.seconds(2026, 10, 24, 23, 59), Self.seconds(2026, 10, 25, 0, 0, 5),
                Self.seconds(2026, 10, 25, 0, 30),
                Self.seconds(2026, 10, 25, 0, 59, 59), Self.seconds(2026, 10, 25, 1, 0, 1),
                Self.seconds(2026, 10, 25, 1, 29, 58), Self.seconds(2026, 10, 25, 1, 30),
                Self.seconds(2026, 10, 25, 1, 59, 59), Self.seconds(2026, 10, 25, 2, 0),
            ])
        // A new input starts over: its first repeated time is the first occurrence again.
        var reader = SyslogHeaderReader(zone: zone, yearHint: .year(2026))
        for line in lines.prefix(6) { _ = Array(line.utf8).withUnsafeBytes { reader.read($0) } }
        reader.beginInput(yearHint: .year(2026))
        let again = Array(lines[2].utf8).withUnsafeBytes { reader.read($0).map { $0.time.seconds } }
        #expect(try again.get() == Self.seconds(2026, 10, 25, 0, 30))
    }

    @Test("A time in the hour skipped when DST starts is read with the offset before the change")
    func skippedHour() throws {
        var zone = try #require(LocalTimeZone(parsing: "Europe/Berlin"))
        #expect(zone.utcSeconds(fromLocal: Self.seconds(2026, 3, 29, 1, 59)) == Self.seconds(2026, 3, 29, 0, 59))
        #expect(zone.utcSeconds(fromLocal: Self.seconds(2026, 3, 29, 2, 30)) == Self.seconds(2026, 3, 29, 1, 30))
        #expect(zone.utcSeconds(fromLocal: Self.seconds(2026, 3, 29, 3, 0)) == Self.seconds(2026, 3, 29, 1, 0))
    }

    /// A zone, a `short-full` time, and the seconds after 2026-10-25 00:00 UTC it means (or the reason).
    static let abbreviationCases: [(String, String, Result<Int64, RejectReason>)] = [
        ("Europe/Berlin", "Sun 2026-10-25 02:30:00 CEST", .success(1800)),
        ("Europe/Berlin", "Sun 2026-10-25 02:30:00 CET", .success(5400)),
        ("Europe/Berlin", "Sun 2026-10-25 02:30:00 EST", .failure(.unknownTimeZone)),
        ("America/New_York", "Sun 2026-10-25 02:30:00 EDT", .success(23_400)),
        ("America/New_York", "Sun 2026-10-25 02:30:00 EST", .success(27_000)),
        ("Asia/Tokyo", "Sun 2026-10-25 11:30:00 JST", .success(9000)),
        ("Asia/Tokyo", "Sun 2026-10-25 02:30:00 UTC", .success(9000)),
        ("UTC", "Sun 2026-10-25 02:30:00 CET", .failure(.unknownTimeZone)),
    ]

    @Test(
        "journalctl -o short-full: the configured zone's abbreviations are read with their offsets",
        arguments: abbreviationCases)
    func shortFullAbbreviations(_ zoneName: String, _ prefix: String, _ expected: Result<Int64, RejectReason>) throws {
        let zone = try #require(LocalTimeZone(parsing: zoneName))
        let got = Self.times([prefix + " mx1 postfix/smtpd[1]: connect"], zone: zone)[0]
        #expect(got == expected.map { Self.seconds(2026, 10, 25, 0, 0) + $0 })
    }

    @Test(
        "docker logs -t / kubectl logs --timestamps: the RFC 3339 prefix's time is used, the syslog time skipped",
        arguments: [
            "2026-11-29T06:00:30.000037000Z Nov 29 07:00:29 mx1 postfix/smtpd[12]: connect from x",
            "2026-11-29T06:00:30.000037000Z 2026-11-29T07:00:29+01:00 mx1 postfix/smtpd[12]: connect from x",
            "2026-11-29T06:00:30.000037000Z mx1 postfix/smtpd[12]: connect from x",
        ])
    func dockerTimestamps(_ line: String) throws {
        var reader = SyslogHeaderReader(zone: .utc, yearHint: .year(2026))
        let bytes = Array(line.utf8)
        let (time, host, program, message) = try bytes.withUnsafeBytes { p in
            let h = try reader.read(p).get()
            return (
                h.time, Bytes.string(p, h.host), Bytes.string(p, h.program),
                Bytes.string(p, h.messageStart..<p.count)
            )
        }
        #expect(time.microseconds == Self.seconds(2026, 11, 29, 6, 0, 30) * 1_000_000 + 37)
        #expect(host == "mx1")
        #expect(program == "postfix/smtpd")
        #expect(message == "connect from x")
    }
}
