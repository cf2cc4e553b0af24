/// Open addressing over the positions of an array of keyed values (``ListedAccounts``' keys,
/// ``DistinctASCIIValues``' values): each cell holds a position plus one, 0 when empty; a probe goes on to the next
/// cell, wrapping around.
enum PositionIndex {
    /// Puts positions `0 ..< count` into `cells` (all empty, a power of two larger than `count`), each at the first
    /// empty cell from `firstCell(position, mask)`.
    ///
    /// - Complexity: O(`count`) expected for a table at most half full.
    static func fill(_ cells: inout [Int32], count: Int, firstCell: (_ position: Int, _ mask: Int) -> Int) {
        let mask = cells.count - 1
        for i in 0..<count {
            var cell = firstCell(i, mask)
            while cells[cell] != 0 { cell = (cell + 1) & mask }
            cells[cell] = Int32(i + 1)
        }
    }
}
