/// An intrusive doubly linked recency list over dense node indices (most recent at the head).
///
/// Nodes are `Int32` indices into the owner's arrays; the list stores only `prev`/`next` links, so touching,
/// unlinking and popping the least recent node are O(1) with no allocation once the nodes exist.
struct LRUList: Sendable {
    private(set) var prev: [Int32] = []
    private(set) var next: [Int32] = []
    private(set) var head: Int32 = -1
    private(set) var tail: Int32 = -1
    private(set) var linkedCount = 0

    /// Creates a new, unlinked node and returns its index.
    mutating func makeNode() -> Int32 {
        prev.append(-2)
        next.append(-2)
        return Int32(prev.count - 1)
    }

    var nodeCount: Int { prev.count }

    func isLinked(_ i: Int32) -> Bool { prev[Int(i)] != -2 }

    /// Links an unlinked node at the head.
    mutating func pushFront(_ i: Int32) {
        prev[Int(i)] = -1
        next[Int(i)] = head
        if head >= 0 { prev[Int(head)] = i } else { tail = i }
        head = i
        linkedCount += 1
    }

    /// Unlinks a linked node.
    mutating func unlink(_ i: Int32) {
        let p = prev[Int(i)]
        let n = next[Int(i)]
        if p >= 0 { next[Int(p)] = n } else { head = n }
        if n >= 0 { prev[Int(n)] = p } else { tail = p }
        prev[Int(i)] = -2
        next[Int(i)] = -2
        linkedCount -= 1
    }

    /// Marks a linked node as most recently used.
    @inline(__always)
    mutating func touch(_ i: Int32) {
        if head == i { return }
        unlink(i)
        pushFront(i)
    }

    /// Walks the list and checks its links (tests only).
    func checkInvariants() -> Bool {
        var count = 0
        var p: Int32 = -1
        var i = head
        while i >= 0 {
            if prev[Int(i)] != p { return false }
            p = i
            i = next[Int(i)]
            count += 1
            if count > prev.count { return false }
        }
        return p == tail && count == linkedCount
    }
}

extension LRUList: Codable {
    enum CodingKeys: String, CodingKey {
        case prev, next, head, tail
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
        func corrupt(_ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "LRU list: " + message))
        }
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
        self.prev = prev
        self.next = next
        self.head = head
        self.tail = tail
        self.linkedCount = count
    }
}
