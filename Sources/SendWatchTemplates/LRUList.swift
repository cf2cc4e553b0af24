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
