public import SendWatchCore

/// The parsed prefix of a syslog line: `TIMESTAMP HOST PROGRAM[PID]: MESSAGE`.
///
/// Byte ranges index into the line passed to ``SyslogHeaderReader/read(_:)``.
public struct SyslogHeader: Sendable {
    /// The line's time, UTC.
    public var time: EventTime
    /// The host field.
    public var host: Range<Int>
    /// The program name without pid, e.g. `postfix/submission/smtpd` or `exim`.
    public var program: Range<Int>
    /// The index of the first byte of the message (after `": "`).
    public var messageStart: Int
}

/// Reads syslog line prefixes in the layouts mail servers' logs are written in:
///
/// - classic RFC 3164 `Nov 29 05:13:14` (no year), the day padded with a space, a zero or nothing (`Nov 1`),
///   the seconds optionally with a fraction (`journalctl -o short-precise`: `Dec 05 10:00:01.123456`);
/// - a date and time `2026-11-29T05:31:11.903175+00:00` (RFC 3339, rsyslog's `RSYSLOG_FileFormat`,
///   `journalctl -o short-iso`) or `2026-11-29 05:31:11` (a space instead of `T`);
/// - `journalctl -o short-full`, `Sat 2026-12-05 10:00:01 UTC`: a weekday, then a date and time and a zone
///   that is `UTC`, `GMT`, `Z`, numeric (`+03`, `+0530`) or an abbreviation of the configured zone (`CET`,
///   `CEST` for `Europe/Berlin`); any other abbreviation has no known offset and the line is skipped
///   `unknown_time_zone`;
/// - any of the date-and-time layouts with a second timestamp after it (`docker logs -t`, `kubectl logs
///   --timestamps`: `2026-11-29T06:00:30.000037000Z Nov 29 06:00:30 host …`): the first time is used;
/// - RFC 5424, `<22>1 2026-12-05T10:00:01.123456+01:00 HOST APP PROCID MSGID SD MESSAGE`: the program is
///   APP-NAME, the structured data (`-` or `[…]` elements) and a UTF-8 byte order mark are skipped;
/// - `journalctl -o short-unix`, `1764928801.123456`: seconds since the epoch and a fraction (UTC, no year to
///   guess; ``Timestamps/readUnixTime(_:at:)``);
/// - any of the first three with an optional `<PRI>` in front, and with an optional `<facility.level>` tag
///   between the time and the host (`Dec  5 10:00:01 <mail.info> host postfix/smtp[1]: …`);
/// - BusyBox syslogd's `facility.priority` between the host and the program (`Dec  5 10:00:01 host mail.info
///   postfix/smtp[1]: …`; Alpine's default syslog): only real facility and priority names
///   (``isFacilityPriority(_:_:)``), read only where the token after the host is not a program tag.
public struct SyslogHeaderReader: Sendable {
    /// The zone of timestamps that carry none.
    public var zone: LocalTimeZone {
        didSet { cachedTimestampValid = false }
    }
    /// The year source for classic timestamps; reset per input.
    public var years: YearResolver {
        didSet { cachedTimestampValid = false }
    }
    /// The 15 bytes of the last classic timestamp read at the start of a line (as two overlapping words: bytes
    /// 0..<8 and 7..<15) and its time. Lines of one second share it; reading the same month again does not
    /// change the ``YearResolver``, and the zone conversion is a function of its input, so reusing the time
    /// gives the same result as parsing again.
    private var cachedTimestamp0: UInt64 = 0
    private var cachedTimestamp1: UInt64 = 0
    private var cachedTime = EventTime(microseconds: 0)
    private var cachedTimestampValid = false
    /// The latest time given to a classic (year-less) timestamp since the input began, in microseconds;
    /// `Int64.min` when there was none. Updated only where such a timestamp is parsed (not on a cache hit, which
    /// repeats the last time), so it costs one comparison per second of log. Not saved in checkpoints: only the
    /// end of a whole input reads it (``latestYearlessTime``).
    private var latestYearlessMicroseconds = Int64.min

    public init(zone: LocalTimeZone = .utc, yearHint: YearHint = .none) {
        self.zone = zone
        self.years = YearResolver(hint: yearHint)
    }

