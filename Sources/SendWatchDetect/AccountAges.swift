public import SendWatchCore

/// How old an account is, and how SendWatch knows.
public struct AccountAge: Sendable, Equatable {
    /// Where the age comes from.
    public enum Basis: String, Sendable, Equatable, Codable {
        /// A creation time from the data (JSON `account_created`, or the `--accounts` registry).
        case created
        /// The account's first event in the stream.
        case firstSeen = "first_seen"
        /// First seen during the warm-up: established, age unknown.
        case warmup
        /// Seen long ago and since dropped from the first-seen table: established, age unknown.
        case remembered
    }

    /// Whether the account counts as young (younger than the configured new-account age).
    public var isYoung: Bool
    /// The age in seconds at the event, when known.
    public var ageSeconds: Int64?
    public var basis: Basis

    public init(isYoung: Bool, ageSeconds: Int64?, basis: Basis) {
        self.isYoung = isYoung
        self.ageSeconds = ageSeconds
        self.basis = basis
    }
}

/// The age of every account: its creation time when the data has one, else its first-seen time in the stream.
///
/// A replay that starts cold would otherwise call every account new, so accounts first seen during the
/// warm-up (the first ``Configuration/warmupSeconds`` of event time) count as established.
///
/// The first-seen table is bounded by ``Configuration/maxTrackedAccounts``. At the bound an entry is evicted
/// with the CLOCK policy (an approximation of least recently seen: each entry has a "seen" bit that the sweep
/// clears before evicting). An evicted account that was already established (old enough, or first seen in the
/// warm-up) is remembered in a Bloom filter of ``Configuration/rememberedFilterBits`` bits, so that it is not
/// mistaken for a new account when it comes back; with 1 M remembered accounts and the default 16 M bits the
/// false-positive rate (a new account taken for an old one) is about 0.2 %. An evicted young account is
/// forgotten: if it comes back it is young again, with its age measured from its return (it cannot look older
/// than it is). ``evictions`` counts evictions.
///
/// Memory: 17 bytes per table slot (key, first-seen time, flags). The table starts at ``initialSlots`` slots
/// and doubles whenever it would pass half full, up to ``maximumSlots``: the power of two at least twice
/// ``Configuration/maxTrackedAccounts`` (about 36 MB for the default 1 M). So a deployment with 20,000 accounts
/// uses 1 MB, which also stays in the processor's cache (a table sized for a million accounts from the start
/// made every lookup a cache miss). Plus the filter (2 MB by default, allocated at the first eviction of an
/// established account: until then it would remember nothing) and the registry.
public struct AccountAges: Sendable {
    /// Settings; times in seconds of event time.
    public struct Configuration: Sendable, Equatable {
        /// Accounts first seen within this long after the first event are established. Default 1 hour.
        public var warmupSeconds: Int64
        /// An account younger than this is young. Default 7 days.
        public var newAccountAgeSeconds: Int64
        /// Most accounts in the first-seen table. Default 1,000,000.
        public var maxTrackedAccounts: Int
        /// Bits of the filter of evicted established accounts (rounded up to a power of two). Default 2²⁴.
        public var rememberedFilterBits: Int

        public init(
            warmupSeconds: Int64 = 3600, newAccountAgeSeconds: Int64 = 7 * 86_400, maxTrackedAccounts: Int = 1_000_000,
            rememberedFilterBits: Int = 1 << 24
        ) {
            self.warmupSeconds = warmupSeconds
            self.newAccountAgeSeconds = newAccountAgeSeconds
            self.maxTrackedAccounts = maxTrackedAccounts
            self.rememberedFilterBits = rememberedFilterBits
        }
    }

