import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Debian's Postfix (package `postfix`) and Cyrus SASL's `saslpasswd2` (package `sasl2-bin`), which the real-MTA
/// test needs; `scripts/deps test` installs them.
enum PostfixTools {
    static let postfix = "/usr/sbin/postfix"
    static let postqueue = "/usr/sbin/postqueue"
    static let saslpasswd2 = "/usr/sbin/saslpasswd2"

    /// Why the test cannot run here, or nil.
    static let unavailable: String? = {
        for tool in [postfix, postqueue, saslpasswd2] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing: run scripts/deps test (Debian: apt-get install postfix sasl2-bin)"
        }
        if getpwnam("postfix") == nil { return "there is no 'postfix' user: install Debian's postfix package" }
        if geteuid() != 0 { return "Postfix's master must start as root, and the tests do not run as root" }
        return nil
    }()

    /// The comment printed when the test is skipped.
    static var skipComment: Comment { Comment(rawValue: "skipped: \(unavailable ?? "")") }
}

/// A free TCP port on 127.0.0.1 (the system's choice for port 0; free again once the probe is closed).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    try #require(bound, "bind 127.0.0.1:0: errno \(errno)")
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Runs `tool` with `arguments` (and `input` on its standard input), its output appended to `log`; the exit
/// status. Output goes to a file, never a pipe: `postfix start` leaves a daemon that would hold a pipe open.
@discardableResult
func runTool(_ tool: String, _ arguments: [String], input: String? = nil, log: String) throws -> Int32 {
    if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    defer { try? out.close() }
    out.seekToEndOfFile()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardOutput = out
    process.standardError = out
    let stdin = Pipe()
    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
    try process.run()
    if let input {
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
    }
    process.waitUntilExit()
    return process.terminationStatus
}

/// A Postfix instance of the test's own: configuration, queue, data, SASL database and mail log under `root`;
/// smtpd on a free loopback port with SMTP AUTH (Cyrus sasldb, PLAIN and LOGIN) and the policy service in its
/// recipient restrictions; everything it accepts is delivered to `discard`. The system's `/etc/postfix` instance
/// is neither read for its settings nor touched.
final class PostfixInstance {
    /// `myhostname`, and the SASL realm of logins without an `@`.
    static let hostname = "sendwatch-test.localdomain"
    let root: String
    let smtpPort: Int
    var configDirectory: String { root + "/conf" }
    var maillog: String { root + "/maillog" }
    var toolLog: String { root + "/tools.log" }

