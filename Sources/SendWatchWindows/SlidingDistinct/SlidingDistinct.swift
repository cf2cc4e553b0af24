public import SendWatchCore

/// The number of distinct items (64-bit hashes) seen over a sliding event-time horizon: exact while small, a
/// HyperLogLog estimate once large.
///
/// **Exact mode.** Up to ``Configuration/exactCapacity`` items are kept as `(hash, last seen)` pairs in one
/// array. ``value(at:)`` counts the items whose last sighting is in `(now - horizon, now]`, exactly. Items
/// older than the horizon are removed lazily, when the array is full. While exact, ``sampleItems(limit:at:)``
/// returns items for alert evidence (the caller maps hashes back to names). The array keeps its oldest last
/// sighting beside it (derived, not saved), so that while no held item is older than the horizon both answer
/// without scanning the pairs.
///
/// **Sketch mode.** When a new item finds the array full of live items, the instance switches to a
/// sub-bucketed HyperLogLog: the horizon is split into ``Configuration/subBucketCount`` sub-buckets, each with
/// its own `2^precision` registers, plus their running union. Every exact item is replayed into the sub-bucket
/// of its last sighting, and the array is freed. An estimate at the newest sub-bucket reads the union's rank
/// histogram (O(64), cached); an estimate at another time unions the wanted sub-buckets on the fly. When the
/// horizon empties completely (a gap longer than the horizon) the instance returns to exact mode and frees the
/// sketch; it does not return to exact mode merely because the estimate fell, since the items are gone.
///
/// Why sub-bucketed HLLs rather than a sliding HLL (per register, a list of `(time, rank)` candidates): the
/// memory is fixed and known in advance, which the key tables' byte budgets need; inserts are one register
/// update per array; the price is window quantisation, which the detectors already accept from
/// ``SlidingCount``.
///
/// Error in sketch mode: relative standard error `1.04 / √m` of the union over the sub-buckets that overlap
/// the window (3.25 % at the default precision 10; measured RMS 3.1 % on 40 × 20 000 items and within 3 %
/// at 10^5 and 10^6 items in the tests). The window is quantised to sub-buckets like ``SlidingCount``: it covers
/// between `horizon - horizon / subBucketCount` and `horizon`, so it can miss items seen only in the partial
/// oldest sub-bucket. ``DistinctCount/isExact`` says which mode answered; alert evidence prints "≈" for
/// estimates.
///
/// Late events: an event older than the horizon (exact mode) or than the oldest held sub-bucket (sketch mode)
/// can no longer affect an answer at or after the newest event; it is dropped and counted in ``droppedLate``.
///
/// Memory, per instance: 48 bytes inline; exact mode with one item nothing more (the pair is inline: a key table
/// keyed by recipient holds mostly counters of one sender), with more 32 + 16 × capacity of the pair array
/// (≤ 2 080 bytes at 128 items; the array grows by doubling, and the estimate takes the pair count rounded up to a
/// power of two); sketch mode 32 + (subBucketCount + 1) × 2^precision bytes of registers plus a ~330-byte box
/// with the union histogram and bookkeeping (9 577 bytes at precision 10 with 8 sub-buckets).
/// ``approximateHeapBytes`` reports it, and a one-item array for an inline pair (the figure from before the pair
/// was inline, so that the key tables' budget decisions, and the alerts, did not change).
///
/// Usage:
/// ```swift
/// var recipients = SlidingDistinct(configuration: .init(horizonMicroseconds: 3_600_000_000))
/// recipients.insert(recipientHash, at: event.time)
/// let distinct = recipients.value(at: event.time)   // DistinctCount(value: 37, isExact: true)
/// ```
public struct SlidingDistinct: Sendable {
    /// Sizes and horizon for a ``SlidingDistinct``.
    public struct Configuration: Sendable, Hashable, Codable {
        /// The horizon in microseconds. Must be a positive whole multiple of `subBucketCount`. No default.
        public var horizonMicroseconds: Int64
        /// Items kept exactly before switching to the sketch. Default 128; valid 1 ... 4 096.
        public var exactCapacity: Int
        /// Sub-buckets of the horizon in sketch mode. Default 8; valid 1 ... 64.
        public var subBucketCount: Int
        /// HyperLogLog precision in sketch mode (`m = 2^precision`). Default 10 (3.25 % standard error);
        /// valid 4 ... 16.
        public var precision: Int

