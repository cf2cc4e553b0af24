import SendWatchCore

/// ``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)`` prepared once per parser, so that the
/// decision, made once per message that carries the account header, costs a few word operations instead of
/// hashing the login with `Set<String>`'s seeded hash and walking the networks' `String`s.
///
/// Gives exactly the configuration's answer:
/// - a login is looked up by ``Bytes/wordHash(_:_:)`` of its UTF-8 bytes among the configured logins' hashes
///   (sorted, binary search), and a hit is confirmed with the configuration's set. `String` equality is Unicode
///   canonical equivalence, not byte equality (`"\u{212A}"`, the Kelvin sign, equals `"K"`), so the hashes
///   are used only when every configured login and the looked-up login are ASCII, where the two agree; any
///   other login goes to the set directly;
/// - a client address is parsed from its text (``IPNetwork/parseAddress(_:_:)``, no allocation) and compared
///   with each network;
/// - whether a local submission is believed is computed once.
///
/// Memory: 8 bytes per configured login, besides the configuration's own set and networks.
struct AccountHeaderRules: Sendable {
    private let logins: Set<String>
    /// The logins' word hashes, sorted; `nil` when a configured login is not ASCII (then every lookup uses
    /// ``logins``).
    private let loginHashes: [UInt64]?
    /// The networks without their text.
    private let networks: [IPNetwork.Bits]
    /// Whether a local submission (no client) is believed: loopback is one of the networks.
    private let believesLocalSubmissions: Bool

    init(_ configuration: FormatConfiguration) {
        logins = configuration.accountHeaderLogins
        var hashes: [UInt64] = []
        var allASCII = true
        for login in logins {
            if let h = Self.asciiHash(login) { hashes.append(h) } else { allASCII = false }
        }
        loginHashes = allASCII ? hashes.sorted() : nil
        networks = configuration.accountHeaderNetworks.map(\.bits)
        believesLocalSubmissions = configuration.believesLocalSubmissions
    }

    /// Whether the account header of a message is believed; the same answer as
    /// ``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)`` for the configuration this was
    /// made from.
    ///
    /// - Complexity: O(login length + log(logins)) for a login that is not configured, O(address length +
    ///   networks) for the client; no allocation.
    func believes(login: String?, clientIP: String?, isLocal: Bool) -> Bool {
        if let login, isConfigured(login) { return true }
        if let clientIP { return isTrusted(clientIP: clientIP) }
        return isLocal && believesLocalSubmissions
    }

    /// Whether `login` is one of the configured logins.
    private func isConfigured(_ login: String) -> Bool {
        guard let loginHashes else { return logins.contains(login) }
        if loginHashes.isEmpty { return false }
        guard let h = Self.asciiHash(login) else { return logins.contains(login) }
        var low = 0
        var high = loginHashes.count
        while low < high {
            let mid = (low + high) / 2
            if loginHashes[mid] < h { low = mid + 1 } else { high = mid }
        }
        return low < loginHashes.count && loginHashes[low] == h && logins.contains(login)
    }

    /// ``Bytes/wordHash(_:_:)`` of the UTF-8 bytes of `text`, or `nil` when it is not ASCII.
    private static func asciiHash(_ text: String) -> UInt64? {
        text.withUTF8Bytes { u in
            let raw = UnsafeRawBufferPointer(u)
            if let base = raw.baseAddress, !Bytes.isASCII(base, count: raw.count) { return nil }
            return Bytes.wordHash(raw, 0..<raw.count)
        }
    }

    /// Whether the client address `text` (as logged) lies in one of the networks.
    private func isTrusted(clientIP text: String) -> Bool {
        if networks.isEmpty { return false }
        let address = text.withUTF8Bytes { u in IPNetwork.parseAddress(UnsafeRawBufferPointer(u), 0..<u.count) }
        guard let address else { return false }
        for network in networks where network.contains(address) { return true }
        return false
    }
}
