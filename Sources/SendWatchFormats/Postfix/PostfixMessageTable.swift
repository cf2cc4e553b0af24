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

    /// The id as text (ids are ASCII; made once per message, when its first event is emitted).
    var text: String {
        var words = (w0, w1, w2)
        let n = count
        return withUnsafeBytes(of: &words) {
            String(decoding: UnsafeRawBufferPointer(rebasing: $0[0..<n]), as: UTF8.self)
        }
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
/// past the second) live in ``rare``, an array that is empty for most messages; the flags pack into the queue
/// id's last word. Before, every slot held all of them: 240 bytes, 14 MB of the independent 10 M-line log's
/// peak at its 59,000 open messages (docs/performance.md).
struct PostfixMessage: Sendable {
    // The fields every line of a message reads or writes (table lookup, touch order, expiry, the recipients
    // attempted) come first, so that they share the slot's first cache line; the strings, written once
    // each, come after.
    /// The queue id (the table key).
    var id: PostfixQueueID
    var inUse = true
    /// The message is a notice Postfix generated itself (bounce, DSN, delay warning): no events.
    var isNotice = false
    /// The message was handed to an after-queue content filter that re-injected it under another queue id
    /// (`orig_queue_id=` names this one): its delivery to the filter is not a send.
    var isFilterHop = false
    /// Whether ``sender`` came from the qmgr line.
    var senderFromQueueManager = false
    /// Whether ``account`` is believed (``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``):
    /// decided at the message's first event, from the fields known then, and saved in checkpoints (fields that
    /// arrive later must not change it after a restart).
    var headerTrust: HeaderTrust = .undecided
    /// The number of recipient hashes remembered (at most ``PostfixParser/maxRememberedRecipients``).
    private var attempted: UInt16 = 0
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

/// The bounded table of open Postfix messages, keyed by the queue id bytes and their scope, with exact
/// least-recently-touched order (see ``RecencyTable``).
typealias PostfixMessageTable = RecencyTable<PostfixMessage>

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