    /// Starts a new input with its own year hint.
    public mutating func beginInput(yearHint: YearHint) {
        years = YearResolver(hint: yearHint)
        cachedTimestampValid = false
        latestYearlessMicroseconds = .min
        zone.beginStream()
    }

    /// Whether a `short-full` time whose zone abbreviation this zone does not use is read as UTC instead of
    /// rejected `unknown_time_zone`: format detection sets it, so such a line still votes for its program.
    package var acceptsUnknownZoneAbbreviations = false
    /// The first zone abbreviation of a `short-full` time this zone does not use (a line rejected
    /// `unknown_time_zone`), for the run's message; set once, on the rejection path only.
    package private(set) var unknownZoneAbbreviation: String?

    /// The latest time given to a year-less (classic syslog) timestamp since the input began, or `nil` when the
    /// input had none (every line carried its year, or none was read). The run compares it with the year hint's
    /// reference time to tell when an inferred year put lines in the future.
    public var latestYearlessTime: EventTime? {
        latestYearlessMicroseconds == .min ? nil : EventTime(microseconds: latestYearlessMicroseconds)
    }

    /// Parses the header of `p`.
    ///
    /// - Returns: the header, or the reason the line is not a usable syslog line.
    /// - Complexity: O(length of the header), eight bytes per step for host and program; the timestamp is
    ///   parsed once per second of log (the last one is cached); no allocation.
    public mutating func read(_ p: UnsafeRawBufferPointer) -> Result<SyslogHeader, RejectReason> {
        var header = SyslogHeader(time: EventTime(microseconds: 0), host: 0..<0, program: 0..<0, messageStart: 0)
        if let reason = read(p, into: &header) { return .failure(reason) }
        return .success(header)
    }

