/// What the parser remembers about one Exim message between its lines.
struct EximMessageState: Sendable {
    /// How much of the message the parser has seen.
    enum Phase: UInt8, Sendable {
        /// Only an account/template header line (ACL `logwrite`) so far; the `<=` line is expected next.
        case pending
        /// The `<=` line was read: deliveries become events.
        case arrived
        /// A bounce or other Exim-generated notice (`<= <>`, `R=`): its deliveries never become events.
        case notice
        /// First seen on a delivery line (the log began mid-message); only the `F=` sender is known.
        case orphan
    }

    var phase: Phase
    /// The message id as text, for events.
    var queueID: String
    var accountHeader: String?
    var template: String?
    var authenticated: String?
    var localUser: String?
    var sender: String = ""
    var subject: String?
    var messageID: String?
    var clientIP: String?
    /// Recipients already attempted, as 64-bit hashes of their bytes: small linear array first, a set for
    /// messages with many recipients so a 10,000-recipient message stays O(1) per delivery line.
    var attempted: [UInt64] = []
    var attemptedLarge: Set<UInt64>?

    /// The most recipient hashes kept in ``attempted`` before switching to ``attemptedLarge``.
    static let maxAttemptedInArray = 32

    init(phase: Phase, queueID: String) {
        self.phase = phase
        self.queueID = queueID
    }

    /// Records that `hash` was attempted; returns `false` when it already was.
    ///
    /// - Complexity: amortised O(1) (linear in at most 32 hashes before switching to a set).
    mutating func insertAttempted(_ hash: UInt64) -> Bool {
        if attemptedLarge != nil {
            return attemptedLarge!.insert(hash).inserted  // Safe to force unwrap: checked on the line above.
        }
        if attempted.contains(hash) { return false }
        if attempted.count < Self.maxAttemptedInArray {
            attempted.append(hash)
        } else {
            var set = Set(attempted)
            set.insert(hash)
            attemptedLarge = set
            attempted = []
        }
        return true
    }

    /// Whether dropping this state before its `Completed` line loses part of a real message.
    var countsAsIncomplete: Bool { phase == .arrived }
}

/// A bounded hash table of open Exim messages, keyed by the message id's bytes, with least-recently-touched
/// eviction and an event-time idle expiry.
///
/// Lookups hash the id bytes of the line (no `String` is made); buckets hold indices into an entry array and
/// use linear probing with backward-shift deletion, so there are no tombstones. Entries form a doubly linked
/// list in touch order: the head is the least recently touched entry, which is what both eviction and expiry
/// remove first.
///
/// Memory: at most `capacity` entries plus a bucket array of at most twice the next power of two; the
/// per-entry cost is dominated by the stored strings (subject, addresses) and 8 bytes per attempted recipient.
struct EximMessageTable: Sendable {
    struct Entry: Sendable {
        var key: EximMessageKey
        var hash: UInt64
        var lastSeenSeconds: Int64
        var prev: Int32
        var next: Int32
        var state: EximMessageState
    }

    private(set) var entries: [Entry?] = []
    private var freeSlots: [Int32] = []
    /// Entry index per bucket, -1 when empty. Its count is a power of two.
    private var buckets: [Int32] = Array(repeating: -1, count: 64)
    private(set) var head: Int32 = -1
    private var tail: Int32 = -1
    private(set) var count = 0
    /// The most entries held at once (at least 1).
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var isFull: Bool { count >= capacity }

    /// The entry index of `key`, or `nil`.
    ///
    /// - Complexity: O(1) expected.
    func find(_ key: EximMessageKey, hash: UInt64) -> Int32? {
        let mask = buckets.count - 1
        var b = Int(truncatingIfNeeded: hash) & mask
        while true {
            let e = buckets[b]
            if e < 0 { return nil }
            if let entry = entries[Int(e)], entry.hash == hash, entry.key == key { return e }
            b = (b + 1) & mask
        }
    }

