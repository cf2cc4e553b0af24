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

/// Reads syslog line prefixes in the layouts mail servers' logs use: classic RFC 3164 (`Nov 29 05:13:14`, no
/// year), RFC 3339 with fractions and offset (rsyslog's `RSYSLOG_FileFormat`), and either with an optional
/// `<PRI>` in front.
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

    public init(zone: LocalTimeZone = .utc, yearHint: YearHint = .none) {
        self.zone = zone
        self.years = YearResolver(hint: yearHint)
    }

    /// Starts a new input with its own year hint.
    public mutating func beginInput(yearHint: YearHint) {
        years = YearResolver(hint: yearHint)
        cachedTimestampValid = false
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
        if n > 0 && p[0] == UInt8(ascii: "<") {
            var j = 1
            while j < n && j < 5 && Timestamps.isDigit(p[j]) { j += 1 }
            if j < n && j > 1 && p[j] == UInt8(ascii: ">") { i = j + 1 }
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
        if cachedTimestampValid && i == 0 && n >= 16 && word0 == cachedTimestamp0 && word1 == cachedTimestamp1 {
            time = cachedTime
            i = 15
        } else if Timestamps.isDigit(p[i]) {
            guard let (t, end) = Timestamps.readDateTime(p, at: i, zone: &zone) else {
                return .badTimestamp
            }
            time = t
            i = end
        } else {
            guard let (month, day, sod, end) = Timestamps.readClassicSyslog(p, at: i) else {
                return .badTimestamp
            }
            guard let year = years.year(forMonth: month) else { return .badTimestamp }
            let date = CivilDate(year: year, month: month, day: day)
            // Feb 29 in a year without one: the year guess was wrong or the line is broken.
            guard date.isValid else { return .badTimestamp }
            let utc = zone.utcSeconds(fromLocal: date.daysSinceEpoch * 86_400 + Int64(sod))
            time = EventTime(seconds: utc)
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
        let hostStart = i
        i = Bytes.scan(to: 0x20, 0x20, 0x20, in: p, from: i, to: n)
        guard i < n, i > hostStart else { return .notSyslog }
        let host = hostStart..<i
        i += 1
        let progStart = i
        i = Bytes.scan(to: UInt8(ascii: "["), UInt8(ascii: ":"), 0x20, in: p, from: i, to: n)
        guard i < n, i > progStart else { return .notSyslog }
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
}
