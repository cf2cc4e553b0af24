/// An IPv4 or IPv6 network in CIDR form (`192.0.2.0/24`, `2001:db8::/32`, or one address without `/n`), for
/// deciding whether a logged client address lies inside it.
///
/// Addresses are held as 128 bits; an IPv4 address is its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so an IPv4
/// network matches IPv4 clients whichever way they are written (`192.0.2.7`, `::ffff:192.0.2.7`) and never an
/// IPv6 address outside that range.
///
/// Deliberately left out: zone ids (`fe80::1%eth0`), IPv4 shorthand (`10.1`, octal or hex parts): a log never
/// writes them for a client, and a configuration value in such a form is refused rather than guessed.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's first address (host bits cleared), high and low 64 bits.
    private let high: UInt64
    private let low: UInt64
    /// The prefix length in the 128-bit form (an IPv4 `/n` is `/96+n`).
    private let prefix: Int
    /// The text the network was given as, normalised only by trimming blanks.
    public let description: String

    /// The network written as `ADDRESS/PREFIX` or `ADDRESS`; `nil` when it is not one.
    public init?(parsing text: String) {
        let trimmed = text.trimmingBlanks
        var address = Substring(trimmed)
        var length: Int?
        if let slash = trimmed.firstIndex(of: "/") {
            address = trimmed[..<slash]
            let digits = trimmed[trimmed.index(after: slash)...]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let n = Int(digits)
            else { return nil }
            length = n
        }
        let parsed = Array(address.utf8).withUnsafeBytes { Self.parseAddress($0, 0..<$0.count) }
        guard let (high, low, isIPv4) = parsed else { return nil }
        let maxLength = isIPv4 ? 32 : 128
        let bits = length ?? maxLength
        guard bits <= maxLength else { return nil }
        prefix = isIPv4 ? 96 + bits : bits
        (self.high, self.low) = Self.masked(high, low, prefix: prefix)
        description = trimmed
    }

    /// Whether the address written in `p[range]` (as logs print a client: dotted IPv4 or IPv6 text) lies in
    /// the network; `false` when the text is not an address.
    ///
    /// - Complexity: O(length of the text), no allocation.
    public func contains(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard let address = Self.parseAddress(p, range) else { return false }
        return contains(address)
    }

    /// Whether a parsed address (``parseAddress(_:_:)``) lies in the network.
    func contains(_ address: (UInt64, UInt64, Bool)) -> Bool { bits.contains(address) }

    /// The network without its text: what ``contains(_:)-(UInt64,UInt64,Bool)`` compares, for a list that is
    /// walked once per message without copying `String`s.
    var bits: Bits { Bits(high: high, low: low, prefix: prefix) }

    /// The first address and prefix length of a network (see ``bits``).
    struct Bits: Sendable {
        let high: UInt64
        let low: UInt64
        let prefix: Int

        /// Whether a parsed address (``IPNetwork/parseAddress(_:_:)``) lies in the network.
        func contains(_ address: (UInt64, UInt64, Bool)) -> Bool {
            let (mh, ml) = IPNetwork.masked(address.0, address.1, prefix: prefix)
            return mh == high && ml == low
        }
    }

    /// Whether the address `text` lies in the network.
    public func contains(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { contains(UnsafeRawBufferPointer($0), 0..<$0.count) }
    }

    /// The loopback networks `127.0.0.0/8` and `::1/128`.
    public static let loopback: [IPNetwork] = [
        IPNetwork(parsing: "127.0.0.0/8")!,  // Safe to force unwrap: a valid literal.
        IPNetwork(parsing: "::1/128")!,  // Safe to force unwrap: a valid literal.
    ]

    // MARK: - Parsing

    fileprivate static func masked(_ h: UInt64, _ l: UInt64, prefix: Int) -> (UInt64, UInt64) {
        let highMask: UInt64 = prefix >= 64 ? ~0 : (prefix == 0 ? 0 : ~0 << UInt64(64 - prefix))
        let lowMask: UInt64 = prefix <= 64 ? 0 : (prefix >= 128 ? ~0 : ~0 << UInt64(128 - prefix))
        return (h & highMask, l & lowMask)
    }

    /// The 128 bits of the address in `p[r]` and whether it was IPv4, or `nil`.
    static func parseAddress(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> (UInt64, UInt64, Bool)? {
        guard !r.isEmpty, r.count <= 45 else { return nil }
        if Bytes.find(UInt8(ascii: ":"), in: p, from: r.lowerBound, to: r.upperBound) == nil {
            guard let v4 = parseIPv4(p, r) else { return nil }
            return (0, 0xFFFF_0000_0000 | UInt64(v4), true)
        }
        return parseIPv6(p, r).map { ($0.0, $0.1, false) }
    }

    /// Four decimal parts of at most three digits and value 255, without leading zeros beyond one digit.
    private static func parseIPv4(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> UInt32? {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        for i in r {
            let b = p[i]
            if b == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
            } else if (b &- 0x30) < 10 {
                guard digits < 3, !(digits == 1 && part == 0) else { return nil }
                part = part * 10 + UInt32(b &- 0x30)
                guard part <= 255 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    /// Up to eight groups of one to four hex digits, one `::` for a run of zero groups, and an IPv4 tail
    /// (`::ffff:192.0.2.1`). The groups are gathered in a stack buffer: no allocation.
    private static func parseIPv6(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> (UInt64, UInt64)? {
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 8) { groups -> (UInt64, UInt64)? in
            var count = 0
            var gap: Int?
            var i = r.lowerBound
            let end = r.upperBound
            if i + 1 < end, p[i] == UInt8(ascii: ":"), p[i + 1] == UInt8(ascii: ":") {
                gap = 0
                i += 2
            } else if p[i] == UInt8(ascii: ":") {
                return nil
            }
            while i < end {
                // An IPv4 tail: the rest has a '.' before any ':'.
                var j = i
                while j < end && p[j] != UInt8(ascii: ":") && p[j] != UInt8(ascii: ".") { j += 1 }
                if j < end && p[j] == UInt8(ascii: ".") {
                    guard let v4 = parseIPv4(p, i..<end), count <= 6 else { return nil }
                    groups[count] = UInt16(v4 >> 16)
                    groups[count + 1] = UInt16(v4 & 0xFFFF)
                    count += 2
                    break
                }
                guard j > i, j - i <= 4, count < 8 else { return nil }
                var g: UInt16 = 0
                for k in i..<j {
                    guard let v = Bytes.hexValue(p[k]) else { return nil }
                    g = g << 4 | UInt16(v)
                }
                groups[count] = g
                count += 1
                i = j
                if i < end {
                    // A ':' separator, or '::' (the one gap).
                    i += 1
                    if i < end && p[i] == UInt8(ascii: ":") {
                        guard gap == nil else { return nil }
                        gap = count
                        i += 1
                    } else if i == end {
                        return nil
                    }
                }
            }
            if let gap {
                guard count < 8 else { return nil }
                // Move the groups after the gap to the end and fill the gap with zeros.
                let zeros = 8 - count
                var k = count - 1
                while k >= gap {
                    groups[k + zeros] = groups[k]
                    k -= 1
                }
                for z in gap..<gap + zeros { groups[z] = 0 }
                count = 8
            }
            guard count == 8 else { return nil }
            var high: UInt64 = 0
            var low: UInt64 = 0
            for k in 0..<4 { high = high << 16 | UInt64(groups[k]) }
            for k in 4..<8 { low = low << 16 | UInt64(groups[k]) }
            return (high, low)
        }
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    fileprivate var trimmingBlanks: String {
        let blanks: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !blanks($0) }), let last = lastIndex(where: { !blanks($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