    /// Inserts a new entry as the most recently touched one. The caller makes room first (``isFull``).
    ///
    /// - Complexity: amortised O(1).
    mutating func insert(
        _ key: EximMessageKey, hash: UInt64, seconds: Int64, state: EximMessageState
    ) -> Int32 {
        if (count + 1) * 2 > buckets.count { grow() }
        let entry = Entry(key: key, hash: hash, lastSeenSeconds: seconds, prev: tail, next: -1, state: state)
        let index: Int32
        if let free = freeSlots.popLast() {
            index = free
            entries[Int(free)] = entry
        } else {
            index = Int32(entries.count)
            entries.append(entry)
        }
        if tail >= 0 { entries[Int(tail)]!.next = index } else { head = index }  // Safe: list members exist.
        tail = index
        placeInBucket(index, hash: hash)
        count += 1
        return index
    }

    /// Marks `index` as touched at `seconds`: it becomes the most recently touched entry.
    ///
    /// - Complexity: O(1).
    mutating func touch(_ index: Int32, seconds: Int64) {
        entries[Int(index)]!.lastSeenSeconds = max(entries[Int(index)]!.lastSeenSeconds, seconds)  // Safe: live.
        guard index != tail else { return }
        unlink(index)
        entries[Int(index)]!.prev = tail  // Safe: live entry.
        entries[Int(index)]!.next = -1
        if tail >= 0 { entries[Int(tail)]!.next = index } else { head = index }
        tail = index
    }

    /// Reads or changes the state of a live entry.
    subscript(index: Int32) -> EximMessageState {
        get { entries[Int(index)]!.state }  // Safe to force unwrap: indices come from find/insert.
        _modify { yield &entries[Int(index)]!.state }
    }

    /// The last-seen time of a live entry.
    func lastSeenSeconds(_ index: Int32) -> Int64 { entries[Int(index)]!.lastSeenSeconds }  // Safe: live.

    /// Removes a live entry and returns its state.
    ///
    /// - Complexity: O(1) expected (backward-shift deletion moves at most the entries of one probe run).
    @discardableResult
    mutating func remove(_ index: Int32) -> EximMessageState {
        let entry = entries[Int(index)]!  // Safe to force unwrap: indices come from find/insert/head.
        unlink(index)
        removeFromBuckets(index, hash: entry.hash)
        entries[Int(index)] = nil
        freeSlots.append(index)
        count -= 1
        return entry.state
    }

    /// Removes everything, calling `body` with each state, least recently touched first.
    mutating func removeAll(_ body: (EximMessageState) -> Void) {
        var i = head
        while i >= 0 {
            guard let e = entries[Int(i)] else { break }
            body(e.state)
            i = e.next
        }
        entries.removeAll()
        freeSlots.removeAll()
        buckets = Array(repeating: -1, count: 64)
        head = -1
        tail = -1
        count = 0
    }

    private mutating func unlink(_ index: Int32) {
        let e = entries[Int(index)]!  // Safe: live entry.
        if e.prev >= 0 { entries[Int(e.prev)]!.next = e.next } else { head = e.next }
        if e.next >= 0 { entries[Int(e.next)]!.prev = e.prev } else { tail = e.prev }
    }

    private mutating func placeInBucket(_ index: Int32, hash: UInt64) {
        let mask = buckets.count - 1
        var b = Int(truncatingIfNeeded: hash) & mask
        while buckets[b] >= 0 { b = (b + 1) & mask }
        buckets[b] = index
    }

    private mutating func removeFromBuckets(_ index: Int32, hash: UInt64) {
        let mask = buckets.count - 1
        var b = Int(truncatingIfNeeded: hash) & mask
        while buckets[b] != index {
            if buckets[b] < 0 { return }
            b = (b + 1) & mask
        }
        // Backward-shift: move later members of the probe run into the hole when their home allows it.
        var hole = b
        var j = (hole + 1) & mask
        while buckets[j] >= 0 {
            let h = entries[Int(buckets[j])]!.hash  // Safe: buckets only hold live entries.
            let home = Int(truncatingIfNeeded: h) & mask
            // Move when home is not cyclically within (hole, j].
            let distHome = (j - home) & mask
            let distHole = (j - hole) & mask
            if distHome >= distHole {
                buckets[hole] = buckets[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        buckets[hole] = -1
    }

    private mutating func grow() {
        let newCount = buckets.count * 2
        buckets = Array(repeating: -1, count: newCount)
        var i = head
        while i >= 0, let e = entries[Int(i)] {
            placeInBucket(i, hash: e.hash)
            i = e.next
        }
    }
}
