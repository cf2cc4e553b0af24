import Foundation

/// How local wall-clock timestamps (classic syslog, Exim without a zone, RFC 3339 without an offset) map to UTC.
///
/// Postfix's `postlogd`, classic syslog, `journalctl -o short` and Exim write the server's local time without
/// saying which zone it is. SendWatch reads them in the system's zone by default (`local`: ``system(environment:)``),
/// as the server that wrote them did; `input.timezone` in the config or `--timezone` names another (a log copied
/// from a server in another zone needs it).
///
/// A named zone's conversion keeps state per input stream (``beginStream()``): a local time that occurs twice
/// (the repeated hour when daylight saving time ends) is placed by the stream's previous time.
public struct LocalTimeZone: Sendable {
    private enum Kind: Sendable {
        case fixed(Int64)
        case named(TimeZone)
    }
    private let kind: Kind
    /// The zone abbreviations a `journalctl -o short-full` time may carry in this zone, packed as
    /// ``packedAbbreviation(_:)`` packs them, with their offsets east of UTC in seconds: the standard and
    /// daylight names of the zone's current rule (from the tz database file's POSIX footer, or a POSIX `TZ`
    /// string). At most 2 entries.
    private let abbreviations: [(name: UInt64, offset: Int64)]
    /// The last local hour converted and its offsets: a log's timestamps move slowly, so this hits almost always.
    /// The two offsets differ only for an hour that occurs twice (`cachedOffsetSeconds` is the first occurrence's).
    private var cachedLocalHour: Int64 = .min
    private var cachedOffsetSeconds: Int64 = 0
    private var cachedLaterOffsetSeconds: Int64 = 0
    /// The UTC time of the previous conversion in this stream, or `Int64.min`: it places a repeated local time.
    private var previousUTCSeconds = Int64.min

    /// UTC.
    public static let utc = LocalTimeZone(kind: .fixed(0))

    private init(kind: Kind, abbreviations: [(name: UInt64, offset: Int64)] = []) {
        self.kind = kind
        self.abbreviations = abbreviations
    }

    /// A fixed offset east of UTC, in seconds.
    public init(offsetSeconds: Int) { self.init(kind: .fixed(Int64(offsetSeconds))) }

