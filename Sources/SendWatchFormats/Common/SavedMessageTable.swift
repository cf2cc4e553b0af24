import SendWatchCore

/// How one format's open messages are saved in a ``SavedMessageTable``: which columns a message fills and how a
/// message is made again from them.
///
/// Every format's open message has the same saved shape: an id (text), a 64-bit scope that makes the id unique
/// (the host, and for Postfix the instance), the time of its latest line, eight bits of flags, a few optional
/// strings (headers, logins, addresses) and the hashes of the recipients it already tried. The table holds that
/// shape and its checks once; a format says only what its fields are called and mean.
protocol SavedMessageCoding {
    /// The slot type of the format's ``RecencyTable``.
    associatedtype Message: RecencySlot

    /// The names of the id, scope, time and flags columns, as coding keys and in the checks' messages.
    static var columnNames: (ids: String, scopes: String, times: String, flags: String) { get }
    /// The string fields, in saved order: one column of string indices each, under the field's name.
    static var stringFields: [SavedStringField<Message>] { get }
    /// How the checks name an id (`a Postfix queue id`).
    static var idKind: String { get }
    /// The most recipient hashes one message remembers.
    static var maxRecipients: Int { get }

    /// Whether `bytes[range]` has the shape of an id.
    static func isValidID(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool
    /// Why `flags` cannot be restored (`unknown message flags 128`), or `nil` when it can.
    static func flagsProblem(_ flags: UInt8) -> String?

    /// `message`'s id, scope, time and flags.
    static func columns(of message: Message) -> (id: String, scope: UInt64, time: Int64, flags: UInt8)
    /// Appends `message`'s remembered recipient hashes to `list`, in an order that gives equal checkpoints for
    /// equal messages.
    static func appendRecipients(of message: Message, to list: inout [UInt64])
    /// The message `saved` describes but for its ``stringFields``, which the table sets afterwards (its values
    /// were checked when decoding).
    static func message(_ saved: SavedMessage) -> Message
}

/// One string field of a saved message (``SavedMessageCoding/stringFields``): its column's name and where the
/// message keeps it, so that a format lists each field once, for saving, checking and restoring.
struct SavedStringField<Message>: Sendable {
    /// The column's coding key, also in the checks' messages.
    let name: String
    /// Whether the field is never `nil`: its saved string indices are never -1.
    let isRequired: Bool
    let get: @Sendable (Message) -> String?
    let set: @Sendable (inout Message, String?) -> Void

    /// An optional field, kept at `path`.
    init(_ name: String, _ path: any WritableKeyPath<Message, String?> & Sendable) {
        self.name = name
        isRequired = false
        get = { $0[keyPath: path] }
        set = { $0[keyPath: path] = $1 }
    }

    /// A field that is never `nil`, kept at `path` (the checks refuse a saved `nil`; it would be restored as `""`).
    init(_ name: String, required path: any WritableKeyPath<Message, String> & Sendable) {
        self.name = name
        isRequired = true
        get = { $0[keyPath: path] }
        set = { $0[keyPath: path] = $1 ?? "" }
    }
}

/// One message of a ``SavedMessageTable`` as its format rebuilds it.
struct SavedMessage {
    var id: String
    var scope: UInt64
    var time: Int64
    var flags: UInt8
    /// The remembered recipient hashes.
    var recipients: ArraySlice<UInt64>
    private let strings: [String]
    private let fields: [[Int32]]
    private let row: Int

    init(
        id: String, scope: UInt64, time: Int64, flags: UInt8, recipients: ArraySlice<UInt64>, strings: [String],
        fields: [[Int32]], row: Int
    ) {
        self.id = id
        self.scope = scope
        self.time = time
        self.flags = flags
        self.recipients = recipients
        self.strings = strings
        self.fields = fields
        self.row = row
    }

    /// The string field at `index` of the format's ``SavedMessageCoding/stringFields``.
    func field(_ index: Int) -> String? { SavedChecks.string(strings, fields[index][row]) }
}

/// The open messages of a parser's ``RecencyTable`` as saved in a checkpoint: one entry per message, least
/// recently touched first, as parallel arrays (``SavedMessageCoding`` says what a format's columns hold).
///
/// The recency list is saved as this order rather than as slot links, and the hash index is not saved at all:
/// restoring inserts the messages oldest first, which rebuilds the same touch order, a compact slot array and
/// a fresh index. So no saved number is ever used as an index into the table, and a damaged file cannot make
/// the table inconsistent.
///
/// Strings are saved once in ``strings`` and referred to by index (-1 = `nil`). Recipient hashes are fixed
/// hashes of the address (not seeded per process), so they stay valid across restarts.
///
/// Encoded in the order ids, scopes, times, flags, strings, one column per string field, recipient counts and
/// recipients, each under its format's name: the layout the formats' own tables had (checkpoint version 1).
/// Memory: about the size of the distinct strings plus 29 bytes per message, 4 per field and 8 per recipient.
struct SavedMessageTable<Coding: SavedMessageCoding>: Codable, Hashable, Sendable {
    /// The ids as text, oldest first.
    var ids: [String] = []
    /// Each message's scope (host, instance).
    var scopes: [UInt64] = []
    /// The time of each message's latest line, in the format's unit.
    var times: [Int64] = []
    /// Each message's flags (the format's bits).
    var flags: [UInt8] = []
    /// The distinct strings the fields refer to.
    var strings: [String] = []
    /// One column per ``SavedMessageCoding/stringFields`` entry: each message's string index (-1 = `nil`).
    var fields: [[Int32]]
    /// How many recipient hashes each message remembers.
    var attemptedCounts: [Int32] = []
    /// The remembered recipient hashes of all messages, message after message.
    var attempted: [UInt64] = []

