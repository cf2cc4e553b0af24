/// A value that can say roughly how many heap bytes it owns, for memory budgets.
///
/// ``BoundedKeyTable`` asks every stored value for this figure after each update and evicts entries when the
/// total goes over its byte budget. The figure is an estimate: it counts the payload of owned arrays plus a
/// fixed 32-byte header per heap allocation (the size of a Swift array's storage header on 64-bit platforms)
/// and ignores allocator rounding, which adds up to ~15 % on glibc for small blocks.
public protocol ApproximateHeapSize {
    /// The approximate number of heap bytes this value owns, excluding its own inline size
    /// (`MemoryLayout<Self>.size`), which the container accounts for.
    ///
    /// - Complexity: Must be O(1): it is called on every update.
    var approximateHeapBytes: Int { get }
}

/// The heap cost the estimates assume for one array allocation: a 32-byte header plus the payload.
func arrayHeapBytes<Element>(_ count: Int, of _: Element.Type) -> Int {
    count == 0 ? 0 : 32 + count * MemoryLayout<Element>.stride
}
