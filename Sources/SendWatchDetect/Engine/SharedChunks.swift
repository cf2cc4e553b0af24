/// A list stored as chunks of at most ``maxChunk`` elements, each a copy-on-write array: a copy of the list (a
/// held finding's snapshot of ``ListedAccounts``) shares every chunk, and a later change to the original copies
/// only the chunk it touches (and the short array of chunks), not the whole list.
///
/// A finding of a busy template lists up to `detect.max_alert_accounts` accounts and is rebuilt for each
/// account that joins (docs/performance.md, "Findings that share their account list"); with one flat array, each
/// rebuild copied every listed name and sample out of the list that one insertion had changed, and destroyed
/// the finding it replaced the same way.
///
/// Memory: the elements, plus one array header per chunk (chunks hold at least one element and split at
/// ``maxChunk``), plus the chunk array and a prefix array of one `Int` per chunk.
///
/// - Complexity: reading or setting element *i*: O(log c) for c chunks, plus copying one chunk when it is shared;
///   inserting: the same plus O(``maxChunk``) in the chunk and O(c) for the prefix array.
struct SharedChunks<Element: Sendable>: Sendable {
    /// The most elements in a chunk; a chunk that would exceed it is split in two.
    static var maxChunk: Int { 64 }

    private var chunks: [[Element]] = []
    /// `starts[c]` is the index of `chunks[c]`'s first element.
    private var starts: [Int] = []
    /// The number of elements.
    private(set) var count = 0

    init() {}

    /// A list of `elements`, in order.
    init(_ elements: [Element]) {
        var at = 0
        while at < elements.count {
            let end = min(elements.count, at + Self.maxChunk)
            chunks.append(Array(elements[at..<end]))
            starts.append(at)
            at = end
        }
        count = elements.count
    }

    /// The elements, in order.
    var all: [Element] {
        var out: [Element] = []
        out.reserveCapacity(count)
        for chunk in chunks { out.append(contentsOf: chunk) }
        return out
    }

    /// The chunk holding element `i` and `i`'s position in it.
    private func locate(_ i: Int) -> (chunk: Int, offset: Int) {
        precondition(i >= 0 && i < count, "index out of range")
        var low = 0
        var high = starts.count - 1
        // The last chunk whose start is at most i.
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= i { low = mid } else { high = mid - 1 }
        }
        return (low, i - starts[low])
    }

    subscript(i: Int) -> Element {
        get {
            let (c, o) = locate(i)
            return chunks[c][o]
        }
        set {
            let (c, o) = locate(i)
            chunks[c][o] = newValue
        }
    }

    /// The first `n` elements (`0...count`): the chunks that lie wholly among them are shared, the one they end
    /// in is copied up to its `n`-th element.
    ///
    /// - Complexity: O(c) for c chunks, plus copying at most one chunk.
    func prefix(_ n: Int) -> SharedChunks {
        precondition(n >= 0 && n <= count, "prefix out of range")
        guard n < count else { return self }
        var out = SharedChunks()
        guard n > 0 else { return out }
        let (c, o) = locate(n - 1)
        out.chunks = Array(chunks[..<c])
        out.chunks.append(o + 1 == chunks[c].count ? chunks[c] : Array(chunks[c][...o]))
        out.starts = Array(starts[...c])
        out.count = n
        return out
    }

    /// Inserts `element` at position `i` (`0...count`).
    mutating func insert(_ element: Element, at i: Int) {
        precondition(i >= 0 && i <= count, "index out of range")
        guard !chunks.isEmpty else {
            chunks = [[element]]
            starts = [0]
            count = 1
            return
        }
        // The end of a chunk goes to that chunk, so appending extends the last one.
        let (c, o) = i == count ? (chunks.count - 1, chunks[chunks.count - 1].count) : locate(i)
        chunks[c].insert(element, at: o)
        count += 1
        for k in (c + 1)..<starts.count { starts[k] += 1 }
        if chunks[c].count > Self.maxChunk {
            let half = chunks[c].count / 2
            let tail = Array(chunks[c][half...])
            chunks[c].removeLast(chunks[c].count - half)
            chunks.insert(tail, at: c + 1)
            starts.insert(starts[c] + half, at: c + 1)
        }
    }

    /// Removes the elements whose `keep` mark is false (`keep.count == count`), keeping the order; a chunk that
    /// loses none is not copied.
    mutating func keep(where keep: [Bool]) {
        precondition(keep.count == count, "one mark per element")
        var newChunks: [[Element]] = []
        newChunks.reserveCapacity(chunks.count)
        for c in chunks.indices {
            let start = starts[c]
            let n = chunks[c].count
            var kept = 0
            for o in 0..<n where keep[start + o] { kept += 1 }
            if kept == n {
                newChunks.append(chunks[c])
            } else if kept > 0 {
                var chunk: [Element] = []
                chunk.reserveCapacity(kept)
                for o in 0..<n where keep[start + o] { chunk.append(chunks[c][o]) }
                newChunks.append(chunk)
            }
        }
        chunks = newChunks
        starts.removeAll(keepingCapacity: true)
        var at = 0
        for chunk in chunks {
            starts.append(at)
            at += chunk.count
        }
        count = at
    }
}
