/// An intrusive doubly linked recency list through dense `Int32` node numbers, holding only the links: the nodes'
/// data lives in its owner's arrays, indexed by the same numbers. Moving a node to the newest end, unlinking one
/// and finding the oldest are O(1), with no allocation once the nodes exist. The one list behind the bounded
/// tables that evict their least recently used entry (`BoundedKeyTable`, the template miner's `LRUList`).
///
/// ``older`` and ``newer`` hold each node's neighbour toward ``oldest`` and toward ``newest``, -1 past either end;
/// a node off the list holds ``detached`` in both. The owner chooses that mark (-1 or -2), because owners save
/// the links in their checkpoints as they always did.
///
/// Memory: 8 bytes per node, in two arrays that grow by one element per ``appendNode()``.
public struct RecencyList: Sendable {
    /// Each node's neighbour toward ``oldest`` (-1 for the oldest node, ``detached`` off the list).
    @inlinable public var older: [Int32] { _older }
    /// Each node's neighbour toward ``newest`` (-1 for the newest node, ``detached`` off the list).
    @inlinable public var newer: [Int32] { _newer }
    /// The least recently used node, or -1 when the list is empty.
    @inlinable public var oldest: Int32 { _oldest }
    /// The most recently used node, or -1 when the list is empty.
    @inlinable public var newest: Int32 { _newest }

    // Stored apart from the read-only views above so that the inlinable methods can change them.
    @usableFromInline var _older: [Int32] = []
    @usableFromInline var _newer: [Int32] = []
    @usableFromInline var _oldest: Int32 = -1
    @usableFromInline var _newest: Int32 = -1
    /// The link value of a node that is not on the list: -1 (then only the ends tell it from a node alone on the
    /// list) or -2.
    public let detached: Int32

    /// An empty list without nodes, whose nodes off the list hold `detached` (-1 or -2).
    @inlinable
    public init(detached: Int32) {
        precondition(detached == -1 || detached == -2, "a detached link is -1 or -2")
        self.detached = detached
    }

    /// A list restored as saved, unchecked: its owner checks the links (against its own slots) before it calls
    /// this.
    ///
    /// - Precondition: `older` and `newer` have the same length.
    public init(older: [Int32], newer: [Int32], oldest: Int32, newest: Int32, detached: Int32) {
        precondition(older.count == newer.count, "link arrays of different lengths")
        self.init(detached: detached)
        _older = older
        _newer = newer
        _oldest = oldest
        _newest = newest
    }

    /// The number of nodes, on the list or not.
    @inlinable public var nodeCount: Int { _older.count }

    /// Adds a node off the list and returns its number.
    ///
    /// - Complexity: O(1) amortised.
    @inlinable
    public mutating func appendNode() -> Int32 {
        _older.append(detached)
        _newer.append(detached)
        return Int32(_older.count - 1)
    }

    /// Links node `i`, which is off the list, at the newest end.
    ///
    /// - Complexity: O(1).
    @inlinable
    public mutating func linkNewest(_ i: Int32) {
        _older[Int(i)] = _newest
        _newer[Int(i)] = -1
        if _newest >= 0 { _newer[Int(_newest)] = i } else { _oldest = i }
        _newest = i
    }

    /// Takes node `i`, which is on the list, off it. A debug build checks that it is (``isLinked(_:)``); a release
    /// build does not.
    ///
    /// - Complexity: O(1).
    @inlinable
    public mutating func unlink(_ i: Int32) {
        assert(isLinked(i), "unlink of node \(i), which is not on the list")
        let o = _older[Int(i)]
        let n = _newer[Int(i)]
        if o >= 0 { _newer[Int(o)] = n } else { _oldest = n }
        if n >= 0 { _older[Int(n)] = o } else { _newest = o }
        _older[Int(i)] = detached
        _newer[Int(i)] = detached
    }

    /// Moves node `i`, which is on the list, to the newest end. A debug build checks that it is (in ``unlink(_:)``,
    /// unless it is the newest node already); a release build does not.
    ///
    /// - Complexity: O(1).
    @inlinable
    public mutating func touch(_ i: Int32) {
        if _newest == i { return }
        unlink(i)
        linkNewest(i)
    }

    /// Whether node `i` is on the list, as its own links tell in O(1): its older neighbour links back to it, or it
    /// has none and is the oldest node (which also tells a node alone on the list from one off it when
    /// ``detached`` is -1). For debug assertions: links broken elsewhere on the list are not seen.
    @inlinable
    func isLinked(_ i: Int32) -> Bool {
        let o = _older[Int(i)]
        return o >= 0 ? Int(o) < _newer.count && _newer[Int(o)] == i : _oldest == i
    }
}