        public init(
            horizonMicroseconds: Int64, exactCapacity: Int = 128, subBucketCount: Int = 8, precision: Int = 10
        ) {
            self.horizonMicroseconds = horizonMicroseconds
            self.exactCapacity = exactCapacity
            self.subBucketCount = subBucketCount
            self.precision = precision
        }

        /// Whether every field is in its valid range.
        public var isValid: Bool {
            WindowMath.isSpan(horizonMicroseconds)
                && (1...4096).contains(exactCapacity) && (1...64).contains(subBucketCount)
                && (4...16).contains(precision) && horizonMicroseconds % Int64(subBucketCount) == 0
        }
    }

    struct Entry: Sendable {
        var item: UInt64
        var lastSeen: Int64
    }

    /// The pairs or the sketch.
    enum Storage: Sendable {
        /// Exact mode with no pair or at least two (an empty array holds no heap block), and the oldest last
        /// sighting among them (`Int64.max` when there is none). `oldest` is derived state, kept exact by every
        /// change of the pairs and computed again when a checkpoint is restored (never saved): it lets
        /// ``SlidingDistinct/value(at:)`` and ``SlidingDistinct/sampleItems(limit:at:)`` answer without a scan
        /// when no held pair has left the window. It fills the payload to the size of ``one``'s, so the instance
        /// stays 48 bytes.
        case many([Entry], oldest: Int64)
        /// Exact mode with exactly one pair, inline.
        case one(Entry)
        case sketch(SketchBox)

        /// No pair.
        static var empty: Storage { .many([], oldest: .max) }

        /// Exact mode holding `entries`: inline when there is one, else with their oldest last sighting.
        ///
        /// - Complexity: O(entries).
        static func exact(_ entries: [Entry]) -> Storage {
            entries.count == 1 ? .one(entries[0]) : .many(entries, oldest: oldestSighting(entries))
        }

        /// The smallest `lastSeen` of `entries`; `Int64.max` when there is none.
        static func oldestSighting(_ entries: [Entry]) -> Int64 {
            entries.withUnsafeBufferPointer { b in
                var oldest = Int64.max
                for e in b where e.lastSeen < oldest { oldest = e.lastSeen }
                return oldest
            }
        }
    }

    // The configuration, stored compactly, and the fields in this order (the storage's tag byte followed by the
    // smaller fields), so that an instance stays at 48 bytes inline.
    let _horizon: Int64
    var _head: Int64
    var _storage: Storage
    var _droppedLate: UInt32
    let _exactCapacity: UInt16
    var _switchesToSketch: UInt16
    let _subBucketCount: UInt8
    let _precision: UInt8
    var _hasEvents: Bool

    /// Creates an empty counter.
    ///
    /// - Precondition: `configuration.isValid` (configuration, never input).
    public init(configuration: Configuration) {
        precondition(configuration.isValid, "invalid SlidingDistinct configuration")
        _horizon = configuration.horizonMicroseconds
        _exactCapacity = UInt16(configuration.exactCapacity)
        _subBucketCount = UInt8(configuration.subBucketCount)
        _precision = UInt8(configuration.precision)
        _storage = .empty
        _head = 0
        _droppedLate = 0
        _switchesToSketch = 0
        _hasEvents = false
    }

    /// The configuration this counter was made with.
    public var configuration: Configuration {
        Configuration(
            horizonMicroseconds: _horizon, exactCapacity: Int(_exactCapacity),
            subBucketCount: Int(_subBucketCount), precision: Int(_precision))
    }

    /// Whether the counter is exact (not yet switched to the sketch, or back after an empty horizon).
    public var isExact: Bool {
        if case .sketch = _storage { return false }
        return true
    }

    /// The exact pairs in a buffer for `body`; `nil` in sketch mode.
    @inline(__always)
    func withExactEntries<R>(_ body: (UnsafeBufferPointer<Entry>) -> R) -> R? {
        switch _storage {
        case .one(let e): withUnsafePointer(to: e) { body(UnsafeBufferPointer(start: $0, count: 1)) }
        case .many(let entries, _): entries.withUnsafeBufferPointer(body)
        case .sketch: nil
        }
    }

