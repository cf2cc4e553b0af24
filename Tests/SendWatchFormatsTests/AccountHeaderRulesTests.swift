import SendWatchCore
import Testing

@testable import SendWatchFormats

/// ``AccountHeaderRules`` is ``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)`` prepared for
/// the per-message path: it must give the same answer for every input, including logins that are equal as
/// Swift `String`s (Unicode canonical equivalence) but not byte for byte.
@Suite("Account header rules, prepared")
struct AccountHeaderRulesTests {
    /// The Kelvin sign, U+212A: canonically equivalent to `K`, so `"\u{212A}" == "K"` in Swift.
    static let kelvin = "\u{212A}"

    @Test(
        "The prepared rules answer as the configuration does",
        arguments: [
            // (configured logins, networks, login, client, local, expected)
            (["notify@notify.example.net"], ["127.0.0.0/8"], "notify@notify.example.net", "198.51.100.9", false, true),
            (["notify@notify.example.net"], ["127.0.0.0/8"], "notify@notify.example.nex", "198.51.100.9", false, false),
            (["notify@notify.example.net"], ["127.0.0.0/8"], "alice@example.net", "127.0.0.5", false, true),
            (["notify@notify.example.net"], ["127.0.0.0/8"], nil, "::ffff:127.0.0.5", false, true),
            (["notify@notify.example.net"], ["127.0.0.0/8", "::1/128"], nil, "::1", false, true),
            (["notify@notify.example.net"], ["127.0.0.0/8"], nil, "127.0.0.256", false, false),
            (["notify@notify.example.net"], ["127.0.0.0/8"], nil, "unknown", false, false),
            (["notify@notify.example.net"], ["127.0.0.0/8"], nil, nil, true, true),
            (["notify@notify.example.net"], ["192.0.2.0/24"], nil, nil, true, false),
            (["notify@notify.example.net"], [], "alice@example.net", nil, true, false),
            ([], ["127.0.0.0/8"], "alice@example.net", nil, false, false),
            // Canonical equivalence both ways: an ASCII login against a configured non-ASCII one, and the
            // reverse, and a composed against a decomposed é.
            (["svc-\(kelvin)@example.net"], [], "svc-K@example.net", nil, false, true),
            (["svc-K@example.net"], [], "svc-\(kelvin)@example.net", nil, false, true),
            (["caf\u{E9}@example.net"], [], "cafe\u{301}@example.net", nil, false, true),
            (["svc-K@example.net", "other@example.net"], [], "svc-k@example.net", nil, false, false),
            // Many logins: the binary search over their hashes.
            ((0..<100).map { "svc\($0)@example.net" }, [], "svc37@example.net", nil, false, true),
            ((0..<100).map { "svc\($0)@example.net" }, [], "svc100@example.net", nil, false, false),
        ] as [([String], [String], String?, String?, Bool, Bool)])
    func sameAnswer(
        logins: [String], networks: [String], login: String?, clientIP: String?, isLocal: Bool, expected: Bool
    ) throws {
        let configuration = FormatConfiguration(
            accountHeaderLogins: Set(logins),
            accountHeaderNetworks: try networks.map { try #require(IPNetwork(parsing: $0)) })
        let rules = AccountHeaderRules(configuration)
        let answer = rules.believes(login: login, clientIP: clientIP, isLocal: isLocal)
        #expect(answer == configuration.believesAccountHeader(login: login, clientIP: clientIP, isLocal: isLocal))
        #expect(answer == expected)
    }
}
