import SendWatchCore

/// What the Postfix parser knows about one open (queued, not yet `removed`) message.
///
/// Strings here are made once, when the line that carries them is read, and survive until the message's
/// state is dropped; every event of the message shares them.
struct PostfixMessage: Sendable {
    /// The queue id as logged.
    var queueID: String
    /// The 64-bit hash of the queue id bytes (the table key).
    var key: UInt64
    /// The event time of the first line seen for the message.
    var firstSeen: EventTime
    /// The event time of the latest line seen for the message (drives expiry).
    var lastTouched: EventTime
    /// The submitting client's IP (smtpd `client=`, or `orig_client=` behind a content filter).
    var clientIP: String?
    /// The SASL user (smtpd `sasl_username=`).
    var saslUser: String?
    /// The local submitter (pickup `from=`, i.e. the sender `sendmail` was run with).
    var localUser: String?
    /// The envelope sender: qmgr `from=` (authoritative), else pickup or the header line's `from=`.
    /// `""` is the null sender.
    var sender: String?
    /// Whether ``sender`` came from the qmgr line.
    var senderFromQueueManager = false
    /// The Message-ID without angle brackets.
    var messageID: String?
    /// The decoded Subject (first Subject header line wins).
    var subject: String?
    /// The configured account header's value (first wins).
    var account: String?
    /// The configured template header's value (first wins).
    var template: String?
    /// The message is a notice Postfix generated itself (bounce, DSN, delay warning): no events.
    var isNotice = false
    /// The message was handed to an after-queue content filter that re-injected it under another queue id
    /// (`orig_queue_id=` names this one): its delivery to the filter is not a send.
    var isFilterHop = false
    /// Hashes of the recipients already attempted (first attempt emitted the event), in attempt order.
    var attempted: [UInt64] = []
    /// LRU links (slot indices, -1 = none).
    var older: Int32 = -1
    var newer: Int32 = -1
    var inUse = true

    init(queueID: String, key: UInt64, time: EventTime) {
        self.queueID = queueID
        self.key = key
        self.firstSeen = time
        self.lastTouched = time
    }
}

/// The bounded table of open Postfix messages, keyed by the hash of the queue id bytes, with exact
/// least-recently-touched order.
///
/// Slots live in one array and are reused through a free list; an intrusive doubly linked list through the
/// slots keeps them in touch order, so eviction (oldest touched) and expiry (idle longer than the timeout,
/// checked at the old end) are O(1) each.
///
/// Key collisions: two different queue ids with the same 64-bit FNV-1a hash are treated as one key; the
/// lookup compares the stored id bytes and, on a mismatch, the older message is dropped (counted incomplete)
/// and the slot starts over for the new id. Queue ids are written by Postfix, so this needs a 64-bit
/// collision between live ids and is a documented corner, not a crash.
struct PostfixMessageTable: Sendable {
    private(set) var slots: [PostfixMessage] = []
    private var index: [UInt64: Int32] = [:]
    private var free: [Int32] = []
    /// Least recently touched slot, or -1.
    private var oldest: Int32 = -1
    /// Most recently touched slot, or -1.
    private var newest: Int32 = -1
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The number of open messages.
    var count: Int { index.count }

    /// The slot of the message with queue id `p[range]` and hash `key`, or `nil`.
    ///
    /// - Complexity: O(1) expected; compares the id bytes once.
    func find(key: UInt64, _ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int32? {
        guard let slot = index[key] else { return nil }
        guard sameID(slots[Int(slot)].queueID, p, range) else { return nil }
        return slot
    }

    /// Whether the table holds `key` for a different id (a hash collision).
    func collides(key: UInt64, _ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int32? {
        guard let slot = index[key], !sameID(slots[Int(slot)].queueID, p, range) else { return nil }
        return slot
    }

    private func sameID(_ id: String, _ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let bytes = UnsafeRawBufferPointer(rebasing: p[range])
        return id.utf8.count == bytes.count && id.utf8.elementsEqual(bytes)
    }

    /// Inserts a new message as the most recently touched; the caller makes room first (``isFull``).
    ///
    /// - Complexity: O(1) amortised.
    mutating func insert(_ message: PostfixMessage) -> Int32 {
        let slot: Int32
        if let s = free.popLast() {
            slot = s
            slots[Int(s)] = message
        } else {
            slot = Int32(slots.count)
            slots.append(message)
        }
        index[message.key] = slot
        linkNewest(slot)
        return slot
    }

    var isFull: Bool { index.count >= capacity }

    /// The least recently touched slot, or `nil` when empty.
    var oldestSlot: Int32? { oldest >= 0 ? oldest : nil }

    /// Marks `slot` as touched at `time` (moves it to the newest end).
    ///
    /// - Complexity: O(1).
    mutating func touch(_ slot: Int32, at time: EventTime) {
        if time > slots[Int(slot)].lastTouched { slots[Int(slot)].lastTouched = time }
        guard newest != slot else { return }
        unlink(slot)
        linkNewest(slot)
    }

    /// Drops `slot`'s message and frees the slot.
    ///
    /// - Complexity: O(1) amortised.
    mutating func remove(_ slot: Int32) {
        guard slots[Int(slot)].inUse else { return }
        unlink(slot)
        index.removeValue(forKey: slots[Int(slot)].key)
        // Release the strings now rather than when the slot is reused.
        slots[Int(slot)] = PostfixMessage(queueID: "", key: 0, time: EventTime(microseconds: 0))
        slots[Int(slot)].inUse = false
        free.append(slot)
    }

    /// Drops everything.
    mutating func removeAll() {
        slots.removeAll()
        index.removeAll()
        free.removeAll()
        oldest = -1
        newest = -1
    }

    subscript(slot: Int32) -> PostfixMessage {
        get { slots[Int(slot)] }
        _modify { yield &slots[Int(slot)] }
    }

    private mutating func unlink(_ slot: Int32) {
        let o = slots[Int(slot)].older
        let w = slots[Int(slot)].newer
        if o >= 0 { slots[Int(o)].newer = w } else { oldest = w }
        if w >= 0 { slots[Int(w)].older = o } else { newest = o }
        slots[Int(slot)].older = -1
        slots[Int(slot)].newer = -1
    }

    private mutating func linkNewest(_ slot: Int32) {
        slots[Int(slot)].older = newest
        slots[Int(slot)].newer = -1
        if newest >= 0 { slots[Int(newest)].newer = slot } else { oldest = slot }
        newest = slot
    }
}