    /// The number of exact pairs (0 in sketch mode).
    var exactCount: Int {
        switch _storage {
        case .one: 1
        case .many(let entries, _): entries.count
        case .sketch: 0
        }
    }

    /// Makes the storage hold `entries`: inline when there is one.
    mutating func setExact(_ entries: [Entry]) {
        _storage = .exact(entries)
    }

    /// Whether every held pair's last sighting is in the window ending at `t`, known without a scan: `t` is at
    /// or after the newest event (no pair was seen after it) and the oldest sighting is within the horizon.
    /// `false` in sketch mode, and when a pair may be out of the window (the callers then scan).
    @inline(__always)
    func allExactLive(at t: Int64) -> Bool {
        guard t >= _head else { return false }
        switch _storage {
        case .one(let e): return e.lastSeen > t - _horizon
        case .many(_, let oldest): return oldest > t - _horizon
        case .sketch: return false
        }
    }

    /// Events dropped as older than the horizon (saturates at `UInt32.max`).
    public var droppedLate: UInt32 { _droppedLate }

    /// How many times this counter switched from exact to sketch (saturates at `UInt16.max`).
    public var switchesToSketch: UInt16 { _switchesToSketch }

    /// Records that `item` was seen at `time`; returns whether the item is new to the window: in exact mode,
    /// not held or last seen a full horizon or more before the newest event. Sketch mode cannot tell and
    /// returns `false`, as does an event dropped as late.
    ///
    /// - Complexity: Exact mode: O(items held) (a linear scan of at most `exactCapacity` pairs, and a second one
    ///   when the item seen again held the oldest sighting), amortised no allocation (the pair array grows by
    ///   doubling up to its capacity, then stays). Sketch mode: O(1), or O((subBucketCount + 1) × m) when `time`
    ///   enters a new sub-bucket. Switching costs O(exactCapacity + m).
    @discardableResult
    public mutating func insert(_ item: UInt64, at time: EventTime) -> Bool {
        let t = WindowMath.clamp(time.microseconds)
        if !_hasEvents {
            _hasEvents = true
            _head = t
        }
        if case .sketch = _storage {
            insertSketch(item, at: t)
            return false
        }
        let horizon = _horizon
        if t > _head { _head = t }
        if let d = WindowMath.distance(from: t, to: _head), d >= horizon {
            bumpDropped()
            return false
        }
        switch _storage {
        case .one(var e) where e.item == item:
            let expired = e.lastSeen <= _head - horizon
            if e.lastSeen < t {
                e.lastSeen = t
                _storage = .one(e)
            }
            return expired
        case .many(var entries, var oldest):
            if let i = Self.position(of: item, in: entries) {
                let last = entries[i].lastSeen
                let expired = last <= _head - horizon
                if last < t {
                    // Out of the storage while it changes, so the array is not copied.
                    _storage = .empty
                    entries[i].lastSeen = t
                    // The oldest sighting moved: find the new oldest (one pass, only when this pair was it).
                    if last == oldest { oldest = Storage.oldestSighting(entries) }
                    _storage = .many(entries, oldest: oldest)
                }
                return expired
            }
        default:
            break
        }
        if exactCount >= Int(_exactCapacity) {
            removeExpired()
            if exactCount >= Int(_exactCapacity) {
                switchToSketch()
                insertSketch(item, at: t)
                return false
            }
        }
        let new = Entry(item: item, lastSeen: t)
        switch _storage {
        case .one(let e):
            _storage = .many([e, new], oldest: min(e.lastSeen, t))
        case .many(var entries, let oldest) where !entries.isEmpty:
            _storage = .empty
            entries.append(new)
            _storage = .many(entries, oldest: min(oldest, t))
        default:
            _storage = .one(new)
        }
        return true
    }

