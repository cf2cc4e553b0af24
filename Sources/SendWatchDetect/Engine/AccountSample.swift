import SendWatchCore
import SendWatchWindows

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The first distinct values of a young account's events, kept for alert evidence, in one byte buffer: up to
/// five message ids (``SendEvent/messageID``, else the queue id), and up to ``cap`` each of the submitters'
/// values (``SendEvent/login``, ``SendEvent/clientIP``, ``SendEvent/claimedAccount``: the alerts' `submitters`)
/// and the deliveries' values (``SendEvent/recipient``, its domain as logged, ``SendEvent/queueID``: the alerts'
/// `deliveries`). A further distinct value of a full submitters' or deliveries' list only sets that group's
/// overflow flag; a sixth message id is dropped.
///
/// Values are distinct as `String`s compare (canonical equivalence): byte-equal values are equal, and a value
/// with a byte outside ASCII is also compared as a `String` with every stored value of its list.
///
/// Why one buffer: a young account used to hold seven arrays of `String`s, each array a heap block and each value
/// longer than 15 bytes (most message ids, recipients and logins) another: about a kilobyte per account on a log
/// with tens of thousands of young accounts (docs/performance.md). Here every value is appended to ``bytes`` as
/// one record, in arrival order; the buffer grows to the size its values need, not by doubling, so an account
/// costs one heap block of about the bytes of its values. The list counts and the overflow flags are packed into
/// ``packed``.
///
/// A record is a tag byte (the list, whether the value has a byte outside ASCII, and the record's form) and then
/// the value in one of three forms: its bytes (LEB128 length, bytes); a copy of bytes already in the buffer
/// (LEB128 offset and length: a recipient domain is the end of the recipient just added, a queue id is often
/// inside the message id); or its bytes up to its last `@` followed by a copy of the rest (the message ids of one
/// account, and its recipients at one provider, share their part after the `@`). Values copy only bytes before
/// their own record, and records are never changed, so a copy always reads what it read when it was made. On the
/// independent 10 M-line log this holds an account's values in about a third less (docs/performance.md).
///
/// Memory: 16 bytes inline; on the heap, one array of at most 29 values (5 + 6 × ``cap``) of a few bytes of
/// framing each. A copy shares the buffer until one of the two gains a value (copy-on-write), which is how a
/// finding held by the lifecycle keeps the values of its accounts at the finding (``AccountSamples``).
///
/// Left out: the values' order across lists (each list reads in its own arrival order, which is all evidence
/// uses).
struct AccountSample: Sendable, Equatable {
    /// The lists, in the order their counts are packed.
    enum List: UInt8, CaseIterable, Sendable {
        case messageIDs, logins, clientIPs, claimedAccounts, recipients, recipientDomains, queueIDs

        /// The most values this list keeps.
        var cap: Int { self == .messageIDs ? AccountSample.maxMessageIDs : AccountSample.cap }
        /// Whether a full list's further value sets the submitters' overflow flag (else the deliveries').
        var isSubmitter: Bool { self == .logins || self == .clientIPs || self == .claimedAccounts }
    }

    /// The most submitters' or deliveries' values kept per list.
    static let cap = 4
    /// The most message ids kept.
    static let maxMessageIDs = 5

    /// The records: tag (list, ``nonASCIIFlag``, form), then the value as the form says (see the type).
    private(set) var bytes: [UInt8] = []
    /// Bits 3 × list: that list's count (at most 5). Bit 21: a submitter's value was left out; bit 22: a
    /// delivery's.
    private var packed: UInt32 = 0

    /// Set in a record's tag when its value has a byte outside ASCII.
    private static let nonASCIIFlag: UInt8 = 0x80
    /// A record's form, in its tag: the value's bytes follow.
    private static let literalForm: UInt8 = 0
    /// A record's form: the value is a copy of earlier bytes of the buffer.
    private static let copyForm: UInt8 = 0x20
    /// A record's form: the value's bytes up to its last `@`, then a copy of the rest.
    private static let suffixCopyForm: UInt8 = 0x40
    private static let formMask: UInt8 = 0x60
    private static let listMask: UInt8 = 0x07
    /// The shortest value or part after `@` that is looked for in the buffer (a copy costs up to 5 bytes).
    private static let minCopyBytes = 6
    private static let submittersOverflowBit: UInt32 = 1 << 21
    private static let deliveriesOverflowBit: UInt32 = 1 << 22

    init() {}

    /// The number of values of `list`.
    func count(_ list: List) -> Int { Int((packed >> (3 * UInt32(list.rawValue))) & 7) }