    /// ``read(_:)`` for the parsers' per-line path: fills `header` and returns `nil`, or returns the reason
    /// (then `header` is unspecified). Writing through `inout` spares the caller reloading a returned `Result`.
    ///
    /// - Complexity: as ``read(_:)``.
    package mutating func read(_ p: UnsafeRawBufferPointer, into header: inout SyslogHeader) -> RejectReason? {
        var i = 0
        let n = p.count
        var rfc5424 = false
        if n > 0 && p[0] == UInt8(ascii: "<") {
            var j = 1
            while j < n && j < 5 && Timestamps.isDigit(p[j]) { j += 1 }
            if j < n && j > 1 && p[j] == UInt8(ascii: ">") {
                i = j + 1
                // RFC 5424: `<PRI>1 ` (version 1, the only one defined).
                if i + 1 < n && p[i] == UInt8(ascii: "1") && p[i + 1] == 0x20 {
                    rfc5424 = true
                    i += 2
                }
            }
        }
        guard i < n else { return .badTimestamp }
        let time: EventTime
        var word0: UInt64 = 0
        var word1: UInt64 = 0
        if i == 0 && n >= 16, let base = p.baseAddress {
            // Safe: both loads lie inside the first 15 bytes of `p` (n >= 16).
            word0 = base.loadUnaligned(as: UInt64.self)
            word1 = (base + 7).loadUnaligned(as: UInt64.self)
        }
        // The cache holds 15-byte timestamps only, so a hit must be followed by the space, not a fraction.
        if cachedTimestampValid && i == 0 && n >= 16 && word0 == cachedTimestamp0 && word1 == cachedTimestamp1
            && p[15] == 0x20
        {
            time = cachedTime
            i = 15
        } else if Timestamps.isDigit(p[i]) {
            if let (t, end) = Timestamps.readDateTime(p, at: i, zone: &zone) {
                time = t
                i = end
                // `docker logs -t`, `kubectl logs --timestamps`: an RFC 3339 time in front of the syslog line.
                // Only when the next word could be a time (a digit, or three letters and a space): a host
                // name after the time, as on every other such line, is not read as one.
                if !rfc5424 && end + 16 < n && p[end] == 0x20
                    && (Timestamps.isDigit(p[end + 1]) || p[end + 4] == 0x20)
                {
                    i = Self.skipSecondTimestamp(p, at: end + 1)
                }
            } else if !rfc5424, let (t, end) = Timestamps.readUnixTime(p, at: i) {
                time = t
                i = end
            } else {
                return .badTimestamp
            }
        } else if rfc5424 {
            // The NILVALUE `-`: a line without a time cannot be placed in event time.
            return .badTimestamp
        } else if let weekday = Self.weekdayEnd(p, at: i) {
            switch readShortFull(p, at: weekday) {
            case .failure(let reason): return reason
            case .success(let (t, end)):
                time = t
                i = end
            }
        } else {
            guard let (month, day, sod, micros, end) = Timestamps.readClassicSyslog(p, at: i) else {
                return .badTimestamp
            }
            guard let year = years.year(forMonth: month) else { return .badTimestamp }
            let date = CivilDate(year: year, month: month, day: day)
            // Feb 29 in a year without one: the year guess was wrong or the line is broken.
            guard date.isValid else { return .badTimestamp }
            let utc = zone.utcSeconds(fromLocal: date.daysSinceEpoch * 86_400 + Int64(sod))
            time = EventTime(microseconds: utc * 1_000_000 + micros)
            if time.microseconds > latestYearlessMicroseconds { latestYearlessMicroseconds = time.microseconds }
            if i == 0 && end == 15 && n >= 16 {
                cachedTimestamp0 = word0
                cachedTimestamp1 = word1
                cachedTime = time
                cachedTimestampValid = true
            }
            i = end
        }
        guard i < n, p[i] == 0x20 else { return .notSyslog }
        i += 1
        if rfc5424 { return readRFC5424Fields(p, from: i, time: time, into: &header) }
        i = Self.skipFacilityTag(p, at: i)
        let hostStart = i
        i = Bytes.scan(to: 0x20, 0x20, 0x20, in: p, from: i, to: n)
        guard i < n, i > hostStart else { return .notSyslog }
        let host = hostStart..<i
        i += 1
        var progStart = i
        i = Bytes.scan(to: UInt8(ascii: "["), UInt8(ascii: ":"), 0x20, in: p, from: i, to: n)
        guard i < n, i > progStart else { return .notSyslog }
        if p[i] == 0x20 {
            // Not a program tag (it ends at a space). BusyBox syslogd writes `HOST facility.priority PROGRAM…`:
            // skip one such token and read the program after it. Only lines that would fail here pay for it.
            guard Self.isFacilityPriority(p, progStart..<i) else { return .notSyslog }
            i += 1
            progStart = i
            i = Bytes.scan(to: UInt8(ascii: "["), UInt8(ascii: ":"), 0x20, in: p, from: i, to: n)
            guard i < n, i > progStart else { return .notSyslog }
        }
        let program = progStart..<i
        if p[i] == UInt8(ascii: "[") {
            i = Bytes.scan(to: UInt8(ascii: "]"), UInt8(ascii: "]"), UInt8(ascii: "]"), in: p, from: i, to: n)
            guard i < n else { return .notSyslog }
            i += 1
        }
        guard i < n, p[i] == UInt8(ascii: ":") else { return .notSyslog }
        i += 1
        if i < n && p[i] == 0x20 { i += 1 }
        header.time = time
        header.host = host
        header.program = program
        header.messageStart = i
        return nil
    }

