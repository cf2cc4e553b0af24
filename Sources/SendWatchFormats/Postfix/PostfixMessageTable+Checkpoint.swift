import SendWatchCore

/// The open messages of a ``PostfixMessageTable`` as saved in a checkpoint: one entry per message, least
/// recently touched first, as parallel arrays.
///
/// The recency list is saved as this order rather than as slot links, and the hash index is not saved at all:
/// restoring inserts the messages oldest first, which rebuilds the same touch order, a compact slot array and
/// a fresh index. So no saved number is ever used as an index into the table, and a damaged file cannot make
/// the table inconsistent.
///
/// Strings are saved once in ``strings`` and referred to by index (-1 = `nil`). Recipient hashes are
/// ``Bytes/wordHash(_:_:)`` values, which are fixed (not seeded per process), so they stay valid across
/// restarts. The queue id's `String` (made at the first event) is not saved: it is made again from the id.
struct SavedPostfixMessages: Codable, Hashable, Sendable {
    /// Queue ids as text, oldest first.
    var queueIDs: [String] = []
    /// Each queue id's scope (the hash of its host and Postfix instance, ``PostfixQueueID/scope``).
    var scopes: [UInt64] = []
    /// ``PostfixMessage/lastTouched`` in microseconds.
    var lastTouched: [Int64] = []
    /// Bit 0 ``PostfixMessage/senderFromQueueManager``, bit 1 ``PostfixMessage/isNotice``, bit 2
    /// ``PostfixMessage/isFilterHop``, bit 3 whether ``PostfixMessage/clientIP`` lies in
    /// ``FormatConfiguration/accountHeaderNetworks``. Bit 3 is written for the versions that read it; it is
    /// ignored on restore, where the parser decides from the saved client address with the configuration given
    /// then.
    var flags: [UInt8] = []
    /// The distinct strings the fields below refer to.
    var strings: [String] = []
    var clientIP: [Int32] = []
    var saslUser: [Int32] = []
    var localUser: [Int32] = []
    var sender: [Int32] = []
    var messageID: [Int32] = []
    var subject: [Int32] = []
    var account: [Int32] = []
    var template: [Int32] = []
    /// How many recipient hashes each message remembers (at most ``PostfixParser/maxRememberedRecipients``).
    var attemptedCounts: [Int32] = []
    /// The remembered recipient hashes of all messages, message after message, each in attempt order.
    var attempted: [UInt64] = []

    static let senderFromQueueManagerFlag: UInt8 = 1
    static let noticeFlag: UInt8 = 2
    static let filterHopFlag: UInt8 = 4
    static let trustedClientFlag: UInt8 = 8
    /// The account header's trust, once decided at the message's first event (it must not be decided again
    /// after a restart from fields that arrived later, e.g. a `client=` line logged after the first delivery).
    static let headerBelievedFlag: UInt8 = 16
    static let headerNotBelievedFlag: UInt8 = 32
    static let allFlags: UInt8 = 63

    /// The number of saved messages.
    var count: Int { queueIDs.count }

    /// The messages of `table`, least recently touched first.
    ///
    /// - Complexity: O(messages + remembered recipients + string bytes).
    /// - Parameter isTrustedClient: whether a client address lies in the account header's networks (bit 3).
    init(_ table: PostfixMessageTable, isTrustedClient: (String) -> Bool) {
        var strings = SavedStringsBuilder()
        let n = table.count
        queueIDs.reserveCapacity(n)
        lastTouched.reserveCapacity(n)
        flags.reserveCapacity(n)
        attemptedCounts.reserveCapacity(n)
        table.forEachOldestFirst { m in
            queueIDs.append(m.id.text)
            scopes.append(m.id.scope)
            lastTouched.append(m.lastTouched.microseconds)
            var f: UInt8 = 0
            if m.senderFromQueueManager { f |= Self.senderFromQueueManagerFlag }
            if m.isNotice { f |= Self.noticeFlag }
            if m.isFilterHop { f |= Self.filterHopFlag }
            if let ip = m.clientIP, isTrustedClient(ip) { f |= Self.trustedClientFlag }
            switch m.headerTrust {
            case .undecided: break
            case .believed: f |= Self.headerBelievedFlag
            case .notBelieved: f |= Self.headerNotBelievedFlag
            }
            flags.append(f)
            clientIP.append(strings.index(m.clientIP))
            saslUser.append(strings.index(m.saslUser))
            localUser.append(strings.index(m.localUser))
            sender.append(strings.index(m.sender))
            messageID.append(strings.index(m.messageID))
            subject.append(strings.index(m.subject))
            account.append(strings.index(m.account))
            template.append(strings.index(m.template))
            let remembered = min(m.attemptedCount, PostfixParser.maxRememberedRecipients)
            attemptedCounts.append(Int32(remembered))
            if remembered > 0 { attempted.append(m.attempted0) }
            if remembered > 1 { attempted.append(m.attempted1) }
            if remembered > PostfixMessage.inlineRecipients {
                attempted.append(contentsOf: m.moreAttempted.prefix(remembered - PostfixMessage.inlineRecipients))
            }
        }
        self.strings = strings.strings
    }

