import SendWatchWindows

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
/// one record, a tag byte (the list, and whether the value has a byte outside ASCII), the value's length
/// (LEB128) and its UTF-8 bytes, in arrival order; the buffer grows
/// to the size its values need, not by doubling, so an account costs one heap block of about the bytes of its
/// values. The list counts and the overflow flags are packed into ``packed``.
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

    /// The records: tag (list, plus ``nonASCIIFlag``), LEB128 length, UTF-8 bytes.
    private(set) var bytes: [UInt8] = []
    /// Bits 3 × list: that list's count (at most 5). Bit 21: a submitter's value was left out; bit 22: a
    /// delivery's.
    private var packed: UInt32 = 0

    /// Set in a record's tag when its value has a byte outside ASCII.
    private static let nonASCIIFlag: UInt8 = 0x80
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
                let (tag, start, end) = Self.record(at: i, in: buffer)
                if tag & ~Self.nonASCIIFlag == list.rawValue {
                    result.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self))
                }
                i = end
            }
        }
        return result
    }

    /// Adds a message id (the event's message id, else its queue id), unless five are kept or it is one of them.
    ///
    /// - Complexity: O(bytes held); allocates only for a new value.
    mutating func addMessageID(_ messageID: String?) {
        if let messageID { add(messageID, to: .messageIDs) }
    }

    /// Adds the event's login, client address and claimed account.
    ///
    /// - Complexity: O(bytes held) per value; allocates only for a new value.
    mutating func addSubmitter(login: String?, clientIP: String?, claimedAccount: String?) {
        if let login { add(login, to: .logins) }
        if let clientIP { add(clientIP, to: .clientIPs) }
        if let claimedAccount { add(claimedAccount, to: .claimedAccounts) }
    }

    /// Adds the event's recipient, the recipient's domain (after the last `@`; none without one) and queue id;
    /// empty values are left out.
    ///
    /// - Complexity: O(bytes held) per value; allocates only for a new value.
    mutating func addDelivery(recipient: String, queueID: String?) {
        if !recipient.isEmpty {
            add(recipient, to: .recipients)
            if let at = recipient.utf8.lastIndex(of: UInt8(ascii: "@")) {
                let domain = recipient[recipient.utf8.index(after: at)...]
                if !domain.isEmpty { add(domain, to: .recipientDomains) }
            }
        }
        if let queueID, !queueID.isEmpty { add(queueID, to: .queueIDs) }
    }

    /// Adds `value` to `list` unless the list holds it; a full list drops it (setting the overflow flag of its
    /// group, except for message ids).
    mutating func add(_ value: some StringProtocol, to list: List) {
        let added: Bool? =
            value.utf8.withContiguousStorageIfAvailable { add($0, as: value, to: list) }
            ?? Array(value.utf8).withUnsafeBufferPointer { add($0, as: value, to: list) }
        _ = added
    }

    private mutating func add(_ utf8: UnsafeBufferPointer<UInt8>, as value: some StringProtocol, to list: List)
        -> Bool
    {
        let isASCII = Self.isASCII(utf8)
        if contains(utf8, isASCII: isASCII, as: value, in: list) { return false }
        guard count(list) < list.cap else {
            if list != .messageIDs {
                packed |= list.isSubmitter ? Self.submittersOverflowBit : Self.deliveriesOverflowBit
            }
            return false
        }
        var length = utf8.count
        var lengthBytes = 1
        while length >= 0x80 {
            length >>= 7
            lengthBytes += 1
        }
        // Exact growth: the buffer holds at most 29 values, so copying it for each new one costs less than the
        // slack that doubling leaves in every account's buffer.
        bytes.reserveCapacity(bytes.count + 1 + lengthBytes + utf8.count)
        bytes.append(list.rawValue | (isASCII ? 0 : Self.nonASCIIFlag))
        length = utf8.count
        while length >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        bytes.append(UInt8(length))
        bytes.append(contentsOf: utf8)
        packed += 1 << (3 * UInt32(list.rawValue))
        return true
    }

    /// Whether `list` holds a value equal to `value` (whose UTF-8 bytes are `utf8`).
    private func contains(
        _ utf8: UnsafeBufferPointer<UInt8>, isASCII valueIsASCII: Bool, as value: some StringProtocol, in list: List
    ) -> Bool {
        guard count(list) > 0 else { return false }
        return bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                let (tag, start, end) = Self.record(at: i, in: buffer)
                i = end
                guard tag & ~Self.nonASCIIFlag == list.rawValue else { continue }
                let held = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if held.count == utf8.count, held.elementsEqual(utf8) { return true }
                // Byte-different values can still be equal strings (a precomposed and a decomposed accent), but
                // only when one of them has a byte outside ASCII.
                if !valueIsASCII || tag & Self.nonASCIIFlag != 0, String(decoding: held, as: UTF8.self) == value {
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

    /// The record at `i`: its list, and the start and end of its value.
    private static func record(at i: Int, in buffer: UnsafeBufferPointer<UInt8>) -> (tag: UInt8, start: Int, end: Int) {
        var j = i + 1
        var length = 0
        var shift = 0
        while true {
            let b = buffer[j]
            j += 1
            length |= Int(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        return (buffer[i], j, j + length)
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
