import SendWatchCore

/// Joins the parts of long Exim lines that came through syslog.
///
/// Exim hands syslog at most 870 bytes per call: a longer log line (or one with embedded newlines) is sent
/// as numbered parts, `[1/3] first…`, `[2/3] …`, `[3/3] …last`, each behind its own syslog header. A part
/// tagged `[i\n]` ended at a newline of the original line, so a space joins it to the next part; a part
/// tagged `[i/n]` continues directly. This type keeps the parts of each unfinished line, keyed by the
/// process that wrote them (the bytes from the host to the end of the syslog header, `host exim[pid]: `),
/// and hands back the whole line when its last part arrives; the line is then read with the first part's
/// header and time.
///
/// Bounds and what happens at them (each part given up is counted ``RejectReason/splitLineIncomplete``):
/// - at most ``maxPending`` lines are joined at a time; a new first part when all are in use gives up the
///   line that has waited longest;
/// - a joined line holds at most ``maxLineBytes`` bytes and ``maxParts`` parts; a part beyond either gives up
///   the line and the part;
/// - a part that is not the next one of its process's line (a lost part, or a part without its first) gives
///   up the line and the part; so does a new first part while the process's previous line is unfinished;
/// - at the end of the run, the parts of unfinished lines are given up.
///
/// Memory: at most `maxPending × maxLineBytes` (256 KiB), in buffers that are kept for reuse.
struct EximSplitLines: Sendable {
    /// How many lines are joined at a time (Exim processes writing long lines at the same moment).
    static let maxPending = 8
    /// The longest joined line, in bytes: Exim's own log buffer is 8 KiB; a line over this is given up.
    static let maxLineBytes = 32 * 1024
    /// The most parts of one line (870-byte parts of an 8 KiB log line are 10).
    static let maxParts = 64

    /// One line being joined.
    struct Pending: Hashable, Sendable {
        /// The hash of the process bytes (host to the end of the syslog header).
        var key: UInt64
        /// The first part's line (its syslog header, then the text of each part so far, tags removed).
        var line: [UInt8]
        /// The number of the part expected next.
        var nextPart: Int
        /// The number of parts announced (`n` of `[i/n]`).
        var total: Int
        /// Whether the last part ended at a newline of the original line (`[i\n]`): a space joins the next.
        var endsAtNewline: Bool
    }

    /// Lines being joined, the one waiting longest first.
    var pending: [Pending] = []

    /// What ``accept(_:key:header:tag:into:)`` did with one part.
    enum Result {
        /// Kept; the line is not complete. `givenUp` earlier parts (of other lines) were given up.
        case kept(givenUp: Int)
        /// The last part: the joined line is in the output buffer. `givenUp` as for ``kept(givenUp:)``.
        case joined(givenUp: Int)
        /// The part could not be used; `givenUp` parts including this one are given up.
        case refused(givenUp: Int)
    }

    /// A split tag `[i/n] ` or `[i\n] ` at `start`: part number, count, whether the part ends at a newline, and
    /// the index of the text after the tag; `nil` when there is none.
    static func readTag(_ p: UnsafeRawBufferPointer, at start: Int) -> (
        part: Int, total: Int, newline: Bool, text: Int
    )? {
        guard start + 6 <= p.count, p[start] == UInt8(ascii: "[") else { return nil }
        var i = start + 1
        var part = 0
        while i < p.count && Timestamps.isDigit(p[i]) && part < 10_000 {
            part = part * 10 + Int(p[i] &- 0x30)
            i += 1
        }
        guard i < p.count, i > start + 1, p[i] == UInt8(ascii: "/") || p[i] == UInt8(ascii: "\\") else { return nil }
        let newline = p[i] == UInt8(ascii: "\\")
        i += 1
        let countStart = i
        var total = 0
        while i < p.count && Timestamps.isDigit(p[i]) && total < 10_000 {
            total = total * 10 + Int(p[i] &- 0x30)
            i += 1
        }
        guard i + 1 < p.count, i > countStart, p[i] == UInt8(ascii: "]"), p[i + 1] == 0x20 else { return nil }
        guard total >= 2, part >= 1, part <= total else { return nil }
        return (part, total, newline, i + 2)
    }

    /// Takes one part. `header` is the range of the syslog header in `p` (kept from the first part), `tag`
    /// what ``readTag(_:at:)`` read.
    mutating func accept(
        _ p: UnsafeRawBufferPointer, key: UInt64, header: Range<Int>,
        tag: (part: Int, total: Int, newline: Bool, text: Int), into out: inout [UInt8]
    ) -> Result {
        let text = UnsafeRawBufferPointer(rebasing: p[tag.text..<p.count])
        var givenUp = 0
        let index = pending.firstIndex { $0.key == key }
        if tag.part == 1 {
            if let index { givenUp += drop(index) }
            if pending.count >= Self.maxPending { givenUp += drop(0) }
            guard header.count + text.count <= Self.maxLineBytes, tag.total <= Self.maxParts else {
                return .refused(givenUp: givenUp + 1)
            }
            var line: [UInt8] = []
            line.reserveCapacity(min(Self.maxLineBytes, 1024))
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[header]))
            line.append(contentsOf: text)
            pending.append(Pending(key: key, line: line, nextPart: 2, total: tag.total, endsAtNewline: tag.newline))
            return .kept(givenUp: givenUp)
        }
        guard let index, pending[index].nextPart == tag.part, pending[index].total == tag.total,
            pending[index].line.count + 1 + text.count <= Self.maxLineBytes
        else {
            if let index { givenUp += drop(index) }
            return .refused(givenUp: givenUp + 1)
        }
        if pending[index].endsAtNewline { pending[index].line.append(0x20) }
        pending[index].line.append(contentsOf: text)
        pending[index].endsAtNewline = tag.newline
        pending[index].nextPart += 1
        guard tag.part == tag.total else { return .kept(givenUp: givenUp) }
        let done = pending.remove(at: index)
        out = done.line
        return .joined(givenUp: givenUp)
    }

    /// Gives up every unfinished line; returns the number of parts given up.
    mutating func removeAll() -> Int {
        let parts = pending.reduce(0) { $0 + $1.nextPart - 1 }
        pending.removeAll()
        return parts
    }

    /// Gives up the line at `index`; returns the number of its parts.
    private mutating func drop(_ index: Int) -> Int {
        pending.remove(at: index).nextPart - 1
    }
}
