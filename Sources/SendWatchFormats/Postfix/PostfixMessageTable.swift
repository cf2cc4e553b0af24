import SendWatchCore

/// A Postfix queue id held inline as bytes (at most 24, ``PostfixLine/queueIDLengths``) with the scope it is
/// unique in, so that looking a message up needs no `String` and no allocation.
///
/// Queue ids are unique only within one Postfix instance on one host: a central syslog file holds the lines of
/// many hosts (and a host may run several instances, `postfix-out/smtp`), whose ids can collide. The
/// ``scope`` is a 64-bit hash of the syslog host field and the instance (the first component of the program
/// name, `postfix` or `postfix-out`), so two messages are one only when host, instance and id all agree. Two
/// different (host, instance) pairs would have to share a 64-bit hash to be confused.
///
/// Memory: 33 bytes (the length last, so that a ``PostfixMessage`` packs its flags into the rest of the word).
struct PostfixQueueID: Equatable, Sendable {
    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0
    /// The hash of the host and instance the id belongs to (``PostfixParser`` computes it per line).
    private(set) var scope: UInt64 = 0
    private var length: UInt8 = 0

    /// The number of bytes of the id (at most ``capacity``).
    var count: Int { Int(length) }

    /// The most bytes an id can hold.
    static let capacity = 24

    /// The empty id.
    init() {}

    /// The id `p[range]`; `range` must lie inside `p` and hold at most ``capacity`` bytes (``PostfixLine``
    /// only returns such ranges). A longer range keeps its first ``capacity`` bytes.
    @inline(__always)
    init(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, scope: UInt64) {
        let n = min(range.count, Self.capacity)
        length = UInt8(n)
        self.scope = scope
        guard n > 0, let base = p.baseAddress else { return }
        #if _endian(little)
        if range.lowerBound + Self.capacity <= p.count {
            // Safe: the three loads read base + lowerBound ..< base + lowerBound + 24, inside `p`. Bytes past
            // the id are masked off (byte k of the id is bits 8k... of word k / 8 on little-endian).
            let at = base + range.lowerBound
            w0 = at.loadUnaligned(as: UInt64.self) & Self.lowMask(n)
            w1 = n > 8 ? (at + 8).loadUnaligned(as: UInt64.self) & Self.lowMask(n - 8) : 0
            w2 = n > 16 ? (at + 16).loadUnaligned(as: UInt64.self) & Self.lowMask(n - 16) : 0
            return
        }
        #endif
        // Safe: the source range lies inside `p` and the destination is a local of 24 bytes.
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.baseAddress!.copyMemory(from: base + range.lowerBound, byteCount: n) }
        (w0, w1, w2) = words
    }

    /// A mask of the low `bytes` bytes of a word (all of it from 8 on).
    @inline(__always)
    private static func lowMask(_ bytes: Int) -> UInt64 {
        bytes >= 8 ? ~0 : (1 << UInt64(bytes &* 8)) &- 1
    }

    /// A 64-bit hash of the id (fixed, not seeded per process).
    @inline(__always)
    var hash: UInt64 {
        var h = (w0 ^ 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 31) ^ w1) &* 0x94D0_49BB_1331_11EB
        h = (h ^ (h >> 29) ^ w2 ^ UInt64(length)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 32) ^ scope) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 29)
    }

    /// The id as text (ids are ASCII), through ``Bytes/string(_:_:)``: an id of at most 15 bytes is written
    /// straight into the string's inline storage.
    var text: String {
        var words = (w0, w1, w2)
        let n = count
        return withUnsafeBytes(of: &words) { Bytes.string($0, 0..<n) }
    }
}

/// Whether a message's account header is believed, once decided.
enum HeaderTrust: UInt8, Sendable {
    case undecided, believed, notBelieved
}

