import SendWatchCore

// Pieces shared by the parsers' checkpoints (`PostfixParser.Checkpoint`, `EximParser.Checkpoint`,
// `JSONLinesParser.Checkpoint`, `FormatDetector.Checkpoint`).
//
// Every saved field is a plain fixed-width integer, an array of them, a `String` or an array of `String`s, so
// that any `Codable` coder (JSON, or a binary coder that copies integer arrays in bulk) can carry it, and a
// decoded value is checked before a parser uses it: a damaged or hostile checkpoint throws
// `DecodingError.dataCorrupted` (`StateCheck.corrupt`, as every checkpoint decoder) instead of trapping later. A
// restored counter is at most `StateCheck.maxCount` (2^56).

/// ``ParseCounters`` as saved in a checkpoint: the totals, and the rejected lines as parallel arrays of
/// reason codes (``RejectReason/rawValue``, sorted) and counts.
///
/// Two layouts, told apart by the checkpoint version of the parser that saved them (the encoding is positional,
/// so a decoder must know which one it reads): since version 2 of the Postfix, Exim and JSON-lines checkpoints
/// (``savesOtherMailServerLines(_:)``), ``otherMailServerLines`` follows the rejected lines; version 1 (written up
/// to 0aee8b2) ends before it, and is read with that count 0. SendWatch writes the current layout only (tests
/// write version 1's, ``CheckpointLayout``). A checkpoint saves its counters under a key of its own
/// (``KeyedEncodingContainer/encode(_:forKey:version:)``, ``KeyedDecodingContainer/decode(_:forKey:version:)``).
struct SavedCounters: Hashable, Sendable {
    var lines: Int64
    var events: Int64
    var ignored: Int64
    /// Always written; absent (read as 0) in checkpoints written before it was counted.
    var otherPrograms: Int64?
    var incompleteMessages: Int64
    var evictedMessages: Int64
    var nonDeliveryNotices: Int64
    var rejectedCodes: [String]
    var rejectedCounts: [Int64]
    /// ``ParseCounters/otherMailServerLines``; 0 when read from a layout without it.
    var otherMailServerLines: Int64

    init(_ c: ParseCounters) {
        lines = Int64(c.lines)
        events = Int64(c.events)
        ignored = Int64(c.ignored)
        otherPrograms = Int64(c.otherPrograms)
        incompleteMessages = Int64(c.incompleteMessages)
        evictedMessages = Int64(c.evictedMessages)
        nonDeliveryNotices = Int64(c.nonDeliveryNotices)
        let sorted = c.rejected.sorted { $0.key.rawValue < $1.key.rawValue }
        rejectedCodes = sorted.map(\.key.rawValue)
        rejectedCounts = sorted.map { Int64($0.value) }
        otherMailServerLines = Int64(c.otherMailServerLines)
    }

    private enum CodingKeys: String, CodingKey {
        case lines, events, ignored, otherPrograms, incompleteMessages, evictedMessages, nonDeliveryNotices,
            rejectedCodes, rejectedCounts, otherMailServerLines
    }

    /// Whether checkpoint `version` of the Postfix, Exim and JSON-lines parsers saves ``otherMailServerLines``:
    /// from version 2 on.
    static func savesOtherMailServerLines(_ version: CheckpointVersion) -> Bool { version.number >= 2 }

