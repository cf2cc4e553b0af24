import SendWatchFormats
import Testing

@Suite("IP networks")
struct IPNetworkTests {
    @Test(
        "Membership of IPv4 and IPv6 addresses",
        arguments: [
            ("127.0.0.0/8", "127.0.0.11", true),
            ("127.0.0.0/8", "128.0.0.1", false),
            ("127.0.0.0/8", "::ffff:127.0.0.5", true),
            ("192.0.2.0/24", "192.0.2.255", true),
            ("192.0.2.0/24", "192.0.3.0", false),
            ("192.0.2.7", "192.0.2.7", true),
            ("192.0.2.7", "192.0.2.8", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("::1/128", "::1", true),
            ("::1/128", "::2", false),
            ("2001:db8::/32", "2001:db8:ffff:1::42", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("2001:DB8::/32", "2001:db8::1", true),
            ("fc00::/7", "fd12:3456::1", true),
            ("::/0", "192.0.2.1", true),
            ("10.0.0.0/8", "10.1.2", false),
            ("10.0.0.0/8", "010.1.2.3", false),
            ("10.0.0.0/8", "unknown", false),
            ("1:2:3:4:5:6:7:8/128", "1:2:3:4:5:6:7:8", true),
            ("1::/16", "1::", true),
        ])
    func membership(network: String, address: String, expected: Bool) throws {
        let n = try #require(IPNetwork(parsing: network))
        #expect(n.contains(address) == expected)
    }

    @Test(
        "Invalid networks are refused",
        arguments: [
            "", "10.0.0.0/33", "::/129", "300.1.1.1", "1.2.3", "1.2.3.4.5", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1",
            "1:", "12345::", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "fe80::1%eth0", "g::1",
        ])
    func invalid(text: String) {
        #expect(IPNetwork(parsing: text) == nil)
    }

    @Test("The text is kept for rendering, blanks trimmed")
    func description() throws {
        #expect(try #require(IPNetwork(parsing: " 10.0.0.0/8 ")).description == "10.0.0.0/8")
    }
}
