import SendWatchCore

/// The template miner's recency lists (its templates, and its subject cache): a ``RecencyList`` whose nodes off the
/// list hold -2, with the number of nodes on it. Touching, unlinking and finding the least recent node are O(1)
/// with no allocation once the nodes exist.
///
/// Saved as the links toward the newest and the oldest end and the two ends, under the names of the list's
/// first layout: `prev`, `next`, `head` (the newest node) and `tail` (the oldest).
struct LRUList: Sendable {
    private(set) var links = RecencyList(detached: -2)
    /// The nodes on the list.
    private(set) var linkedCount = 0

    /// The least recently used node, or -1.
    var oldest: Int32 { links.oldest }

    var nodeCount: Int { links.nodeCount }

    func isLinked(_ i: Int32) -> Bool { links.older[Int(i)] != -2 }

    /// Creates a new, unlinked node and returns its index.
    mutating func appendNode() -> Int32 { links.appendNode() }

    /// Links an unlinked node as the most recently used.
    mutating func linkNewest(_ i: Int32) {
        links.linkNewest(i)
        linkedCount += 1
    }

    /// Unlinks a linked node.
    mutating func unlink(_ i: Int32) {
        links.unlink(i)
        linkedCount -= 1
    }

    /// Marks a linked node as most recently used.
    @inline(__always)
    mutating func touch(_ i: Int32) { links.touch(i) }

    /// Walks the list from the newest node and checks its links (tests only).
    func checkInvariants() -> Bool {
        var count = 0
        var newer: Int32 = -1
        var i = links.newest
        while i >= 0 {
            if links.newer[Int(i)] != newer { return false }
            newer = i
            i = links.older[Int(i)]
            count += 1
            if count > links.nodeCount { return false }
        }
        return newer == links.oldest && count == linkedCount
    }
}

extension LRUList: Codable {
    enum CodingKeys: String, CodingKey {
        case prev, next, head, tail
    }

    /// Saves the links toward the newest end (`prev`), toward the oldest end (`next`), the newest node (`head`)
    /// and the oldest (`tail`), in this order.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(links.newer, forKey: .prev)
        try c.encode(links.older, forKey: .next)
        try c.encode(links.newest, forKey: .head)
        try c.encode(links.oldest, forKey: .tail)
    }

    /// Restores the links; the linked count is recounted.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the link arrays differ in length, a link is out of range, an
    ///   unlinked node has only one link marker, or the list from `head` has a bad back link, a cycle, or does
    ///   not end at `tail`.
    /// - Complexity: O(nodes).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let prev = try c.decode([Int32].self, forKey: .prev)
        let next = try c.decode([Int32].self, forKey: .next)
        let head = try c.decode(Int32.self, forKey: .head)
        let tail = try c.decode(Int32.self, forKey: .tail)
        func corrupt(_ message: String) -> DecodingError { StateCheck.corrupt("LRU list: " + message, decoder) }
        let n = prev.count
        guard next.count == n, n < Int(Int32.max) else { throw corrupt("\(n) back links, \(next.count) links") }
        var unlinked = 0
        for i in 0..<n {
            let p = prev[i]
            let q = next[i]
            guard p >= -2 && Int(p) < n && q >= -2 && Int(q) < n && (p == -2) == (q == -2) else {
                throw corrupt("node \(i) has links \(p), \(q)")
            }
            if p == -2 { unlinked += 1 }
        }
        var count = 0
        var previous: Int32 = -1
        var i = head
        while i >= 0 {
            guard Int(i) < n, prev[Int(i)] == previous, count < n else { throw corrupt("bad link to \(i)") }
            count += 1
            previous = i
            i = next[Int(i)]
        }
        guard i == -1, head >= -1, previous == tail, count == n - unlinked else {
            throw corrupt("the list from the head holds \(count) of \(n - unlinked) linked nodes")
        }
        links = RecencyList(older: next, newer: prev, oldest: tail, newest: head, detached: -2)
        linkedCount = count
    }
}
