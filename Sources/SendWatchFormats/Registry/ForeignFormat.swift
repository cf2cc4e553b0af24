/// A log that SendWatch recognises but does not read, so that a run without events can say what it was given,
/// and what to give instead, rather than reporting nothing: another mail server's log, or a mail server's
/// journal exported without the time of day.
///
/// Recognised by content:
/// - ``sendmail``: a syslog line of `sendmail` or `sm-mta` (`sm-msp-queue`) whose message is
///   `QUEUEID: from=…` or `QUEUEID: to=…`;
/// - ``exchangeMessageTracking``: the header lines of an Exchange message tracking log
///   (`#Software: Microsoft Exchange Server`, `#Log-type: Message Tracking Log`, or `#Fields: date-time,…`);
/// - ``journalMonotonic``: `journalctl -o short-monotonic` (or `-o short-delta`) lines, `[ 1234.567890] HOST
///   PROGRAM[PID]: …`, whose time counts from the boot;
/// - ``journalCat``: `journalctl -o cat` lines, the message alone: a Postfix message with a queue id
///   (`4A1B2C3D4E: client=…`, `to=<…`, `from=<…`, `message-id=…`, `removed`) or an Exim message line without
///   Exim's time (`1vABCD-000123-AB <= …`; with Exim's time, the default `syslog_timestamp`, the line is a
///   main-log line and is read).
/// - ``systemdJournalFile``: a journal file itself (`/var/log/journal/…/system.journal`, binary, starting with
///   the magic `LPKSHHRH`) instead of `journalctl`'s export of it;
/// - ``journalJSONPretty``: `journalctl -o json-pretty` output, one key a line (`  "__REALTIME_TIMESTAMP" : …`,
///   `"__CURSOR" : …`), whose records a line reader cannot join;
/// - ``binary``: a line with a NUL byte, which no text log holds (an executable, a database, a core dump, a
///   compressed file in a format SendWatch does not recognise).
public enum ForeignFormat: String, Hashable, Sendable, CaseIterable {
    /// Sendmail through syslog.
    case sendmail
    /// Microsoft Exchange message tracking (CSV with `#` header lines).
    case exchangeMessageTracking = "exchange_message_tracking"
    /// `journalctl -o short-monotonic` or `-o short-delta`: times since boot, no date.
    case journalMonotonic = "journal_short_monotonic"
    /// `journalctl -o cat`: no time, host or program.
    case journalCat = "journal_cat"
    /// A systemd journal file (`*.journal`), binary.
    case systemdJournalFile = "systemd_journal_file"
    /// `journalctl -o json-pretty`: one record over several lines.
    case journalJSONPretty = "journal_json_pretty"
    /// Binary data: lines with NUL bytes.
    case binary

    /// The name to show a user.
    public var displayName: String {
        switch self {
        case .sendmail: return "Sendmail"
        case .exchangeMessageTracking: return "Microsoft Exchange message tracking"
        case .journalMonotonic: return "journalctl -o short-monotonic"
        case .journalCat: return "journalctl -o cat"
        case .systemdJournalFile: return "systemd journal file"
        case .journalJSONPretty: return "journalctl -o json-pretty"
        case .binary: return "binary data"
        }
    }

    /// What a run of this log tells the user after the input's name: what the log is and what to give instead.
    public var advice: String {
        let export = "export the journal with journalctl -o short-iso (or -o short-unix, or -o json) instead"
        switch self {
        case .sendmail, .exchangeMessageTracking:
            return
                "looks like a \(displayName) log, which SendWatch does not read (it reads Postfix, Exim and JSON lines)"
        case .journalMonotonic:
            return
                "looks like journalctl -o short-monotonic output, whose times count from the boot and carry no date: "
                + export
        case .journalCat:
            return "looks like journalctl -o cat output, whose lines carry no time, host or program: " + export
        case .journalJSONPretty:
            return
                "looks like journalctl -o json-pretty output, whose records span several lines: export the journal "
                + "with journalctl -o json (one record a line; -o json-seq is read too), -o short-iso or -o short-unix "
                + "instead"
        case .systemdJournalFile:
            return
                "is a systemd journal file, which only journalctl reads: journalctl --file FILE -o short-iso "
                + "| sendwatch replay - (add -u postfix or -t exim to keep the mail server's lines)"
        case .binary:
            return
                "looks like binary data, not a text log (its first lines hold NUL bytes): name the mail log "
                + "itself (plain, or compressed with zstd, gzip, xz, bzip2 or lz4)"
        }
    }

    /// The foreign format of a syslog line with `header`, or `nil`.
    init?(syslog p: UnsafeRawBufferPointer, header: SyslogHeader) {
        let program = header.program
        guard Bytes.equals("sendmail", in: p, program) || Bytes.hasPrefix("sm-", in: p, at: program.lowerBound),
            let colon = Bytes.find(
                UInt8(ascii: ":"), in: p, from: header.messageStart, to: min(p.count, header.messageStart + 32)),
            Bytes.hasPrefix(" from=", in: p, at: colon + 1) || Bytes.hasPrefix(" to=", in: p, at: colon + 1)
        else { return nil }
        self = .sendmail
    }

    /// The foreign format of binary data, from any line: a journal file's first line (its magic) or a line with a
    /// NUL byte; `nil` for a line of text.
    ///
    /// - Complexity: O(line length).
    init?(binary p: UnsafeRawBufferPointer) {
        if Bytes.hasPrefix("LPKSHHRH", in: p, at: 0) {
            self = .systemdJournalFile
            return
        }
        guard Bytes.find(0, in: p, from: 0) != nil else { return nil }
        self = .binary
    }