/// What the Postfix parser knows about one open (queued, not yet `removed`) message: a slot of the
/// ``PostfixMessageTable``.
///
/// Strings here are made once, when the line that carries them is read (values that repeat across messages
/// come from the parser's ``ByteStringCache``), and survive until the message's state is dropped; every event
/// of the message shares them.
///
/// Memory: 160 bytes a slot (`MemoryLayout<PostfixMessage>.stride`, checked by a test). The fields most messages
/// never set (the local submitter, the account and template headers, a queue id longer than 15 bytes, recipients
/// past the second) live in ``rare``, an array that is empty for most messages; the flags pack into one byte of
/// the queue id's last word, beside the touch order. Before, every slot held all of them: 240 bytes, 14 MB of the independent 10 M-line log's
/// peak at its 59,000 open messages (docs/performance.md).
struct PostfixMessage: Sendable {
    // The fields every line of a message reads or writes (table lookup, touch order, expiry, the recipients
    // attempted) come first, so that they share the slot's first cache line; the strings, written once
    // each, come after.
    /// The queue id (the table key).
    var id: PostfixQueueID
    /// ``inUse``, the three flags and ``headerTrust`` (two bits), packed into one byte beside the queue id's
    /// length so that ``touchOrder`` fits in the same word.
    private var bits: UInt8 = Self.inUseBit
    /// The number of recipient hashes remembered (at most ``PostfixParser/maxRememberedRecipients``).
    private var attempted: UInt16 = 0
    /// When the message was last touched among all entries of its ``PostfixMessageTable`` (pending notices
    /// included): orders the two tables' entries against each other.
    var touchOrder: UInt32 = 0
    /// LRU links (slot indices, -1 = none).
    var older: Int32 = -1
    var newer: Int32 = -1
    /// The event time of the latest line seen for the message (drives expiry).
    var lastTouched: EventTime
    /// Hashes of the recipients already attempted (first attempt emitted the event), in attempt order. The
    /// first ``inlineRecipients`` live inline (no allocation for most messages), the rest in ``moreAttempted``.
    var attempted0: UInt64 = 0
    var attempted1: UInt64 = 0
    /// The submitting client's IP (smtpd `client=`, or `orig_client=` behind a content filter).
    var clientIP: String?
    /// The SASL user (smtpd `sasl_username=`).
    var saslUser: String?
    /// The envelope sender: qmgr `from=` (authoritative), else pickup or the header line's `from=`.
    /// `""` is the null sender.
    var sender: String?
    /// The Message-ID without angle brackets.
    var messageID: String?
    /// The decoded Subject (first Subject header line wins).
    var subject: String?
    /// The fields few messages set, in one element when any is set (an array, so that copies of a message
    /// share it copy-on-write).
    private var rare: [Rare] = []

    /// What ``rare`` holds.
    private struct Rare: Sendable {
        var localUser: String?
        var account: String?
        var template: String?
        var queueIDText: String?
        var moreAttempted: [UInt64] = []
    }

    static let inlineRecipients = 2

    init(id: PostfixQueueID, time: EventTime) {
        self.id = id
        self.lastTouched = time
    }

    // The bits of ``bits`` are those a checkpoint saves (``PostfixMessageCoding``), and bit 3 for ``inUse``
    // (saved checkpoints never have it set now; it meant something else up to `tail` state format 10).
    private static let queueManagerSenderBit = PostfixMessageCoding.senderFromQueueManagerFlag
    private static let noticeBit = PostfixMessageCoding.noticeFlag
    private static let filterHopBit = PostfixMessageCoding.filterHopFlag
    private static let inUseBit: UInt8 = 8
    private static let subjectCutBit = PostfixMessageCoding.subjectCutFlag
    /// ``HeaderTrust``'s raw value in bits 4 and 5: `believed` is ``PostfixMessageCoding/headerBelievedFlag``,
    /// `notBelieved` ``PostfixMessageCoding/headerNotBelievedFlag``.
    private static let headerTrustShift: UInt8 = 4

