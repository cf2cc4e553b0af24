import SendWatchCore

/// Whether an item (a 64-bit hash) was seen before, in fixed memory: a blocked Bloom filter of two rotating
/// generations.
///
/// Each item sets ``bitsPerItem`` (3) bits in one 64-bit word chosen by its hash, so an insert or a query
/// touches one word, one cache line. A generation holds at most ``capacity`` items; the insert that would
/// exceed it makes the current generation the previous one and starts an empty one. A query asks both, so
/// the filter remembers at least the last ``capacity`` distinct items and at most the last 2 × ``capacity``:
/// "seen before" means "seen among about the last one to two capacities of distinct items", not ever.
///
/// False positives (an unseen item reported as seen): each generation has `words = 2^k ≥ capacity × 12 / 64`
/// words, 12 bits per item. At a full generation a word holds about 4.5 items on average (13.5 of 64 bits
/// set), and a query hits all 3 of its bits with probability about 1 %; asking two full generations, about
/// 2 % (measured in `SeenFilterTests`: under 2.5 % with both generations full, under 1.2 % with one). There
/// are no false negatives within the remembered span.
///
/// Memory: `2 × words × 8` bytes at most: 1,000,000 items per generation is 2 × 2 MiB. The previous generation
/// is allocated at the first rotation (before it, it would hold nothing), so a filter that never fills a
/// generation costs half of that.
///
/// Left out: deletion and counts (a counting filter would quadruple the memory, and "seen" is what the rules
/// ask).
public struct SeenFilter: Sendable, Encodable, Equatable {
    /// The current generation's words.
    var _words: [UInt64]
    /// The previous generation's words; empty (nothing remembered) until the first rotation.
    var _previous: [UInt64]
    let _wordCount: Int
    let _capacity: Int
    /// Which half of the saved word array is the current generation (0 or 1); it alternates at each rotation.
    var _current: Int
    /// Items added to the current generation (inserts that set a new bit).
    var _items: Int
    var _rotations: UInt64

    /// Bits set per item.
    public static let bitsPerItem = 3
    /// The capacities a filter (and a checkpoint of one) can have.
    static var capacities: ClosedRange<Int> { 1...(1 << 28) }

    /// A filter whose generations hold `capacity` items each.
    ///
    /// - Precondition: `1 <= capacity <= 1 << 28` (configuration).
    public init(capacity: Int) {
        precondition(Self.capacities.contains(capacity), "invalid SeenFilter capacity")
        // 12 bits per item.
        let words = Int.powerOfTwo(atLeast: (capacity * 12 + 63) / 64)
        _wordCount = words
        _capacity = capacity
        _words = [UInt64](repeating: 0, count: words)
        _previous = []
        _current = 0
        _items = 0
        _rotations = 0
    }

    /// Items a generation holds before the filter rotates.
    public var capacity: Int { _capacity }
    /// Words per generation (a power of two).
    public var wordCount: Int { _wordCount }
    /// Generations started after the first (each dropped the oldest items).
    public var rotations: UInt64 { _rotations }
    /// Bytes of the bit arrays of both generations (the figure once the first rotation allocated the previous
    /// one).
    public var approximateBytes: Int { 2 * _wordCount * 8 }

    /// The word index in a generation and the item's bits in it.
    @inline(__always)
    func position(_ item: UInt64) -> (word: Int, mask: UInt64) {
        // A fixed finaliser (splitmix64) so that related hashes spread.
        var h = item &+ 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        let word = Int(truncatingIfNeeded: h) & (_wordCount - 1)
        let mask =
            (1 as UInt64) << ((h >> 40) & 63) | (1 as UInt64) << ((h >> 46) & 63) | (1 as UInt64)
            << ((h >> 52) & 63)
        return (word, mask)
    }

    /// Whether `item` was inserted in the current or the previous generation (or is a false positive).
    ///
    /// - Complexity: O(1), two word reads, no allocation.
    public func contains(_ item: UInt64) -> Bool {
        let (word, mask) = position(item)
        return _words[word] & mask == mask || (!_previous.isEmpty && _previous[word] & mask == mask)
    }

    /// Records `item`; returns whether it was already there (``contains(_:)`` before the insert).
    ///
    /// - Complexity: O(1), or O(words) when the insert starts a new generation (clearing it). No allocation but
    ///   at the first rotation (the previous generation's words).
    @discardableResult
    public mutating func insert(_ item: UInt64) -> Bool {
        let (word, mask) = position(item)
        if _words[word] & mask == mask { return true }
        let wasInPrevious = !_previous.isEmpty && _previous[word] & mask == mask
        if _items >= _capacity {
            rotate()
            return insert(item) || wasInPrevious
        }
        _words[word] |= mask
        _items += 1
        return wasInPrevious
    }

    /// Makes the current generation the previous one and starts an empty one (in the words of the generation
    /// before, or new ones at the first rotation).
    private mutating func rotate() {
        if _previous.isEmpty {
            _previous = [UInt64](repeating: 0, count: _wordCount)
        } else {
            for i in _previous.indices { _previous[i] = 0 }
        }
        swap(&_words, &_previous)
        _current = 1 - _current
        _items = 0
        _rotations &+= 1
    }

    /// Equal when both generations hold the same bits (a previous generation not allocated yet holds none) and
    /// the counts agree.
    public static func == (a: SeenFilter, b: SeenFilter) -> Bool {
        a._wordCount == b._wordCount && a._capacity == b._capacity && a._current == b._current
            && a._items == b._items && a._rotations == b._rotations && a._words == b._words
            && (a._previous == b._previous
                || (a._previous.isEmpty && !b._previous.contains { $0 != 0 })
                || (b._previous.isEmpty && !a._previous.contains { $0 != 0 }))
    }
}
