import SendWatchCore

/// The open messages of an ``EximMessageTable`` as saved in a checkpoint: one entry per message, least
/// recently touched first, as parallel arrays.
///
/// As for Postfix (``SavedPostfixMessages``), the recency list is saved as this order and the hash index not
/// at all: restoring inserts the messages oldest first, so no saved number is used as a table index. The
/// table key and its hash are made again from the saved message id, which must have the shape of an Exim id,
/// and its host hash.
/// Strings are saved once in ``strings`` and referred to by index (-1 = `nil`). Recipient hashes are
/// ``Bytes/hash(_:_:)`` values (fixed FNV-1a), valid across restarts; a message's set of more than 32 of them
/// is saved sorted, so equal states give equal checkpoints.
struct SavedEximMessages: Codable, Hashable, Sendable {
    /// Message ids as text, oldest first.
    var messageIDs: [String] = []
    /// Each message's host hash (``EximMessageKey/host``; 0 for mainlog lines).
    var hosts: [UInt64] = []
    /// The event time of each message's latest line, in seconds.
    var lastSeenSeconds: [Int64] = []
    /// ``EximMessageState/Phase`` raw values in the low four bits; the account header's trust
    /// (``EximMessageState/headerTrust``, a ``HeaderTrust`` raw value) in the next two. The trust is decided at
    /// the message's first delivery and kept, so that a restart (perhaps with other trusted logins or networks)
    /// cannot change the account of the message's later deliveries; checkpoints written before it was saved
    /// have 0 there (undecided), so the layout did not change.
    var phases: [UInt8] = []
    /// The distinct strings the fields below refer to.
    var strings: [String] = []
    var accountHeader: [Int32] = []
    var template: [Int32] = []
    var authenticated: [Int32] = []
    var localUser: [Int32] = []
    /// Never -1: the sender is always known (`""` when none was logged).
    var sender: [Int32] = []
    var subject: [Int32] = []
    var messageIDHeader: [Int32] = []
    var clientIP: [Int32] = []
    /// How many recipient hashes each message remembers.
    var attemptedCounts: [Int32] = []
    /// The remembered recipient hashes of all messages, message after message.
    var attempted: [UInt64] = []

    /// The bits of a ``phases`` entry that hold the phase, and where the header trust starts.
    static let phaseMask: UInt8 = 0x0F
    static let trustShift: UInt8 = 4

    /// The number of saved messages.
    var count: Int { messageIDs.count }

    /// The messages of `table`, least recently touched first.
    ///
    /// - Complexity: O(messages + remembered recipients × log of the largest set + string bytes).
    init(_ table: EximMessageTable) {
        var strings = SavedStringsBuilder()
        let n = table.count
        messageIDs.reserveCapacity(n)
        lastSeenSeconds.reserveCapacity(n)
        phases.reserveCapacity(n)
        attemptedCounts.reserveCapacity(n)
        table.forEachOldestFirst { s in
            messageIDs.append(s.queueID)
            hosts.append(s.key.host)
            lastSeenSeconds.append(s.lastTouched)
            phases.append(s.phase.rawValue | s.headerTrust.rawValue << Self.trustShift)
            accountHeader.append(strings.index(s.accountHeader))
            template.append(strings.index(s.template))
            authenticated.append(strings.index(s.authenticated))
            localUser.append(strings.index(s.localUser))
            sender.append(strings.index(s.sender))
            subject.append(strings.index(s.subject))
            messageIDHeader.append(strings.index(s.messageID))
            clientIP.append(strings.index(s.clientIP))
            if let large = s.attemptedLarge {
                attemptedCounts.append(Int32(clamping: large.count))
                attempted.append(contentsOf: large.sorted())
            } else {
                attemptedCounts.append(Int32(clamping: s.attempted.count))
                attempted.append(contentsOf: s.attempted)
            }
        }
        self.strings = strings.strings
    }

    private enum CodingKeys: String, CodingKey {
        case messageIDs, hosts, lastSeenSeconds, phases, strings, accountHeader, template, authenticated,
            localUser,
            sender, subject, messageIDHeader, clientIP, attemptedCounts, attempted
    }

