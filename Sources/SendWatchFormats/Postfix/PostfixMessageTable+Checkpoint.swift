import SendWatchCore

extension SavedMessageTable where Coding == PostfixMessageCoding {
    /// The open messages and pending notices of `table`, least recently touched first (a pending notice as a
    /// message that is a notice and nothing else, as it was saved before notices had slots of their own).
    ///
    /// - Complexity: O(entries + remembered recipients + string bytes).
    init(_ table: PostfixMessageTable) {
        self.init(count: table.count) { table.forEachOldestFirst($0) }
    }
}

/// What a Postfix message saves in a ``SavedMessageTable``.
///
/// The id is the queue id (its `String`, made at the first event, is made again from it); the scope is the hash
/// of its host and Postfix instance (``PostfixQueueID/scope``); the time is ``PostfixMessage/lastTouched`` in
/// microseconds. Flags: bit 0 ``PostfixMessage/senderFromQueueManager``, bit 1 ``PostfixMessage/isNotice``, bit 2
/// ``PostfixMessage/isFilterHop``, bits 4 and 5 the account header's trust once decided at the message's first
/// event (it must not be decided again after a restart from fields that arrived later, e.g. a `client=` line
/// logged after the first delivery), bit 6 ``PostfixMessage/subjectCut``. Bit 3 (whether the client address was in the account header's networks) is
/// no longer written and ignored when read: the parser decides it from the saved client address with the
/// configuration given at the restart. Recipient hashes are ``Bytes/wordHash(_:_:)`` values, at most
/// ``PostfixParser/maxRememberedRecipients`` per message, in attempt order.
enum PostfixMessageCoding: SavedMessageCoding {
    static let senderFromQueueManagerFlag: UInt8 = 1
    static let noticeFlag: UInt8 = 2
    static let filterHopFlag: UInt8 = 4
    static let headerBelievedFlag: UInt8 = 16
    static let headerNotBelievedFlag: UInt8 = 32
    /// ``PostfixMessage/subjectCut``: the logged Subject reached Postfix's 200-byte cut.
    static let subjectCutFlag: UInt8 = 64
    /// Every bit a saved message may have, bit 3 included (written up to `tail` state format 10, now ignored).
    static let allFlags: UInt8 = 127

    static var columnNames: (ids: String, scopes: String, times: String, flags: String) {
        ("queueIDs", "scopes", "lastTouched", "flags")
    }
    static let stringFields: [SavedStringField<PostfixMessage>] = [
        .init("clientIP", \.clientIP), .init("saslUser", \.saslUser), .init("localUser", \.localUser),
        .init("sender", \.sender), .init("messageID", \.messageID), .init("subject", \.subject),
        .init("account", \.account), .init("template", \.template),
    ]
    static var idKind: String { "a Postfix queue id" }
    static var maxRecipients: Int { PostfixParser.maxRememberedRecipients }

    static func isValidID(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        PostfixLine.isQueueID(bytes, range)
    }

    static func flagsProblem(_ flags: UInt8) -> String? {
        let both = headerBelievedFlag | headerNotBelievedFlag
        return flags & ~allFlags != 0 || flags & both == both ? "unknown message flags \(flags)" : nil
    }

    static func columns(of m: PostfixMessage) -> (id: String, scope: UInt64, time: Int64, flags: UInt8) {
        (m.id.text, m.id.scope, m.lastTouched.microseconds, m.savedFlags)
    }

    static func appendRecipients(of m: PostfixMessage, to list: inout [UInt64]) {
        let remembered = min(m.attemptedCount, PostfixParser.maxRememberedRecipients)
        if remembered > 0 { list.append(m.attempted0) }
        if remembered > 1 { list.append(m.attempted1) }
        if remembered > PostfixMessage.inlineRecipients {
            list.append(contentsOf: m.moreAttempted.prefix(remembered - PostfixMessage.inlineRecipients))
        }
    }

    static func message(_ saved: SavedMessage) -> PostfixMessage {
        let id = Array(saved.id.utf8).withUnsafeBytes { PostfixQueueID($0, 0..<$0.count, scope: saved.scope) }
        var m = PostfixMessage(id: id, time: EventTime(microseconds: saved.time))
        m.savedFlags = saved.flags
        for hash in saved.recipients { m.addAttempted(hash) }
        return m
    }
}
