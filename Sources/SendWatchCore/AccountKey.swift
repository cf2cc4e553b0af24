extension String {
    /// The text with ASCII letters `A`–`Z` lowered and every other byte kept: the case folding of account keys
    /// (``SendEvent/account``), so that `Blaster@example.org` and `blaster@example.org` are one account in
    /// detection, in alerts and in the policy service's lookups. Mail addresses and logins are matched without
    /// regard to ASCII case in practice (Postfix, Dovecot and Cyrus SASL look logins up case-insensitively);
    /// non-ASCII letters are left alone, so that the folding is the same everywhere and cheap.
    ///
    /// - Complexity: O(n); a string without ASCII capitals is returned as it is, without allocating.
    public var asciiLowercased: String {
        let hasCapital = withUTF8Bytes { u in u.contains { $0 &- 0x41 < 26 } }
        return hasCapital ? Self.foldingASCIICapitals(self) : self
    }

    /// The account key of a login or account value (``SendEvent/account``): ``asciiLowercased`` when the value is
    /// a mail address or login with a domain (it holds `@`: mail systems match those without regard to ASCII case),
    /// the value as it is otherwise. Opaque account ids (`X-Account-Id: tn_AbC123`, a JSON `account`) may be
    /// case-sensitive and are never folded, so two tenants whose ids differ only in case stay two accounts.
    ///
    /// - Complexity: O(n), one pass over the bytes; a value without `@` or without ASCII capitals (nearly every
    ///   one) is returned as it is, without allocating. Called once for every event.
    public var accountKey: String {
        withUTF8Bytes(Self.holdsAtAndCapital) ? Self.foldingASCIICapitals(self) : self
    }

    /// Whether `u` holds both an `@` and an ASCII capital (`A`–`Z`): one pass, eight bytes at a time (the last
    /// word overlapping the one before it), without stopping at `@` to scan again for capitals.
    private static func holdsAtAndCapital(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = u.count
        guard n >= 8, let base = UnsafeRawPointer(u.baseAddress) else {
            var at: UInt8 = 0
            var capital: UInt8 = 0
            for b in u {
                at |= b == UInt8(ascii: "@") ? 1 : 0
                capital |= b &- 0x41 < 26 ? 1 : 0
            }
            return at & capital != 0
        }
        // Per byte, bit 7 of `at` is set for a byte equal to 0x40 (the zero-byte test on `w ^ 0x40…`: a borrow can
        // mark a byte above a true match, never a word without one) and bit 7 of `capital` for a byte in
        // 0x41...0x5A (on the low seven bits, no carry leaves a byte; bytes above 0x7F are masked out).
        var at: UInt64 = 0
        var capital: UInt64 = 0
        var k = 0
        while true {
            // Safe: k + 8 <= n.
            let w = base.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            let x = w ^ 0x4040_4040_4040_4040
            at |= (x &- 0x0101_0101_0101_0101) & ~x
            let m = w & 0x7F7F_7F7F_7F7F_7F7F
            capital |= (m &+ 0x3F3F_3F3F_3F3F_3F3F) & ~(m &+ 0x2525_2525_2525_2525) & ~w
            if k + 8 >= n { break }
            k = Swift.min(k + 8, n - 8)
        }
        return at & 0x8080_8080_8080_8080 != 0 && capital & 0x8080_8080_8080_8080 != 0
    }

    /// `text` with ASCII `A`–`Z` lowered, every other byte kept, into storage of exactly its length.
    private static func foldingASCIICapitals(_ text: String) -> String {
        text.withUTF8Bytes { u in
            String(unsafeUninitializedCapacity: u.count) { out in
                for k in 0..<u.count {
                    let b = u[k]
                    out[k] = b &- 0x41 < 26 ? b | 0x20 : b
                }
                return u.count
            }
        }
    }
}
