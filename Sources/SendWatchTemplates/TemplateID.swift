/// The stable identity of a subject/notification template.
///
/// A mined template's id is a fixed 64-bit hash (FNV-1a) of the normalised token sequence of the first message
/// that created it, mixed with the miner's creation serial number, so the same input in the same order always
/// yields the same ids and an evicted template's id is never handed out again. The id does not change when the
/// template generalises. An explicit template id (header `X-Template-Id`, JSON `template_id`) maps to
/// ``init(explicit:)``, which depends only on the string.
///
/// Never derived from Swift's `Hasher` (randomly seeded per process).
public struct TemplateID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 64-bit value.
    public var rawValue: UInt64

    /// Wraps a raw 64-bit value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The id of the group named by an explicit template id string (FNV-1a 64 over a domain prefix and the
    /// string's UTF-8 bytes).
    public init(explicit name: String) {
        var h = FNV1a.offsetBasis
        h = FNV1a.mix(h, byte: 0x45)  // "E": domain separation from mined ids
        for b in name.utf8 { h = FNV1a.mix(h, byte: b) }
        self.rawValue = h
    }

    /// Sixteen lowercase hex digits.
    ///
    /// - Complexity: O(1): the digits are written straight into the string's storage (one allocation; a
    ///   young account's event with a template asks for it at least once).
    public var description: String {
        let v = rawValue
        return String(unsafeUninitializedCapacity: 16) { out in
            for i in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: v >> UInt64(4 * (15 - i))) & 0xF
                out[i] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            }
            return 16
        }
    }

    public static func < (lhs: TemplateID, rhs: TemplateID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Saved as its raw 64-bit value alone (a JSON number; in `StateCoding`, the same 8 bytes as a bare `UInt64`).
extension TemplateID: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(UInt64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// What ``TemplateMiner/mine(_:explicitTemplate:)`` found for one text.
public struct TemplateMatch: Hashable, Sendable {
    /// The template (group) the text belongs to.
    public var id: TemplateID
    /// The template as text, each slot shown as `<*>`, e.g. `"<*> sent you a private message"`. This is the
    /// template as it stands after this text was mined (a later text may generalise it further).
    public var text: String
    /// The raw text of each `<*>` in order, with its original inner spacing (capped at
    /// ``TemplateMiner/Configuration/maxSlotBytes``). A slot the text leaves empty is `""`.
    public var slots: [String]
    /// `true` if this text created the template.
    public var isNewTemplate: Bool

    public init(id: TemplateID, text: String, slots: [String], isNewTemplate: Bool) {
        self.id = id
        self.text = text
        self.slots = slots
        self.isNewTemplate = isNewTemplate
    }
}

/// Fixed 64-bit FNV-1a, plus a second word-wise hash used to verify exact-text cache hits.
enum FNV1a {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    @inline(__always)
    static func mix(_ h: UInt64, byte: UInt8) -> UInt64 { (h ^ UInt64(byte)) &* prime }

    /// FNV-1a over `p[start..<end]`.
    @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int, seed: UInt64 = offsetBasis) -> UInt64 {
        var h = seed
        var i = start
        while i < end {
            h = (h ^ UInt64(p[i])) &* prime
            i += 1
        }
        return h
    }

    /// A multiply-xorshift hash over 8-byte words (independent of FNV-1a; used as the cache's check hash).
    static func wordHash(_ p: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed ^ (UInt64(p.count) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        let n = p.count
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h
    }

    /// A final avalanche (splitmix64), used to mix a serial number into an id.
    @inline(__always)
    static func finalize(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