    /// Whether a distinct login, client address or claimed account was left out because its list was full.
    var submittersOverflowed: Bool { packed & Self.submittersOverflowBit != 0 }
    /// Whether a distinct recipient, recipient domain or queue id was left out because its list was full.
    var deliveriesOverflowed: Bool { packed & Self.deliveriesOverflowBit != 0 }

    /// The budget figure of the values, as the key tables account them: 48 bytes per message id and 32 per other
    /// value (the figure of the arrays of strings this buffer replaced, so that the tables' budget decisions,
    /// and the alerts, do not change).
    var approximateHeapBytes: Int {
        var others = 0
        for list in List.allCases where list != .messageIDs { others += count(list) }
        return count(.messageIDs) * 48 + others * 32
    }

    /// The values of `list`, in the order they came.
    ///
    /// - Complexity: O(bytes held); allocates the strings. For evidence, not for the per-event path.
    func values(_ list: List) -> [String] {
        var result: [String] = []
        result.reserveCapacity(count(list))
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                let r = Self.record(at: i, in: buffer)
                if r.tag & Self.listMask == list.rawValue { result.append(Self.string(r, in: buffer)) }
                i = r.end
            }
        }
        return result
    }

    /// Calls `body` with each value of every list, in the buffer's order (each list's values in the order they
    /// came): its list, its bytes in two parts (its own bytes, then the bytes it copies; either may be empty) and
    /// whether it has a byte outside ASCII. The parts are valid only during the call.
    ///
    /// - Complexity: O(bytes held); no allocation. For evidence, not for the per-event path.
    func forEachValue(
        _ body: (_ list: List, _ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8>, _ nonASCII: Bool)
            -> Void
    ) {
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                let r = Self.record(at: i, in: buffer)
                i = r.end
                // Safe to force unwrap: every record's tag holds one of the lists (written by `add` only).
                let list = List(rawValue: r.tag & Self.listMask)!
                body(
                    list, UnsafeBufferPointer(rebasing: buffer[r.literal]),
                    UnsafeBufferPointer(rebasing: buffer[r.copy]),
                    r.tag & Self.nonASCIIFlag != 0)
            }
        }
    }

    /// Adds a message id (the event's message id, else its queue id), unless five are kept or it is one of them.
    ///
    /// - Complexity: O(bytes held); allocates only for a new value.
    mutating func addMessageID(_ messageID: String?) {
        if let messageID { add(messageID, to: .messageIDs) }
    }

    /// Adds the event's login, client address and claimed account.
    ///
    /// - Complexity: O(bytes held) per value, O(1) for a full list whose group overflowed; allocates only for a
    ///   new value.
    mutating func addSubmitter(login: String?, clientIP: String?, claimedAccount: String?) {
        if let login { add(login, to: .logins) }
        if let clientIP { add(clientIP, to: .clientIPs) }
        if let claimedAccount { add(claimedAccount, to: .claimedAccounts) }
    }

    /// Adds the event's recipient, the recipient's domain (after the last `@`; none without one) and queue id;
    /// empty values are left out.
    ///
    /// - Complexity: O(bytes held) per value, O(1) for a full list whose group overflowed; allocates only for a
    ///   new value.
    mutating func addDelivery(recipient: String, queueID: String?) {
        if !recipient.isEmpty {
            // The recipient's bytes are read once, in place: the domain is the part after their last `@` (an
            // ASCII byte, so the part is whole scalars), not a `Substring` searched and copied again.
            let added: Void? = recipient.utf8.withContiguousStorageIfAvailable { addRecipient($0) }
            if added == nil { Array(recipient.utf8).withUnsafeBufferPointer { addRecipient($0) } }
        }
        if let queueID, !queueID.isEmpty { add(queueID, to: .queueIDs) }
    }

    /// Adds a recipient's UTF-8 bytes and its domain (after the last `@`; none without one or when empty).
    private mutating func addRecipient(_ utf8: UnsafeBufferPointer<UInt8>) {
        add(utf8, to: .recipients)
        guard !isSaturated(.recipientDomains), let at = utf8.lastIndex(of: UInt8(ascii: "@")) else { return }
        let domain = UnsafeBufferPointer(rebasing: utf8[(at + 1)...])
        if !domain.isEmpty { add(domain, to: .recipientDomains) }
    }

    /// Adds `value` to `list` unless the list holds it; a full list drops it (setting the overflow flag of its
    /// group, except for message ids).
    mutating func add(_ value: some StringProtocol, to list: List) {
        guard !isSaturated(list) else { return }
        let added: Void? =
            value.utf8.withContiguousStorageIfAvailable { add($0, to: list) }
            ?? Array(value.utf8).withUnsafeBufferPointer { add($0, to: list) }
        _ = added
    }

    /// ``add(_:to:)`` with the value's UTF-8 bytes (whole scalars of a valid string).
    private mutating func add(_ utf8: UnsafeBufferPointer<UInt8>, to list: List) {
        guard !isSaturated(list) else { return }
        _ = insert(utf8, to: list)
    }

    /// Whether adding any value to `list` would change nothing: the list is full and a value left out of it has
    /// already set its group's overflow flag (a full list of message ids drops every further id). An account that
    /// keeps sending reaches this after a few events, and its later values then cost no scan of the buffer.
    private func isSaturated(_ list: List) -> Bool {
        guard count(list) >= list.cap else { return false }
        if list == .messageIDs { return true }
        return packed & (list.isSubmitter ? Self.submittersOverflowBit : Self.deliveriesOverflowBit) != 0
    }

    private mutating func insert(_ utf8: UnsafeBufferPointer<UInt8>, to list: List) -> Bool {
        let isASCII = Self.isASCII(utf8)
        if contains(utf8, isASCII: isASCII, in: list) { return false }
        guard count(list) < list.cap else {
            if list != .messageIDs {
                packed |= list.isSubmitter ? Self.submittersOverflowBit : Self.deliveriesOverflowBit
            }
            return false
        }
        let tag = list.rawValue | (isASCII ? 0 : Self.nonASCIIFlag)
        // The form: a copy of the whole value, else of its part from the last `@`, else its bytes.
        var literal = utf8.count
        var copy: (offset: Int, count: Int)?
        if utf8.count >= Self.minCopyBytes, let at = find(utf8) {
            literal = 0
            copy = (at, utf8.count)
        } else if let a = utf8.lastIndex(of: UInt8(ascii: "@")), utf8.count - a >= Self.minCopyBytes,
            let at = find(UnsafeBufferPointer(rebasing: utf8[a...]))
        {
            literal = a
            copy = (at, utf8.count - a)
        }
        // Exact growth: the buffer holds at most 29 values, so copying it for each new one costs less than the
        // slack that doubling leaves in every account's buffer.
        var size = 1
        if copy == nil || literal > 0 { size += Self.lebBytes(literal) + literal }
        if let copy { size += Self.lebBytes(copy.offset) + Self.lebBytes(copy.count) }
        bytes.reserveCapacity(bytes.count + size)
        switch (copy, literal) {
        case (nil, _):
            bytes.append(tag | Self.literalForm)
            appendLEB(literal)
            bytes.append(contentsOf: utf8)
        case (let c?, 0):
            bytes.append(tag | Self.copyForm)
            appendLEB(c.offset)
            appendLEB(c.count)
        case (let c?, _):
            bytes.append(tag | Self.suffixCopyForm)
            appendLEB(literal)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<literal]))
            appendLEB(c.offset)
            appendLEB(c.count)
        }
        packed += 1 << (3 * UInt32(list.rawValue))
        return true
    }

    /// The bytes of LEB128 `n`.
    private static func lebBytes(_ n: Int) -> Int {
        var n = n
        var count = 1
        while n >= 0x80 {
            n >>= 7
            count += 1
        }
        return count
    }

    private mutating func appendLEB(_ n: Int) {
        var n = n
        while n >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        bytes.append(UInt8(n))
    }

    /// The offset of the first occurrence of `needle` in ``bytes``, or `nil`.
    ///
    /// - Complexity: O(bytes held × needle length) at worst; called only for a value that is added.
    private func find(_ needle: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        return bytes.withUnsafeBufferPointer { hay in
            var i = 0
            let last = hay.count - needle.count
            while i <= last {
                if hay[i] == first
                    && memcmp(hay.baseAddress! + i, needle.baseAddress!, needle.count) == 0
                {
                    return i
                }
                i += 1
            }
            return nil
        }
    }

    /// Whether `list` holds a value equal (as `String`s compare) to the value whose UTF-8 bytes are `utf8`.
    private func contains(_ utf8: UnsafeBufferPointer<UInt8>, isASCII valueIsASCII: Bool, in list: List) -> Bool {
        guard count(list) > 0 else { return false }
        return bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                let r = Self.record(at: i, in: buffer)
                i = r.end
                guard r.tag & Self.listMask == list.rawValue else { continue }
                if Self.equals(r, in: buffer, utf8) { return true }
                // Byte-different values can still be equal strings (a precomposed and a decomposed accent), but
                // only when one of them has a byte outside ASCII.
                if !valueIsASCII || r.tag & Self.nonASCIIFlag != 0,
                    Self.string(r, in: buffer) == String(decoding: utf8, as: UTF8.self)
                {
                    return true
                }
            }
            return false
        }
    }

    private static func isASCII(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var any: UInt8 = 0
        for b in utf8 { any |= b }
        return any < 0x80
    }

    /// A record read: its tag, its value's own bytes (`literal`, a range of the buffer) followed by the copied
    /// bytes (`copy`, a range of the buffer before the record), and where the next record starts.
    private struct Record {
        var tag: UInt8
        var literal: Range<Int>
        var copy: Range<Int>
        var end: Int
        var count: Int { literal.count + copy.count }
    }

    /// The record at `i`.
    private static func record(at i: Int, in buffer: UnsafeBufferPointer<UInt8>) -> Record {
        var j = i + 1
        func leb() -> Int {
            var n = 0
            var shift = 0
            while true {
                let b = buffer[j]
                j += 1
                n |= Int(b & 0x7F) << shift
                if b < 0x80 { return n }
                shift += 7
            }
        }
        let tag = buffer[i]
        var literal = j..<j
        if tag & formMask != copyForm {
            let n = leb()
            literal = j..<j + n
            j += n
        }
        var copy = 0..<0
        if tag & formMask != literalForm {
            let offset = leb()
            copy = offset..<offset + leb()
        }
        return Record(tag: tag, literal: literal, copy: copy, end: j)
    }

    /// Whether the record's value is the bytes `utf8`.
    private static func equals(_ r: Record, in buffer: UnsafeBufferPointer<UInt8>, _ utf8: UnsafeBufferPointer<UInt8>)
        -> Bool
    {
        guard r.count == utf8.count else { return false }
        guard let b = buffer.baseAddress, let u = utf8.baseAddress else { return true }
        return memcmp(b + r.literal.lowerBound, u, r.literal.count) == 0
            && memcmp(b + r.copy.lowerBound, u + r.literal.count, r.copy.count) == 0
    }

    /// The record's value as a `String`.
    private static func string(_ r: Record, in buffer: UnsafeBufferPointer<UInt8>) -> String {
        if r.copy.isEmpty { return String(decoding: UnsafeBufferPointer(rebasing: buffer[r.literal]), as: UTF8.self) }
        if r.literal.isEmpty { return String(decoding: UnsafeBufferPointer(rebasing: buffer[r.copy]), as: UTF8.self) }
        return String(decoding: Array(buffer[r.literal]) + Array(buffer[r.copy]), as: UTF8.self)
    }

    /// Equal when every list holds the same values in the same order and the flags agree (the interleaving of
    /// the lists in the buffer, which a restore does not keep, does not count).
    static func == (a: AccountSample, b: AccountSample) -> Bool {
        a.packed == b.packed && List.allCases.allSatisfy { a.values($0) == b.values($0) }
    }
}