    /// Decodes and checks the saved messages: every array has one entry per message, ids are Exim message
    /// ids, phases known, string indices inside ``strings``, and the recipient counts add up to ``attempted``.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        messageIDs = try c.decode([String].self, forKey: .messageIDs)
        hosts = try c.decode([UInt64].self, forKey: .hosts)
        lastSeenSeconds = try c.decode([Int64].self, forKey: .lastSeenSeconds)
        phases = try c.decode([UInt8].self, forKey: .phases)
        strings = try c.decode([String].self, forKey: .strings)
        accountHeader = try c.decode([Int32].self, forKey: .accountHeader)
        template = try c.decode([Int32].self, forKey: .template)
        authenticated = try c.decode([Int32].self, forKey: .authenticated)
        localUser = try c.decode([Int32].self, forKey: .localUser)
        sender = try c.decode([Int32].self, forKey: .sender)
        subject = try c.decode([Int32].self, forKey: .subject)
        messageIDHeader = try c.decode([Int32].self, forKey: .messageIDHeader)
        clientIP = try c.decode([Int32].self, forKey: .clientIP)
        attemptedCounts = try c.decode([Int32].self, forKey: .attemptedCounts)
        attempted = try c.decode([UInt64].self, forKey: .attempted)

        let path = decoder.codingPath
        let n = messageIDs.count
        try SavedChecks.length(hosts, n, "hosts", path)
        try SavedChecks.length(lastSeenSeconds, n, "lastSeenSeconds", path)
        try SavedChecks.length(phases, n, "phases", path)
        try SavedChecks.length(attemptedCounts, n, "attemptedCounts", path)
        try SavedChecks.stringColumns(
            [
                "accountHeader": accountHeader, "template": template, "authenticated": authenticated,
                "localUser": localUser, "subject": subject, "messageIDHeader": messageIDHeader, "clientIP": clientIP,
            ], count: n, tableCount: strings.count, path)
        try SavedChecks.length(sender, n, "sender", path)
        try SavedChecks.stringIndices(sender, tableCount: strings.count, "sender", allowNil: false, path)
        try SavedChecks.counts(
            attemptedCounts, maxEach: Int(Int32.max), total: attempted.count, "attemptedCounts", path)
        for p in phases where EximMessageState.Phase(rawValue: p & Self.phaseMask) == nil {
            throw checkpointCorrupted("unknown message phase \(p & Self.phaseMask)", path)
        }
        for p in phases where p >> Self.trustShift > 0 && HeaderTrust(rawValue: p >> Self.trustShift) == nil {
            throw checkpointCorrupted("unknown header trust \(p >> Self.trustShift)", path)
        }
        try SavedChecks.ids(messageIDs, "an Exim message id", path, isValid: EximMessageID.isMessageID)
    }

    /// The messages in saved order. The arrays were checked when decoding (a value made by `init(_:)` is
    /// consistent by construction).
    func forEachMessage(_ body: (EximMessageState) throws -> Void) rethrows {
        var lists = SavedListCursor()
        for k in 0..<count {
            let id = messageIDs[k]
            let (key, hash) = Array(id.utf8).withUnsafeBytes { p in
                (
                    EximMessageKey(p, 0..<p.count, host: hosts[k]),
                    EximParser.keyHash(idHash: Bytes.hash(p, 0..<p.count), host: hosts[k])
                )
            }
            var s = EximMessageState(
                key: key, hash: hash, seconds: lastSeenSeconds[k],
                phase: EximMessageState.Phase(rawValue: phases[k] & Self.phaseMask) ?? .pending, queueID: id)
            s.headerTrust = HeaderTrust(rawValue: phases[k] >> Self.trustShift) ?? .undecided
            s.accountHeader = SavedChecks.string(strings, accountHeader[k])
            s.template = SavedChecks.string(strings, template[k])
            s.authenticated = SavedChecks.string(strings, authenticated[k])
            s.localUser = SavedChecks.string(strings, localUser[k])
            s.sender = SavedChecks.string(strings, sender[k]) ?? ""
            s.subject = SavedChecks.string(strings, subject[k])
            s.messageID = SavedChecks.string(strings, messageIDHeader[k])
            s.clientIP = SavedChecks.string(strings, clientIP[k])
            let hashes = lists.take(attemptedCounts[k], of: attempted)
            // The table switches to a set after 32 recipients; the same bound decides the form here.
            if hashes.count > EximMessageState.maxAttemptedInArray {
                s.attemptedLarge = Set(hashes)
            } else {
                s.attempted = Array(hashes)
            }
            try body(s)
        }
    }
}