    /// Writes the instance's files; `policy` is the service's address in `check_policy_service` form
    /// (`inet:127.0.0.1:PORT`), `accounts` the SASL logins and their passwords.
    init(root: String, policy: String, accounts: [(login: String, password: String)]) throws {
        self.root = root
        smtpPort = try freeLoopbackPort()
        let postfixUser = try #require(getpwnam("postfix")).pointee
        for dir in ["conf", "conf/sasl", "queue", "data"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        // smtpd, running as `postfix`, opens the SASL database under `root` (the caller makes the directories above
        // it traversable), and the daemons chdir into the queue.
        try #require(chmod(root, 0o755) == 0)
        try #require(chown(root + "/data", postfixUser.pw_uid, postfixUser.pw_gid) == 0)
        let main = """
            compatibility_level = 3.6
            queue_directory = \(root)/queue
            data_directory = \(root)/data
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = \(Self.hostname)
            mydestination =
            relay_domains =
            inet_interfaces = loopback-only
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            maillog_file = \(maillog)
            maillog_file_prefixes = \(root)
            alias_maps =
            alias_database =
            biff = no
            default_transport = discard
            relay_transport = discard
            local_transport = discard
            smtpd_sasl_auth_enable = yes
            smtpd_sasl_type = cyrus
            smtpd_sasl_path = smtpd
            smtpd_relay_restrictions = permit_sasl_authenticated, reject
            smtpd_recipient_restrictions = check_policy_service \(policy), permit_sasl_authenticated, reject
            smtpd_policy_service_default_action = DUNNO

            """
        // No chroot; the smtpd line listens on the test's port only.
        let master = """
            127.0.0.1:\(smtpPort) inet n - n - - smtpd
            pickup    unix  n - n 60    1 pickup
            cleanup   unix  n - n -     0 cleanup
            qmgr      unix  n - n 300   1 qmgr
            rewrite   unix  - - n -     - trivial-rewrite
            bounce    unix  - - n -     0 bounce
            defer     unix  - - n -     0 bounce
            trace     unix  - - n -     0 bounce
            verify    unix  - - n -     1 verify
            flush     unix  n - n 1000? 0 flush
            proxymap  unix  - - n -     - proxymap
            showq     unix  n - n -     - showq
            error     unix  - - n -     - error
            retry     unix  - - n -     - error
            discard   unix  - - n -     - discard
            anvil     unix  - - n -     1 anvil
            scache    unix  - - n -     1 scache
            postlog   unix-dgram n - n - 1 postlogd

            """
        // Debian's Cyrus SASL reads smtpd.conf from $config_directory/sasl.
        let sasl = """
            pwcheck_method: auxprop
            auxprop_plugin: sasldb
            mech_list: PLAIN LOGIN
            sasldb_path: \(root)/sasldb2

            """
        try main.write(toFile: configDirectory + "/main.cf", atomically: true, encoding: .utf8)
        try master.write(toFile: configDirectory + "/master.cf", atomically: true, encoding: .utf8)
        try sasl.write(toFile: configDirectory + "/sasl/smtpd.conf", atomically: true, encoding: .utf8)
        for account in accounts {
            // Cyrus keeps `user@realm`; a login with an `@` is split at its last one.
            let at = account.login.lastIndex(of: "@")
            let user = at.map { String(account.login[..<$0]) } ?? account.login
            let realm = at.map { String(account.login[account.login.index(after: $0)...]) } ?? Self.hostname
            let status = try runTool(
                PostfixTools.saslpasswd2, ["-p", "-c", "-f", root + "/sasldb2", "-u", realm, user],
                input: account.password, log: toolLog)
            try #require(status == 0, "saslpasswd2: \(toolText())")
        }
        try #require(chmod(root + "/sasldb2", 0o644) == 0)
    }

    /// `postfix -c DIR start`: returns once the master runs (Postfix creates the queue's directories).
    func start() throws {
        let status = try runTool(PostfixTools.postfix, ["-c", configDirectory, "start"], log: toolLog)
        try #require(status == 0, "postfix start: \(toolText())\n\(maillogText())")
    }

    /// `postfix -c DIR stop`; harmless when it never started.
    func stop() {
        _ = try? runTool(PostfixTools.postfix, ["-c", configDirectory, "stop"], log: toolLog)
    }

    func toolText() -> String { (try? String(contentsOfFile: toolLog, encoding: .utf8)) ?? "" }
    func maillogText() -> String { (try? String(contentsOfFile: maillog, encoding: .utf8)) ?? "" }

    /// `postqueue -c DIR -j`: queue id → queue name (`hold`, `incoming`, `active`, `deferred`).
    func queue() throws -> [String: String] {
        let out = root + "/postqueue.json"
        try? FileManager.default.removeItem(atPath: out)
        let status = try runTool(PostfixTools.postqueue, ["-c", configDirectory, "-j"], log: out)
        try #require(status == 0, "postqueue -j: \((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
        var queue: [String: String] = [:]
        for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let id = object?["queue_id"] as? String, let name = object?["queue_name"] as? String {
                queue[id] = name
            }
        }
        return queue
    }