    /// Writes the layout of checkpoint `version`, in this order: the positional encoding depends on it.
    func encode(to encoder: any Encoder, version: CheckpointVersion) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lines, forKey: .lines)
        try c.encode(events, forKey: .events)
        try c.encode(ignored, forKey: .ignored)
        try c.encodeIfPresent(otherPrograms, forKey: .otherPrograms)
        try c.encode(incompleteMessages, forKey: .incompleteMessages)
        try c.encode(evictedMessages, forKey: .evictedMessages)
        try c.encode(nonDeliveryNotices, forKey: .nonDeliveryNotices)
        try c.encode(rejectedCodes, forKey: .rejectedCodes)
        try c.encode(rejectedCounts, forKey: .rejectedCounts)
        if Self.savesOtherMailServerLines(version) {
            try c.encode(otherMailServerLines, forKey: .otherMailServerLines)
        }
    }

    /// Reads the layout of checkpoint `version`; without ``otherMailServerLines`` (version 1), that count is 0.
    init(from decoder: any Decoder, version: CheckpointVersion) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lines = try c.decode(Int64.self, forKey: .lines)
        events = try c.decode(Int64.self, forKey: .events)
        ignored = try c.decode(Int64.self, forKey: .ignored)
        otherPrograms = try c.decodeIfPresent(Int64.self, forKey: .otherPrograms) ?? 0
        incompleteMessages = try c.decode(Int64.self, forKey: .incompleteMessages)
        evictedMessages = try c.decode(Int64.self, forKey: .evictedMessages)
        nonDeliveryNotices = try c.decode(Int64.self, forKey: .nonDeliveryNotices)
        rejectedCodes = try c.decode([String].self, forKey: .rejectedCodes)
        rejectedCounts = try c.decode([Int64].self, forKey: .rejectedCounts)
        otherMailServerLines =
            Self.savesOtherMailServerLines(version) ? try c.decode(Int64.self, forKey: .otherMailServerLines) : 0
        let path = decoder.codingPath
        let totals = [lines, events, ignored, otherPrograms ?? 0, otherMailServerLines, incompleteMessages]
        for v in totals + [evictedMessages, nonDeliveryNotices] + rejectedCounts {
            guard StateCheck.isCount(v) else {
                throw StateCheck.corrupt("a parse counter is negative or implausibly large (\(v))", path)
            }
        }
        guard rejectedCodes.count == rejectedCounts.count else {
            throw StateCheck.corrupt(
                "rejectedCodes has \(rejectedCodes.count) entries but rejectedCounts \(rejectedCounts.count)", path)
        }
        var seen = Set<RejectReason>()
        for code in rejectedCodes {
            guard let reason = RejectReason(rawValue: code) else {
                throw StateCheck.corrupt("unknown reject reason '\(code.prefix(64))'", path)
            }
            guard seen.insert(reason).inserted else {
                throw StateCheck.corrupt("reject reason '\(code)' appears twice", path)
            }
        }
    }

    /// The counters (the codes were checked when decoding; a value made by `init(_:)` has only known codes).
    var counters: ParseCounters {
        var c = ParseCounters()
        c.lines = Int(lines)
        c.events = Int(events)
        c.ignored = Int(ignored)
        c.otherPrograms = Int(otherPrograms ?? 0)
        c.otherMailServerLines = Int(otherMailServerLines)
        c.incompleteMessages = Int(incompleteMessages)
        c.evictedMessages = Int(evictedMessages)
        c.nonDeliveryNotices = Int(nonDeliveryNotices)
        for (code, n) in zip(rejectedCodes, rejectedCounts) {
            if let reason = RejectReason(rawValue: code) { c.rejected[reason] = Int(n) }
        }
        return c
    }
}

extension KeyedEncodingContainer {
    /// Writes `counters` under `key` in the layout of checkpoint `version` (``SavedCounters``).
    mutating func encode(_ counters: SavedCounters, forKey key: Key, version: CheckpointVersion) throws {
        try counters.encode(to: superEncoder(forKey: key), version: version)
    }
}

extension KeyedDecodingContainer {
    /// Reads the counters under `key` in the layout of checkpoint `version` (``SavedCounters``).
    func decode(_ type: SavedCounters.Type, forKey key: Key, version: CheckpointVersion) throws -> SavedCounters {
        try SavedCounters(from: superDecoder(forKey: key), version: version)
    }
}

/// The keys of the checkpoints of the parsers that join a message's lines (Postfix, Exim): the parts both save
/// first, in this order (``JoiningParserState``), then Exim's split lines.
enum JoiningCheckpointKey: String, CodingKey { case counters, years, messages, splitLines }

/// What every joining parser's checkpoint (Postfix, Exim) saves first: its counters, the year state of year-less
/// timestamps and the open messages in the format's ``SavedMessageTable``. Written into the checkpoint's own
/// container (``JoiningCheckpointKey``), not nested, in that order: the counters in the layout of the checkpoint's
/// version (``SavedCounters``).
struct JoiningParserState<Coding: SavedMessageCoding>: Hashable, Sendable {
    var counters: SavedCounters
    var years: SavedYears
    var messages: SavedMessageTable<Coding>

    /// The state of a parser with these counters, year state and saved messages.
    init(_ counters: ParseCounters, _ years: SavedYears, _ messages: SavedMessageTable<Coding>) {
        self.counters = SavedCounters(counters)
        self.years = years
        self.messages = messages
    }

    /// Reads the parts in the layout of checkpoint `layout`, checked as each part's decoding checks it.
    init(from c: KeyedDecodingContainer<JoiningCheckpointKey>, layout: CheckpointVersion) throws {
        counters = try c.decode(SavedCounters.self, forKey: .counters, version: layout)
        years = try c.decode(SavedYears.self, forKey: .years)
        messages = try c.decode(SavedMessageTable<Coding>.self, forKey: .messages)
    }