    /// The foreign format of a line by its own layout (from `start`), or `nil`.
    init?(layoutOf p: UnsafeRawBufferPointer, at start: Int) {
        guard start < p.count else { return nil }
        if p[start] == UInt8(ascii: "[") {
            guard Self.isMonotonicTime(p, at: start) else { return nil }
            self = .journalMonotonic
            return
        }
        if p[start] == UInt8(ascii: "\""),
            Bytes.hasPrefix("\"__REALTIME_TIMESTAMP\"", in: p, at: start)
                || Bytes.hasPrefix("\"__CURSOR\"", in: p, at: start)
        {
            self = .journalJSONPretty
            return
        }
        if Self.isBareMessage(p, at: start) {
            self = .journalCat
            return
        }
        if Self.isExchangeTrackingRow(p, at: start) {
            self = .exchangeMessageTracking
            return
        }
        guard p[start] == UInt8(ascii: "#") else { return nil }
        guard
            Bytes.hasPrefix("#Software: Microsoft Exchange Server", in: p, at: start)
                || Bytes.hasPrefix("#Log-type: Message Tracking Log", in: p, at: start)
                || Bytes.hasPrefix("#Fields: date-time,", in: p, at: start)
        else { return nil }
        self = .exchangeMessageTracking
    }

    /// Event ids of Exchange message tracking rows (the `event-id` field), each between commas.
    private static let exchangeEventIDs: [[UInt8]] = [
        "RECEIVE", "DELIVER", "SEND", "SUBMIT", "FAIL", "DSN", "EXPAND", "RESOLVE", "TRANSFER", "DEFER",
        "HAREDIRECT", "AGENTINFO", "DROP", "NOTIFYMAPI", "POISONMESSAGE", "REDIRECT", "BADMAIL",
    ].map { Array(",\($0),".utf8) }

    /// Whether `p` is a row of an Exchange message tracking log without its `#` header lines (a file cut from
    /// the middle, or exported with `Export-Csv -NoTypeInformation` minus the header): `date-time` in UTC
    /// (`2026-12-01T10:00:00.123Z,`), at least 12 fields, and one of the event ids as a field of its own.
    /// No format SendWatch reads starts with a time followed by a comma.
    /// - Complexity: O(line length × event ids).
    private static func isExchangeTrackingRow(_ p: UnsafeRawBufferPointer, at start: Int) -> Bool {
        // `YYYY-MM-DDTHH:MM:SS`, then an optional fraction, then `Z,`.
        let shape = Array("0000-00-00T00:00:00".utf8)
        guard p.count - start > shape.count + 2 else { return false }
        for (k, c) in shape.enumerated() {
            let b = p[start + k]
            if c == 0x30 ? !(b >= 0x30 && b <= 0x39) : b != c { return false }
        }
        var i = start + shape.count
        if p[i] == UInt8(ascii: ".") {
            i += 1
            while i < p.count && p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
        }
        guard i + 1 < p.count, p[i] == UInt8(ascii: "Z"), p[i + 1] == UInt8(ascii: ",") else { return false }
        var commas = 0
        for k in i..<p.count where p[k] == UInt8(ascii: ",") { commas += 1 }
        guard commas >= 12 else { return false }
        return exchangeEventIDs.contains { id in
            var k = i + 1
            while let comma = Bytes.find(UInt8(ascii: ","), in: p, from: k) {
                if comma + id.count <= p.count, id.indices.allSatisfy({ p[comma + $0] == id[$0] }) { return true }
                k = comma + 1
            }
            return false
        }
    }

    /// Whether `p` has a `journalctl -o short-monotonic` time at `start` followed by a host and a program:
    /// `[SECONDS.FRACTION] ` (seconds padded with spaces; `-o short-delta` adds ` <DELTA>` before the `]`).
    private static func isMonotonicTime(_ p: UnsafeRawBufferPointer, at start: Int) -> Bool {
        let n = p.count
        var i = start + 1
        while i < n && p[i] == 0x20 { i += 1 }
        let digits = i
        while i < n && Timestamps.isDigit(p[i]) { i += 1 }
        guard i > digits, i < n, p[i] == UInt8(ascii: "."),
            let close = Bytes.find(UInt8(ascii: "]"), in: p, from: i, to: min(n, i + 40)),
            close + 1 < n, p[close + 1] == 0x20
        else { return false }
        // `HOST PROGRAM[PID]: ` or `HOST PROGRAM: ` after the time.
        guard let hostEnd = Bytes.find(0x20, in: p, from: close + 2), hostEnd > close + 2,
            let colon = Bytes.find(UInt8(ascii: ":"), in: p, from: hostEnd + 1), colon > hostEnd + 1
        else { return false }
        return Bytes.find(0x20, in: p, from: hostEnd + 1, to: colon) == nil
    }

    /// Whether `p` from `start` is a mail server's message without any syslog header (`journalctl -o cat`):
    /// a Postfix queue id and `: ` followed by a field of a message's life, or an Exim message id followed by an
    /// arrival, delivery or completion.
    private static func isBareMessage(_ p: UnsafeRawBufferPointer, at start: Int) -> Bool {
        if let space = Bytes.find(0x20, in: p, from: start, to: min(p.count, start + 24)),
            EximMessageID.isMessageID(p, start..<space)
        {
            let markers: [StaticString] = ["<= ", "=> ", "-> ", "*> ", "** ", "== ", "Completed"]
            return markers.contains { Bytes.hasPrefix($0, in: p, at: space + 1) }
        }
        guard let (_, rest) = PostfixLine.readQueueID(p, at: start, classes: PostfixLine.queueIDClasses) else {
            return false
        }
        let fields: [StaticString] = ["client=", "message-id=", "from=<", "to=<", "removed", "uid="]
        return fields.contains { Bytes.hasPrefix($0, in: p, at: rest) }
    }
}
