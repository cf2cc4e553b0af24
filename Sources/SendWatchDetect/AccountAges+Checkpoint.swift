import SendWatchCore
import SendWatchWindows

extension AccountAges {
    /// Everything but the configuration (`Codable`): the registry entries, the first-seen table's slots in use
    /// (index, key, first-seen seconds, flags), the CLOCK hand, the filter of remembered accounts, the stream start
    /// and the counters.
    ///
    /// Decoding checks the structure and throws `DecodingError.dataCorrupted`;
    /// ``AccountAges/init(configuration:restoring:)`` checks that the table and filter sizes fit the
    /// configuration.
    public struct Checkpoint: Codable, Sendable {
        /// The registry's accounts (keys) and creation times.
        var registry: SortedColumns<UInt64, EventTime>
        /// Slots in the first-seen table; only the slots in use (or with any bit set) are stored, so a table
        /// sized for a million accounts costs nothing in the checkpoint while it is nearly empty.
        var slotCount: Int
        var slotIndices: [UInt32]
        var slotKeys: [UInt64]
        var slotFirstSeen: [Int64]
        var slotFlags: [UInt8]
        var hand: Int
        /// Words in the filter of remembered accounts, and the non-zero ones.
        var filterWords: Int
        var filterIndices: [UInt32]
        var filterValues: [UInt64]
        var streamStart: EventTime?
        var tracked: Int
        var evictions: Int

        /// The saved fields, in the order the synthesized `encode(to:)` writes them and `init(from:)` reads them.
        enum CodingKeys: String, CodingKey {
            case registry, slotCount, slotIndices, slotKeys, slotFirstSeen, slotFlags, hand
            case filterWords, filterIndices, filterValues, streamStart, tracked, evictions
        }

        init(_ a: AccountAges) {
            registry = SortedColumns(a.registry)
            slotCount = a.keys.count
            slotIndices = []
            slotKeys = []
            slotFirstSeen = []
            slotFlags = []
            for i in a.keys.indices where a.flags[i] != 0 || a.keys[i] != 0 || a.firstSeen[i] != 0 {
                slotIndices.append(UInt32(i))
                slotKeys.append(a.keys[i])
                slotFirstSeen.append(a.firstSeen[i])
                slotFlags.append(a.flags[i])
            }
            hand = a.hand
            filterWords = a.filterWords
            filterIndices = []
            filterValues = []
            for (i, w) in a.filter.enumerated() where w != 0 {
                filterIndices.append(UInt32(i))
                filterValues.append(w)
            }
            streamStart = a.streamStart
            tracked = a.tracked
            evictions = a.evictions
        }

        /// Decodes and checks the structure.
        ///
        /// - Throws: `DecodingError.dataCorrupted` when the table is not a power of two of at least 16 slots (at
        ///   most 2^31), the stored slots' arrays differ in length or their indices are not increasing and in
        ///   range, the filter is not a power of two of words or its indices are not increasing and in range,
        ///   the hand is out of range, a registry key repeats or the registry's keys and times differ in number, the number of used slots is not `tracked` or
        ///   leaves no free slot, a time or counter is out of range.
        /// - Complexity: O(stored slots + registry).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            registry = try c.decode(SortedColumns.self, forKey: .registry)
            slotCount = try c.decode(Int.self, forKey: .slotCount)
            slotIndices = try c.decode([UInt32].self, forKey: .slotIndices)
            slotKeys = try c.decode([UInt64].self, forKey: .slotKeys)
            slotFirstSeen = try c.decode([Int64].self, forKey: .slotFirstSeen)
            slotFlags = try c.decode([UInt8].self, forKey: .slotFlags)
            hand = try c.decode(Int.self, forKey: .hand)
            filterWords = try c.decode(Int.self, forKey: .filterWords)
            filterIndices = try c.decode([UInt32].self, forKey: .filterIndices)
            filterValues = try c.decode([UInt64].self, forKey: .filterValues)
            streamStart = try c.decodeIfPresent(EventTime.self, forKey: .streamStart)
            tracked = try c.decode(Int.self, forKey: .tracked)
            evictions = try c.decode(Int.self, forKey: .evictions)
            let n = slotCount
            try StateCheck.require(
                n >= 16 && n <= 1 << 31 && n & (n - 1) == 0, "AccountAges: table of \(n) slots",
                decoder)
            try StateCheck.require(
                slotKeys.count == slotIndices.count && slotFirstSeen.count == slotIndices.count
                    && slotFlags.count == slotIndices.count && Self.increasing(slotIndices, below: n),
                "AccountAges: stored slots", decoder)
            try StateCheck.require(
                filterWords > 0 && filterWords <= 1 << 31 && filterWords & (filterWords - 1) == 0
                    && filterValues.count == filterIndices.count
                    && Self.increasing(filterIndices, below: filterWords),
                "AccountAges: filter of \(filterWords) words", decoder)
            try StateCheck.require(hand >= 0 && hand < n, "AccountAges: hand \(hand)", decoder)
            let maxSeconds = StateCheck.maxTime / 1_000_000
            try StateCheck.require(
                slotFirstSeen.allSatisfy { $0 >= -maxSeconds && $0 <= maxSeconds },
                "AccountAges: first-seen time out of range", decoder)
            var used = 0
            for f in slotFlags where f & AccountAges.used != 0 { used += 1 }
            // A table with no free slot would make a probe for an absent key loop forever.
            try StateCheck.require(
                used == tracked && used < n, "AccountAges: \(used) used slots, tracked \(tracked)",
                decoder)
            try StateCheck.require(StateCheck.isCount(evictions), "AccountAges: evictions out of range", decoder)
        }