    /// Writes the parts in the layout of checkpoint `layout`, in the order ``init(from:layout:)`` reads them.
    func encode(to c: inout KeyedEncodingContainer<JoiningCheckpointKey>, layout: CheckpointVersion) throws {
        try c.encode(counters, forKey: .counters, version: layout)
        try c.encode(years, forKey: .years)
        try c.encode(messages, forKey: .messages)
    }
}

/// A checkpoint version that the parser of a ``VersionedCheckpoint`` reads (one of
/// ``CheckpointingParser/readCheckpointVersions``): made only once ``VersionedCheckpoint/init(from:version:)``
/// or ``VersionedCheckpoint/encode(to:version:)`` has checked the number, so a checkpoint's layout code never
/// sees a version its parser does not know.
public struct CheckpointVersion: Hashable, Sendable {
    /// The version number.
    public let number: Int

    init(checked number: Int) { self.number = number }
}

/// A parser checkpoint with more than one layout, one per checkpoint version its parser reads
/// (``CheckpointingParser/readCheckpointVersions``): its parser's
/// ``CheckpointingParser/decodeCheckpoint(from:version:)`` reads the layout of the version saved beside it.
///
/// A checkpoint says how to read and write the layout of a version (``init(from:layout:)``,
/// ``encode(to:layout:)``); this protocol checks the version against its ``Parser``'s, and makes the current
/// version's layout its `Codable` one.
///
/// A versioned checkpoint belongs to exactly one parser, its ``Parser`` (whose `Checkpoint` is `Self`). Another
/// parser that reused it as its own `Checkpoint` would not read its older layouts: that parser gets the default
/// ``CheckpointingParser/decodeCheckpoint(from:version:)``, which accepts its own checkpoint version only and reads
/// the checkpoint's current layout.
public protocol VersionedCheckpoint: Codable, Hashable, Sendable {
    /// The parser whose state this is: its ``CheckpointingParser/checkpointVersion`` is the layout written, its
    /// ``CheckpointingParser/readCheckpointVersions`` the layouts read.
    associatedtype Parser: CheckpointingParser where Parser.Checkpoint == Self
    /// Reads the layout of checkpoint `layout`, checking the state as for the current one.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the state does not decode as that layout.
    init(from decoder: any Decoder, layout: CheckpointVersion) throws
    /// Writes the layout of checkpoint `layout`, fields in the order ``init(from:layout:)`` reads them.
    func encode(to encoder: any Encoder, layout: CheckpointVersion) throws
}

extension VersionedCheckpoint {
    /// Reads the current layout (checkpoint version ``CheckpointingParser/checkpointVersion`` of ``Parser``).
    public init(from decoder: any Decoder) throws {
        try self.init(from: decoder, layout: CheckpointVersion(checked: Parser.checkpointVersion))
    }

    /// Writes the current layout (checkpoint version ``CheckpointingParser/checkpointVersion`` of ``Parser``).
    public func encode(to encoder: any Encoder) throws {
        try encode(to: encoder, layout: CheckpointVersion(checked: Parser.checkpointVersion))
    }

    /// Reads the layout of checkpoint `version` (one its parser reads), checked as `init(from:)` checks the
    /// current one.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when `version` is not one of ``Parser``'s
    ///   ``CheckpointingParser/readCheckpointVersions`` or the state does not decode as that layout.
    public init(from decoder: any Decoder, version: Int) throws {
        guard Parser.readCheckpointVersions.contains(version) else { throw Parser.unreadVersion(version, decoder) }
        try self.init(from: decoder, layout: CheckpointVersion(checked: version))
    }

    /// Writes the layout of checkpoint `version` (one its parser reads). SendWatch writes the current version
    /// only (`encode(to:)`); tests write older ones (``CheckpointLayout``).
    ///
    /// - Throws: `EncodingError.invalidValue` when `version` is not one of ``Parser``'s
    ///   ``CheckpointingParser/readCheckpointVersions``.
    public func encode(to encoder: any Encoder, version: Int) throws {
        guard Parser.readCheckpointVersions.contains(version) else {
            throw Parser.unwrittenVersion(version, self, encoder)
        }
        try encode(to: encoder, layout: CheckpointVersion(checked: version))
    }
}

/// A checkpoint written in the layout of `version`. SendWatch writes the current version only (the checkpoint's own
/// `encode(to:)`); an older layout is written by tests and the checkpoint fuzz target's seeds, to check that it is
/// still read.
public struct CheckpointLayout<Checkpoint: VersionedCheckpoint>: Encodable {
    /// The state written.
    public var checkpoint: Checkpoint
    /// The checkpoint version whose layout is written (one the parser reads).
    public var version: Int