    public let configuration: Configuration
    /// Creation times from the `--accounts` registry, by account hash.
    var registry: [UInt64: EventTime] = [:]
    var keys: [UInt64]
    var firstSeen: [Int64]
    var flags: [UInt8]
    var hand = 0
    var mask: Int
    /// The filter's words: empty until an established account is first evicted, then ``filterWords`` words.
    var filter: [UInt64] = []
    var filterMask: UInt64
    /// Words of the filter once it is allocated.
    let filterWords: Int
    /// The first event's time: the start of the warm-up.
    public internal(set) var streamStart: EventTime?
    /// Accounts in the table.
    public internal(set) var tracked = 0
    /// Accounts evicted from the table.
    public internal(set) var evictions = 0
    /// The keys (``StableHash`` with the lowest bit set, as the table stores them) of the changes that may have
    /// changed an account's ``ageBase(accountKey:)``, not saved: a registry entry, an eviction, and, once the
    /// table has evicted, every account added (it may be one that came back). A cache of bases
    /// (``ListedAccounts``) re-reads only the bases of the keys logged since it last read them, or all of them
    /// when the log no longer reaches back. Memory: ``YoungTouchLog/capacity`` keys (128 KB), allocated at the
    /// first change.
    var baseLog = YoungTouchLog()
    /// Changes that may have changed a base so far (``baseLog``'s ``YoungTouchLog/total``): a cache of bases is
    /// valid while this is unchanged.
    var baseChanges: UInt64 { baseLog.total }

    static let used: UInt8 = 1
    private static let seen: UInt8 = 2
    private static let established: UInt8 = 4

    /// Slots the table starts with (fewer when ``maximumSlots`` is smaller).
    static var initialSlots: Int { 1024 }