    /// Whether the logged Subject reached Postfix's 200-byte cut (``SendEvent/subjectCut``).
    var subjectCut: Bool {
        get { self[flag: Self.subjectCutBit] }
        set { self[flag: Self.subjectCutBit] = newValue }
    }

    /// The flag bit `b` of ``bits``.
    @inline(__always)
    private subscript(flag b: UInt8) -> Bool {
        get { bits & b != 0 }
        set { bits = newValue ? bits | b : bits & ~b }
    }

    /// Whether the slot holds a message (``RecencySlot/inUse``).
    var inUse: Bool {
        get { self[flag: Self.inUseBit] }
        set { self[flag: Self.inUseBit] = newValue }
    }
    /// The message is a notice Postfix generated itself (bounce, DSN, delay warning): no events.
    var isNotice: Bool {
        get { self[flag: Self.noticeBit] }
        set { self[flag: Self.noticeBit] = newValue }
    }
    /// The message was handed to an after-queue content filter that re-injected it under another queue id
    /// (`orig_queue_id=` names this one): its delivery to the filter is not a send.
    var isFilterHop: Bool {
        get { self[flag: Self.filterHopBit] }
        set { self[flag: Self.filterHopBit] = newValue }
    }
    /// Whether ``sender`` came from the qmgr line.
    var senderFromQueueManager: Bool {
        get { self[flag: Self.queueManagerSenderBit] }
        set { self[flag: Self.queueManagerSenderBit] = newValue }
    }
    /// Whether ``account`` is believed (``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``):
    /// decided at the message's first event, from the fields known then, and saved in checkpoints (fields that
    /// arrive later must not change it after a restart).
    var headerTrust: HeaderTrust {
        get { HeaderTrust(rawValue: (bits >> Self.headerTrustShift) & 3) ?? .undecided }
        set { bits = bits & ~(3 << Self.headerTrustShift) | newValue.rawValue << Self.headerTrustShift }
    }

    /// The three flags and ``headerTrust`` as a checkpoint saves them (``PostfixMessageCoding``): ``bits``
    /// without ``inUse``. Setting them marks the slot in use (bit 3 of an old checkpoint is ignored).
    var savedFlags: UInt8 {
        get { bits & ~Self.inUseBit }
        set { bits = newValue | Self.inUseBit }
    }

    /// The number of recipient hashes remembered.
    var attemptedCount: Int { Int(attempted) }

    /// The local submitter (pickup `from=`, i.e. the sender `sendmail` was run with).
    var localUser: String? {
        get { rare.first?.localUser }
        set { if newValue != nil || !rare.isEmpty { updateRare { $0.localUser = newValue } } }
    }
    /// The configured account header's value (first wins).
    var account: String? {
        get { rare.first?.account }
        set { if newValue != nil || !rare.isEmpty { updateRare { $0.account = newValue } } }
    }
    /// The configured template header's value (first wins).
    var template: String? {
        get { rare.first?.template }
        set { if newValue != nil || !rare.isEmpty { updateRare { $0.template = newValue } } }
    }
    /// Recipient hashes past the first ``inlineRecipients``, in attempt order.
    var moreAttempted: [UInt64] { rare.first?.moreAttempted ?? [] }

    /// The queue id as a `String`: made on each call for an id of at most 15 bytes (an inline string, no
    /// allocation), and kept for a longer one after its first event.
    var queueIDText: String {
        mutating get {
            if id.count <= 15 { return id.text }
            if let text = rare.first?.queueIDText { return text }
            let text = id.text
            updateRare { $0.queueIDText = text }
            return text
        }
    }

    /// Whether the message is a notice and nothing else: no field, flag or recipient set since a
    /// `... notification: ID` line named it, so that a ``PostfixPendingNotice`` holds all of it.
    var isBareNotice: Bool {
        bits == Self.inUseBit | Self.noticeBit && attempted == 0 && clientIP == nil && saslUser == nil
            && sender == nil && messageID == nil && subject == nil && localUser == nil && account == nil
            && template == nil
    }

