/// A binary min-heap stored in an array.
///
/// Elements that compare equal come out in an unspecified order, so every element type used here breaks ties
/// with a unique sequence number: the order is then total and the output deterministic.
struct BinaryHeap<Element: Comparable> {
    private(set) var storage: [Element] = []

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }
    /// The smallest element.
    var first: Element? { storage.first }

    /// Adds an element.
    ///
    /// - Complexity: O(log n).
    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child] < storage[parent] else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest element.
    ///
    /// - Complexity: O(log n).
    mutating func pop() -> Element? {
        guard !storage.isEmpty else { return nil }
        if storage.count == 1 { return storage.removeLast() }
        let top = storage[0]
        storage[0] = storage.removeLast()
        var parent = 0
        let n = storage.count
        while true {
            let left = 2 * parent + 1
            guard left < n else { break }
            let right = left + 1
            var smallest = left
            if right < n && storage[right] < storage[left] { smallest = right }
            guard storage[smallest] < storage[parent] else { break }
            storage.swapAt(smallest, parent)
            parent = smallest
        }
        return top
    }
}

extension BinaryHeap: Sendable where Element: Sendable {}