    /// Parses `UTC`, `Z`, a fixed offset (`+01:00`, `-0530`), an IANA zone name (`Europe/Berlin`), or `local`
    /// (the system's zone, ``system(environment:)``, read from `environment`, `nil`: this process's). Returns
    /// `nil` for anything else.
    public init?(parsing text: String, environment: [String: String]? = nil) {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if text == "local" {
            self = Self.system(environment: environment)
            return
        }
        if text == "UTC" || text == "Z" || text == "utc" || text == "GMT" {
            self.init(kind: .fixed(0))
            return
        }
        let u = Array(text.utf8)
        if let first = u.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            let digits = u.dropFirst().filter { $0 != UInt8(ascii: ":") }
            guard digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let d = digits.map { Int64($0 - 0x30) }
            let h = d[0] * 10 + d[1]
            let m = d[2] * 10 + d[3]
            guard h <= 23, m <= 59 else { return nil }
            let off = (h * 3600 + m * 60) * (first == UInt8(ascii: "-") ? -1 : 1)
            self.init(kind: .fixed(off))
            return
        }
        guard let zone = Self.named(text, environment: environment) else { return nil }
        self = zone
    }

    /// The system's zone, as the C library decides it: `TZ` when set (an empty `TZ` is UTC; a leading `:` and a
    /// path into the zoneinfo directory are accepted; a POSIX string without daylight saving rules, `JST-9`, is
    /// read as its fixed offset), else the zone `/etc/localtime` links to, else UTC. A POSIX string with daylight
    /// saving rules that is not itself a zone name (`EST5EDT` is one) cannot be followed and is passed over for
    /// `/etc/localtime`.
    public static func system(environment: [String: String]? = nil) -> LocalTimeZone {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let tz = environment["TZ"] {
            var name = tz.hasPrefix(":") ? String(tz.dropFirst()) : tz
            if name.isEmpty { return .utc }
            if let r = name.range(of: "zoneinfo/") { name = String(name[r.upperBound...]) }
            if name == "UTC" || name == "GMT" { return .utc }
            if let zone = named(name, environment: environment) { return zone }
            if let rule = POSIXRule(name), rule.daylight == nil {
                return LocalTimeZone(kind: .fixed(rule.standard.offset), abbreviations: [rule.standard])
            }
        }
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime"),
            let r = target.range(of: "zoneinfo/"), let zone = named(String(target[r.upperBound...]), environment: [:])
        {
            return zone
        }
        return .utc
    }

    /// An IANA zone with the abbreviations of its tz database file (under `TZDIR`, else `/usr/share/zoneinfo`).
    private static func named(_ name: String, environment: [String: String]) -> LocalTimeZone? {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains(".."), let tz = TimeZone(identifier: name) else {
            return nil
        }
        let dir = environment["TZDIR"] ?? "/usr/share/zoneinfo"
        var abbreviations: [(name: UInt64, offset: Int64)] = []
        if let data = FileManager.default.contents(atPath: dir + "/" + name), let rule = POSIXRule(tzifFooter: data) {
            abbreviations.append(rule.standard)
            if let daylight = rule.daylight { abbreviations.append(daylight) }
        }
        return LocalTimeZone(kind: .named(tz), abbreviations: abbreviations)
    }

    /// Starts a new input stream: forgets the previous time that places a repeated local hour.
    public mutating func beginStream() { previousUTCSeconds = .min }

    /// The offset east of UTC, in seconds, of a zone abbreviation (`CET`, `CEST`, `JST`) at `p[token]` that this
    /// zone uses (``abbreviations``), or `nil`. `UTC`, `GMT` and `Z` are the caller's.
    ///
    /// - Complexity: O(1): at most 8 bytes and 2 entries.
    public func offset(ofAbbreviation p: UnsafeRawBufferPointer, _ token: Range<Int>) -> Int64? {
        guard token.count >= 2, token.count <= 8 else { return nil }
        let key = Self.packedAbbreviation(UnsafeRawBufferPointer(rebasing: p[token]))
        return abbreviations.first { $0.name == key }?.offset
    }

    /// Up to 8 bytes as one little-endian word.
    static func packedAbbreviation<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var w: UInt64 = 0
        for (k, b) in bytes.prefix(8).enumerated() { w |= UInt64(b) << (8 * UInt64(k)) }
        return w
    }

    /// Converts a local civil time (seconds since the epoch as if the local time were UTC) to UTC seconds.
    ///
    /// For a named zone, a local time that occurs twice (daylight saving time ends) maps to the occurrence
    /// nearer the stream's previous conversion: the first at the start of a stream or while the stream is in the
    /// first occurrence, the second once the stream has passed it (a log written across the change repeats the
    /// hour in order). A local time that does not occur (daylight saving time starts, the clock skips an hour)
    /// is read with the offset in force before the change (`02:30` in Berlin on the spring day is 01:30 UTC,
    /// which is 03:30 CEST), as a clock that had not yet been moved would write it.
    ///
    /// - Complexity: O(1); Foundation is consulted once per local hour.
    public mutating func utcSeconds(fromLocal localSeconds: Int64) -> Int64 {
        switch kind {
        case .fixed(let off):
            return localSeconds - off
        case .named(let tz):
            let hour = localSeconds >= 0 ? localSeconds / 3600 : (localSeconds - 3599) / 3600
            if hour != cachedLocalHour { loadHour(hour, tz) }
            var utc = localSeconds - cachedOffsetSeconds
            if cachedLaterOffsetSeconds != cachedOffsetSeconds && previousUTCSeconds != .min {
                let later = localSeconds - cachedLaterOffsetSeconds
                if abs(later - previousUTCSeconds) < abs(utc - previousUTCSeconds) { utc = later }
            }
            previousUTCSeconds = utc
            return utc
        }
    }

    /// Fills the cache for the local hour `hour`: the offsets a day before and after it are the candidates; each
    /// that the zone really has in the middle of the hour is an occurrence.
    private mutating func loadHour(_ hour: Int64, _ tz: TimeZone) {
        let start = hour * 3600
        func offset(_ utc: Int64) -> Int64 { Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc)))) }
        let before = offset(start - 86_400)
        let after = offset(start + 86_400)
        cachedLocalHour = hour
        if before == after {
            cachedOffsetSeconds = before
            cachedLaterOffsetSeconds = before
            return
        }
        let beforeOccurs = offset(start + 1800 - before) == before
        let afterOccurs = offset(start + 1800 - after) == after
        switch (beforeOccurs, afterOccurs) {
        case (true, true):
            // Twice: the first occurrence is the one with the larger offset (earlier in UTC).
            cachedOffsetSeconds = max(before, after)
            cachedLaterOffsetSeconds = min(before, after)
        case (false, true):
            cachedOffsetSeconds = after
            cachedLaterOffsetSeconds = after
        default:
            // Once with the old offset, or never (the gap): the offset before the change.
            cachedOffsetSeconds = before
            cachedLaterOffsetSeconds = before
        }
    }
}