    /// Changes ``rare``'s element, making it first (the setters do not make one to clear a field).
    private mutating func updateRare(_ body: (inout Rare) -> Void) {
        if rare.isEmpty { rare.append(Rare()) }
        body(&rare[0])
    }

    /// Whether the recipient hash `key` was attempted before.
    @inline(__always)
    func hasAttempted(_ key: UInt64) -> Bool {
        if attempted > 0 && attempted0 == key { return true }
        if attempted > 1 && attempted1 == key { return true }
        return attempted > Self.inlineRecipients && rare[0].moreAttempted.contains(key)
    }

    /// Remembers the recipient hash `key` (the caller keeps the count within
    /// ``PostfixParser/maxRememberedRecipients``).
    mutating func addAttempted(_ key: UInt64) {
        switch attempted {
        case 0: attempted0 = key
        case 1: attempted1 = key
        default: updateRare { $0.moreAttempted.append(key) }
        }
        attempted += 1
    }
}

extension PostfixMessage: RecencySlot {
    static var vacant: PostfixMessage {
        var m = PostfixMessage(id: PostfixQueueID(), time: EventTime(microseconds: 0))
        m.inUse = false
        return m
    }

    var key: PostfixQueueID { id }
    var hash: UInt64 { id.hash }
}

extension RecencyTable where Slot == PostfixMessage {
    /// An empty table for at most `capacity` messages.
    init(capacity: Int) { self.init(capacity: capacity, initialBuckets: 1024) }

    /// The slot of the message with queue id `id`, or `nil`.
    ///
    /// - Complexity: O(1) expected.
    @inline(__always)
    func find(_ id: PostfixQueueID) -> Int32? { find(id, hash: id.hash) }
}

/// A queue id known only from a `... notification: ID` line (a bounce, delivery-status or delay notice Postfix
/// generated): a slot of the ``PostfixMessageTable``'s pending notices, 56 bytes instead of a
/// ``PostfixMessage``'s 160.
///
/// Postfix logs a notice's own lines (cleanup, qmgr, the delivery, `removed`) right after naming it, and its
/// first such line moves it into the messages; a log that never shows them (a filtered or sampled log, a log
/// generator) would otherwise keep a full message slot per notice until the open-message timeout: 59,035 of the
/// 59,207 messages open at the end of the independent 10 M-line log (docs/performance.md).
struct PostfixPendingNotice: Sendable {
    var id: PostfixQueueID
    var inUse = true
    /// When the notice was last touched among all entries of its ``PostfixMessageTable``.
    var touchOrder: UInt32 = 0
    var older: Int32 = -1
    var newer: Int32 = -1
    /// The event time of the latest line that named the notice (drives expiry).
    var lastTouched: EventTime

    init(id: PostfixQueueID, time: EventTime) {
        self.id = id
        self.lastTouched = time
    }
}

extension PostfixPendingNotice: RecencySlot {
    static var vacant: PostfixPendingNotice {
        var n = PostfixPendingNotice(id: PostfixQueueID(), time: EventTime(microseconds: 0))
        n.inUse = false
        return n
    }

    var key: PostfixQueueID { id }
    var hash: UInt64 { id.hash }
}

