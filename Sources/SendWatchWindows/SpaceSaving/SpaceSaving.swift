/// Top-k heavy hitters of a stream of 64-bit item hashes with per-item error bounds (Space-Saving, Metwally,
/// Agrawal and El Abbadi, 2005).
///
/// At most ``capacity`` counters are kept. A monitored item's counter grows by its count; an unmonitored item
/// takes over the counter with the smallest count `min`, starting at `min + count` with error `min`. Each
/// counter therefore brackets the truth: `count - error ≤ true count ≤ count` (``Counter/guaranteedCount``),
/// the smallest counter is at most `N / capacity`, and every item with a true count above `N / capacity` is
/// monitored.
///
/// Counters sit in a binary min-heap ordered by `(count, item)`, so among equal counts the smallest item hash
/// is replaced first: the result depends only on the input sequence, never on hashing seeds. A `Dictionary`
/// maps item to heap position for lookup only; it is never iterated, so its per-process random order cannot
/// reach the output.
///
/// Memory: capacity × (24-byte counter + ~21 bytes of dictionary slot) plus headers, fixed after the first
/// `capacity` items (4 608 bytes for 100 counters by ``approximateHeapBytes``).
///
/// Usage:
/// ```swift
/// var top = SpaceSaving(capacity: 100)
/// top.add(templateHash)
/// for c in top.top(10) { print(c.item, c.count, c.guaranteedCount) }
/// ```
public struct SpaceSaving: Sendable {
    /// One monitored item.
    public struct Counter: Sendable, Hashable {
        /// The item hash.
        public var item: UInt64
        /// An upper bound of the item's true count.
        public var count: UInt64
        /// How much of `count` may belong to items this counter replaced.
        public var error: UInt64
        /// A lower bound of the item's true count: `count - error`.
        public var guaranteedCount: UInt64 { count - error }

        public init(item: UInt64, count: UInt64, error: UInt64) {
            self.item = item
            self.count = count
            self.error = error
        }
    }

    var _heap: [Counter]
    var _position: [UInt64: Int]
    let _capacity: Int
    var _total: UInt64
    /// The capacities a summary (and a checkpoint of one) can have.
    static var capacities: ClosedRange<Int> { 1...(1 << 20) }

    /// Creates an empty summary with room for `capacity` counters.
    ///
    /// - Precondition: `1 <= capacity <= 1 << 20` (configuration).
    public init(capacity: Int) {
        precondition(Self.capacities.contains(capacity), "SpaceSaving capacity must be in 1...2^20")
        _capacity = capacity
        _heap = []
        _heap.reserveCapacity(capacity)
        _position = [:]
        _position.reserveCapacity(capacity)
        _total = 0
    }

    /// The maximum number of counters.
    public var capacity: Int { _capacity }
    /// The total count added (`N`).
    public var totalCount: UInt64 { _total }
    /// The number of monitored items.
    public var count: Int { _heap.count }
    /// The smallest monitored count once full (the largest possible error of any counter), else 0.
    public var minimumCount: UInt64 { _heap.count == _capacity ? _heap[0].count : 0 }

    @inline(__always)
    static func less(_ a: Counter, _ b: Counter) -> Bool { a.count != b.count ? a.count < b.count : a.item < b.item }

    /// Adds `count` occurrences of `item`.
    ///
    /// - Complexity: O(log capacity). No allocation once `capacity` items have been seen (the dictionary keeps
    ///   its reserved capacity as items replace each other).
    public mutating func add(_ item: UInt64, count: UInt64 = 1) {
        _total &+= count
        if let p = _position[item] {
            _heap[p].count &+= count
            siftDown(p)
        } else if _heap.count < _capacity {
            _heap.append(Counter(item: item, count: count, error: 0))
            _position[item] = _heap.count - 1
            siftUp(_heap.count - 1)
        } else {
            let old = _heap[0]
            _position[old.item] = nil
            _heap[0] = Counter(item: item, count: old.count &+ count, error: old.count)
            _position[item] = 0
            siftDown(0)
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        _heap.swapAt(i, j)
        _position[_heap[i].item] = i
        _position[_heap[j].item] = j
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(_heap[i], _heap[parent]) else { return }
            swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = _heap.count
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var smallest = i
            if l < n && Self.less(_heap[l], _heap[smallest]) { smallest = l }
            if r < n && Self.less(_heap[r], _heap[smallest]) { smallest = r }
            if smallest == i { return }
            swapAt(i, smallest)
            i = smallest
        }
    }

    /// The counter of `item`, or `nil` when it is not monitored (its true count is then at most
    /// ``minimumCount``).
    ///
    /// - Complexity: O(1) expected.
    public func counter(for item: UInt64) -> Counter? {
        guard let p = _position[item] else { return nil }
        return _heap[p]
    }

    /// The `k` largest counters, by count descending then item hash ascending.
    ///
    /// - Complexity: O(capacity log capacity); allocates the result. For reporting, not per event.
    public func top(_ k: Int) -> [Counter] {
        let sorted = _heap.sorted { $0.count != $1.count ? $0.count > $1.count : $0.item < $1.item }
        return Array(sorted.prefix(max(0, k)))
    }
}

extension SpaceSaving: ApproximateHeapSize {
    /// Heap array plus the dictionary (estimated at 16 bytes per bucket at 1/0.75 load, plus one header).
    public var approximateHeapBytes: Int {
        arrayHeapBytes(_capacity, of: Counter.self) + 32 + (_capacity * 4 / 3 + 1) * 16
    }
}

extension SpaceSaving {
    /// Checks the heap order, the position index, and that counts add up to the total. Traps when one fails.
    public func _checkInvariants() {
        precondition(_heap.count <= _capacity && _position.count == _heap.count, "SpaceSaving: sizes")
        var sum: UInt64 = 0
        for (i, c) in _heap.enumerated() {
            precondition(_position[c.item] == i, "SpaceSaving: position of \(c.item)")
            precondition(c.error <= c.count, "SpaceSaving: error > count")
            if i > 0 { precondition(!Self.less(c, _heap[(i - 1) / 2]), "SpaceSaving: heap order at \(i)") }
            sum &+= c.count
        }
        precondition(sum == _total, "SpaceSaving: counts \(sum) != total \(_total)")
    }
}
