import Testing

@testable import SendWatchCore

@Suite("Account keys")
struct AccountKeyTests {
    @Test("A login or address with a domain is folded to ASCII lowercase")
    func addressesFold() {
        #expect("Blaster@Example.ORG".accountKey == "blaster@example.org")
        #expect("blaster@example.org".accountKey == "blaster@example.org")
        // Letters outside ASCII are kept as written.
        #expect("Ärger@Example.org".accountKey == "Ärger@example.org")
    }

    @Test("An opaque account id without @ keeps its case: ids may differ only in case")
    func opaqueIdsKeepCase() {
        #expect("tn_AbC123".accountKey == "tn_AbC123")
        #expect("tn_abc123".accountKey == "tn_abc123")
        #expect("tn_AbC123".accountKey != "tn_abc123".accountKey)
    }

    @Test("The one-pass key equals the two-step rule on every value: fold exactly when it holds @ and a capital")
    func onePassMatchesTheRule() {
        // Bytes that matter to the rule (`@`, the capitals' edges `A` `Z`, their neighbours `@` `[`, lower case,
        // digits, `_`, a two-byte letter) at lengths around the 15-byte inline limit and above it.
        let pieces = ["@", "A", "Z", "[", "`", "a", "z", "0", "_", ".", "Ä", "é"]
        var rng = SplitMix(seed: 7)
        for length in [0, 1, 2, 7, 14, 15, 16, 17, 31, 64] {
            for _ in 0..<200 {
                var s = ""
                for _ in 0..<length { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
                let reference =
                    s.contains("@")
                    ? String(s.map { $0.isASCII && $0.isUppercase ? Character($0.lowercased()) : $0 }) : s
                #expect(s.accountKey == reference, "\(s)")
                #expect(Array(s.accountKey.utf8) == Array(reference.utf8), "\(s)")
            }
        }
    }

    @Test("Every ASCII byte at every place of an 8- to 24-byte value, with and without an @ beside it")
    func everyByteEveryPlace() {
        // The scan reads eight bytes at a time with an overlapping last word: each byte must count once it is
        // anywhere in the value, including just inside or outside the 0x41...0x5A range.
        for length in 8...24 {
            for place in 0..<length {
                for b in UInt8(0)...UInt8(127) {
                    for withAt in [false, true] {
                        var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                        if withAt { bytes[(place + 1) % length] = UInt8(ascii: "@") }
                        bytes[place] = b
                        let value = String(decoding: bytes, as: UTF8.self)
                        let folded = bytes.map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }
                        let expected = bytes.contains(0x40) ? String(decoding: folded, as: UTF8.self) : value
                        if value.accountKey != expected {
                            Issue.record("\(bytes)")
                            return
                        }
                    }
                }
            }
        }
    }

    @Test("A key that needs no change shares the value's storage: nothing is allocated")
    func unchangedKeyIsTheSameString() {
        // Longer than 15 bytes, so the string has heap storage whose address can be compared.
        for value in ["someone@example.org.long", "tn_AbC123_opaque_tenant_id", "Blaster-at-Example.ORG"] {
            let key = value.accountKey
            let a = value.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
            let b = key.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
            #expect(a != nil && a == b, "\(value)")
        }
    }
}

/// A deterministic generator for the tests' values.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