/// A POSIX `TZ` rule's names and offsets (`CET-1CEST,M3.5.0,M10.5.0/3`, `JST-9`, `<+0330>-3:30`), as `TZ` and the
/// last line of a version 2+ tz database file write it. The transition rules after the commas are not read.
struct POSIXRule {
    var standard: (name: UInt64, offset: Int64)
    var daylight: (name: UInt64, offset: Int64)?

    /// The rule in the footer of a TZif file (`\n<rule>\n` at its end), or `nil`.
    init?(tzifFooter data: Data) {
        let bytes = [UInt8](data.suffix(128))
        guard data.prefix(4) == Data("TZif".utf8), bytes.last == 0x0A,
            let open = bytes.dropLast().lastIndex(of: 0x0A)
        else { return nil }
        guard let text = String(bytes: bytes[(open + 1)..<(bytes.count - 1)], encoding: .utf8) else { return nil }
        self.init(text)
    }

    /// Parses `STD offset [DST [offset]][,rules]`.
    init?(_ text: String) {
        var s = Substring(text)
        func name() -> UInt64? {
            var n: Substring
            if s.first == "<" {
                guard let close = s.firstIndex(of: ">") else { return nil }
                n = s[s.index(after: s.startIndex)..<close]
                s = s[s.index(after: close)...]
            } else {
                n = s.prefix { $0.isLetter }
                s = s.dropFirst(n.count)
            }
            guard n.count >= 3, n.count <= 8 else { return nil }
            return LocalTimeZone.packedAbbreviation(n.utf8)
        }
        func offset() -> Int64? {
            var sign: Int64 = 1
            if s.first == "+" || s.first == "-" {
                if s.first == "-" { sign = -1 }
                s = s.dropFirst()
            }
            var parts: [Int64] = []
            while parts.count < 3 {
                let digits = s.prefix { $0.isASCII && $0.isNumber }
                guard !digits.isEmpty, digits.count <= 3, let v = Int64(digits) else { break }
                parts.append(v)
                s = s.dropFirst(digits.count)
                guard s.first == ":" else { break }
                s = s.dropFirst()
            }
            guard let h = parts.first, h <= 24 else { return nil }
            let west = h * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0)
            // POSIX offsets are west of UTC.
            return -sign * west
        }
        guard let std = name(), let stdOffset = offset() else { return nil }
        standard = (std, stdOffset)
        if s.isEmpty || s.first == "," {
            daylight = nil
            return
        }
        guard let dst = name() else { return nil }
        var dstOffset = stdOffset + 3600
        if let f = s.first, f != "," { guard let o = offset() else { return nil }; dstOffset = o }
        daylight = (dst, dstOffset)
    }
}