/// The bounded table of open Postfix messages, keyed by the queue id bytes and their scope, with exact
/// least-recently-touched order: messages in one ``RecencyTable`` of ``PostfixMessage`` slots, and notices
/// known only by name (``PostfixPendingNotice``, no line of their own yet) in a second one of compact slots.
///
/// Both tables count against one bound and share one touch counter (``PostfixMessage/touchOrder``), so
/// eviction and expiry see a single order: the least recently touched entry of either table goes first,
/// exactly as if all were in one table. A pending notice that gets a line of its own (or is named by an
/// `orig_queue_id=`) moves into the messages as a ``PostfixMessage`` flagged as a notice and nothing else,
/// keeping its last touch, so the two layouts behave alike; a checkpoint saves both in one list in touch order
/// (a pending notice as such a message), and restoring puts every bare notice back among the pending ones.
///
/// Memory: at most ``capacity`` entries in all, each a 160-byte ``PostfixMessage`` slot plus its strings or a
/// 56-byte ``PostfixPendingNotice`` slot, plus each table's index (4 bytes a bucket, at most half full: up to
/// 4 × the most entries it held at once, rounded up to a power of two). Each table's slot array keeps the size
/// of the most entries it held at once. Touch numbers are 32 bits: when they run out (every 4,294,967,295
/// touches), both tables are numbered again from 0 in their order, O(entries) once.
struct PostfixMessageTable: Sendable {
    /// The messages with a line of their own.
    private(set) var messages: RecencyTable<PostfixMessage>
    /// The notices known only by name.
    private(set) var notices: RecencyTable<PostfixPendingNotice>
    /// The most entries (messages and pending notices) held at once (at least 1).
    let capacity: Int
    /// The touch number the next touch gets.
    private var clock: UInt32 = 0
    /// The touch number at which both tables are numbered again (internal so that a test can make it small).
    var clockLimit = UInt32.max