    /// The most slots the table grows to: the power of two at least twice ``Configuration/maxTrackedAccounts``
    /// (at least 16).
    static func maximumSlots(_ configuration: Configuration) -> Int {
        max(16, Int.powerOfTwo(atLeast: max(1, configuration.maxTrackedAccounts) * 2))
    }

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        let size = min(Self.initialSlots, Self.maximumSlots(configuration))
        keys = [UInt64](repeating: 0, count: size)
        firstSeen = [Int64](repeating: 0, count: size)
        flags = [UInt8](repeating: 0, count: size)
        mask = size - 1
        let bits = max(64, Int.powerOfTwo(atLeast: configuration.rememberedFilterBits))
        filterWords = bits / 64
        filterMask = UInt64(bits - 1)
    }

    /// Adds a creation time from the account registry (`--accounts FILE`). The registry is not bounded by
    /// this type: it holds what the file holds (about 80 bytes per account).
    public mutating func register(account: String, created: EventTime) {
        let key = StableHash.of(account)
        registry[key] = created
        baseLog.append(key | 1)
    }

    /// The number of registry entries.
    public var registered: Int { registry.count }

    /// Whether the warm-up is over at `now`.
    public func warmupEnded(at now: EventTime) -> Bool {
        guard let start = streamStart else { return false }
        return now.microseconds - start.microseconds >= configuration.warmupSeconds * 1_000_000
    }

    /// Records an event of `account` at `now` and returns its age.
    ///
    /// - Parameter created: the creation time carried by the event itself, if any; it wins over the registry.
    /// - Complexity: O(1) amortised (one hash, a short probe; eviction sweeps amortise to O(1)).
    public mutating func observe(account: String, created: EventTime?, at now: EventTime) -> AccountAge {
        observe(accountHash: StableHash.of(account), created: created, at: now)
    }

    /// ``observe(account:created:at:)`` for a caller that already has the account's `StableHash`.
    public mutating func observe(accountHash raw: UInt64, created: EventTime?, at now: EventTime) -> AccountAge {
        if streamStart == nil { streamStart = now }
        let hash = raw | 1  // 0 marks an empty slot
        if let c = created ?? (registry.isEmpty ? nil : registry[raw]) {
            let age = max(0, now.seconds - c.seconds)
            return AccountAge(isYoung: age < configuration.newAccountAgeSeconds, ageSeconds: age, basis: .created)
        }
        var i = Int(truncatingIfNeeded: hash >> 7) & mask
        while flags[i] & Self.used != 0 {
            if keys[i] == hash {
                flags[i] |= Self.seen
                if flags[i] & Self.established != 0 {
                    return AccountAge(isYoung: false, ageSeconds: nil, basis: .warmup)
                }
                let age = max(0, now.seconds - firstSeen[i])
                return AccountAge(isYoung: age < configuration.newAccountAgeSeconds, ageSeconds: age, basis: .firstSeen)
            }
            i = (i + 1) & mask
        }
        if remembered(hash) { return AccountAge(isYoung: false, ageSeconds: nil, basis: .remembered) }
        let inWarmup = !warmupEnded(at: now)
        if tracked >= configuration.maxTrackedAccounts {
            evictOne(now: now)
            // The eviction may have moved entries: find the free slot again.
            i = Int(truncatingIfNeeded: hash >> 7) & mask
            while flags[i] & Self.used != 0 { i = (i + 1) & mask }
        } else if (tracked + 1) * 2 > keys.count && keys.count < Self.maximumSlots(configuration) {
            resize(to: keys.count * 2)
            i = Int(truncatingIfNeeded: hash >> 7) & mask
            while flags[i] & Self.used != 0 { i = (i + 1) & mask }
        }
        keys[i] = hash
        firstSeen[i] = now.seconds
        flags[i] = Self.used | Self.seen | (inWarmup ? Self.established : 0)
        tracked += 1
        if evictions > 0 { baseLog.append(hash) }
        if inWarmup { return AccountAge(isYoung: false, ageSeconds: nil, basis: .warmup) }
        return AccountAge(isYoung: configuration.newAccountAgeSeconds > 0, ageSeconds: 0, basis: .firstSeen)
    }

    /// The age of `account` at `now` without recording anything.
    public func peek(account: String, at now: EventTime) -> AccountAge? {
        peek(accountKey: StableHash.of(account), at: now)
    }

    /// The age at `now` of the account whose ``StableHash/of(_:)`` is `raw`, without recording anything: for
    /// callers that hold the account's key already and would otherwise hash its name again.
    ///
    /// - Complexity: O(1) expected. No allocation.
    func peek(accountKey raw: UInt64, at now: EventTime) -> AccountAge? {
        let hash = raw | 1
        if !registry.isEmpty, let c = registry[raw] {
            let age = max(0, now.seconds - c.seconds)
            return AccountAge(isYoung: age < configuration.newAccountAgeSeconds, ageSeconds: age, basis: .created)
        }
        var i = Int(truncatingIfNeeded: hash >> 7) & mask
        while flags[i] & Self.used != 0 {
            if keys[i] == hash {
                if flags[i] & Self.established != 0 {
                    return AccountAge(isYoung: false, ageSeconds: nil, basis: .warmup)
                }
                let age = max(0, now.seconds - firstSeen[i])
                return AccountAge(isYoung: age < configuration.newAccountAgeSeconds, ageSeconds: age, basis: .firstSeen)
            }
            i = (i + 1) & mask
        }
        return remembered(hash) ? AccountAge(isYoung: false, ageSeconds: nil, basis: .remembered) : nil
    }

    /// The time an account's age at `now` is measured from, when ``peek(accountKey:at:)`` gives one: that age is
    /// `max(0, now.seconds - base)` at every `now`, until ``baseChanges`` changes.
    ///
    /// - Complexity: O(1) expected. No allocation.
    func ageBase(accountKey raw: UInt64) -> Int64? {
        let hash = raw | 1
        if !registry.isEmpty, let c = registry[raw] { return c.seconds }
        var i = Int(truncatingIfNeeded: hash >> 7) & mask
        while flags[i] & Self.used != 0 {
            if keys[i] == hash { return flags[i] & Self.established != 0 ? nil : firstSeen[i] }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Moves every entry into a table of `size` slots (a power of two that holds them at most half full).
    ///
    /// - Complexity: O(old slots + new slots).
    mutating func resize(to size: Int) {
        var newKeys = [UInt64](repeating: 0, count: size)
        var newFirstSeen = [Int64](repeating: 0, count: size)
        var newFlags = [UInt8](repeating: 0, count: size)
        let newMask = size - 1
        for j in keys.indices where flags[j] & Self.used != 0 {
            var i = Int(truncatingIfNeeded: keys[j] >> 7) & newMask
            while newFlags[i] & Self.used != 0 { i = (i + 1) & newMask }
            newKeys[i] = keys[j]
            newFirstSeen[i] = firstSeen[j]
            newFlags[i] = flags[j]
        }
        keys = newKeys
        firstSeen = newFirstSeen
        flags = newFlags
        mask = newMask
        // The sweep only runs at the bound, where the table no longer grows; start it over.
        hand = 0
    }

    /// CLOCK sweep: clear "seen" bits until an unseen entry is found, then evict it.
    private mutating func evictOne(now: EventTime) {
        while true {
            let f = flags[hand]
            if f & Self.used != 0 {
                if f & Self.seen != 0 {
                    flags[hand] = f & ~Self.seen
                } else {
                    let old =
                        f & Self.established != 0
                        || now.seconds - firstSeen[hand] >= configuration.newAccountAgeSeconds
                    if old { remember(keys[hand]) }
                    baseLog.append(keys[hand])
                    remove(at: hand)
                    evictions += 1
                    return
                }
            }
            hand = (hand + 1) & mask
        }
    }

    /// Backward-shift deletion keeps linear probing correct without tombstones.
    private mutating func remove(at slot: Int) {
        var hole = slot
        var j = slot
        while true {
            j = (j + 1) & mask
            guard flags[j] & Self.used != 0 else { break }
            let home = Int(truncatingIfNeeded: keys[j] >> 7) & mask
            // Move j into the hole when its home is not cyclically within (hole, j].
            let distHole = (hole - home) & mask
            let distJ = (j - home) & mask
            if distHole <= distJ {
                keys[hole] = keys[j]
                firstSeen[hole] = firstSeen[j]
                flags[hole] = flags[j]
                hole = j
            }
        }
        keys[hole] = 0
        firstSeen[hole] = 0
        flags[hole] = 0
        tracked -= 1
    }

    private mutating func remember(_ hash: UInt64) {
        if filter.isEmpty { filter = [UInt64](repeating: 0, count: filterWords) }
        var h = hash
        for _ in 0..<4 {
            h = (h ^ (h >> 33)) &* 0xff51_afd7_ed55_8ccd
            let bit = h & filterMask
            filter[Int(bit >> 6)] |= 1 << (bit & 63)
        }
    }

    private func remembered(_ hash: UInt64) -> Bool {
        guard !filter.isEmpty else { return false }
        var h = hash
        for _ in 0..<4 {
            h = (h ^ (h >> 33)) &* 0xff51_afd7_ed55_8ccd
            let bit = h & filterMask
            if filter[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Checks the table's structure; for tests.
    public func _checkInvariants() -> Bool {
        var count = 0
        for i in 0...mask where flags[i] & Self.used != 0 {
            count += 1
            // Every entry is reachable from its home slot without crossing an empty slot.
            var k = Int(truncatingIfNeeded: keys[i] >> 7) & mask
            while k != i {
                if flags[k] & Self.used == 0 { return false }
                k = (k + 1) & mask
            }
        }
        return count == tracked && tracked <= configuration.maxTrackedAccounts
            && (tracked * 2 <= keys.count || keys.count == Self.maximumSlots(configuration))
    }

    /// The table's current slot count; for tests.
    public var _slotCount: Int { keys.count }

    /// Whether the filter of remembered accounts is allocated; for tests.
    public var _filterAllocated: Bool { !filter.isEmpty }
}
