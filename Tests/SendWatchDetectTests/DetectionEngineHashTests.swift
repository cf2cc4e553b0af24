import SendWatchTesting
import Testing

@testable import SendWatchDetect

/// The recipient hashes feed the sketches and filters that decide alerts: ``DetectionEngine/recipientHashes(_:)``
/// must give exactly the values of the one-pass loop it replaced (each `@` starting the domain over), and of
/// ``DetectionEngine/domainHash(_:)`` and ``DetectionEngine/addressHash(_:)``.
@Suite struct DetectionEngineHashTests {
    /// The loop `recipientHashes` used before it scanned for the last `@` first.
    private static func reference(_ address: String) -> (domain: UInt64, address: UInt64) {
        let start: UInt64 = 0xcbf2_9ce4_8422_2325
        var domain = start
        var whole: UInt64 = 0x8422_2325_cbf2_9ce4
        for var b in address.utf8 {
            if b >= 0x41 && b <= 0x5A { b |= 0x20 }
            whole = (whole ^ UInt64(b)) &* 0x100_0000_01b3
            domain = b == UInt8(ascii: "@") ? start : (domain ^ UInt64(b)) &* 0x100_0000_01b3
        }
        return (domain, whole)
    }

    private static func check(_ address: String) {
        let got = DetectionEngine.recipientHashes(address)
        let want = reference(address)
        #expect(got.domain == want.domain && got.address == want.address, "\(address)")
        #expect(got.domain == DetectionEngine.domainHash(address), "\(address)")
        #expect(got.address == DetectionEngine.addressHash(address), "\(address)")
    }

    @Test("Edge cases: no @, several, at either end, letters next to A-Z, non-ASCII, small and long strings")
    func edgeCases() {
        for address in [
            "", "@", "@@", "a", "A", "user@Example.COM", "a@b@c.example", "trailing@", "@leading.example",
            "no-at-sign-at-all.example", "Z[`@az{AZ", "élodie@Exämple.example", "x@y",
            "a.very.long.local.part.that.is.not.small@a-long-domain-name.example.org",
            "MIXED.Case.Local@MIXED-case-Domain.Example", String(repeating: "@", count: 40),
        ] {
            Self.check(address)
        }
    }

    @Test("Eight bytes lowered at once: every byte value at every position")
    func loweredWord() {
        for b in 0...255 {
            let lowered = UInt64(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
            for k in 0..<8 {
                // The other bytes are `Z` and 0xDA (a non-ASCII byte whose low seven bits are `Z`).
                let filler: UInt64 = k % 2 == 0 ? 0x5A : 0xDA
                var word: UInt64 = 0
                var want: UInt64 = 0
                for j in 0..<8 {
                    let other = j == k ? UInt64(b) : filler
                    word |= other << (8 * j)
                    want |= (j == k ? lowered : (filler == 0x5A ? 0x7A : 0xDA)) << (8 * j)
                }
                #expect(DetectionEngine.lowerASCII(word: word) == want, "byte \(b) at \(k)")
            }
        }
    }

    @Test("Random addresses", arguments: [1, 2, 3] as [UInt64])
    func random(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        // Bytes next to A-Z (`@`, `[`, `` ` ``, `{`) and non-ASCII bytes whose low seven bits are letters (`Ж` is
        // D0 96, `ɐ` C9 90, `Á` C3 81).
        let alphabet = Array("abcXYZ@.-_09[`{éЖɐÁ".unicodeScalars)
        for _ in 0..<2_000 {
            let n = Int(rng.next() % 48)
            var s = ""
            for _ in 0..<n { s.unicodeScalars.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            Self.check(s)
        }
    }
}
