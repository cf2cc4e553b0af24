import SendWatchCore
import SendWatchWindows

extension AccountAges {
    /// Everything but the configuration (`Codable`): the registry entries, the first-seen table slot for slot
    /// (keys, first-seen seconds, flags), the CLOCK hand, the filter of remembered accounts, the stream start
    /// and the counters.
    ///
    /// Decoding checks the structure and throws `DecodingError.dataCorrupted`;
    /// ``AccountAges/init(configuration:restoring:)`` checks that the table and filter sizes fit the
    /// configuration.
    public struct Checkpoint: Codable, Sendable {
        var registryKeys: [UInt64]
        var registryCreated: [EventTime]
        var keys: [UInt64]
        var firstSeen: [Int64]
        var flags: [UInt8]
        var hand: Int
        var filter: [UInt64]
        var streamStart: EventTime?
        var tracked: Int
        var evictions: Int

        enum CodingKeys: String, CodingKey {
            case registryKeys, registryCreated, keys, firstSeen, flags, hand, filter, streamStart, tracked, evictions
        }

        init(_ a: AccountAges) {
            // Sorted by key, so that the same state always encodes to the same bytes.
            let registry = a.registry.sorted { $0.key < $1.key }
            registryKeys = registry.map(\.key)
            registryCreated = registry.map(\.value)
            keys = a.keys
            firstSeen = a.firstSeen
            flags = a.flags
            hand = a.hand
            filter = a.filter
            streamStart = a.streamStart
            tracked = a.tracked
            evictions = a.evictions
        }

        /// Decodes and checks the structure.
        ///
        /// - Throws: `DecodingError.dataCorrupted` when the table arrays differ in length or are not a power of
        ///   two of at least 16 slots, the filter is not a power of two of words, the hand is out of range, a
        ///   registry key repeats, the number of used slots is not `tracked` or leaves no free slot, a time or
        ///   counter is out of range.
        /// - Complexity: O(table slots + registry).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            registryKeys = try c.decode([UInt64].self, forKey: .registryKeys)
            registryCreated = try c.decode([EventTime].self, forKey: .registryCreated)
            keys = try c.decode([UInt64].self, forKey: .keys)
            firstSeen = try c.decode([Int64].self, forKey: .firstSeen)
            flags = try c.decode([UInt8].self, forKey: .flags)
            hand = try c.decode(Int.self, forKey: .hand)
            filter = try c.decode([UInt64].self, forKey: .filter)
            streamStart = try c.decodeIfPresent(EventTime.self, forKey: .streamStart)
            tracked = try c.decode(Int.self, forKey: .tracked)
            evictions = try c.decode(Int.self, forKey: .evictions)
            let n = keys.count
            try StateCheck.require(registryKeys.count == registryCreated.count
                                       && Set(registryKeys).count == registryKeys.count, "AccountAges: registry", decoder)
            try StateCheck.require(n >= 16 && n & (n - 1) == 0 && firstSeen.count == n && flags.count == n,
                                   "AccountAges: table of \(n) keys, \(firstSeen.count) times, \(flags.count) flags",
                                   decoder)
            try StateCheck.require(!filter.isEmpty && filter.count & (filter.count - 1) == 0,
                                   "AccountAges: filter of \(filter.count) words", decoder)
            try StateCheck.require(hand >= 0 && hand < n, "AccountAges: hand \(hand)", decoder)
            let maxSeconds = StateCheck.maxTime / 1_000_000
            try StateCheck.require(firstSeen.allSatisfy { $0 >= -maxSeconds && $0 <= maxSeconds },
                                   "AccountAges: first-seen time out of range", decoder)
            var used = 0
            for f in flags where f & AccountAges.used != 0 { used += 1 }
            // A table with no free slot would make a probe for an absent key loop forever.
            try StateCheck.require(used == tracked && used < n, "AccountAges: \(used) used slots, tracked \(tracked)",
                                   decoder)
            try StateCheck.require(StateCheck.isCount(evictions), "AccountAges: evictions out of range", decoder)
        }
    }

    /// The state, for a checkpoint (see ``Checkpoint``).
    ///
    /// - Complexity: O(table slots + registry) (the arrays are shared copy-on-write; the registry is sorted).
    public func checkpoint() -> Checkpoint { Checkpoint(self) }

    /// Rebuilds the ages with `configuration` and the saved state.
    ///
    /// - Throws: ``DetectionCheckpointError`` when the table or filter size differs from what `configuration`
    ///   makes (a different ``Configuration/maxTrackedAccounts`` or ``Configuration/rememberedFilterBits``), or
    ///   more accounts are tracked than it allows.
    public init(configuration: Configuration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        guard checkpoint.keys.count == keys.count, checkpoint.filter.count == filter.count else {
            throw DetectionCheckpointError(
                "account ages: table of \(checkpoint.keys.count) slots and filter of \(checkpoint.filter.count) words, "
                    + "the configuration makes \(keys.count) and \(filter.count)")
        }
        guard checkpoint.tracked <= configuration.maxTrackedAccounts else {
            throw DetectionCheckpointError(
                "account ages: \(checkpoint.tracked) tracked, maxTrackedAccounts is \(configuration.maxTrackedAccounts)")
        }
        registry = Dictionary(uniqueKeysWithValues: zip(checkpoint.registryKeys, checkpoint.registryCreated))
        keys = checkpoint.keys
        firstSeen = checkpoint.firstSeen
        flags = checkpoint.flags
        hand = checkpoint.hand
        filter = checkpoint.filter
        streamStart = checkpoint.streamStart
        tracked = checkpoint.tracked
        evictions = checkpoint.evictions
    }
}