    /// Submits one message over SMTP with AUTH PLAIN as `login`; its queue id.
    func submit(login: String, password: String, to recipient: String) throws -> String {
        let client = try PolicyClient(host: "127.0.0.1", port: smtpPort)
        /// One reply, its continuation lines (`250-…`) read through; code and the last line's text.
        func reply() throws -> (code: Int, text: String) {
            while true {
                let line = try #require(client.readLine(), "smtpd closed the connection: \(maillogText())")
                let code = Int(line.prefix(3)) ?? 0
                if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                    return (code, String(line.dropFirst(4)))
                }
            }
        }
        func command(_ text: String, expect code: Int) throws -> String {
            client.send(text + "\r\n")
            let answer = try reply()
            try #require(answer.code == code, "\(text.prefix(20)) → \(answer.code) \(answer.text)\n\(maillogText())")
            return answer.text
        }
        let greeting = try reply()
        try #require(greeting.code == 220, "\(greeting.text)")
        _ = try command("EHLO client.example", expect: 250)
        let token = Data(([0] + Array(login.utf8) + [0] + Array(password.utf8))).base64EncodedString()
        _ = try command("AUTH PLAIN " + token, expect: 235)
        _ = try command("MAIL FROM:<\(login.contains("@") ? login : login + "@example.org")>", expect: 250)
        _ = try command("RCPT TO:<\(recipient)>", expect: 250)
        _ = try command("DATA", expect: 354)
        let queued = try command(
            "Subject: policy test\r\nFrom: <\(login)>\r\nTo: <\(recipient)>\r\n\r\nHello.\r\n.", expect: 250)
        _ = try command("QUIT", expect: 221)
        // "2.0.0 Ok: queued as 8A525F98326"
        return try #require(queued.split(separator: " ").last.map(String.init), "\(queued)")
    }
}

/// Debian's Postfix asks `sendwatch tail --policy` through `check_policy_service`: mail submitted with SMTP AUTH as
/// the login of an open alert waits in the hold queue; mail of another login is delivered.
@Suite(
    "Policy with a real Postfix", .serialized, .enabled(if: PostfixTools.unavailable == nil, PostfixTools.skipComment))
struct PostfixPolicyTests {
    @Test("A flagged login's message is held by Postfix, an unflagged login's delivered")
    func heldInPostfixQueue() throws {
        let dir = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try FlaggingLog(directory: dir)
        let tail = try FlaggingTail(directory: dir, log: log, policy: "127.0.0.1:0")
        defer { tail.stop() }
        let address = try #require(tail.policyAddress(), "\(tail.stderrText())")
        let flagged = try #require(tail.flaggedAccount(), "\(tail.stderrText())")

        try #require(chmod(dir, 0o755) == 0)
        let postfix = try PostfixInstance(
            root: dir + "/postfix", policy: "inet:" + address,
            accounts: [(flagged, "flagged-secret"), (log.unflagged, "unflagged-secret")])
        defer { postfix.stop() }
        try postfix.start()

        let heldID = try postfix.submit(login: flagged, password: "flagged-secret", to: "rcpt@example.net")
        let deliveredID = try postfix.submit(login: log.unflagged, password: "unflagged-secret", to: "rcpt@example.net")
        // Postfix logs the hold at RCPT, before the queue id exists.
        #expect(
            waitFor(seconds: 20) { (try? postfix.queue())?[heldID] == "hold" },
            "\(heldID) is not on hold: \((try? postfix.queue()) ?? [:])\n\(postfix.maillogText())")
        #expect(
            waitFor(seconds: 20) { postfix.maillogText().contains("\(deliveredID): removed") },
            "\(deliveredID) was not delivered: \(postfix.maillogText())")
        let maillog = postfix.maillogText()
        #expect(maillog.contains("\(deliveredID): to=<rcpt@example.net>, relay=none"))
        #expect(maillog.contains("status=sent"))
        #expect(try postfix.queue() == [heldID: "hold"], "only the flagged message waits")
        #expect(
            maillog.contains("hold: RCPT from localhost[127.0.0.1]: <rcpt@example.net>: Recipient address SendWatch"))
    }
}