    /// The number of saved messages.
    var count: Int { ids.count }

    /// The messages of `table`, least recently touched first.
    ///
    /// - Complexity: O(messages + remembered recipients + string bytes).
    init(_ table: RecencyTable<Coding.Message>) {
        self.init(count: table.count) { table.forEachOldestFirst($0) }
    }

    /// The `n` messages `oldestFirst` calls its argument with, least recently touched first (a format whose
    /// open messages live in more than one table).
    ///
    /// - Complexity: O(messages + remembered recipients + string bytes).
    init(count n: Int, oldestFirst: ((Coding.Message) -> Void) -> Void) {
        fields = Array(repeating: [], count: Coding.stringFields.count)
        for f in fields.indices { fields[f].reserveCapacity(n) }
        ids.reserveCapacity(n)
        scopes.reserveCapacity(n)
        times.reserveCapacity(n)
        flags.reserveCapacity(n)
        attemptedCounts.reserveCapacity(n)
        var strings = SavedStringsBuilder()
        oldestFirst { m in
            let c = Coding.columns(of: m)
            ids.append(c.id)
            scopes.append(c.scope)
            times.append(c.time)
            flags.append(c.flags)
            for (f, field) in Coding.stringFields.enumerated() { fields[f].append(strings.index(field.get(m))) }
            let before = attempted.count
            Coding.appendRecipients(of: m, to: &attempted)
            attemptedCounts.append(Int32(clamping: attempted.count - before))
        }
        self.strings = strings.strings
    }

    /// A column's coding key: its format's name for it.
    struct ColumnKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        let names = Coding.columnNames
        var c = encoder.container(keyedBy: ColumnKey.self)
        try c.encode(ids, forKey: ColumnKey(names.ids))
        try c.encode(scopes, forKey: ColumnKey(names.scopes))
        try c.encode(times, forKey: ColumnKey(names.times))
        try c.encode(flags, forKey: ColumnKey(names.flags))
        try c.encode(strings, forKey: ColumnKey("strings"))
        for (field, column) in zip(Coding.stringFields, fields) { try c.encode(column, forKey: ColumnKey(field.name)) }
        try c.encode(attemptedCounts, forKey: ColumnKey("attemptedCounts"))
        try c.encode(attempted, forKey: ColumnKey("attempted"))
    }

    /// Decodes and checks the saved messages: every array has one entry per message, ids have the format's
    /// shape, flags are known, string indices lie inside ``strings`` (and a required field's are not -1), and
    /// the recipient counts are in range and add up to ``attempted``.
    init(from decoder: any Decoder) throws {
        let names = Coding.columnNames
        let c = try decoder.container(keyedBy: ColumnKey.self)
        ids = try c.decode([String].self, forKey: ColumnKey(names.ids))
        scopes = try c.decode([UInt64].self, forKey: ColumnKey(names.scopes))
        times = try c.decode([Int64].self, forKey: ColumnKey(names.times))
        flags = try c.decode([UInt8].self, forKey: ColumnKey(names.flags))
        strings = try c.decode([String].self, forKey: ColumnKey("strings"))
        fields = try Coding.stringFields.map { try c.decode([Int32].self, forKey: ColumnKey($0.name)) }
        attemptedCounts = try c.decode([Int32].self, forKey: ColumnKey("attemptedCounts"))
        attempted = try c.decode([UInt64].self, forKey: ColumnKey("attempted"))

        let path = decoder.codingPath
        let n = ids.count
        try SavedChecks.length(scopes, n, names.scopes, path)
        try SavedChecks.length(times, n, names.times, path)
        try SavedChecks.length(flags, n, names.flags, path)
        try SavedChecks.length(attemptedCounts, n, "attemptedCounts", path)
        for (f, field) in Coding.stringFields.enumerated() {
            try SavedChecks.length(fields[f], n, field.name, path)
            try SavedChecks.stringIndices(
                fields[f], tableCount: strings.count, field.name, allowNil: !field.isRequired, path)
        }
        try SavedChecks.counts(
            attemptedCounts, maxEach: Coding.maxRecipients, total: attempted.count, "attemptedCounts", path)
        for f in flags {
            if let problem = Coding.flagsProblem(f) { throw StateCheck.corrupt(problem, path) }
        }
        try SavedChecks.ids(ids, Coding.idKind, path, isValid: Coding.isValidID)
    }

    /// The messages in saved order. The arrays were checked when decoding (a value made by `init(_:)` is
    /// consistent by construction).
    func forEachMessage(_ body: (Coding.Message) throws -> Void) rethrows {
        var lists = SavedListCursor()
        for k in 0..<count {
            let saved = SavedMessage(
                id: ids[k], scope: scopes[k], time: times[k], flags: flags[k],
                recipients: lists.take(attemptedCounts[k], of: attempted), strings: strings, fields: fields, row: k)
            var message = Coding.message(saved)
            for (f, field) in Coding.stringFields.enumerated() { field.set(&message, saved.field(f)) }
            try body(message)
        }
    }
}