    /// Records that each of `items` was seen at `time`, in order; returns how many of them
    /// ``insert(_:at:)`` would have reported new. The state afterwards is exactly that of calling
    /// ``insert(_:at:)`` for each item in turn (the same pairs in the same order, the same switch to the sketch at
    /// the same item, the same late drops); only the cost differs.
    ///
    /// - Complexity: Exact mode: O(items held + items) with a hash index on a temporary buffer (no heap
    ///   allocation up to a few thousand pairs), plus one purge of expired pairs when the array fills. Sketch
    ///   mode, a late `time`, and the items after a switch to the sketch: those of ``insert(_:at:)`` per item.
    @discardableResult
    public mutating func insert(contentsOf items: [UInt64], at time: EventTime) -> Int {
        guard !items.isEmpty else { return 0 }
        let t = WindowMath.clamp(time.microseconds)
        let late = _hasEvents && WindowMath.distance(from: t, to: max(t, _head)).map { $0 >= _horizon } == true
        guard isExact, !late, items.count > 1 else {
            var new = 0
            for item in items where insert(item, at: time) { new += 1 }
            return new
        }
        if !_hasEvents {
            _hasEvents = true
            _head = t
        }
        if t > _head { _head = t }
        let capacity = Int(_exactCapacity)
        let cutoff = _head - _horizon
        var entries: [Entry]
        switch _storage {
        case .one(let e): entries = [e]
        case .many(let held, _): entries = held
        case .sketch: preconditionFailure("SlidingDistinct: sketch in the exact path")
        }
        // Out of the storage while it changes, so the array is not copied.
        _storage = .empty
        entries.reserveCapacity(min(capacity, entries.count + items.count))
        // Open addressing (the item's bits mixed, so that items sharing low bits do not collide): pair index + 1,
        // 0 for an empty slot.
        // At most `capacity` pairs are held, so a table of twice the next power of two stays at most half full.
        let tableSize = 2 * Int.powerOfTwo(atLeast: capacity)
        let mask = tableSize - 1
        var new = 0
        var rest = items.endIndex
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: tableSize) { table in
            func slot(_ item: UInt64) -> Int { Int(truncatingIfNeeded: (item &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask }
            func index(_ entries: [Entry]) {
                table.initialize(repeating: 0)
                for i in entries.indices { add(entries[i].item, i) }
            }
            func add(_ item: UInt64, _ i: Int) {
                var s = slot(item)
                while table[s] != 0 { s = (s + 1) & mask }
                table[s] = Int32(i + 1)
            }
            index(entries)
            for k in items.indices {
                let item = items[k]
                var s = slot(item)
                var found = -1
                while table[s] != 0 {
                    let i = Int(table[s]) - 1
                    if entries[i].item == item {
                        found = i
                        break
                    }
                    s = (s + 1) & mask
                }
                if found >= 0 {
                    if entries[found].lastSeen <= cutoff { new += 1 }
                    if entries[found].lastSeen < t { entries[found].lastSeen = t }
                    continue
                }
                if entries.count >= capacity {
                    // As insert(_:at:): purge the expired pairs, in order, and index what is left.
                    var kept = 0
                    for i in entries.indices where entries[i].lastSeen > cutoff {
                        entries[kept] = entries[i]
                        kept += 1
                    }
                    entries.removeLast(entries.count - kept)
                    if entries.count >= capacity {
                        // Full of live pairs: this item switches to the sketch, as do the ones after it.
                        rest = k
                        return
                    }
                    index(entries)
                }
                add(item, entries.count)
                entries.append(Entry(item: item, lastSeen: t))
                new += 1
            }
        }
        setExact(entries)
        if rest < items.endIndex {
            for item in items[rest...] where insert(item, at: time) { new += 1 }
        }
        return new
    }

    /// The position of `item` among `entries`, or `nil`.
    ///
    /// - Complexity: O(entries): a scan of the items, four at a time.
    @inline(__always)
    static func position(of item: UInt64, in entries: [Entry]) -> Int? {
        entries.withUnsafeBufferPointer { b in
            let n = b.count
            var i = 0
            while i &+ 4 <= n {
                // Without a branch per pair: the four comparisons are combined, then the one that matched found.
                let hit =
                    (b[i].item == item ? 1 : 0) | (b[i &+ 1].item == item ? 2 : 0)
                    | (b[i &+ 2].item == item ? 4 : 0) | (b[i &+ 3].item == item ? 8 : 0)
                if hit != 0 { return i &+ hit.trailingZeroBitCount }
                i &+= 4
            }
            while i < n {
                if b[i].item == item { return i }
                i &+= 1
            }
            return nil
        }
    }

    private mutating func bumpDropped() {
        _droppedLate = _droppedLate == .max ? .max : _droppedLate &+ 1
    }

    /// Drops pairs whose last sighting is a full horizon or more before the newest event, keeping the others in
    /// order.
    private mutating func removeExpired() {
        let cutoff = _head - _horizon
        switch _storage {
        case .one(let e):
            if e.lastSeen <= cutoff { _storage = .empty }
        case .many(_, let oldest) where oldest > cutoff:
            break
        case .many(var entries, _):
            _storage = .empty
            var kept = 0
            for i in entries.indices where entries[i].lastSeen > cutoff {
                entries[kept] = entries[i]
                kept += 1
            }
            entries.removeLast(entries.count - kept)
            setExact(entries)
        case .sketch:
            break
        }
    }

    private mutating func switchToSketch() {
        let width = _horizon / Int64(_subBucketCount)
        var sketch = SubBucketSketch(
            precision: Int(_precision), subBucketCount: Int(_subBucketCount),
            subBucketWidth: width,
            head: WindowMath.floorDiv(_head, width))
        _ = withExactEntries { entries in
            for e in entries { _ = sketch.insert(e.item, at: e.lastSeen) }
        }
        sketch.refreshCache()
        _storage = .sketch(SketchBox(sketch))
        _switchesToSketch = _switchesToSketch == .max ? .max : _switchesToSketch &+ 1
    }

    private mutating func insertSketch(_ item: UInt64, at t: Int64) {
        if t > _head { _head = t }
        guard case .sketch(var box) = _storage else { return }
        // Out of the storage while it changes, so that a box no other counter shares is not copied.
        _storage = .empty
        if !isKnownUniquelyReferenced(&box) { box = SketchBox(box.sketch) }
        switch box.sketch.insert(item, at: t) {
        case .tooLate:
            bumpDropped()
            _storage = .sketch(box)
        case .clearedEverything:
            // The whole horizon was empty before this item: go back to exact mode with just this item.
            _storage = .one(Entry(item: item, lastSeen: t))
        case .counted:
            box.sketch.refreshCache()
            _storage = .sketch(box)
        }
    }

    /// The number of distinct items seen in the window ending at `now`, and whether it is exact.
    ///
    /// In exact mode: items whose last sighting is in `(now - horizon, now]`. For a `now` before the newest
    /// event this is a lower bound (an item seen again after `now` counts by its later sighting). In sketch mode:
    /// the estimate over the sub-buckets of the window (see the type discussion).
    ///
    /// - Complexity: Exact mode O(1) when `now` is at or after the newest event and no held pair's last sighting
    ///   is a horizon or more before `now` (the oldest sighting is kept with the pairs), otherwise O(items held).
    ///   Sketch mode O(1) at the newest sub-bucket, otherwise O(subBucketCount × m). No allocation.
    public func value(at now: EventTime) -> DistinctCount {
        let t = WindowMath.clamp(now.microseconds)
        if case .sketch(let box) = _storage {
            let sketch = box.sketch
            let e = sketch.estimate(atSubBucket: WindowMath.floorDiv(t, sketch.subBucketWidth))
            let rse = 1.04 / Double(sketch.m).squareRoot()
            return DistinctCount(value: UInt64(max(0, e).rounded()), isExact: false, relativeStandardError: rse)
        }
        if allExactLive(at: t) {
            return DistinctCount(value: UInt64(exactCount), isExact: true, relativeStandardError: 0)
        }
        let cutoff = t - _horizon
        let n: UInt64 =
            withExactEntries { entries in
                var n: UInt64 = 0
                for e in entries where e.lastSeen > cutoff && e.lastSeen <= t { n += 1 }
                return n
            } ?? 0
        return DistinctCount(value: n, isExact: true, relativeStandardError: 0)
    }

    /// Up to `limit` item hashes seen in the window ending at `now`, while the counter is exact; empty in
    /// sketch mode. When more than `limit` items are live, the `limit` newest sightings, newest first (ties by
    /// smaller hash); otherwise every live item, in the order the counter holds them (callers that list the
    /// items sort them by what they print, so the recency sort is only paid when it chooses).
    ///
    /// - Complexity: O(items held) when at most `limit` are live (one pass, a copy of the items, when every held
    ///   pair is live as in ``value(at:)``'s O(1) case), else O(items held × log(items held)); allocates the
    ///   result. Meant for alert evidence, not for the per-event path.
    public func sampleItems(limit: Int, at now: EventTime) -> [UInt64] {
        guard limit > 0 else { return [] }
        let t = WindowMath.clamp(now.microseconds)
        let cutoff = t - _horizon
        let allLive = allExactLive(at: t)
        return withExactEntries { entries in
            if allLive && entries.count <= limit { return entries.map(\.item) }
            var live = 0
            for e in entries where e.lastSeen > cutoff && e.lastSeen <= t { live += 1 }
            if live <= limit {
                var items: [UInt64] = []
                items.reserveCapacity(live)
                for e in entries where e.lastSeen > cutoff && e.lastSeen <= t { items.append(e.item) }
                return items
            }
            let held = entries.filter { $0.lastSeen > cutoff && $0.lastSeen <= t }
            let sorted = held.sorted { $0.lastSeen != $1.lastSeen ? $0.lastSeen > $1.lastSeen : $0.item < $1.item }
            return sorted.prefix(limit).map(\.item)
        } ?? []
    }

    /// Whether nothing was seen within one horizon of the newest event.
    ///
    /// - Complexity: O(1) in sketch mode and while every pair held is live; O(items held) otherwise.
    public var isEmpty: Bool {
        if case .sketch(let box) = _storage { return box.sketch.isEmpty }
        if allExactLive(at: _head) { return exactCount == 0 }
        let cutoff = _head - _horizon
        return withExactEntries { entries in !entries.contains { $0.lastSeen > cutoff } } ?? true
    }
}

/// A distinct count and how it was obtained.
public struct DistinctCount: Sendable, Hashable, CustomStringConvertible {
    /// The count (rounded estimate in sketch mode).
    public var value: UInt64
    /// Whether the count is exact; `false` means a HyperLogLog estimate.
    public var isExact: Bool
    /// The relative standard error of the estimate (`1.04 / √m`); 0 when exact.
    public var relativeStandardError: Double