        static func increasing(_ indices: [UInt32], below limit: Int) -> Bool {
            var previous = -1
            for i in indices {
                guard Int(i) > previous, Int(i) < limit else { return false }
                previous = Int(i)
            }
            return true
        }
    }

    /// The state, for a checkpoint (see ``Checkpoint``).
    ///
    /// - Complexity: O(table slots + registry) (the arrays are shared copy-on-write; the registry is sorted).
    public func checkpoint() -> Checkpoint { Checkpoint(self) }

    /// Rebuilds the ages with `configuration` and the saved state.
    ///
    /// - Throws: ``DetectionCheckpointError`` when the table is larger than `configuration` lets it grow or the
    ///   filter size differs from what it makes (a different ``Configuration/maxTrackedAccounts`` or
    ///   ``Configuration/rememberedFilterBits``), or more accounts are tracked than it allows.
    public init(configuration: Configuration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        let maximum = Self.maximumSlots(configuration)
        guard checkpoint.slotCount <= maximum, checkpoint.filterWords == filterWords else {
            throw DetectionCheckpointError(
                "account ages: table of \(checkpoint.slotCount) slots and filter of \(checkpoint.filterWords) words, "
                    + "the configuration allows \(maximum) and makes \(filterWords)")
        }
        guard checkpoint.tracked <= configuration.maxTrackedAccounts else {
            throw DetectionCheckpointError(
                "account ages: \(checkpoint.tracked) tracked, maxTrackedAccounts is \(configuration.maxTrackedAccounts)"
            )
        }
        registry = checkpoint.registry.dictionary
        // The saved table's size (a power of two, checked when decoded); zeroed, then the saved slots.
        if checkpoint.slotCount != keys.count {
            keys = [UInt64](repeating: 0, count: checkpoint.slotCount)
            firstSeen = [Int64](repeating: 0, count: checkpoint.slotCount)
            flags = [UInt8](repeating: 0, count: checkpoint.slotCount)
            mask = checkpoint.slotCount - 1
        }
        for (j, i) in checkpoint.slotIndices.enumerated() {
            keys[Int(i)] = checkpoint.slotKeys[j]
            firstSeen[Int(i)] = checkpoint.slotFirstSeen[j]
            flags[Int(i)] = checkpoint.slotFlags[j]
        }
        hand = checkpoint.hand
        if !checkpoint.filterIndices.isEmpty { filter = [UInt64](repeating: 0, count: filterWords) }
        for (j, i) in checkpoint.filterIndices.enumerated() { filter[Int(i)] = checkpoint.filterValues[j] }
        streamStart = checkpoint.streamStart
        tracked = checkpoint.tracked
        evictions = checkpoint.evictions
    }
}
