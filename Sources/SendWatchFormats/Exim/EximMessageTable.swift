/// What the parser remembers about one Exim message between its lines: a slot of the ``EximMessageTable``.
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

    /// The message id's bytes (the table key) and their hash (``Bytes/hash(_:_:)``).
    var key: EximMessageKey
    var hash: UInt64
    /// The event time of the message's latest line, in seconds (drives expiry).
    var lastTouched: Int64
    /// Recency links and use flag, owned by the table.
    var older: Int32 = -1
    var newer: Int32 = -1
    var inUse = true
    var phase: Phase
    /// The message id as text, for events.
    var queueID: String
    var accountHeader: String?
    /// Whether ``accountHeader`` is believed; decided at the message's first event and saved in checkpoints (a
    /// restart, perhaps with other trusted logins or networks, must not change it for the later deliveries).
    var headerTrust: HeaderTrust = .undecided
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

    init(key: EximMessageKey, hash: UInt64, seconds: Int64, phase: Phase, queueID: String) {
        self.key = key
        self.hash = hash
        self.lastTouched = seconds
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

/// The bounded table of open Exim messages, keyed by the message id's bytes, with least-recently-touched
/// eviction and an event-time idle expiry (see ``RecencyTable``). Lookups hash the id bytes of the line; no
/// `String` is made.
typealias EximMessageTable = RecencyTable<EximMessageState>

extension EximMessageState: RecencySlot {
    static var vacant: EximMessageState {
        var s = EximMessageState(key: EximMessageKey(), hash: 0, seconds: 0, phase: .pending, queueID: "")
        s.inUse = false
        return s
    }
}

extension RecencyTable where Slot == EximMessageState {
    /// An empty table for at most `capacity` messages.
    init(capacity: Int) { self.init(capacity: capacity, initialBuckets: 64) }
}