    public init(value: UInt64, isExact: Bool, relativeStandardError: Double) {
        self.value = value
        self.isExact = isExact
        self.relativeStandardError = relativeStandardError
    }

    /// `"37"` when exact, `"≈37"` when estimated.
    public var description: String { isExact ? "\(value)" : "≈\(value)" }
}

extension SlidingDistinct: ApproximateHeapSize {
    /// Exact mode: 32 + 16 × the pair count rounded up to a power of two (the array's capacity while it grows
    /// by doubling; for one pair, held inline, the figure of a one-pair array). Sketch mode: the register array plus the boxed sketch (16-byte object header, histogram
    /// and bookkeeping).
    ///
    /// The figure depends only on the state, never on the array's actual capacity: that capacity comes from
    /// the allocator (`malloc_usable_size`) and varies with the heap's history, and the key tables' budget
    /// decisions, and so the alerts, must not (nor may they change when the state is restored from a
    /// checkpoint).
    public var approximateHeapBytes: Int {
        if case .sketch(let box) = _storage {
            return arrayHeapBytes(box.sketch.registers.count, of: UInt8.self) + 16
                + MemoryLayout<SubBucketSketch>.size
        }
        let n = exactCount
        return n == 0 ? 0 : arrayHeapBytes(Int.powerOfTwo(atLeast: n), of: Entry.self)
    }
}

/// A heap box for the sketch, so exact-mode instances stay small inline (the sketch carries a 264-byte
/// histogram). Copy-on-write: ``SlidingDistinct`` copies the box before mutating it when it is shared.
final class SketchBox: @unchecked Sendable {
    // @unchecked: the box is only mutated through `SlidingDistinct`'s mutating methods after an
    // `isKnownUniquelyReferenced` check, so a box visible to two owners (or threads) is never written.
    var sketch: SubBucketSketch
    init(_ sketch: SubBucketSketch) { self.sketch = sketch }
}
