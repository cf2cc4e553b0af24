import Foundation
import SendWatchCore
import SendWatchMetrics
import SendWatchPipeline
import SendWatchPolicy
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A board where `flagged@example.org` belongs to alert `sw-0000000000000001`, opened at time 1,000.
func flaggedBoard() -> OpenAlertBoard {
    let board = OpenAlertBoard()
    board.publish(
        OpenAlertAccounts(flags: [
            "flagged@example.org": .init(alertID: "sw-0000000000000001", openedAt: 1000)
        ]))
    return board
}

/// A fresh temporary directory with a short path (unix socket paths are limited to 107 bytes).
func shortTemporaryDirectory() throws -> String {
    var template = Array("/tmp/swpol.XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    try #require(made != nil)
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Suite("Policy address")
struct PolicyAddressTests {
    @Test(
        "Accepted --policy forms",
        arguments: [
            ("10040", "127.0.0.1:10040"), ("127.0.0.1:10040", "127.0.0.1:10040"), ("[::1]:10040", "[::1]:10040"),
            ("localhost:10040", "127.0.0.1:10040"),
            ("unix:/run/sendwatch/policy.sock", "unix:/run/sendwatch/policy.sock"),
        ])
    func accepted(text: String, expected: String) throws {
        #expect(try PolicyAddress(parsing: text).description == expected)
    }

    @Test(
        "Refused --policy forms name the flag",
        arguments: [
            ":10040", "*:10040", "::1:10040", "mail.example:10040", "unix:", "unix:relative.sock",
            "unix:/" + String(repeating: "a", count: 107), "70000",
        ])
    func refused(text: String) {
        let error = #expect(throws: ListenAddressError.self) { try PolicyAddress(parsing: text) }
        #expect(error?.message.hasPrefix("--policy '\(text)'") == true, "\(String(describing: error))")
    }
}

@Suite("Policy decision")
struct PolicyDecisionTests {
    static let accounts = OpenAlertAccounts(flags: [
        "flagged@example.org": .init(alertID: "sw-0000000000000001", openedAt: 1000),
        "Ops@Example.org": .init(alertID: "sw-0000000000000002", openedAt: 1000),
        "notify@platform.example": .init(alertID: "sw-0000000000000003", openedAt: 1000),
    ])

    static var configuration: PolicyConfiguration {
        var c = PolicyConfiguration()
        c.neverHold = ["ops@example.org"]
        c.expirySeconds = 3600
        c.serviceLogins = ["notify@platform.example"]
        return c
    }

    @Test(
        "The decision table",
        arguments: [
            (PolicyRequest.access(saslUsername: "flagged@example.org"), 1000.0, PolicyDecision.Reason.flagged),
            (.access(saslUsername: "flagged@example.org"), 4600, .flagged),
            (.access(saslUsername: "flagged@example.org"), 4601, .expired),
            // Accounts are folded to ASCII lowercase when parsed, so the login is looked up folded.
            (.access(saslUsername: "FLAGGED@example.org"), 1000, .flagged),
            (.access(saslUsername: "Flagged@Example.ORG"), 1000, .flagged),
            (.access(saslUsername: "other@example.org"), 1000, .notFlagged),
            (.access(saslUsername: "Ops@Example.org"), 1000, .neverHold),
            (.access(saslUsername: "notify@platform.example"), 1000, .serviceLogin),
            (.access(saslUsername: nil), 1000, .notAuthenticated),
            (.malformed, 1000, .malformed),
            (.oversize, 1000, .malformed),
        ])
    func table(request: PolicyRequest, now: Double, reason: PolicyDecision.Reason) {
        let decision = PolicyDecision(
            request: request, accounts: Self.accounts, configuration: Self.configuration, now: now)
        #expect(decision.reason == reason)
        if reason == .flagged {
            #expect(decision.answer == "action=HOLD SendWatch open alert, held for review [sw-0000000000000001]\n\n")
        } else {
            #expect(decision.answer == "action=DUNNO\n\n")
        }
    }

    @Test("A configured action and text are answered for a flagged login", arguments: PolicyAction.allCases)
    func configuredAction(action: PolicyAction) {
        var c = Self.configuration
        c.action = action
        c.text = "5.7.1 sending suspended"
        let decision = PolicyDecision(
            request: .access(saslUsername: "flagged@example.org"), accounts: Self.accounts, configuration: c,
            now: 1000)
        #expect(decision.action == "\(action.rawValue) 5.7.1 sending suspended [sw-0000000000000001]")
    }

    @Test("Requests are parsed from their bytes; only request and sasl_username matter")
    func parsing() {
        func parse(_ text: String) -> PolicyRequest {
            Array(text.utf8).withUnsafeBytes { PolicyRequest(parsing: $0) }
        }
        #expect(parse(PolicyClient.request(login: "a@b")) == .access(saslUsername: "a@b"))
        #expect(parse(PolicyClient.request(login: nil)) == .access(saslUsername: nil))
        #expect(
            parse("request=smtpd_access_policy\nsasl_username=x=y\nnew_attribute=1\n\n") == .access(saslUsername: "x=y")
        )
        #expect(parse("request=junk\nsasl_username=a@b\n\n") == .malformed)
        #expect(parse("sasl_username=a@b\n\n") == .malformed)
        #expect(parse("request=smtpd_access_policy\nno equals sign\n\n") == .malformed)
        #expect(parse("\n") == .malformed)
    }

    @Test("policy.* keys: defaults, accepted values and refused ones")
    func keys() throws {
        let defaults = try Configuration.load(yaml: "")
        #expect(defaults.policy == PolicyConfiguration())
        let set = try Configuration.load(
            yaml: "policy:\n  action: REJECT\n  text: \"5.7.1 it's suspended\"\n  never_hold: 'Svc@Example.org , b'\n"
                + "  expiry: 2h\n")
        #expect(set.policy.action == .reject)
        #expect(set.policy.text == "5.7.1 it's suspended")
        #expect(set.policy.neverHold == ["svc@example.org", "b"])
        #expect(set.policy.expirySeconds == 7200)
        // The configuration as rendered loads back to the same values.
        #expect(try Configuration.load(yaml: Configuration.schema.yaml(of: set)).policy == set.policy)
        for bad in [
            "action: HOLDX", "text: ''", "text: \"a\\nb\"", "never_hold: 'a,,b'", "never_hold: 'a b'",
            "expiry: 0",
        ] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try Configuration.load(yaml: "policy:\n  \(bad)\n") }
        }
    }
}