    /// The fields of an RFC 5424 line after its timestamp: `HOST APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`.
    private func readRFC5424Fields(
        _ p: UnsafeRawBufferPointer, from start: Int, time: EventTime, into header: inout SyslogHeader
    ) -> RejectReason? {
        let n = p.count
        var fields: (Range<Int>, Range<Int>) = (0..<0, 0..<0)
        var i = start
        // HOST, APP-NAME, PROCID, MSGID: each a non-empty token ended by one space.
        for k in 0..<4 {
            let s = i
            i = Bytes.scan(to: 0x20, 0x20, 0x20, in: p, from: i, to: n)
            guard i < n, i > s else { return .notSyslog }
            if k == 0 { fields.0 = s..<i }
            if k == 1 { fields.1 = s..<i }
            i += 1
        }
        // The NILVALUE as APP-NAME: no program to attribute the line to.
        guard !Bytes.equals("-", in: p, fields.1), i < n else { return .notSyslog }
        if p[i] == UInt8(ascii: "-") {
            i += 1
        } else {
            // SD-ELEMENTs `[id k="v" …]…`; inside a value `\]` does not close the element.
            while i < n && p[i] == UInt8(ascii: "[") {
                i += 1
                while i < n && p[i] != UInt8(ascii: "]") { i += p[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < n else { return .notSyslog }
                i += 1
            }
            guard i > start, p[i - 1] == UInt8(ascii: "]") else { return .notSyslog }
        }
        if i < n {
            guard p[i] == 0x20 else { return .notSyslog }
            i += 1
        }
        if i + 3 <= n && p[i] == 0xEF && p[i + 1] == 0xBB && p[i + 2] == 0xBF { i += 3 }
        header.time = time
        header.host = fields.0
        header.program = fields.1
        header.messageStart = min(i, n)
        return nil
    }

    /// The syslog facility names (`facilitynames` of glibc and musl, which BusyBox syslogd prints), packed as
    /// ``packedName(_:)`` packs them; 21 entries (with the alias `security`).
    private static let facilityNames: [UInt64] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "security", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ].map { packedName(Array($0.utf8)) }

    /// The syslog priority names with the aliases `prioritynames` holds (BusyBox prints the first name of a
    /// level in that table: `err`, `warn`, `emerg`), packed; 11 entries.
    private static let priorityNames: [UInt64] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "warn", "error", "panic",
    ].map { packedName(Array($0.utf8)) }

