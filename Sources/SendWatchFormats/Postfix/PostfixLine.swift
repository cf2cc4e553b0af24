/// Byte-level readers for the pieces of a Postfix log message: queue ids, `<address>` fields, `HOST[IP]`
/// clients and the end of a logged header value. They return ranges into the line and never allocate.
enum PostfixLine {
    /// The shortest and longest queue id accepted. Short ids are 5–12 hex digits in practice (one test case
    /// of postfix-grok-patterns has 21), long ids (`enable_long_queue_ids`) 10–20 characters.
    static let queueIDLengths = 5...24

    /// Reads a queue id followed by `": "` at `start`.
    ///
    /// A short id is upper-case hex; a long id is `[0-9A-Za-z]` without vowels and with at least one `z`
    /// (Postfix encodes the time and inode in base 52 without vowels and separates them with `z`). This tells
    /// a queue id from words such as `warning`, `NOQUEUE`, `statistics` or `error` at the same place.
    ///
    /// - Parameter classes: ``queueIDClasses``, which a parser keeps a reference to: reading the static table on
    ///   every line went through its lazy initialiser's `swift_once` each time.
    /// - Returns: the id's range and the index after `": "`, or `nil`.
    /// - Complexity: O(length of the id), one pass.
    static func readQueueID(_ p: UnsafeRawBufferPointer, at start: Int, classes table: [UInt8])
        -> (id: Range<Int>, rest: Int)?
    {
        let n = p.count
        guard start >= 0, let base = p.baseAddress else { return nil }
        if let hit = readHexQueueID(p, at: start) { return hit }
        let limit = min(n, start + queueIDLengths.upperBound + 1)
        var i = start
        var seen: UInt8 = 0
        // The alphanumeric run and its shape in one pass (the same rules as ``isQueueID(_:_:)``): one table
        // load per byte, the classes of the run OR-ed together.
        table.withUnsafeBufferPointer { classes in
            while i < limit {
                // Safe: start <= i < limit <= n, and the table has 256 entries.
                let c = classes[Int(base.load(fromByteOffset: i, as: UInt8.self))]
                if c == 0 { break }
                seen |= c
                i += 1
            }
        }
        guard i + 1 < n, p[i] == UInt8(ascii: ":"), p[i + 1] == 0x20 else { return nil }
        let count = i - start
        guard queueIDLengths.contains(count) else { return nil }
        let hex = seen & QueueIDClass.notHex == 0
        let vowel = seen & QueueIDClass.vowel != 0
        let z = seen & QueueIDClass.lowerZ != 0
        guard hex || (!vowel && z && count >= 10) else { return nil }
        return (start..<i, i + 2)
    }

    /// The common case of ``readQueueID(_:at:classes:)``: a short (upper-case hex) id followed by `": "`, read
    /// eight bytes per step. `nil` when the id is not all upper-case hex or the line is too short for word loads
    /// (then the byte loop decides, with the same result for a hex id).
    ///
    /// - Complexity: O(length of the id / 8).
    @inline(__always)
    private static func readHexQueueID(_ p: UnsafeRawBufferPointer, at start: Int) -> (id: Range<Int>, rest: Int)? {
        guard let base = p.baseAddress else { return nil }
        let n = p.count
        let high: UInt64 = 0x8080_8080_8080_8080
        var i = start
        // Safe: each load reads base + i ..< base + i + 8 with i + 8 <= n. At most four words: a run past the
        // longest id is not an id.
        while i + 8 <= n && i - start <= queueIDLengths.upperBound {
            let w = UInt64(littleEndian: (base + i).loadUnaligned(as: UInt64.self))
            let hex = (Bytes.inRange(w, 0x30, 0x39) | Bytes.inRange(w, 0x41, 0x46)) & ~w & high
            if hex == high {
                i += 8
                continue
            }
            let end = i + (~hex & high).trailingZeroBitCount >> 3
            guard end + 1 < n, p[end] == UInt8(ascii: ":"), p[end + 1] == 0x20,
                queueIDLengths.contains(end - start)
            else { return nil }
            return (start..<end, end + 2)
        }
        return nil
    }