    /// `checkpoint` to be written in the layout of `version`.
    public init(checkpoint: Checkpoint, version: Int) {
        self.checkpoint = checkpoint
        self.version = version
    }

    /// Writes ``checkpoint`` in the layout of ``version`` (``VersionedCheckpoint/encode(to:version:)``).
    ///
    /// - Throws: `EncodingError.invalidValue` when ``version`` is not one the parser reads, or what encoding the
    ///   state throws.
    public func encode(to encoder: any Encoder) throws { try checkpoint.encode(to: encoder, version: version) }
}

/// The parsers' states as `tail` state format 10 (and `ship` state format 1) wrote them, for tests only: one
/// optional state per format, by position, in the order Postfix, Exim, JSON lines, each in checkpoint version 1's
/// layout (``SavedParsersLayout/positionalPostfixEximJSONLines`` reads them).
struct VersionOnePositionalParsers: Encodable {
    var postfix: PostfixParser.Checkpoint?
    var exim: EximParser.Checkpoint?
    var jsonl: JSONLinesParser.Checkpoint?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: FormatCodingKey.self)
        // Safe to force unwrap: this initialiser never fails.
        let key = { (name: String) in FormatCodingKey(stringValue: name)! }
        try c.encodeIfPresent(postfix.map { CheckpointLayout(checkpoint: $0, version: 1) }, forKey: key("postfix"))
        try c.encodeIfPresent(exim.map { CheckpointLayout(checkpoint: $0, version: 1) }, forKey: key("exim"))
        try c.encodeIfPresent(jsonl.map { CheckpointLayout(checkpoint: $0, version: 1) }, forKey: key("jsonl"))
    }
}

/// The state of a ``YearResolver`` as saved in a checkpoint: the hint of the current input and, once the first
/// year-less timestamp was read, the current year and month.
struct SavedYears: Codable, Hashable, Sendable {
    /// 0 = ``YearHint/none``, 1 = ``YearHint/year(_:)``, 2 = ``YearHint/modified(_:)``.
    var hintKind: UInt8
    /// The hint's year, or its modification time in microseconds; 0 for no hint.
    var hintValue: Int64
    /// The current year; meaningful only when ``month`` is not 0.
    var year: Int64
    /// The month of the last timestamp that set the year (1–12), or 0 before the first one.
    var month: Int64

    /// Years a restored state may hold: wide enough for any hint a user can give, narrow enough that the
    /// resolver's `year ± 1` and the calendar arithmetic cannot overflow.
    static let years: ClosedRange<Int64> = -1_000_000...1_000_000
    /// Modification times a restored hint may hold (about ±146,000 years in microseconds).
    static let modifiedMicroseconds: ClosedRange<Int64> = -StateCheck.maxTime...StateCheck.maxTime

    init(hintKind: UInt8, hintValue: Int64, year: Int64, month: Int64) {
        self.hintKind = hintKind
        self.hintValue = hintValue
        self.year = year
        self.month = month
    }

    private enum CodingKeys: String, CodingKey { case hintKind, hintValue, year, month }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hintKind = try c.decode(UInt8.self, forKey: .hintKind)
        hintValue = try c.decode(Int64.self, forKey: .hintValue)
        year = try c.decode(Int64.self, forKey: .year)
        month = try c.decode(Int64.self, forKey: .month)
        let path = decoder.codingPath
        switch hintKind {
        case 0:
            guard month == 0 else { throw StateCheck.corrupt("a year was resolved without a year hint", path) }
        case 1:
            guard Self.years.contains(hintValue) else {
                throw StateCheck.corrupt("year hint \(hintValue) out of range", path)
            }
        case 2:
            guard Self.modifiedMicroseconds.contains(hintValue) else {
                throw StateCheck.corrupt("modification time hint \(hintValue) out of range", path)
            }
        default:
            throw StateCheck.corrupt("unknown year hint kind \(hintKind)", path)
        }
        guard (0...12).contains(month) else { throw StateCheck.corrupt("month \(month) out of range", path) }
        guard Self.years.contains(year) else { throw StateCheck.corrupt("year \(year) out of range", path) }
    }
}

/// Builds the shared string table of a checkpoint: each distinct string is stored once and referred to by
/// its index (`-1` for `nil`), so values that many messages share (senders, accounts, subjects) cost one copy.
///
/// Indices are given in first-use order, so equal parser states give equal tables.
struct SavedStringsBuilder {
    private(set) var strings: [String] = []
    private var indexOf: [String: Int32] = [:]

