package import SendWatchCore

/// Unwraps a mail server's log line carried inside a JSON object: the systemd journal's export
/// (`journalctl -o json`) and Docker's `json-file` logging driver.
///
/// Recognised by content, never by a flag (the first matching rule wins):
/// - **journal**: an object with `__REALTIME_TIMESTAMP` (microseconds since the epoch, a string or a number)
///   and a string `MESSAGE`. The line handed on is the classic syslog shape
///   `YYYY-MM-DDTHH:MM:SS.ffffffZ HOST IDENT[PID]: MESSAGE`, with HOST `_HOSTNAME` (`-` when absent), IDENT
///   `SYSLOG_IDENTIFIER` (else `_COMM`) and PID `SYSLOG_PID` (else `_PID`; left out when neither is there).
/// - **Docker**: an object with a string `log` and a `stream` key. The line handed on is `log` with its
///   trailing `\n` (or `\r\n`) removed: the syslog or Exim main-log line the container wrote.
///
/// Anything else (SendWatch's own JSON-lines records among them) is not an envelope and is left to the
/// caller. A journal `MESSAGE` may be a string or an array of byte values (journald writes the array when the
/// message is not valid UTF-8, `"MESSAGE":[83,117,98,...]`): the bytes are handed on as they are, and the
/// parser reads them as it reads raw 8-bit syslog text. A record whose `MESSAGE` is anything else (an array
/// element that is not an integer from 0 to 255) or without an identifier is `malformed`; a Docker `log` that
/// is itself JSON is not unwrapped again (one level only, so nesting cannot cost more than one pass).
///
/// `journalctl -o json-seq` (RFC 7464) writes each record after an ASCII RS byte (0x1E): a record so prefixed
/// is read as the same record without it. `-o json-pretty` spreads a record over several lines, which a line
/// reader cannot join: it is recognised (``ForeignFormat/journalJSONPretty``) and named in the run's warning.
///
/// Memory: the scanner's fixed state for seven keys and the caller's output buffer, which keeps its capacity
/// (bounded by the longest line, `input.max_line_bytes`).
///
/// - Complexity: one validating pass over the line plus one copy of the kept values.
package struct JSONEnvelope: Sendable {
    /// What ``unwrap(_:into:)`` found.
    package enum Outcome: Hashable, Sendable {
        /// The inner line is in the output buffer.
        case unwrapped
        /// Not a journal or Docker record: the line is to be read as it is.
        case notEnvelope
        /// A journal or Docker record that carries no usable line.
        case rejected(RejectReason)
    }

    private static let keys = [
        "__REALTIME_TIMESTAMP", "_HOSTNAME", "SYSLOG_IDENTIFIER", "_COMM", "SYSLOG_PID", "_PID", "MESSAGE", "log",
        "stream",
    ]
    private var scanner = JSONScanner(paths: keys.map { [$0] }, maxDepth: 8, maxElementsPerArray: 0)

    package init() {}

    /// Whether `p` may be an envelope at all: its first byte is `{`. A cheap test for the per-line path.
    @inline(__always)
    package static func mayWrap(_ p: UnsafeRawBufferPointer) -> Bool {
        p.count > 1 && (p[0] == UInt8(ascii: "{") || (p[0] == recordSeparator && p[1] == UInt8(ascii: "{")))
    }

    /// The byte before each record of `journalctl -o json-seq` (RFC 7464's RS).
    static let recordSeparator: UInt8 = 0x1E

    /// Writes the line inside `p` to `out` (replacing its contents) when `p` is a journal or Docker record.
    package mutating func unwrap(_ p: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Outcome {
        if p.count > 1 && p[0] == Self.recordSeparator {
            return unwrap(UnsafeRawBufferPointer(rebasing: p[1...]), into: &out)
        }
        guard Self.mayWrap(p), scanner.scan(p) == .object else { return .notEnvelope }
        out.removeAll(keepingCapacity: true)
        if let time = scanner.value(ofPath: 0), let message = scanner.value(ofPath: 6) {
            return journal(p, time: time, message: message, into: &out)
        }
        if let log = scanner.value(ofPath: 7), log.kind == .string, scanner.value(ofPath: 8) != nil {
            JSONScanner.appendUnescaped(p, log.range, to: &out)
            if out.last == 0x0A { out.removeLast() }
            if out.last == 0x0D { out.removeLast() }
            return .unwrapped
        }
        return .notEnvelope
    }

    private func journal(
        _ p: UnsafeRawBufferPointer, time: JSONScanner.Value, message: JSONScanner.Value, into out: inout [UInt8]
    ) -> Outcome {
        guard message.kind == .string || message.kind == .array, time.kind == .string || time.kind == .number,
            let micros = Self.decimal(p, time.range),
            let identifier = scanner.value(ofPath: 2) ?? scanner.value(ofPath: 3), identifier.kind == .string,
            !identifier.range.isEmpty
        else { return .rejected(.malformed) }
        guard Self.appendTime(micros, to: &out) else { return .rejected(.timestampOutOfRange) }
        out.append(0x20)
        if let host = scanner.value(ofPath: 1), host.kind == .string, !host.range.isEmpty {
            JSONScanner.appendUnescaped(p, host.range, to: &out)
        } else {
            out.append(UInt8(ascii: "-"))
        }
        out.append(0x20)
        JSONScanner.appendUnescaped(p, identifier.range, to: &out)
        if let pid = scanner.value(ofPath: 4) ?? scanner.value(ofPath: 5), pid.kind == .string || pid.kind == .number {
            out.append(UInt8(ascii: "["))
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[pid.range]))
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: ":"))
        out.append(0x20)
        if message.kind == .array {
            guard Self.appendByteArray(p, message.range, to: &out) else { return .rejected(.malformed) }
        } else {
            JSONScanner.appendUnescaped(p, message.range, to: &out)
        }
        return .unwrapped
    }

    /// Appends the bytes of a JSON array of integers 0 to 255 (`[72, 105]`, validated JSON) at `r`; false for
    /// any other element.
    private static func appendByteArray(_ p: UnsafeRawBufferPointer, _ r: Range<Int>, to out: inout [UInt8]) -> Bool {
        guard let first = r.first, p[first] == UInt8(ascii: "[") else { return false }
        // Where the scan is: after `[` or `,` (a value must come; `]` only right after `[`), inside a number, or
        // after a number and blanks (only `,` or `]` may come).
        enum Place { case value, number, after }
        var place = Place.value
        var value = 0
        var any = false
        for i in (first + 1)..<r.upperBound {
            let b = p[i]
            if Timestamps.isDigit(b) {
                switch place {
                case .value: value = Int(b &- 0x30)
                case .number: value = value * 10 + Int(b &- 0x30)
                case .after: return false  // `[1 2]`
                }
                if value > 255 { return false }
                place = .number
            } else if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                if place == .number { place = .after }
            } else if b == UInt8(ascii: ",") || b == UInt8(ascii: "]") {
                if place == .value {
                    // `[1,,2]`, `[1,]`; only `[]` may close right after its `[`.
                    guard b == UInt8(ascii: "]"), !any else { return false }
                    return true
                }
                out.append(UInt8(value))
                any = true
                if b == UInt8(ascii: "]") { return true }
                place = .value
            } else {
                return false  // a string, a nested value, a sign or a fraction
            }
        }
        return false  // no closing `]`
    }

    /// The value of 1 to 19 decimal digits, or `nil`.
    private static func decimal(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Int64? {
        guard !r.isEmpty, r.count <= 18 else { return nil }
        var v: Int64 = 0
        for i in r {
            guard Timestamps.isDigit(p[i]) else { return nil }
            v = v * 10 + Int64(p[i] &- 0x30)
        }
        return v
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ` for `micros` since the epoch; false outside
    /// ``Timestamps/plausibleYears``.
    private static func appendTime(_ micros: Int64, to out: inout [UInt8]) -> Bool {
        let seconds = micros / 1_000_000
        let days = seconds / 86_400
        let date = CivilDate(daysSinceEpoch: days)
        guard Timestamps.plausibleYears.contains(date.year) else { return false }
        let sod = Int(seconds - days * 86_400)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(0x30 + v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        digits(date.year, 4)
        out.append(UInt8(ascii: "-"))
        digits(date.month, 2)
        out.append(UInt8(ascii: "-"))
        digits(date.day, 2)
        out.append(UInt8(ascii: "T"))
        digits(sod / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(sod / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(sod % 60, 2)
        out.append(UInt8(ascii: "."))
        digits(Int(micros % 1_000_000), 6)
        out.append(UInt8(ascii: "Z"))
        return true
    }
}

/// A parser whose lines may come wrapped in a journal or Docker JSON record: ``classifyEnveloped(_:into:)``
/// unwraps the record and classifies the line inside, written once for every such parser.
///
/// Generic, not an existential: each parser's call is specialised (direct calls, no closure, no boxing), so the
/// per-line path pays nothing for sharing the code.
protocol EnvelopedLineParser {
    /// The reader of journal and Docker records.
    var envelope: JSONEnvelope { get set }
    /// The unwrapped line of the current record; keeps its capacity (bounded by `input.max_line_bytes`).
    var envelopeLine: [UInt8] { get set }
    /// Classifies one line as the MTA wrote it (unwrapped already).
    mutating func classify(_ p: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome
}

extension EnvelopedLineParser {
    /// A journal or Docker JSON record: the line inside it; any other line as it is.
    ///
    /// - Complexity: one pass of ``JSONEnvelope/unwrap(_:into:)`` over a line that starts with `{`, then the
    ///   parser's own classification; no allocation once ``envelopeLine`` has grown to the longest line.
    @inline(__always)
    mutating func classifyEnveloped(_ p: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome {
        guard JSONEnvelope.mayWrap(p) else { return classify(p, into: &events) }
        // Swapped out so that the line can be read while `self` changes; swapped back (capacity kept) after.
        var inner: [UInt8] = []
        swap(&inner, &envelopeLine)
        defer { swap(&inner, &envelopeLine) }
        switch envelope.unwrap(p, into: &inner) {
        case .notEnvelope: return classify(p, into: &events)
        case .rejected(let reason): return .rejected(reason)
        case .unwrapped: return inner.withUnsafeBytes { classify($0, into: &events) }
        }
    }
}