    /// Up to 8 bytes as one little-endian word (a name of at most 8 bytes, zero-padded).
    private static func packedName<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var w: UInt64 = 0
        for (k, b) in bytes.enumerated() { w |= UInt64(b) << (8 * UInt64(k)) }
        return w
    }

    /// Whether `p[token]` is `facility.priority` with a syslog facility and priority name (`mail.info`,
    /// `local0.notice`, `mail.warn`), as BusyBox syslogd writes between the host and the program. A host name
    /// such as `mail.example.com` is not one.
    ///
    /// - Complexity: O(1): the token is at most 16 bytes, each name at most 8.
    package static func isFacilityPriority(_ p: UnsafeRawBufferPointer, _ token: Range<Int>) -> Bool {
        guard token.count >= 7, token.count <= 16,
            let dot = Bytes.find(UInt8(ascii: "."), in: p, from: token.lowerBound, to: token.upperBound),
            dot - token.lowerBound >= 3, dot - token.lowerBound <= 8, token.upperBound - dot - 1 >= 3,
            token.upperBound - dot - 1 <= 7
        else { return false }
        let facility = packedName(UnsafeRawBufferPointer(rebasing: p[token.lowerBound..<dot]))
        let priority = packedName(UnsafeRawBufferPointer(rebasing: p[(dot + 1)..<token.upperBound]))
        return facilityNames.contains(facility) && priorityNames.contains(priority)
    }

    /// The index after an optional `<facility.level> ` tag at `i` (letters, digits, `.` and `_`, at most 32
    /// bytes between the brackets), or `i` when there is none.
    ///
    /// Inlined for the test of the first byte, which nearly every line fails; the tag itself is read out of line.
    @inline(__always)
    package static func skipFacilityTag(_ p: UnsafeRawBufferPointer, at i: Int) -> Int {
        guard i < p.count && p[i] == UInt8(ascii: "<") else { return i }
        return readFacilityTag(p, at: i)
    }

    /// ``skipFacilityTag(_:at:)`` where `p[i]` is `<`.
    private static func readFacilityTag(_ p: UnsafeRawBufferPointer, at i: Int) -> Int {
        var j = i + 1
        let limit = min(p.count, i + 34)
        while j < limit {
            let c = p[j]
            if c == UInt8(ascii: ">") { break }
            let letter = (c | 0x20) &- 0x61 < 26
            guard letter || Timestamps.isDigit(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") else {
                return i
            }
            j += 1
        }
        guard j < limit, j > i + 1, j + 1 < p.count, p[j + 1] == 0x20 else { return i }
        return j + 2
    }

    /// The index after `Www ` (an English weekday abbreviation and a space) followed by a digit at `i`, or
    /// `nil`.
    private static func weekdayEnd(_ p: UnsafeRawBufferPointer, at i: Int) -> Int? {
        guard i + 5 <= p.count, p[i + 3] == 0x20, Timestamps.isDigit(p[i + 4]) else { return nil }
        let key = (UInt32(p[i] | 0x20) << 16) | (UInt32(p[i + 1] | 0x20) << 8) | UInt32(p[i + 2] | 0x20)
        switch key {
        case 0x6D_6F_6E, 0x74_75_65, 0x77_65_64, 0x74_68_75, 0x66_72_69, 0x73_61_74, 0x73_75_6E:
            // mon tue wed thu fri sat sun
            return i + 4
        default:
            return nil
        }
    }

    /// After a leading date and time ended by a space at `start - 1`: the index of that space when a syslog
    /// timestamp (classic, or a date and time) follows it, which the leading one stands for, else `start - 1`.
    ///
    /// `docker logs -t` and `kubectl logs --timestamps` put the time the runtime received the line, in UTC with
    /// nanoseconds, before the line the program wrote (`2026-11-29T06:00:30.000037000Z Nov 29 06:00:30 mx1
    /// postfix/…`): the leading time is kept, as it is the more precise and carries its zone (the syslog time
    /// has no year and no zone); the two differ only by the runtime's delay.
    private static func skipSecondTimestamp(_ p: UnsafeRawBufferPointer, at start: Int) -> Int {
        if Timestamps.isDigit(p[start]) {
            var utc = LocalTimeZone.utc
            if let (_, end) = Timestamps.readDateTime(p, at: start, zone: &utc), end < p.count, p[end] == 0x20 {
                return end
            }
        } else if let (_, _, _, _, end) = Timestamps.readClassicSyslog(p, at: start), end < p.count,
            p[end] == 0x20
        {
            return end
        }
        return start - 1
    }

    /// Reads `YYYY-MM-DD HH:MM:SS[.fraction] ZONE` (`journalctl -o short-full`) at `start`, where ZONE is
    /// `UTC`, `GMT`, `Z`, numeric (`+03`, `+0530`, `+05:30`), or an abbreviation the configured zone uses
    /// (`CET` and `CEST` for `Europe/Berlin`: ``LocalTimeZone/offset(ofAbbreviation:_:)``), read with its offset
    /// (so `CEST` and `CET` also tell the two occurrences of the repeated hour apart). Any other abbreviation
    /// is `unknown_time_zone`.
    private mutating func readShortFull(
        _ p: UnsafeRawBufferPointer, at start: Int
    ) -> Result<(EventTime, Int), RejectReason> {
        var utc = LocalTimeZone.utc
        guard let (t, end) = Timestamps.readDateTime(p, at: start, zone: &utc) else { return .failure(.badTimestamp) }
        // `readDateTime` reads a 4-digit numeric zone itself; then `end` is past it.
        guard let (_, timeEnd) = Timestamps.readFraction(p, at: start + 19), end == timeEnd else {
            return .success((t, end))
        }
        guard end + 1 < p.count, p[end] == 0x20 else { return .failure(.badTimestamp) }
        let z = end + 1
        let zoneEnd = Bytes.scan(to: 0x20, 0x20, 0x20, in: p, from: z, to: p.count)
        let token = z..<zoneEnd
        if Bytes.equals("UTC", in: p, token) || Bytes.equals("GMT", in: p, token) || Bytes.equals("Z", in: p, token) {
            return .success((t, zoneEnd))
        }
        // `+HH` / `-HH`: glibc's name for a zone without an abbreviation.
        if token.count == 3, p[z] == UInt8(ascii: "+") || p[z] == UInt8(ascii: "-"),
            let h = Timestamps.twoDigits(p, z + 1), h <= 23
        {
            let offset = Int64(h) * 3600 * 1_000_000
            let corrected = p[z] == UInt8(ascii: "+") ? t.microseconds - offset : t.microseconds + offset
            return .success((EventTime(microseconds: corrected), zoneEnd))
        }
        if let offset = zone.offset(ofAbbreviation: p, token) {
            return .success((EventTime(microseconds: t.microseconds - offset * 1_000_000), zoneEnd))
        }
        if acceptsUnknownZoneAbbreviations { return .success((t, zoneEnd)) }
        if unknownZoneAbbreviation == nil && !token.isEmpty && token.count <= 8 {
            unknownZoneAbbreviation = Bytes.string(p, token)
        }
        return .failure(.unknownTimeZone)
    }
}