    /// The index of `s` in the table (added when new), or -1 for `nil`.
    mutating func index(_ s: String?) -> Int32 {
        guard let s else { return -1 }
        if let i = indexOf[s] { return i }
        let i = Int32(truncatingIfNeeded: strings.count)
        strings.append(s)
        indexOf[s] = i
        return i
    }
}

/// Checks for decoded checkpoint arrays.
enum SavedChecks {
    /// Throws unless `array` has `count` elements.
    static func length<T>(_ array: [T], _ count: Int, _ name: String, _ path: [any CodingKey]) throws {
        guard array.count == count else {
            throw StateCheck.corrupt("\(name) has \(array.count) entries, expected \(count)", path)
        }
    }

    /// Throws unless every index is -1 (`nil`) or a valid index into a table of `tableCount` strings (or, with
    /// `allowNil` false, unless every index is valid).
    static func stringIndices(
        _ indices: [Int32], tableCount: Int, _ name: String, allowNil: Bool = true, _ path: [any CodingKey]
    ) throws {
        for i in indices {
            guard (allowNil && i == -1) || (i >= 0 && Int(i) < tableCount) else {
                throw StateCheck.corrupt(
                    "\(name) refers to string \(i), but the table has \(tableCount) strings", path)
            }
        }
    }

    /// Throws unless the per-message counts are non-negative (at most `maxEach`) and add up to `total`.
    static func counts(_ counts: [Int32], maxEach: Int, total: Int, _ name: String, _ path: [any CodingKey]) throws {
        var sum = 0
        for n in counts {
            guard n >= 0, Int(n) <= maxEach else { throw StateCheck.corrupt("\(name) has a count of \(n)", path) }
            sum += Int(n)
        }
        guard sum == total else {
            throw StateCheck.corrupt("\(name) add up to \(sum), but \(total) values are saved", path)
        }
    }

    /// Throws unless each column (a field's string indices, one per message) has `count` entries that refer into
    /// a table of `tableCount` strings (or are -1, `nil`).
    static func stringColumns(
        _ columns: KeyValuePairs<String, [Int32]>, count: Int, tableCount: Int, _ path: [any CodingKey]
    ) throws {
        for (name, indices) in columns {
            try length(indices, count, name, path)
            try stringIndices(indices, tableCount: tableCount, name, path)
        }
    }

    /// Throws unless every saved id has the shape `isValid` accepts (a `kind`, e.g. "Postfix queue id").
    static func ids(
        _ ids: [String], _ kind: String, _ path: [any CodingKey],
        isValid: (UnsafeRawBufferPointer, Range<Int>) -> Bool
    ) throws {
        for id in ids {
            let valid = Array(id.utf8).withUnsafeBytes { isValid($0, 0..<$0.count) }
            guard valid else { throw StateCheck.corrupt("'\(id.prefix(64))' is not \(kind)", path) }
        }
    }

    /// The string at `index` of `table`, or `nil` for -1 (indices were checked when decoding).
    static func string(_ table: [String], _ index: Int32) -> String? {
        index >= 0 && Int(index) < table.count ? table[Int(index)] : nil
    }
}

/// Reads the per-message parts of a list saved flat (the recipient hashes of all messages, message after
/// message, with one count per message), in message order. The counts were checked when decoding
/// (``SavedChecks/counts(_:maxEach:total:_:_:)``); a part never reaches past the list's end.
struct SavedListCursor {
    private var next = 0

    /// The next message's `count` values of `list`.
    mutating func take<T>(_ count: Int32, of list: [T]) -> ArraySlice<T> {
        let end = min(list.count, next + Int(max(0, count)))
        defer { next = end }
        return list[next..<end]
    }
}

extension YearResolver {
    /// The resolver's state for a checkpoint.
    var saved: SavedYears {
        let (kind, value): (UInt8, Int64)
        switch hint {
        case .none: (kind, value) = (0, 0)
        case .year(let y): (kind, value) = (1, Int64(y))
        case .modified(let t): (kind, value) = (2, t.microseconds)
        }
        return SavedYears(
            hintKind: kind, hintValue: value, year: Int64(year ?? 0), month: Int64(year == nil ? 0 : lastMonth))
    }

    /// A resolver in a saved state (checked when decoding).
    init(restoring s: SavedYears) {
        switch s.hintKind {
        case 1: self.init(hint: .year(Int(s.hintValue)))
        case 2: self.init(hint: .modified(EventTime(microseconds: s.hintValue)))
        default: self.init(hint: .none)
        }
        if s.month != 0 {
            year = Int(s.year)
            lastMonth = Int(s.month)
        }
    }
}
