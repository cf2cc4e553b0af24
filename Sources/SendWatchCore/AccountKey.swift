extension String {
    /// The text with ASCII letters `A`–`Z` lowered and every other byte kept: the case folding of account keys
    /// (``SendEvent/account``), so that `Blaster@example.org` and `blaster@example.org` are one account in
    /// detection, in alerts and in the policy service's lookups. Mail addresses and logins are matched without
    /// regard to ASCII case in practice (Postfix, Dovecot and Cyrus SASL look logins up case-insensitively);
    /// non-ASCII letters are left alone, so that the folding is the same everywhere and cheap.
    ///
    /// - Complexity: O(n); a string without ASCII capitals is returned as it is, without allocating.
    public var asciiLowercased: String {
        guard utf8.contains(where: { $0 &- 0x41 < 26 }) else { return self }
        return String(decoding: utf8.map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// The account key of a login or account value (``SendEvent/account``): ``asciiLowercased`` when the value is
    /// a mail address or login with a domain (it holds `@`: mail systems match those without regard to ASCII case),
    /// the value as it is otherwise. Opaque account ids (`X-Account-Id: tn_AbC123`, a JSON `account`) may be
    /// case-sensitive and are never folded, so two tenants whose ids differ only in case stay two accounts.
    ///
    /// - Complexity: O(n); a value without `@` or without ASCII capitals is returned as it is, without allocating.
    public var accountKey: String {
        utf8.contains(UInt8(ascii: "@")) ? asciiLowercased : self
    }
}
