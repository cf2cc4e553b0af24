import Synchronization

/// The count of a listener's open connections, against its bound: a connection takes a slot when it is accepted
/// and gives it back when it closes.
///
/// Lock-free: one atomic counter, taken optimistically and given back when over the bound, so a burst of accepts
/// never admits more than `max` connections at once.
///
/// Usage:
/// ```swift
/// let slots = ConnectionSlots(max: 64)
/// guard slots.acquire() else { return close() }
/// defer { slots.release() }
/// ```
package final class ConnectionSlots: Sendable {
    private let taken = Atomic<Int>(0)
    private let max: Int

    /// Slots for `max` connections at once.
    package init(max: Int) { self.max = max }

    /// Takes a slot; false (and nothing taken) when all are taken.
    ///
    /// - Complexity: O(1).
    package func acquire() -> Bool {
        if taken.add(1, ordering: .relaxed).newValue <= max { return true }
        taken.subtract(1, ordering: .relaxed)
        return false
    }

    /// Gives back a slot taken by ``acquire()``.
    ///
    /// - Complexity: O(1).
    package func release() { taken.subtract(1, ordering: .relaxed) }
}