@Suite("Policy server")
struct PolicyServerTests {
    static let flagged = "action=HOLD SendWatch open alert, held for review [sw-0000000000000001]\n\n"
    static let dunno = "action=DUNNO\n\n"

    func makeServer(
        _ text: String = "127.0.0.1:0", limits: PolicyServer.Limits = .init(), board: OpenAlertBoard = flaggedBoard()
    ) throws -> PolicyServer {
        try PolicyServer(
            address: PolicyAddress(parsing: text), limits: limits, configuration: PolicyConfiguration(), board: board,
            clock: { 1000 })
    }

    func port(_ server: PolicyServer) throws -> Int {
        guard case .tcp(let address) = server.boundAddress else { throw CocoaError(.featureUnsupported) }
        return address.port
    }

    /// Several requests in one write, then more on the same connection: each answered, in order.
    func persistentRoundTrip(_ client: PolicyClient) {
        client.send(
            PolicyClient.request(login: "flagged@example.org") + PolicyClient.request(login: "other@example.org")
                + PolicyClient.request(login: nil))
        #expect(client.readAnswer() == Self.flagged)
        #expect(client.readAnswer() == Self.dunno)
        #expect(client.readAnswer() == Self.dunno)
        for _ in 0..<3 {
            client.send(PolicyClient.request(login: "flagged@example.org"))
            #expect(client.readAnswer() == Self.flagged)
        }
    }