    private enum CodingKeys: String, CodingKey {
        case queueIDs, scopes, lastTouched, flags, strings, clientIP, saslUser, localUser, sender, messageID, subject,
            account, template, attemptedCounts, attempted
    }

    /// Decodes and checks the saved messages: every array has one entry per message, ids are queue ids,
    /// flags known, string indices inside ``strings``, and the recipient counts add up to ``attempted``.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        queueIDs = try c.decode([String].self, forKey: .queueIDs)
        scopes = try c.decode([UInt64].self, forKey: .scopes)
        lastTouched = try c.decode([Int64].self, forKey: .lastTouched)
        flags = try c.decode([UInt8].self, forKey: .flags)
        strings = try c.decode([String].self, forKey: .strings)
        clientIP = try c.decode([Int32].self, forKey: .clientIP)
        saslUser = try c.decode([Int32].self, forKey: .saslUser)
        localUser = try c.decode([Int32].self, forKey: .localUser)
        sender = try c.decode([Int32].self, forKey: .sender)
        messageID = try c.decode([Int32].self, forKey: .messageID)
        subject = try c.decode([Int32].self, forKey: .subject)
        account = try c.decode([Int32].self, forKey: .account)
        template = try c.decode([Int32].self, forKey: .template)
        attemptedCounts = try c.decode([Int32].self, forKey: .attemptedCounts)
        attempted = try c.decode([UInt64].self, forKey: .attempted)

        let path = decoder.codingPath
        let n = queueIDs.count
        try SavedChecks.length(scopes, n, "scopes", path)
        try SavedChecks.length(lastTouched, n, "lastTouched", path)
        try SavedChecks.length(flags, n, "flags", path)
        try SavedChecks.length(attemptedCounts, n, "attemptedCounts", path)
        try SavedChecks.stringColumns(
            [
                "clientIP": clientIP, "saslUser": saslUser, "localUser": localUser, "sender": sender,
                "messageID": messageID, "subject": subject, "account": account, "template": template,
            ], count: n, tableCount: strings.count, path)
        try SavedChecks.counts(
            attemptedCounts, maxEach: PostfixParser.maxRememberedRecipients, total: attempted.count,
            "attemptedCounts", path)
        for f in flags
        where f & ~Self.allFlags != 0
            || f & (Self.headerBelievedFlag | Self.headerNotBelievedFlag)
                == Self.headerBelievedFlag | Self.headerNotBelievedFlag
        {
            throw checkpointCorrupted("unknown message flags \(f)", path)
        }
        try SavedChecks.ids(queueIDs, "a Postfix queue id", path, isValid: PostfixLine.isQueueID)
    }

    /// The messages in saved order, each with its remembered recipients. The arrays were checked when
    /// decoding (a value made by `init(_:)` is consistent by construction).
    func forEachMessage(_ body: (PostfixMessage) throws -> Void) rethrows {
        var hashes = SavedListCursor()
        for k in 0..<count {
            let id = Array(queueIDs[k].utf8).withUnsafeBytes { PostfixQueueID($0, 0..<$0.count, scope: scopes[k]) }
            var m = PostfixMessage(id: id, time: EventTime(microseconds: lastTouched[k]))
            let f = flags[k]
            m.senderFromQueueManager = f & Self.senderFromQueueManagerFlag != 0
            m.isNotice = f & Self.noticeFlag != 0
            m.isFilterHop = f & Self.filterHopFlag != 0
            m.headerTrust =
                f & Self.headerBelievedFlag != 0
                ? .believed : f & Self.headerNotBelievedFlag != 0 ? .notBelieved : .undecided
            m.clientIP = SavedChecks.string(strings, clientIP[k])
            m.saslUser = SavedChecks.string(strings, saslUser[k])
            m.localUser = SavedChecks.string(strings, localUser[k])
            m.sender = SavedChecks.string(strings, sender[k])
            m.messageID = SavedChecks.string(strings, messageID[k])
            m.subject = SavedChecks.string(strings, subject[k])
            m.account = SavedChecks.string(strings, account[k])
            m.template = SavedChecks.string(strings, template[k])
            for hash in hashes.take(attemptedCounts[k], of: attempted) { m.addAttempted(hash) }
            try body(m)
        }
    }
}
