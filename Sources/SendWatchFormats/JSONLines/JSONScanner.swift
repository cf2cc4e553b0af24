#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A validating, non-materialising JSON scanner: it checks that one document (a JSON-lines record) is strict
/// JSON and, in the same single pass, records where the values at a fixed set of paths are.
///
/// The scanner never builds a tree and never recurses: nesting is tracked on an explicit stack of
/// ``maxDepth`` frames, so a document nested 10,000 deep is reported as ``Outcome/tooDeep`` without touching
/// the call stack. Only the configured paths are followed; every other value is validated and skipped.
///
/// Rules it enforces (RFC 8259): strings with the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`, no raw control
/// characters (below U+0020) inside strings, the strict number grammar (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`),
/// the literals `true`, `false`, `null`, and nothing but whitespace (space, tab, CR, LF) after the document.
///
/// Deliberately left out, and why:
/// - UTF-8 is not validated while scanning: invalid sequences are replaced by U+FFFD when a kept string is
///   decoded (``decodeString(_:_:)``), so one bad byte in an unused field does not lose the record.
/// - `\uXXXX` escapes of lone surrogates are accepted (RFC 8259 allows them syntactically) and decode to
///   U+FFFD.
/// - Repeated keys: the **last** occurrence wins, for the key and for everything below it (so
///   `{"m":{"a":1},"m":{}}` has no `m.a`), which is what dictionary-based decoders do.
///
/// Paths are lists of components starting at the top-level value. A component matches an object key equal to
/// it (after unescaping the key); a component made of decimal digits without a leading zero (`0`, `12`) also
/// matches that array index. When the value at a path is an array, its direct elements are also recorded
/// (``elements(ofPath:)``), up to ``maxElementsPerArray`` per path.
///
/// Usage:
/// ```swift
/// var scanner = JSONScanner(paths: [["ts"], ["mail", "commonHeaders", "subject"]])
/// line.withUnsafeBytes { p in
///     guard scanner.scan(p) == .object, let subject = scanner.value(ofPath: 1) else { return }
///     print(JSONScanner.decodeString(p, subject))
/// }
/// ```
///
/// Memory: fixed after `init` apart from the element lists, bounded by ``maxElementsPerArray`` values
/// (32 bytes each) per path, and the scratch buffer for keys with escapes (bounded by the longest such key
/// seen). Lists keep their capacity between scans.
package struct JSONScanner: Sendable {
    /// How a scan ended.
    package enum Outcome: Hashable, Sendable {
        /// A valid document whose top-level value is an object; the path values are available.
        case object
        /// A valid document whose top-level value is not an object.
        case notObject
        /// Not valid JSON (including an empty or whitespace-only input).
        case invalid
        /// More than ``maxDepth`` nested containers; scanning stopped there.
        case tooDeep
    }

    /// Where one JSON value lies in the scanned bytes.
    package struct Value: Hashable, Sendable {
        package enum Kind: UInt8, Hashable, Sendable {
            case string, number, `true`, `false`, null, object, array
        }
        /// The value's type.
        package var kind: Kind
        /// For a string, the bytes between the quotes (still escaped); for a number or literal, its text; for
        /// an object or array, the whole container including brackets. An array element that is itself a
        /// container covers only its opening bracket.
        package var range: Range<Int>
        /// Whether a string contains a backslash escape (decoding then has to copy).
        package var hasEscapes: Bool

        package init(kind: Kind, range: Range<Int>, hasEscapes: Bool = false) {
            self.kind = kind
            self.range = range
            self.hasEscapes = hasEscapes
        }
    }

    /// One node of the path trie. Node 0 is the top-level value.
    private struct Node: Sendable {
        /// The slot this node's value is stored in, or -1 when no path ends here.
        var slot: Int32 = -1
        /// Children by object key (bytes of the component).
        var keyChildren: [(key: [UInt8], node: Int32)] = []
        /// Children by array index (components made of digits).
        var indexChildren: [(index: Int, node: Int32)] = []
        /// Every slot at or below this node, cleared when a repeated key replaces the node's value.
        var subtreeSlots: [Int32] = []
    }

    private struct Frame: Sendable {
        var isArray = false
        /// The trie node of this container, or -1 when no configured path goes through it.
        var node: Int32 = -1
        /// The index of the current element (arrays).
        var index = 0
        /// The index of the opening bracket.
        var start = 0
    }

    /// The most nested containers (objects and arrays, the top-level one included) a document may have.
    package let maxDepth: Int
    /// The most direct elements recorded for an array found at a configured path; later ones are validated
    /// but not recorded, and ``elementsTruncated(ofPath:)`` reports it.
    package let maxElementsPerArray: Int

    private var nodes: [Node]
    private var slotOfPath: [Int32]
    private var values: [Value?]
    private var truncated: [Bool]
    /// Per slot: the direct elements of an array recorded there. One list per slot, so that replacing a
    /// repeated key's elements costs only what was recorded for it (a shared list would make a record that
    /// repeats a key many times quadratic).
    private var elementLists: [[Value]]
    private var frames: [Frame]
    private var scratch: [UInt8] = []

    /// Creates a scanner for `paths`.
    ///
    /// - Parameters:
    ///   - paths: the paths whose values to record; an empty path is never matched (the value is always
    ///     missing). The same path may appear more than once.
    ///   - maxDepth: the nesting bound (default 64; values below 1 count as 1).
    ///   - maxElementsPerArray: the element bound per path (default 65,536; values below 0 count as 0).
    package init(paths: [[String]], maxDepth: Int = 64, maxElementsPerArray: Int = 65_536) {
        self.maxDepth = max(1, maxDepth)
        self.maxElementsPerArray = max(0, maxElementsPerArray)
        var nodes = [Node()]
        var slotOfPath: [Int32] = []
        var slotCount: Int32 = 0
        for path in paths {
            guard !path.isEmpty else {
                slotOfPath.append(-1)
                continue
            }
            var current: Int32 = 0
            var visited: [Int32] = [0]
            for component in path {
                let key = Array(component.utf8)
                if let existing = nodes[Int(current)].keyChildren.first(where: { $0.key == key }) {
                    current = existing.node
                } else {
                    let child = Int32(nodes.count)
                    nodes.append(Node())
                    nodes[Int(current)].keyChildren.append((key, child))
                    if let index = JSONScanner.arrayIndex(key) {
                        nodes[Int(current)].indexChildren.append((index, child))
                    }
                    current = child
                }
                visited.append(current)
            }
            if nodes[Int(current)].slot < 0 {
                nodes[Int(current)].slot = slotCount
                slotCount += 1
                for v in visited { nodes[Int(v)].subtreeSlots.append(nodes[Int(current)].slot) }
            }
            slotOfPath.append(nodes[Int(current)].slot)
        }
        self.nodes = nodes
        self.slotOfPath = slotOfPath
        self.values = Array(repeating: nil, count: Int(slotCount))
        self.elementLists = Array(repeating: [], count: Int(slotCount))
        self.truncated = Array(repeating: false, count: Int(slotCount))
        self.frames = Array(repeating: Frame(), count: self.maxDepth)
    }

    /// A path component as an array index: decimal digits, no leading zero unless it is `0`, at most 9 digits.
    private static func arrayIndex(_ key: [UInt8]) -> Int? {
        guard !key.isEmpty, key.count <= 9, key.allSatisfy({ $0 &- 0x30 < 10 }) else { return nil }
        if key.count > 1 && key[0] == UInt8(ascii: "0") { return nil }
        return key.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    // MARK: Results

    /// The value at `paths[index]` from the last scan, or `nil` when the document has none (or the last scan
    /// did not end in ``Outcome/object``).
    package func value(ofPath index: Int) -> Value? {
        guard index >= 0, index < slotOfPath.count else { return nil }
        let slot = Int(slotOfPath[index])
        return slot >= 0 ? values[slot] : nil
    }

    /// The direct elements of the array at `paths[index]`, in document order (empty when the value is not an
    /// array). Element containers are reported with kind `.object`/`.array` and only their opening bracket.
    ///
    /// - Complexity: O(1); the array is shared until the next scan.
    package func elements(ofPath index: Int) -> [Value] {
        guard index >= 0, index < slotOfPath.count else { return [] }
        let slot = Int(slotOfPath[index])
        return slot >= 0 ? elementLists[slot] : []
    }

    /// Whether the array at `paths[index]` had more than ``maxElementsPerArray`` elements.
    package func elementsTruncated(ofPath index: Int) -> Bool {
        guard index >= 0, index < slotOfPath.count else { return false }
        let slot = Int(slotOfPath[index])
        return slot >= 0 ? truncated[slot] : false
    }

    // MARK: Scanning

    private enum State {
        case value, afterValue, key
    }

    /// Validates `p` as one JSON document and records the values at the configured paths.
    ///
    /// - Returns: how the scan ended; path values are meaningful only for ``Outcome/object``.
    /// - Complexity: O(`p.count`) with a constant per byte (8 bytes at a time inside strings); no allocation
    ///   once the element list and scratch buffer have grown to the input's needs.
    package mutating func scan(_ p: UnsafeRawBufferPointer) -> Outcome {
        for s in values.indices {
            values[s] = nil
            truncated[s] = false
            if !elementLists[s].isEmpty { elementLists[s].removeAll(keepingCapacity: true) }
        }

        let n = p.count
        var i = JSONScanner.skipWhitespace(p, 0)
        guard i < n else { return .invalid }
        let topIsObject = p[i] == UInt8(ascii: "{")
        var depth = 0
        var node: Int32 = 0
        var state = State.value

        while true {
            switch state {
            case .value:
                guard i < n else { return .invalid }
                let b = p[i]
                let slot = node >= 0 ? nodes[Int(node)].slot : -1
                switch b {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard depth < maxDepth else { return .tooDeep }
                    let isArray = b == UInt8(ascii: "[")
                    note(Value(kind: isArray ? .array : .object, range: i..<(i + 1)), slot: slot, depth: depth)
                    frames[depth] = Frame(isArray: isArray, node: node, index: 0, start: i)
                    depth += 1
                    i = JSONScanner.skipWhitespace(p, i + 1)
                    guard i < n else { return .invalid }
                    if p[i] == (isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) {
                        i += 1
                        depth -= 1
                        close(frames[depth], end: i)
                        state = .afterValue
                    } else if isArray {
                        node = indexChild(of: node, index: 0)
                    } else {
                        state = .key
                    }
                case UInt8(ascii: "\""):
                    guard let (end, escaped) = JSONScanner.scanString(p, from: i + 1) else { return .invalid }
                    note(Value(kind: .string, range: (i + 1)..<end, hasEscapes: escaped), slot: slot, depth: depth)
                    i = end + 1
                    state = .afterValue
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard let end = JSONScanner.scanNumber(p, from: i) else { return .invalid }
                    note(Value(kind: .number, range: i..<end), slot: slot, depth: depth)
                    i = end
                    state = .afterValue
                case UInt8(ascii: "t"):
                    guard JSONScanner.matches(p, i, 0x74, 0x72, 0x75, 0x65) else { return .invalid }
                    note(Value(kind: .true, range: i..<(i + 4)), slot: slot, depth: depth)
                    i += 4
                    state = .afterValue
                case UInt8(ascii: "n"):
                    guard JSONScanner.matches(p, i, 0x6E, 0x75, 0x6C, 0x6C) else { return .invalid }
                    note(Value(kind: .null, range: i..<(i + 4)), slot: slot, depth: depth)
                    i += 4
                    state = .afterValue
                case UInt8(ascii: "f"):
                    guard JSONScanner.matches(p, i, 0x66, 0x61, 0x6C, 0x73), i + 4 < n, p[i + 4] == 0x65 else {
                        return .invalid
                    }
                    note(Value(kind: .false, range: i..<(i + 5)), slot: slot, depth: depth)
                    i += 5
                    state = .afterValue
                default:
                    return .invalid
                }

            case .afterValue:
                i = JSONScanner.skipWhitespace(p, i)
                guard depth > 0 else {
                    guard i == n else { return .invalid }
                    return topIsObject ? .object : .notObject
                }
                guard i < n else { return .invalid }
                let b = p[i]
                let top = depth - 1
                if b == UInt8(ascii: ",") {
                    i = JSONScanner.skipWhitespace(p, i + 1)
                    if frames[top].isArray {
                        frames[top].index += 1
                        node = indexChild(of: frames[top].node, index: frames[top].index)
                        state = .value
                    } else {
                        state = .key
                    }
                } else if b == (frames[top].isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) {
                    i += 1
                    depth -= 1
                    close(frames[depth], end: i)
                } else {
                    return .invalid
                }

            case .key:
                guard i < n, p[i] == UInt8(ascii: "\"") else { return .invalid }
                guard let (end, escaped) = JSONScanner.scanString(p, from: i + 1) else { return .invalid }
                let parent = frames[depth - 1].node
                node = parent >= 0 ? keyChild(of: parent, p, (i + 1)..<end, escaped: escaped) : -1
                if node >= 0 { clearSubtree(of: node) }
                i = JSONScanner.skipWhitespace(p, end + 1)
                guard i < n, p[i] == UInt8(ascii: ":") else { return .invalid }
                i = JSONScanner.skipWhitespace(p, i + 1)
                state = .value
            }
        }
    }

    /// Records a value for its own path and, when its parent is an array at a configured path, as an element.
    @inline(__always)
    private mutating func note(_ value: Value, slot: Int32, depth: Int) {
        if slot >= 0 { values[Int(slot)] = value }
        guard depth > 0, frames[depth - 1].isArray, frames[depth - 1].node >= 0 else { return }
        let parentSlot = Int(nodes[Int(frames[depth - 1].node)].slot)
        guard parentSlot >= 0 else { return }
        if elementLists[parentSlot].count < maxElementsPerArray {
            elementLists[parentSlot].append(value)
        } else {
            truncated[parentSlot] = true
        }
    }

    /// Extends a recorded container's range to its closing bracket.
    @inline(__always)
    private mutating func close(_ frame: Frame, end: Int) {
        guard frame.node >= 0 else { return }
        let slot = nodes[Int(frame.node)].slot
        guard slot >= 0, values[Int(slot)] != nil else { return }
        values[Int(slot)]?.range = frame.start..<end
    }

    /// Forgets everything recorded at and below `node`: its key occurred again and the last occurrence wins.
    private mutating func clearSubtree(of node: Int32) {
        for slot in nodes[Int(node)].subtreeSlots {
            let s = Int(slot)
            values[s] = nil
            truncated[s] = false
            if !elementLists[s].isEmpty { elementLists[s].removeAll(keepingCapacity: true) }
        }
    }

    @inline(__always)
    private func indexChild(of node: Int32, index: Int) -> Int32 {
        guard node >= 0 else { return -1 }
        for c in nodes[Int(node)].indexChildren where c.index == index { return c.node }
        return -1
    }

    private mutating func keyChild(of node: Int32, _ p: UnsafeRawBufferPointer, _ range: Range<Int>, escaped: Bool)
        -> Int32
    {
        let children = nodes[Int(node)].keyChildren
        guard !children.isEmpty else { return -1 }
        if escaped {
            scratch.removeAll(keepingCapacity: true)
            JSONScanner.appendUnescaped(p, range, to: &scratch)
            for c in children where c.key == scratch { return c.node }
            return -1
        }
        guard let base = p.baseAddress else { return -1 }
        for c in children where c.key.count == range.count {
            let equal = c.key.withUnsafeBytes { k -> Bool in
                // Safe: `range` lies inside `p` (the scanner found both quotes), and `k` has `range.count` bytes.
                guard let kb = k.baseAddress else { return range.isEmpty }
                return memcmp(kb, base + range.lowerBound, range.count) == 0
            }
            if equal { return c.node }
        }
        return -1
    }

    // MARK: Lexing

    @inline(__always)
    static func skipWhitespace(_ p: UnsafeRawBufferPointer, _ from: Int) -> Int {
        var i = from
        while i < p.count {
            let b = p[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            i += 1
        }
        return i
    }

    @inline(__always)
    private static func matches(
        _ p: UnsafeRawBufferPointer, _ i: Int, _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8
    ) -> Bool {
        i + 4 <= p.count && p[i] == a && p[i + 1] == b && p[i + 2] == c && p[i + 3] == d
    }

    /// Scans a string body starting just after its opening quote.
    ///
    /// - Returns: the index of the closing quote and whether the body has escapes; `nil` when the string is
    ///   unterminated, has a raw control character, or a bad escape.
    /// - Complexity: O(length); 8 bytes per step while no quote, backslash or control byte is in sight.
    static func scanString(_ p: UnsafeRawBufferPointer, from start: Int) -> (end: Int, escaped: Bool)? {
        let n = p.count
        var i = start
        var escaped = false
        while true {
            // Word at a time: a byte is interesting if it is '"', '\' or below 0x20 (SWAR zero-byte tests;
            // they can report a false positive only when a true one is also present, so a zero result is exact).
            while i + 8 <= n {
                let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let quote = w ^ 0x2222_2222_2222_2222
                let slash = w ^ 0x5C5C_5C5C_5C5C_5C5C
                let lows: UInt64 = 0x0101_0101_0101_0101
                let highs: UInt64 = 0x8080_8080_8080_8080
                let hit =
                    ((quote &- lows) & ~quote) | ((slash &- lows) & ~slash) | ((w &- 0x2020_2020_2020_2020) & ~w)
                if hit & highs != 0 { break }
                i += 8
            }
            guard i < n else { return nil }
            let b = p[i]
            if b == UInt8(ascii: "\"") { return (i, escaped) }
            if b == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < n else { return nil }
                switch p[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard hex4(p, i + 2) != nil else { return nil }
                    i += 6
                default:
                    return nil
                }
                continue
            }
            if b < 0x20 { return nil }
            i += 1
        }
    }

    /// Scans a number with the strict JSON grammar; returns the index after it, or `nil`.
    static func scanNumber(_ p: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let n = p.count
        var i = start
        if i < n && p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n else { return nil }
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else if p[i] &- 0x31 < 9 {
            while i < n && p[i] &- 0x30 < 10 { i += 1 }
        } else {
            return nil
        }
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n, p[i] &- 0x30 < 10 else { return nil }
            while i < n && p[i] &- 0x30 < 10 { i += 1 }
        }
        if i < n && (p[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < n, p[i] &- 0x30 < 10 else { return nil }
            while i < n && p[i] &- 0x30 < 10 { i += 1 }
        }
        return i
    }

    /// The value of four hex digits at `i`, or `nil`.
    static func hex4(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32? {
        guard i >= 0, i + 4 <= p.count else { return nil }
        var v: UInt32 = 0
        for k in i..<(i + 4) {
            guard let d = Bytes.hexValue(p[k]) else { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }
}