    @Test("TCP: many requests on one connection, answered in order")
    func tcp() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        persistentRoundTrip(try PolicyClient(host: "127.0.0.1", port: try port(server)))
    }

    @Test("TCP on the IPv6 loopback")
    func ipv6() throws {
        let server = try makeServer("[::1]:0")
        defer { server.shutdown() }
        persistentRoundTrip(try PolicyClient(host: "::1", port: try port(server)))
    }

    @Test("Unix socket: many requests on one connection; a stale socket file is replaced, and removed at the end")
    func unixSocket() throws {
        let dir = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/policy.sock"
        let first = try makeServer("unix:" + path)
        first.shutdown()
        #expect(!FileManager.default.fileExists(atPath: path))
        // A file left behind (a crashed run) does not stop the next start.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(stale) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        let server = try makeServer("unix:" + path)
        defer { server.shutdown() }
        persistentRoundTrip(try PolicyClient(unixPath: path))
    }

    @Test("A request trickled one byte at a time is answered once complete")
    func trickle() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try PolicyClient(host: "127.0.0.1", port: try port(server))
        for byte in PolicyClient.request(login: "flagged@example.org") { client.send(String(byte)) }
        #expect(client.readAnswer() == Self.flagged)
    }

    @Test("A malformed request is answered DUNNO and the connection goes on")
    func malformed() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try PolicyClient(host: "127.0.0.1", port: try port(server))
        client.send("request=smtpd_access_policy\nthis line has no equals sign\nsasl_username=flagged@example.org\n\n")
        #expect(client.readAnswer() == Self.dunno)
        client.send("\n")
        #expect(client.readAnswer() == Self.dunno)
        client.send("request=something_else\nsasl_username=flagged@example.org\n\n")
        #expect(client.readAnswer() == Self.dunno)
        client.send(PolicyClient.request(login: "flagged@example.org"))
        #expect(client.readAnswer() == Self.flagged)
    }

    @Test("An oversize request is answered DUNNO and the connection closed; with or without its end")
    func oversize() throws {
        let server = try makeServer(limits: .init(maxRequestBytes: 1024))
        defer { server.shutdown() }
        let endless = try PolicyClient(host: "127.0.0.1", port: try port(server))
        endless.send("request=smtpd_access_policy\nsasl_username=flagged@example.org\nccert_subject=")
        endless.send(String(repeating: "x", count: 2000))
        #expect(endless.readAnswer() == Self.dunno)
        #expect(endless.isClosedByServer())
        let long = try PolicyClient(host: "127.0.0.1", port: try port(server))
        long.send(
            PolicyClient.request(login: "flagged@example.org") + PolicyClient.request(login: "flagged@example.org"))
        #expect(long.readAnswer() == Self.flagged)
        #expect(long.readAnswer() == Self.flagged)
        long.send(
            "request=smtpd_access_policy\nsasl_username=flagged@example.org\nx=" + String(repeating: "y", count: 1100)
                + "\n\n")
        #expect(long.readAnswer() == Self.dunno)
        #expect(long.isClosedByServer())
    }

    @Test("A new snapshot on the board is seen by the next request on an open connection")
    func boardSwap() throws {
        let board = OpenAlertBoard()
        let server = try makeServer(board: board)
        defer { server.shutdown() }
        let client = try PolicyClient(host: "127.0.0.1", port: try port(server))
        client.send(PolicyClient.request(login: "flagged@example.org"))
        #expect(client.readAnswer() == Self.dunno)
        board.publish(flaggedBoard().snapshot)
        client.send(PolicyClient.request(login: "flagged@example.org"))
        #expect(client.readAnswer() == Self.flagged)
        board.publish(OpenAlertAccounts())
        client.send(PolicyClient.request(login: "flagged@example.org"))
        #expect(client.readAnswer() == Self.dunno)
    }

    @Test("Connections over the bound are closed at once; the others are served")
    func connectionBound() throws {
        let server = try makeServer(limits: .init(maxConnections: 2))
        defer { server.shutdown() }
        let a = try PolicyClient(host: "127.0.0.1", port: try port(server))
        let b = try PolicyClient(host: "127.0.0.1", port: try port(server))
        a.send(PolicyClient.request(login: nil))
        b.send(PolicyClient.request(login: nil))
        #expect(a.readAnswer() == Self.dunno)
        #expect(b.readAnswer() == Self.dunno)
        let c = try PolicyClient(host: "127.0.0.1", port: try port(server))
        #expect(c.isClosedByServer())
        a.send(PolicyClient.request(login: "flagged@example.org"))
        #expect(a.readAnswer() == Self.flagged)
    }

    @Test("An idle connection is closed at its bound")
    func idle() throws {
        let server = try makeServer(limits: .init(idleTimeout: .milliseconds(200)))
        defer { server.shutdown() }
        let client = try PolicyClient(host: "127.0.0.1", port: try port(server), timeoutSeconds: 30)
        client.send(PolicyClient.request(login: nil))
        #expect(client.readAnswer() == Self.dunno)
        #expect(client.isClosedByServer())
    }

    @Test("An address in use is an error naming it")
    func addressInUse() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let error = #expect(throws: TailError.self) { try makeServer("127.0.0.1:\(try port(server))") }
        #expect(error?.code == .policyUnavailable)
        #expect(error?.message.contains("127.0.0.1:\(try port(server))") == true)
    }
}