    /// An empty table for at most `capacity` entries.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
        messages = RecencyTable(capacity: self.capacity, initialBuckets: 1024)
        notices = RecencyTable(capacity: self.capacity, initialBuckets: 1024)
    }

    /// The number of entries: messages and pending notices.
    var count: Int { messages.count + notices.count }

    /// The number of pending notices.
    var pendingNotices: Int { notices.count }

    /// The message in `slot` (a slot ``touch(_:at:)``, ``open(_:at:)`` or ``markNotice(_:at:)`` returned,
    /// valid until the message is removed or evicted).
    subscript(slot: Int32) -> PostfixMessage {
        _read { yield messages[slot] }
        _modify { yield &messages[slot] }
    }

    /// The slot of the message with queue id `id`, touched at `time`, or `nil` when `id` is not open. A pending
    /// notice moves into the messages first.
    ///
    /// - Complexity: O(1) expected.
    mutating func touch(_ id: PostfixQueueID, at time: EventTime) -> Int32? {
        let hash = id.hash
        if let slot = messages.find(id, hash: hash) {
            touchMessage(slot, at: time)
            return slot
        }
        guard notices.count > 0, let pending = notices.find(id, hash: hash) else { return nil }
        let order = nextTouch()
        var m = PostfixMessage(id: id, time: max(notices[pending].lastTouched, time))
        m.isNotice = true
        m.touchOrder = order
        notices.remove(pending)
        return messages.insert(consume m)
    }

    /// The slot of the message with queue id `id`, touched at `time`: an open one (see ``touch(_:at:)``), else a
    /// new, empty one, after evicting the least recently touched entries while the table is full.
    ///
    /// - Returns: the slot, and how many entries were evicted to make room.
    /// - Complexity: O(1) expected.
    mutating func open(_ id: PostfixQueueID, at time: EventTime) -> (slot: Int32, evicted: Int) {
        if let slot = touch(id, at: time) { return (slot, 0) }
        let evicted = makeRoom()
        var m = PostfixMessage(id: id, time: time)
        m.touchOrder = nextTouch()
        return (messages.insert(consume m), evicted)
    }

    /// Marks queue id `id` as a notice touched at `time`: an open message gets the flag, an unknown id becomes
    /// a pending notice (after evicting the least recently touched entries while the table is full), a pending
    /// notice is touched.
    ///
    /// - Returns: whether `id` was not known as a notice before (the caller counts it once), and how many
    ///   entries were evicted to make room.
    /// - Complexity: O(1) expected.
    mutating func markNotice(_ id: PostfixQueueID, at time: EventTime) -> (isNew: Bool, evicted: Int) {
        let hash = id.hash
        if let slot = messages.find(id, hash: hash) {
            touchMessage(slot, at: time)
            if messages[slot].isNotice { return (false, 0) }
            messages[slot].isNotice = true
            return (true, 0)
        }
        if notices.count > 0, let pending = notices.find(id, hash: hash) {
            let order = nextTouch()
            notices.touch(pending, at: time)
            notices[pending].touchOrder = order
            return (false, 0)
        }
        let evicted = makeRoom()
        var n = PostfixPendingNotice(id: id, time: time)
        n.touchOrder = nextTouch()
        _ = notices.insert(n)
        return (true, evicted)
    }

    /// Removes the message or pending notice with queue id `id`.
    ///
    /// - Returns: whether it was open.
    /// - Complexity: O(1) expected.
    mutating func remove(_ id: PostfixQueueID) -> Bool {
        let hash = id.hash
        if let slot = messages.find(id, hash: hash) {
            messages.remove(slot)
            return true
        }
        guard notices.count > 0, let pending = notices.find(id, hash: hash) else { return false }
        notices.remove(pending)
        return true
    }

    /// Whether queue id `id` is open (a message or a pending notice).
    ///
    /// - Complexity: O(1) expected.
    func contains(_ id: PostfixQueueID) -> Bool {
        let hash = id.hash
        return messages.find(id, hash: hash) != nil || notices.find(id, hash: hash) != nil
    }

    /// The last touch of the least recently touched entry of either table, or `nil` when empty.
    ///
    /// Inlined: the parser asks on every line (``PostfixParser``'s idle-expiry test). Called out of line, the
    /// parser passed a copy of the whole table (144 bytes, a `memcpy` per line) and the call cost about 60
    /// instructions a line (docs/performance.md, "Lines that are not deliveries").
    ///
    /// - Complexity: O(1).
    @inline(__always)
    var oldestTouch: EventTime? {
        switch oldest {
        case .message(let slot): messages[slot].lastTouched
        case .notice(let slot): notices[slot].lastTouched
        case nil: nil
        }
    }

    /// Removes the least recently touched entry of either table (nothing when empty).
    ///
    /// - Complexity: O(1) expected.
    mutating func removeOldest() {
        switch oldest {
        case .message(let slot): messages.remove(slot)
        case .notice(let slot): notices.remove(slot)
        case nil: break
        }
    }

    /// Evicts the least recently touched entries while the table is full.
    ///
    /// - Returns: how many were evicted.
    mutating func makeRoom() -> Int {
        var evicted = 0
        while count >= capacity && count > 0 {
            removeOldest()
            evicted += 1
        }
        return evicted
    }

    /// Adds `message` (whose queue id is not open) as the most recently touched entry, after evicting the least
    /// recently touched ones while the table is full: as a pending notice when it is a bare notice
    /// (``PostfixMessage/isBareNotice``), else as a message. Restoring a checkpoint adds its messages oldest
    /// first, which rebuilds the saved order.
    ///
    /// - Returns: how many entries were evicted to make room.
    /// - Complexity: O(1) amortised.
    mutating func restore(_ message: PostfixMessage) -> Int {
        let evicted = makeRoom()
        let order = nextTouch()
        if message.isBareNotice {
            var n = PostfixPendingNotice(id: message.id, time: message.lastTouched)
            n.touchOrder = order
            _ = notices.insert(n)
        } else {
            var m = message
            m.touchOrder = order
            _ = messages.insert(consume m)
        }
        return evicted
    }

    /// Calls `body` with every entry, least recently touched first, a pending notice as a bare notice message.
    ///
    /// - Complexity: O(count).
    func forEachOldestFirst(_ body: (PostfixMessage) throws -> Void) rethrows {
        try forEachEntryOldestFirst { entry in
            switch entry {
            case .message(let slot):
                try body(messages[slot])
            case .notice(let slot):
                var notice = PostfixMessage(id: notices[slot].id, time: notices[slot].lastTouched)
                notice.isNotice = true
                try body(notice)
            }
        }
    }

    /// Drops everything.
    mutating func removeAll() {
        messages.removeAll()
        notices.removeAll()
        clock = 0
    }

    /// An entry of either table.
    private enum Entry {
        case message(Int32)
        case notice(Int32)
    }

    /// The least recently touched entry of either table.
    @inline(__always)
    private var oldest: Entry? {
        guard let n = notices.oldestSlot else { return messages.oldestSlot.map { .message($0) } }
        guard let m = messages.oldestSlot, messages[m].touchOrder < notices[n].touchOrder else { return .notice(n) }
        return .message(m)
    }

    /// Touches the message in `slot`.
    @inline(__always)
    private mutating func touchMessage(_ slot: Int32, at time: EventTime) {
        let order = nextTouch()
        messages.touch(slot, at: time)
        messages[slot].touchOrder = order
    }

    /// The next touch number; numbers both tables again first when they have run out. Called before the touched
    /// entry moves, so that both lists are in touch order when they are numbered again.
    @inline(__always)
    private mutating func nextTouch() -> UInt32 {
        if clock >= clockLimit { renumber() }
        defer { clock &+= 1 }
        return clock
    }

    /// Numbers the entries of both tables 0, 1, ... in their common touch order.
    ///
    /// - Complexity: O(count); allocates a list of the entries (once per 4,294,967,295 touches).
    private mutating func renumber() {
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        forEachEntryOldestFirst { entries.append($0) }
        for (k, entry) in entries.enumerated() {
            switch entry {
            case .message(let slot): messages[slot].touchOrder = UInt32(k)
            case .notice(let slot): notices[slot].touchOrder = UInt32(k)
            }
        }
        clock = UInt32(entries.count)
    }

    /// The touch number of `entry`.
    private func touchOrder(_ entry: Entry) -> UInt32 {
        switch entry {
        case .message(let slot): messages[slot].touchOrder
        case .notice(let slot): notices[slot].touchOrder
        }
    }

    /// Calls `body` with every entry, least recently touched first: the two lists merged by touch number.
    ///
    /// - Complexity: O(count).
    private func forEachEntryOldestFirst(_ body: (Entry) throws -> Void) rethrows {
        var m = messages.oldestSlot ?? -1
        var n = notices.oldestSlot ?? -1
        // Each list holds its table's count; the bound only guards against a loop should the links ever be wrong.
        var left = count
        while (m >= 0 || n >= 0) && left > 0 {
            if n < 0 || (m >= 0 && messages[m].touchOrder < notices[n].touchOrder) {
                try body(.message(m))
                m = messages[m].newer
            } else {
                try body(.notice(n))
                n = notices[n].newer
            }
            left -= 1
        }
    }

    /// Checks that the two lists merge into one strictly increasing run of given-out touch numbers that holds every
    /// entry once, each found by its id in its own table only, and that the bound holds. Traps when one fails.
    ///
    /// - Complexity: O(count).
    func _checkInvariants() {
        precondition(count <= capacity, "PostfixMessageTable: more entries than the bound")
        var previous: UInt32?
        var seen = 0
        forEachEntryOldestFirst { entry in
            let order = touchOrder(entry)
            if let p = previous { precondition(p < order, "PostfixMessageTable: touch numbers out of order") }
            precondition(order < clock, "PostfixMessageTable: a touch number not yet given out")
            switch entry {
            case .message(let slot):
                let id = messages[slot].id
                precondition(messages.find(id, hash: id.hash) == slot, "PostfixMessageTable: message index")
                precondition(notices.find(id, hash: id.hash) == nil, "PostfixMessageTable: message also pending")
            case .notice(let slot):
                let id = notices[slot].id
                precondition(notices.find(id, hash: id.hash) == slot, "PostfixMessageTable: notice index")
                precondition(messages.find(id, hash: id.hash) == nil, "PostfixMessageTable: notice also a message")
            }
            previous = order
            seen += 1
        }
        precondition(seen == count, "PostfixMessageTable: the lists hold \(seen) of \(count) entries")
    }
}