    /// Bits of ``queueIDClasses``.
    private enum QueueIDClass {
        static let alphanumeric: UInt8 = 1
        static let notHex: UInt8 = 2
        static let vowel: UInt8 = 4
        static let lowerZ: UInt8 = 8
    }

    /// Per byte: 0 for a byte that ends a queue id run, else ``QueueIDClass`` bits (256 entries).
    static let queueIDClasses: [UInt8] = (0..<256).map { v -> UInt8 in
        let b = UInt8(v)
        guard isAlphanumeric(b) else { return 0 }
        var c = QueueIDClass.alphanumeric
        if b >= 0x61 || b > UInt8(ascii: "F") && b >= 0x41 { c |= QueueIDClass.notHex }
        if (b >= 0x41) && (vowelBits >> UInt32((b | 0x20) &- 0x61)) & 1 != 0 { c |= QueueIDClass.vowel }
        if b == UInt8(ascii: "z") { c |= QueueIDClass.lowerZ }
        return c
    }

    /// Bit `k` is set when the `k`-th letter of the alphabet is a vowel (a, e, i, o, u).
    private static let vowelBits: UInt32 = 1 << 0 | 1 << 4 | 1 << 8 | 1 << 14 | 1 << 20

    @inline(__always)
    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b &- 0x30) < 10 || ((b | 0x20) &- 0x61) < 26
    }

    /// Whether `p[range]` has the shape of a queue id (see ``readQueueID(_:at:classes:)``).
    static func isQueueID(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard queueIDLengths.contains(range.count) else { return false }
        var hex = true
        var vowel = false
        var z = false
        for i in range {
            let b = p[i]
            switch b {
            case 0x30...0x39: break
            case 0x41...0x46:
                if b == UInt8(ascii: "A") || b == UInt8(ascii: "E") { vowel = true }
            case 0x47...0x5A:
                hex = false
                if b == UInt8(ascii: "I") || b == UInt8(ascii: "O") || b == UInt8(ascii: "U") { vowel = true }
            case 0x61...0x7A:
                hex = false
                if b == UInt8(ascii: "a") || b == UInt8(ascii: "e") || b == UInt8(ascii: "i") || b == UInt8(ascii: "o")
                    || b == UInt8(ascii: "u")
                {
                    vowel = true
                }
                if b == UInt8(ascii: "z") { z = true }
            default:
                return false
            }
        }
        return hex || (!vowel && z && range.count >= 10)
    }

    /// Reads an address value at `start` (just after `to=`, `orig_to=` or `from=`): `<addr>` ending at the
    /// first `>` that is followed by `,` or the end of the line, or a bare `addr` ending at `,` or the end
    /// (old Postfix `local` lines write `to=user@host,`).
    ///
    /// - Returns: the address range (without brackets) and the index after it (at the `,` or the end).
    /// - Complexity: O(length of the address), `memchr`-based.
    static func readAddress(_ p: UnsafeRawBufferPointer, at start: Int) -> (Range<Int>, Int)? {
        let n = p.count
        guard start < n else { return nil }
        if p[start] == UInt8(ascii: "<") {
            var i = start + 1
            while let gt = Bytes.find(UInt8(ascii: ">"), in: p, from: i) {
                if gt + 1 == n || p[gt + 1] == UInt8(ascii: ",") { return (start + 1..<gt, gt + 1) }
                i = gt + 1
            }
            return nil
        }
        let end = Bytes.find(UInt8(ascii: ","), in: p, from: start) ?? n
        return (start..<end, end)
    }

    /// Reads `HOST[IP]` at `start` and returns the IP range: the text between the first `[` and the next `]`,
    /// without an `IPv6:` prefix. `nil` when the brackets are missing or the host holds a space.
    ///
    /// - Complexity: O(length of host and address).
    static func readClientIP(_ p: UnsafeRawBufferPointer, at start: Int) -> Range<Int>? {
        let n = p.count
        guard let lb = Bytes.find(UInt8(ascii: "["), in: p, from: start, to: min(n, start + 300)),
            Bytes.find(0x20, in: p, from: start, to: lb) == nil,
            let rb = Bytes.find(UInt8(ascii: "]"), in: p, from: lb + 1, to: min(n, lb + 80))
        else { return nil }
        var ipStart = lb + 1
        // The first byte's test spares the case-insensitive compare for IPv4 addresses (a digit first).
        if rb - ipStart > 5 && p[ipStart] | 0x20 == UInt8(ascii: "i")
            && Bytes.equalsIgnoringCase("ipv6:", in: p, ipStart..<ipStart + 5)
        {
            ipStart += 5
        }
        return ipStart..<rb
    }

    /// The end of `key`'s value that starts at `start`: the next `", "` or the end of the line.
    static func valueEnd(_ p: UnsafeRawBufferPointer, from start: Int) -> Int {
        Bytes.find(", ", in: p, from: start) ?? p.count
    }

    /// The most bytes of a header (name, colon and value) Postfix's `header_checks` WARN/INFO line logs
    /// (`%.200s`).
    static let maxLoggedHeaderBytes = 200

    /// Finds where a logged header's text ends in a cleanup `header_checks` WARN/INFO line:
    /// `HEADER-TEXT from HOST[IP]; from=<...> ...` or `HEADER-TEXT from local; from=<...> ...`.
    ///
    /// The header text is client-controlled and may itself contain ` from `, `from=<x> to=<y>` or a whole fake
    /// ` from host[ip]; from=<`; Postfix prints it with `%.200s`, so the real separator is the **last**
    /// ` from CLIENT; from=<` that starts at most 200 bytes after the header name (`headerStart`). When no
    /// candidate lies inside that bound (another Postfix version, a longer cut), the last candidate in the
    /// line is used. A HELO name that imitates the separator inside the bound can still move the end later
    /// (the value then contains the real client text, so it can never equal a clean value).
    ///
    /// - Parameters:
    ///   - from: the first index where the separator may start (the byte after the header name's colon,
    ///     so that an empty value `Subject: from ...` yields an empty range).
    /// - Returns: the index of the space that starts ` from `, or `nil`.
    /// - Complexity: O(n) with `memchr` over `;`; each candidate checks at most ~350 bytes backwards.
    static func headerValueEnd(_ p: UnsafeRawBufferPointer, from: Int, headerStart: Int) -> Int? {
        let bound = headerStart + maxLoggedHeaderBytes
        var best: Int?
        var bestAnywhere: Int?
        var i = from
        while let semi = Bytes.find("; from=<", in: p, from: i) {
            i = semi + 1
            guard let cand = separatorStart(p, semicolon: semi), cand >= from else { continue }
            bestAnywhere = cand
            if cand <= bound { best = cand }
        }
        return best ?? bestAnywhere
    }

    /// For a `; from=<` at `semicolon`, the index of the space of the ` from CLIENT` before it, or `nil`.
    private static func separatorStart(_ p: UnsafeRawBufferPointer, semicolon: Int) -> Int? {
        let hostStart: Int
        if semicolon >= 5 && Bytes.equals("local", in: p, semicolon - 5..<semicolon) {
            hostStart = semicolon - 5
        } else {
            guard semicolon >= 1, p[semicolon - 1] == UInt8(ascii: "]") else { return nil }
            // Back to '[' (the address: at most an IPv6 literal with a prefix), with no space between.
            let lowAddr = max(0, semicolon - 80)
            guard
                let j = Bytes.scanBackward(
                    to: UInt8(ascii: "["), 0x20, in: p, from: lowAddr, to: semicolon - 1),
                p[j] == UInt8(ascii: "[")
            else { return nil }
            // Back over the host name (no spaces, at most 255 bytes).
            let lowHost = max(0, j - 256)
            guard let k = Bytes.scanBackward(to: 0x20, 0x20, in: p, from: lowHost, to: j) else { return nil }
            hostStart = k + 1
            guard hostStart < j else { return nil }
        }
        let s = hostStart - 6
        guard s >= 0, Bytes.equals(" from ", in: p, s..<hostStart) else { return nil }
        return s
    }
}