extension AccountSample: Codable {
    enum CodingKeys: String, CodingKey {
        case messageIDs, logins, clientIPs, claimedAccounts, submittersOverflowed, recipients, recipientDomains,
            queueIDs, deliveriesOverflowed
    }

    private static func key(_ list: List) -> CodingKeys {
        switch list {
        case .messageIDs: .messageIDs
        case .logins: .logins
        case .clientIPs: .clientIPs
        case .claimedAccounts: .claimedAccounts
        case .recipients: .recipients
        case .recipientDomains: .recipientDomains
        case .queueIDs: .queueIDs
        }
    }

    /// Restores the lists saved by ``encode(to:)``, in the order saved.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when a list is longer than it may be or holds a value twice.
    init(from decoder: any Decoder) throws {
        // Fields are decoded in the order of `CodingKeys`, the order `encode(to:)` writes them (positional coders
        // rely on it).
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var lists: [(List, [String])] = []
        for list in List.allCases {
            lists.append((list, try c.decode([String].self, forKey: Self.key(list))))
            if list == .claimedAccounts {
                if try c.decode(Bool.self, forKey: .submittersOverflowed) { packed |= Self.submittersOverflowBit }
            }
        }
        if try c.decode(Bool.self, forKey: .deliveriesOverflowed) { packed |= Self.deliveriesOverflowBit }
        for (list, values) in lists {
            try StateCheck.require(
                values.count <= list.cap, "AccountSample: \(values.count) values in a list of at most \(list.cap)",
                decoder)
            for value in values {
                let before = count(list)
                add(value, to: list)
                try StateCheck.require(count(list) == before + 1, "AccountSample: a value twice in a list", decoder)
            }
        }
    }

    /// Saves each list as an array of strings, and the two overflow flags.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for list in List.allCases {
            try c.encode(values(list), forKey: Self.key(list))
            if list == .claimedAccounts { try c.encode(submittersOverflowed, forKey: .submittersOverflowed) }
        }
        try c.encode(deliveriesOverflowed, forKey: .deliveriesOverflowed)
    }
}
