public import SendWatchCore

/// Parses Postfix syslog lines and joins each message's lines by host, Postfix instance and queue id into one
/// ``SendEvent`` per message and recipient.
///
/// Postfix logs a message over many lines from different daemons; this parser keeps a bounded table of open
/// messages and fills it as the lines come:
///
/// | line (after `QUEUEID: `) | daemon | what it gives |
/// |---|---|---|
/// | `client=HOST[IP]`, `, sasl_username=U`, `, orig_client=`, `, orig_queue_id=` | smtpd (any `syslog_name`) | client IP, SASL user |
/// | `uid=N from=<S>` | pickup | local submitter |
/// | `message-id=<ID>` | cleanup | Message-ID |
/// | `warning: header NAME: TEXT from CLIENT; from=<..> ...` (also `info:`) | cleanup | Subject, account and template header |
/// | `reject:` / `discard:` / `milter-reject:` / `milter-discard:` | cleanup (smtpd: `END-OF-MESSAGE`/`DATA`) | message dropped |
/// | `from=<S>, size=N, nrcpt=N (queue active)` / `from=<S>, status=expired, ...` | qmgr | envelope sender |
/// | `to=<R>, [orig_to=<O>,] relay=..., status=S ...` | any delivery agent | **the event** (first attempt per recipient) |
/// | `sender non-delivery notification: NEWID` (any `... notification: NEWID`) | bounce | NEWID is a notice |
/// | `removed` | qmgr | message complete |
///
/// Decisions:
/// - **Join key**: (syslog host, Postfix instance, queue id), where the instance is the program's first
///   component (`postfix`, `postfix-out`; `postfix/submission/smtpd` is the instance `postfix`). A central log
///   of several hosts, or of several instances of one host, whose queue ids collide keeps their messages
///   apart (see ``PostfixQueueID``). An `orig_queue_id=` is looked up in the same instance, then in the other
///   instances of the same host seen lately (at most ``maxRecentScopes``).
/// - **One event per message and recipient**, at its first delivery attempt, with that attempt's time and
///   status; later attempts after `deferred` only touch the message. The recipient is `orig_to` when logged
///   (the address the sender used, before alias or `virtual` rewriting), else `to`; recipients are
///   remembered by the hash of their bytes (at most ``maxRememberedRecipients`` per message: beyond that,
///   retries of further recipients are emitted again).
/// - **Status**: `sent`, `deferred` (and `SOFTBOUNCE`), `bounced`, `expired` map to ``DeliveryStatus``; the
///   `discard` daemon's `status=sent` is ``DeliveryStatus/discarded``. Address-verification probe results
///   (`deliverable`, `undeliverable`, ...) are not sends: the line is ignored. Any other status is
///   `malformed`.
/// - **Account**: the configured account header's value (``FormatConfiguration/accountHeader``; the first
///   of several such header lines wins) when the submitter is trusted to set it
///   (``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``: a configured login or client
///   network; any sender can write the header, so it is not believed from anyone else and its value is kept as
///   ``SendEvent/claimedAccount``), else the SASL user (`.authenticated`), else the `pickup` submitter
///   (`.localUser`; pickup logs the sender `sendmail` ran with), else the envelope sender (`.sender`, `<>` for
///   the null sender). A delivery for a message about which none of these is known is rejected
///   `unknown_queue_id`.
/// - **Notices**: a queue id named by a `... notification: ID` line (non-delivery, delivery-status and
///   delay notices Postfix generates) and a null-sender message without smtpd client, SASL user or pickup
///   submitter is a notice: its deliveries produce no events and it is counted once in
///   ``ParseCounters/nonDeliveryNotices``. A null-sender message received from a client (a remote bounce
///   relayed through this server) is not a notice of this server and yields events.
/// - **Rejected messages**: `reject:`/`discard:` (header/body checks) and `milter-reject:`/`milter-discard:`
///   from cleanup, or from smtpd at `END-OF-MESSAGE`/`DATA`, mean the message never entered the queue: its
///   state is dropped at once (not counted incomplete) and no events follow. An smtpd `reject: RCPT` for a
///   queue id only refuses that recipient and is ignored.
/// - **Content filters**: an smtpd line with `orig_queue_id=OLD` (re-injection after an after-queue filter)
///   copies what the new message lacks from OLD (SASL user, submitter, client, headers, notice flag) and
///   marks OLD as a filter hop, whose delivery to the filter is not a send. `orig_client=` wins over
///   `client=` for the client IP.
/// - **Incomplete** (``ParseCounters/incompleteMessages``): a message whose state is dropped without its
///   `removed` line: at ``finish(into:)``, by expiry (no line for it for
///   ``FormatConfiguration/openMessageTimeoutSeconds`` of event time) or by eviction. That includes SMTP
///   transactions the client aborted after a queue id was assigned. A `status=expired, returned to sender`
///   message is complete once `removed` follows; recipients that were never attempted are never logged by
///   Postfix, so they cannot become events.
/// - **Bound**: at most ``FormatConfiguration/maxOpenMessages`` messages are open; when full, the least
///   recently touched one is evicted (counted in ``ParseCounters/evictedMessages`` and
///   ``ParseCounters/incompleteMessages``). Memory is 160 bytes (``PostfixMessage``) plus the stored strings per
///   message (56 bytes for a notice named by a `notification:` line that has no line of its own yet: see
///   ``PostfixMessageTable``), plus a fixed ``ByteStringCache`` of 16,384 entries (24 bytes each plus the cached
///   strings) that lets repeated senders, SASL users and header values share one `String`, plus the last line's
///   host and instance (at most ``maxScopeKeyBytes``), so that a run of lines of one host is neither hashed again
///   nor given a new host `String`.
/// - **Per-line cost**: the host and instance are compared with the previous line's as bytes; whether the
///   account header is believed is decided once per message that carries the header, at its first event, from
///   the stored login and client address (``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``
///   prepared once per parser), not on every `client=` line.
///
/// Lines are read in every header layout ``SyslogHeaderReader`` reads, and inside journal and Docker JSON
/// records (``JSONEnvelope``). Blank lines are ignored. Lines of other programs are ignored and counted in
/// ``ParseCounters/otherPrograms`` (the program's first path component must contain `postfix`, e.g.
/// `postfix/submission/smtpd` or `postfix-out/smtp`; the daemon is the last component), as are Postfix lines
/// without a queue id (`connect from`, `NOQUEUE: reject:`, SASL failures, `statistics:`, anvil, scache,
/// master) and queue-id lines of other kinds.
///
/// Usage:
/// ```swift
/// var parser = PostfixParser()
/// parser.beginInput(yearHint: .year(2026))
/// var events: EventBatch = []
/// line.withUnsafeBytes { _ = parser.parse(line: $0, into: &events) }
/// parser.finish(into: &events)
/// ```
public struct PostfixParser: EventParser, Sendable {
    /// The most recipient hashes remembered per message for deduplication.
    public static let maxRememberedRecipients = 4096

    public internal(set) var counters = ParseCounters()

    /// Whether events are appended with their fields (the default) or only counted; see ``EventOutput``.
    /// Set it before the first line: the strings already stored for open messages are not changed.
    public var eventOutput: EventOutput = .events

    private let configuration: FormatConfiguration
    // Internal (not private) for the checkpoint extension (PostfixParser+Checkpoint.swift).
    var headerReader: SyslogHeaderReader
    var table: PostfixMessageTable
    /// The configured header names, ASCII letters lowered (``equalsIgnoringCase(_:_:_:)`` compares to them).
    private let accountHeaderName: [UInt8]
    private let templateHeaderName: [UInt8]
    private let subjectHeaderName: [UInt8] = Array("subject".utf8)
    /// ``PostfixLine/queueIDClasses``, read once per parser instead of through the static's accessor per line.
    private let queueIDClasses = PostfixLine.queueIDClasses
    private let timeoutMicroseconds: Int64
    /// The bytes from the host field to the end of the Postfix instance (`mx1 postfix`) of the line ``scope`` was
    /// last made for, with the host's length (-1 when the key is not valid) and the instance's offset in them,
    /// so that the scope is hashed only when they change: a log is long runs of one host and instance. At most
    /// ``maxScopeKeyBytes`` bytes; a longer span is hashed on every line. (The bytes between host and program
    /// are compared too: a line that differs only there hashes to the same scope again.)
    private var scopeKey: [UInt8] = []
    private var scopeKeyHostCount = -1
    private var scopeKeyInstanceOffset = 0
    /// The `String` of ``scopeKey``'s host, made at the first event of a run of that host, so events of one host
    /// share one string.
    private var scopeHost: String?
    /// The longest span from host to instance end ``scopeKey`` holds.
    static let maxScopeKeyBytes = 256
    /// ``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``, prepared. Internal (not private)
    /// for the checkpoint extension.
    let headerRules: AccountHeaderRules
    /// Strings of values that repeat across messages (senders, SASL users, header values).
    private var strings = ByteStringCache()
    /// The scope (host and instance, see ``PostfixQueueID``) of the current line's queue ids.
    private var scope: UInt64 = 0
    /// The scopes seen most recently with their host's hash, newest last (at most ``maxRecentScopes``): where
    /// an `orig_queue_id=` of another instance on the same host is looked for.
    private var recentScopes: [(host: UInt64, scope: UInt64)] = []
    /// The most scopes ``recentScopes`` remembers.
    static let maxRecentScopes = 16
    // Internal (not private) for ``EnvelopedLineParser``: journal and Docker JSON records, whose line inside is
    // parsed, and the buffer of the current record's line.
    var envelope = JSONEnvelope()
    var envelopeLine: [UInt8] = []

    public init(configuration: FormatConfiguration = .init()) {
        self.configuration = configuration
        self.headerReader = SyslogHeaderReader(zone: configuration.zone)
        self.table = PostfixMessageTable(capacity: configuration.maxOpenMessages)
        self.accountHeaderName = Self.loweredASCII(configuration.accountHeader)
        self.templateHeaderName = Self.loweredASCII(configuration.templateHeader)
        self.headerRules = AccountHeaderRules(configuration)
        let (micros, overflow) = max(0, configuration.openMessageTimeoutSeconds).multipliedReportingOverflow(
            by: 1_000_000)
        self.timeoutMicroseconds = overflow ? .max : micros
    }

    /// The number of messages currently open.
    public var openMessages: Int { table.count }

    public mutating func beginInput(yearHint: YearHint) {
        headerReader.beginInput(yearHint: yearHint)
    }

    /// The latest time given to a year-less (classic syslog) timestamp of the current input.
    public var latestYearlessTime: EventTime? { headerReader.latestYearlessTime }

    /// Parses one line; appends an event when the line is the first delivery attempt of a recipient.
    ///
    /// - Complexity: O(line length) with `memchr` scans; O(1) amortised table work (lookup, touch, lazy
    ///   expiry, eviction). Allocates only for values stored into the message state and for emitted events.
    public mutating func parse(line: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome {
        counters.lines += 1
        let outcome = classifyEnveloped(line, into: &events)
        counters.record(outcome)
        return outcome
    }

    /// Drops every open message, counting each as incomplete. Emits nothing: events are created at delivery
    /// lines, so nothing is pending.
    public mutating func finish(into events: inout EventBatch) {
        counters.incompleteMessages += table.count
        table.removeAll()
    }

    // MARK: - Line dispatch

    private enum Daemon {
        case cleanup, smtpd, discard, other
    }

    /// Classifies one line as the MTA wrote it (a JSON record's line already unwrapped).
    mutating func classify(_ p: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome {
        if Bytes.find(0, in: p, from: 0) != nil { return .rejected(.nulByte) }
        var header = SyslogHeader(time: EventTime(microseconds: 0), host: 0..<0, program: 0..<0, messageStart: 0)
        if let reason = headerReader.read(p, into: &header) {
            if reason == .unknownTimeZone && counters.unknownZoneAbbreviation == nil {
                counters.unknownZoneAbbreviation = headerReader.unknownZoneAbbreviation
            }
            // A blank line or a journal's marker line carries nothing, and is no broken timestamp.
            return Bytes.isBlank(p) || Bytes.isJournalMarker(p) ? .ignored : .rejected(reason)
        }
        guard let daemon = Self.postfixDaemon(p, header.program) else {
            counters.otherPrograms += 1
            if Bytes.hasPrefix("exim", in: p, at: header.program.lowerBound) { counters.otherMailServerLines += 1 }
            return .ignored
        }
        expireIdle(now: header.time)
        guard let (qid, rest) = PostfixLine.readQueueID(p, at: header.messageStart, classes: queueIDClasses) else {
            return .ignored
        }
        setScope(p, host: header.host, program: header.program)
        let time = header.time
        // Dispatch on the first byte of the text after the queue id; no two kinds share one.
        if rest < p.count {
            switch p[rest] {
            case UInt8(ascii: "t"):
                if Bytes.hasPrefix("to=", in: p, at: rest) {
                    return delivery(p, qid: qid, at: rest + 3, daemon: daemon, header: header, into: &events)
                }
            case UInt8(ascii: "c"):
                if Bytes.hasPrefix("client=", in: p, at: rest) { return client(p, qid: qid, at: rest + 7, time: time) }
            case UInt8(ascii: "m"):
                if Bytes.hasPrefix("message-id=", in: p, at: rest) {
                    return messageID(p, qid: qid, at: rest + 11, time: time)
                }
                if Bytes.hasPrefix("milter-reject: ", in: p, at: rest) {
                    return dropRejected(p, qid: qid, stage: rest + 15, daemon: daemon)
                }
                if Bytes.hasPrefix("milter-discard: ", in: p, at: rest) {
                    return dropRejected(p, qid: qid, stage: rest + 16, daemon: daemon)
                }
            case UInt8(ascii: "f"):
                if Bytes.hasPrefix("from=", in: p, at: rest) {
                    return queueManager(p, qid: qid, at: rest + 5, time: time)
                }
            case UInt8(ascii: "r"):
                if Bytes.equals("removed", in: p, rest..<p.count) { return removed(p, qid: qid) }
                if Bytes.hasPrefix("reject: ", in: p, at: rest) {
                    return dropRejected(p, qid: qid, stage: rest + 8, daemon: daemon)
                }
            case UInt8(ascii: "u"):
                if Bytes.hasPrefix("uid=", in: p, at: rest) { return pickup(p, qid: qid, at: rest + 4, time: time) }
            case UInt8(ascii: "w"):
                if Bytes.hasPrefix("warning: header ", in: p, at: rest) {
                    return headerLine(p, qid: qid, at: rest + 16, time: time)
                }
            case UInt8(ascii: "i"):
                if Bytes.hasPrefix("info: header ", in: p, at: rest) {
                    return headerLine(p, qid: qid, at: rest + 13, time: time)
                }
            case UInt8(ascii: "d"):
                if Bytes.hasPrefix("discard: ", in: p, at: rest) {
                    return dropRejected(p, qid: qid, stage: rest + 9, daemon: daemon)
                }
            default:
                break
            }
        }
        if let note = Bytes.find(" notification: ", in: p, from: rest) {
            return notice(p, qid: qid, newID: note + 15, time: time)
        }
        return .ignored
    }

    /// Whether a syslog program name is Postfix's (its first component contains `postfix`, or it is
    /// `NAME/DAEMON` with a Postfix daemon: ``isCustomInstance(_:_:firstEnd:)``), as the parser reads it: for the
    /// format detector, and for the Exim parser, to count Postfix lines in a central log read as Exim.
    public static func isPostfixProgram(_ p: UnsafeRawBufferPointer, _ program: Range<Int>) -> Bool {
        !program.isEmpty && postfixDaemon(p, program) != nil
    }

    /// The daemon of a Postfix program name (`postfix/smtpd`, `postfix/submission/smtpd`, `postfix-out/smtp`),
    /// or `nil` for other programs.
    private static func postfixDaemon(_ p: UnsafeRawBufferPointer, _ program: Range<Int>) -> Daemon? {
        // Fast path: a first component that starts with `postfix/` contains `postfix`.
        if !Bytes.hasPrefix("postfix/", in: p, at: program.lowerBound) || program.count < 8 {
            let firstEnd =
                Bytes.find(UInt8(ascii: "/"), in: p, from: program.lowerBound, to: program.upperBound)
                ?? program.upperBound
            guard
                Bytes.find("postfix", in: p, from: program.lowerBound, to: firstEnd) != nil
                    || isCustomInstance(p, program, firstEnd: firstEnd)
            else { return nil }
        }
        // The last component is NAME when the program is NAME or ends with `/NAME`: suffix compares instead of
        // a backward search for the last `/`, after a look at the last byte, which most daemons' names (smtp,
        // qmgr, pickup, bounce, local) do not share with these three. The program holds `postfix` here, so it is
        // not empty.
        switch p[program.upperBound - 1] {
        case UInt8(ascii: "p"):
            if Bytes.hasSuffix("/cleanup", in: p, program) || Bytes.equals("cleanup", in: p, program) {
                return .cleanup
            }
        case UInt8(ascii: "d"):
            if Bytes.hasSuffix("/smtpd", in: p, program) || Bytes.equals("smtpd", in: p, program) { return .smtpd }
            if Bytes.hasSuffix("/discard", in: p, program) || Bytes.equals("discard", in: p, program) {
                return .discard
            }
        default:
            break
        }
        return .other
    }

    /// The daemon names (a program's last component) that make `NAME/DAEMON` a Postfix instance whose
    /// `syslog_name` does not contain `postfix` (`mailout/smtpd`, `out/submission/smtpd`): every program of
    /// Postfix 3.x's `master.cf` and libexec directory.
    static let postfixDaemonNames: [StaticString] = [
        "smtpd", "smtp", "lmtp", "cleanup", "qmgr", "oqmgr", "pickup", "local", "virtual", "pipe", "bounce",
        "defer", "trace", "error", "retry", "discard", "flush", "showq", "anvil", "scache", "tlsmgr", "tlsproxy",
        "verify", "proxymap", "proxywrite", "trivial-rewrite", "rewrite", "postscreen", "dnsblog", "postlogd",
        "master", "spawn", "qmqpd", "postdrop", "sendmail", "postqueue", "postsuper", "postmap", "postalias",
        "postfix-script",
    ]

    /// First components of other programs that name their processes `NAME/DAEMON` with a daemon of the same
    /// name as one of Postfix's (Cyrus `cyrus/lmtp`, Dovecot `dovecot/lmtp` in some setups): never a Postfix
    /// instance.
    static let otherInstanceNames: [StaticString] = [
        "dovecot", "cyrus", "amavis", "amavisd", "opendkim", "opendmarc", "rspamd", "spamd", "clamd", "exim",
        "sendmail", "sm-mta", "courier", "mailman", "sympa", "sogo",
    ]

    /// Whether `p[program]`, whose first component (up to `firstEnd`) does not contain `postfix`, is still a
    /// Postfix program: `NAME/.../DAEMON` with a known daemon (``postfixDaemonNames``) and a first component
    /// that is not another mail program's (``otherInstanceNames``). Postfix names its programs
    /// `<syslog_name>/<daemon>`, and `syslog_name` may be anything (`mailout`, `out`).
    ///
    /// - Complexity: O(length of the program name × known names); only for lines whose program does not
    ///   contain `postfix`.
    static func isCustomInstance(_ p: UnsafeRawBufferPointer, _ program: Range<Int>, firstEnd: Int) -> Bool {
        guard firstEnd > program.lowerBound, firstEnd < program.upperBound else { return false }
        var lastStart = program.upperBound
        while lastStart > firstEnd + 1 && p[lastStart - 1] != UInt8(ascii: "/") { lastStart -= 1 }
        let last = lastStart..<program.upperBound
        guard !last.isEmpty, postfixDaemonNames.contains(where: { Bytes.equals($0, in: p, last) }) else {
            return false
        }
        let first = program.lowerBound..<firstEnd
        return !otherInstanceNames.contains { Bytes.equals($0, in: p, first) }
    }

    // MARK: - Table helpers

    /// Sets ``scope`` from the line's host field and Postfix instance (the program's first component).
    ///
    /// - Complexity: O(length of host and instance), a byte comparison with the previous scope's; hashed
    ///   (O(length / 8)) only when they differ. No allocation unless the scope is new to ``recentScopes`` or
    ///   ``scopeKey`` grows.
    @inline(__always)
    private mutating func setScope(_ p: UnsafeRawBufferPointer, host: Range<Int>, program: Range<Int>) {
        let instanceEnd: Int
        if Bytes.hasPrefix("postfix/", in: p, at: program.lowerBound) {
            instanceEnd = program.lowerBound + 7
        } else {
            instanceEnd =
                Bytes.find(UInt8(ascii: "/"), in: p, from: program.lowerBound, to: program.upperBound)
                ?? program.upperBound
        }
        let instance = program.lowerBound..<instanceEnd
        if isScopeKey(p, host: host, instance: instance) { return }
        newScope(p, host: host, instance: instance)
    }

    /// Whether the line's host and instance are those of ``scopeKey``.
    @inline(__always)
    private func isScopeKey(_ p: UnsafeRawBufferPointer, host: Range<Int>, instance: Range<Int>) -> Bool {
        let count = instance.upperBound - host.lowerBound
        guard host.count == scopeKeyHostCount, count == scopeKey.count,
            instance.lowerBound - host.lowerBound == scopeKeyInstanceOffset, let base = p.baseAddress
        else { return false }
        return scopeKey.withUnsafeBytes { key in
            // Safe: the span from the host to the instance's end lies inside `p` (the header reader's ranges, the
            // instance after the host, checked when the key was made) and the key holds exactly as many bytes
            // (counts checked above); an empty key has no bytes to compare.
            guard let k = key.baseAddress else { return true }
            return Bytes.equal(k, base + host.lowerBound, count: count)
        }
    }

    /// Hashes the scope of a host and instance other than the previous line's, and remembers their bytes.
    private mutating func newScope(_ p: UnsafeRawBufferPointer, host: Range<Int>, instance: Range<Int>) {
        scopeHost = nil
        scopeKey.removeAll(keepingCapacity: true)
        scopeKeyHostCount = -1
        if host.upperBound <= instance.lowerBound && instance.upperBound - host.lowerBound <= Self.maxScopeKeyBytes {
            scopeKey.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[host.lowerBound..<instance.upperBound]))
            scopeKeyHostCount = host.count
            scopeKeyInstanceOffset = instance.lowerBound - host.lowerBound
        }
        let hostHash = Bytes.wordHash(p, host)
        var h = (hostHash ^ 0x2545_F491_4F6C_DD1D) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 31) ^ Bytes.wordHash(p, instance)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        guard h != scope else { return }
        scope = h
        if let k = recentScopes.firstIndex(where: { $0.scope == h }) { recentScopes.remove(at: k) }
        if recentScopes.count >= Self.maxRecentScopes { recentScopes.removeFirst() }
        recentScopes.append((hostHash, h))
    }

    /// The key of queue id `p[qid]` in the current line's ``scope``.
    @inline(__always)
    private func queueID(_ p: UnsafeRawBufferPointer, _ qid: Range<Int>) -> PostfixQueueID {
        PostfixQueueID(p, qid, scope: scope)
    }

    /// The open message an `orig_queue_id=` names: in the current scope, else in another instance on the same
    /// host seen lately (a content filter that hands mail from one instance to another); touches it.
    private mutating func original(_ p: UnsafeRawBufferPointer, _ qid: Range<Int>, time: EventTime) -> Int32? {
        if let slot = existing(p, qid, time: time) { return slot }
        guard let host = recentScopes.last(where: { $0.scope == scope })?.host else { return nil }
        for entry in recentScopes.reversed() where entry.host == host && entry.scope != scope {
            if let slot = table.touch(PostfixQueueID(p, qid, scope: entry.scope), at: time) { return slot }
        }
        return nil
    }

    /// The open message for `qid`, or `nil`; touches it.
    private mutating func existing(_ p: UnsafeRawBufferPointer, _ qid: Range<Int>, time: EventTime) -> Int32? {
        table.touch(queueID(p, qid), at: time)
    }

    /// The open message for `qid`, created when new (evicting the least recently touched one when full).
    private mutating func openMessage(_ p: UnsafeRawBufferPointer, _ qid: Range<Int>, time: EventTime) -> Int32 {
        let (slot, evicted) = table.open(queueID(p, qid), at: time)
        if evicted > 0 { countEvicted(evicted) }
        return slot
    }

    /// Counts `n` messages evicted to make room (they are incomplete too). Internal (not private) for the
    /// checkpoint extension.
    mutating func countEvicted(_ n: Int) {
        counters.incompleteMessages += n
        counters.evictedMessages += n
    }

    /// Drops messages idle for longer than the timeout, oldest first.
    ///
    /// Inlined for the test of the least recently touched message, which nearly every line passes; the drops are
    /// made out of line.
    ///
    /// - Complexity: O(1) amortised: each message is dropped once.
    @inline(__always)
    private mutating func expireIdle(now: EventTime) {
        guard let last = table.oldestTouch, now.microseconds &- last.microseconds > timeoutMicroseconds else {
            return
        }
        dropIdle(now: now)
    }

    /// ``expireIdle(now:)``'s drops, once the least recently touched message is idle.
    private mutating func dropIdle(now: EventTime) {
        while let last = table.oldestTouch {
            let idle = now.microseconds &- last.microseconds
            guard idle > timeoutMicroseconds else { return }
            table.removeOldest()
            counters.incompleteMessages += 1
        }
    }

    // MARK: - Line kinds

    private mutating func client(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, at start: Int, time: EventTime
    ) -> LineOutcome {
        guard let ip = PostfixLine.readClientIP(p, at: start) else { return .rejected(.malformed) }
        // One pass over the ", " separators after the client finds the first ", KEY=" of each key.
        var saslKey: Int?
        var originalIPKey: Int?
        var originalIDKey: Int?
        var i = ip.upperBound
        while let comma = Bytes.find(UInt8(ascii: ","), in: p, from: i) {
            i = comma + 1
            guard i < p.count, p[i] == 0x20, i + 1 < p.count else { continue }
            switch p[i + 1] {
            case UInt8(ascii: "s"):
                if saslKey == nil && Bytes.hasPrefix("sasl_username=", in: p, at: i + 1) { saslKey = comma }
            case UInt8(ascii: "o"):
                if originalIPKey == nil && Bytes.hasPrefix("orig_client=", in: p, at: i + 1) { originalIPKey = comma }
                if originalIDKey == nil && Bytes.hasPrefix("orig_queue_id=", in: p, at: i + 1) { originalIDKey = comma }
            default:
                break
            }
        }
        var sasl: Range<Int>?
        if let k = saslKey {
            let v = k + 16
            let end = PostfixLine.valueEnd(p, from: v)
            if end > v { sasl = v..<end }
        }
        var originalIP: Range<Int>?
        if let k = originalIPKey {
            originalIP = PostfixLine.readClientIP(p, at: k + 14)
        }
        var originalID: Range<Int>?
        if let k = originalIDKey {
            let v = k + 16
            let end = PostfixLine.valueEnd(p, from: v)
            if PostfixLine.isQueueID(p, v..<end) { originalID = v..<end }
        }
        let slot = openMessage(p, qid, time: time)
        // Kept as text even when counting only: whether the account header is believed may rest on it, and is
        // decided from it only for the messages that carry the header.
        table[slot].clientIP = strings.string(p, originalIP ?? ip)
        if let sasl { table[slot].saslUser = cachedField(p, sasl) }
        if let originalID, let old = original(p, originalID, time: time), old != slot {
            // Rare (content filter re-injection): copying the old message is fine here.
            let o = table[old]
            table[old].isFilterHop = true
            if table[slot].saslUser == nil { table[slot].saslUser = o.saslUser }
            if table[slot].localUser == nil { table[slot].localUser = o.localUser }
            if originalIP == nil, let ip = o.clientIP { table[slot].clientIP = ip }
            if table[slot].messageID == nil { table[slot].messageID = o.messageID }
            if table[slot].subject == nil {
                table[slot].subject = o.subject
                table[slot].subjectCut = o.subjectCut
            }
            if table[slot].account == nil { table[slot].account = o.account }
            if table[slot].template == nil { table[slot].template = o.template }
            if o.isNotice { table[slot].isNotice = true }
        }
        return .used
    }

    private mutating func messageID(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, at start: Int, time: EventTime
    ) -> LineOutcome {
        var value = start..<p.count
        if start < p.count && p[start] == UInt8(ascii: "<") {
            let end = Bytes.find(UInt8(ascii: ">"), in: p, from: start + 1) ?? p.count
            value = start + 1..<end
        }
        while value.upperBound > value.lowerBound && p[value.upperBound - 1] == 0x20 {
            value = value.lowerBound..<value.upperBound - 1
        }
        let slot = openMessage(p, qid, time: time)
        if !value.isEmpty && table[slot].messageID == nil { table[slot].messageID = field(p, value) }
        return .used
    }

    private mutating func pickup(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, at start: Int, time: EventTime
    ) -> LineOutcome {
        guard let f = Bytes.find(" from=", in: p, from: start),
            let (sender, _) = PostfixLine.readAddress(
                p, at: f + 6)
        else { return .rejected(.malformed) }
        let slot = openMessage(p, qid, time: time)
        let s = cachedField(p, sender)
        // The null sender says nothing about who ran sendmail; the uid does.
        table[slot].localUser = s.isEmpty ? field(p, start - 4..<f) : s
        if !table[slot].senderFromQueueManager { table[slot].sender = s }
        return .used
    }

    private mutating func queueManager(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, at start: Int, time: EventTime
    ) -> LineOutcome {
        guard let (sender, after) = PostfixLine.readAddress(p, at: start) else { return .rejected(.malformed) }
        let queued = Bytes.hasPrefix(", size=", in: p, at: after)
        if !queued {
            // `from=<s>, status=expired, returned to sender` and other qmgr notes about a known message.
            guard let slot = existing(p, qid, time: time) else { return .ignored }
            if table[slot].sender == nil { table[slot].sender = cachedField(p, sender) }
            return .used
        }
        let slot = openMessage(p, qid, time: time)
        if !table[slot].senderFromQueueManager {
            table[slot].sender = cachedField(p, sender)
            table[slot].senderFromQueueManager = true
        }
        if sender.isEmpty && !table[slot].isNotice && table[slot].clientIP == nil && table[slot].saslUser == nil
            && table[slot].localUser == nil
        {
            table[slot].isNotice = true
            counters.nonDeliveryNotices += 1
        }
        return .used
    }

    private mutating func removed(_ p: UnsafeRawBufferPointer, qid: Range<Int>) -> LineOutcome {
        table.remove(queueID(p, qid)) ? .used : .ignored
    }

    private mutating func notice(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, newID start: Int, time: EventTime
    ) -> LineOutcome {
        var end = p.count
        while end > start && p[end - 1] == 0x20 { end -= 1 }
        guard PostfixLine.isQueueID(p, start..<end) else { return .rejected(.malformed) }
        _ = existing(p, qid, time: time)
        // A notice not yet known waits in the table's compact pending slots until it gets a line of its own.
        let (isNew, evicted) = table.markNotice(queueID(p, start..<end), at: time)
        if evicted > 0 { countEvicted(evicted) }
        if isNew { counters.nonDeliveryNotices += 1 }
        return .used
    }

    private mutating func dropRejected(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, stage: Int, daemon: Daemon
    ) -> LineOutcome {
        let wholeMessage =
            daemon == .cleanup || Bytes.hasPrefix("END-OF-MESSAGE", in: p, at: stage)
            || Bytes.hasPrefix("DATA ", in: p, at: stage) || Bytes.hasPrefix("header ", in: p, at: stage)
            || Bytes.hasPrefix("body ", in: p, at: stage)
        guard wholeMessage else { return .ignored }
        return table.remove(queueID(p, qid)) ? .used : .ignored
    }

    private enum HeaderKind { case subject, account, template }

    private mutating func headerLine(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, at nameStart: Int, time: EventTime
    ) -> LineOutcome {
        guard let colon = Bytes.find(UInt8(ascii: ":"), in: p, from: nameStart, to: min(p.count, nameStart + 200)),
            colon > nameStart, Bytes.find(0x20, in: p, from: nameStart, to: colon) == nil
        else { return .rejected(.malformed) }
        let name = nameStart..<colon
        let kind: HeaderKind
        if Self.equalsIgnoringCase(subjectHeaderName, p, name) {
            kind = .subject
        } else if Self.equalsIgnoringCase(accountHeaderName, p, name) {
            kind = .account
        } else if Self.equalsIgnoringCase(templateHeaderName, p, name) {
            kind = .template
        } else {
            return .ignored
        }
        guard let end = PostfixLine.headerValueEnd(p, from: colon + 1, headerStart: nameStart) else {
            return .rejected(.malformed)
        }
        var start = colon + 1
        while start < end && (p[start] == 0x20 || p[start] == 0x09) { start += 1 }
        let slot = openMessage(p, qid, time: time)
        let value = UnsafeRawBufferPointer(rebasing: p[start..<end])
        // Postfix logs at most the first 200 bytes of a header (name included): a value that long may end
        // inside an encoded word.
        let ending: RFC2047.Ending = end - nameStart >= PostfixLine.maxLoggedHeaderBytes ? .cut : .whole
        switch kind {
        case .subject:
            if table[slot].subject == nil {
                table[slot].subject = decodeHeader(value, ending: ending)
                table[slot].subjectCut = ending == .cut
            }
        case .account:
            if table[slot].account == nil, let v = trimmedValue(value, ending: ending) { table[slot].account = v }
        case .template:
            if table[slot].template == nil, let v = trimmedValue(value, ending: ending) { table[slot].template = v }
        }
        return .used
    }

    private mutating func trimmedValue(_ value: UnsafeRawBufferPointer, ending: RFC2047.Ending) -> String? {
        var end = value.count
        while end > 0 && (value[end - 1] == 0x20 || value[end - 1] == 0x09) { end -= 1 }
        guard end > 0 else { return nil }
        return decodeHeader(UnsafeRawBufferPointer(rebasing: value[0..<end]), ending: ending)
    }

    /// ``RFC2047/decode(_:ending:)-(UnsafeRawBufferPointer,_)``, through the string cache when the text holds
    /// no `=?` (then decoding is the plain UTF-8 conversion).
    private mutating func decodeHeader(_ value: UnsafeRawBufferPointer, ending: RFC2047.Ending) -> String {
        // Only presence matters when counting (the callers decide presence from the bytes, not the text).
        if eventOutput == .countOnly { return value.isEmpty ? "" : Self.presentField }
        if Bytes.find("=?", in: value, from: 0) == nil { return strings.string(value, 0..<value.count) }
        return RFC2047.decode(value, ending: ending, undecoded: &counters.undecodedSubjectWords)
    }

    /// The UTF-8 bytes of `text` with ASCII letters lowered.
    private static func loweredASCII(_ text: String) -> [UInt8] {
        text.utf8.map { c in (c &- 0x41) < 26 ? c | 0x20 : c }
    }

    /// Whether `p[r]` equals `lowered` (ASCII letters lowered) ignoring ASCII case.
    ///
    /// Compares words with their letters lowered (``lowerASCII(_:)``), as ``Bytes/equal(_:_:count:)`` does: two
    /// overlapping 4-byte loads for a name of 4 to 7 bytes (`Subject`), 8-byte ones for a longer name.
    ///
    /// - Complexity: O(length of `r` / 8).
    private static func equalsIgnoringCase(_ lowered: [UInt8], _ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        let count = r.count
        guard lowered.count == count, r.lowerBound >= 0, r.upperBound <= p.count else { return false }
        return lowered.withUnsafeBytes { name in
            // Safe: `name` holds `count` bytes and `p[r]` lies inside `p` (checked above); every load below reads
            // inside those `count` bytes.
            guard let nb = name.baseAddress, let pb = p.baseAddress else { return true }
            let a = pb + r.lowerBound
            if count >= 8 {
                var i = 0
                while i + 8 < count {
                    if lowerASCII(a.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                        != nb.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    {
                        return false
                    }
                    i += 8
                }
                return lowerASCII(a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
                    == nb.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            }
            if count >= 4 {
                return lowerASCII(UInt64(a.loadUnaligned(as: UInt32.self)))
                    == UInt64(nb.loadUnaligned(as: UInt32.self))
                    && lowerASCII(UInt64(a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)))
                        == UInt64(nb.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
            }
            for k in 0..<count {
                let c = a.load(fromByteOffset: k, as: UInt8.self)
                if ((c &- 0x41) < 26 ? c | 0x20 : c) != nb.load(fromByteOffset: k, as: UInt8.self) { return false }
            }
            return true
        }
    }

    /// `w` with its ASCII upper-case letters lowered, every other byte as it is.
    @inline(__always)
    private static func lowerASCII(_ w: UInt64) -> UInt64 {
        // 0x80 in each byte A-Z (not in bytes above 0x7F), moved to 0x20.
        w | (Bytes.inRange(w, 0x41, 0x5A) & ~w & 0x8080_8080_8080_8080) >> 2
    }

    private enum StatusWord {
        case status(DeliveryStatus)
        case probe
    }

    private static func readStatus(_ p: UnsafeRawBufferPointer, _ r: Range<Int>, daemon: Daemon) -> StatusWord? {
        if Bytes.equals("sent", in: p, r) { return .status(daemon == .discard ? .discarded : .sent) }
        if Bytes.equals("deferred", in: p, r) || Bytes.equals("SOFTBOUNCE", in: p, r) { return .status(.deferred) }
        if Bytes.equals("bounced", in: p, r) { return .status(.bounced) }
        if Bytes.equals("expired", in: p, r) { return .status(.expired) }
        if Bytes.equals("deliverable", in: p, r) || Bytes.hasPrefix("undeliverable", in: p, at: r.lowerBound) {
            return .probe
        }
        return nil
    }

    private mutating func delivery(
        _ p: UnsafeRawBufferPointer, qid: Range<Int>, at start: Int, daemon: Daemon, header: SyslogHeader,
        into events: inout EventBatch
    ) -> LineOutcome {
        guard let (to, afterTo) = PostfixLine.readAddress(p, at: start) else { return .rejected(.malformed) }
        var recipient = to
        var pos = afterTo
        if Bytes.hasPrefix(", orig_to=", in: p, at: pos) {
            guard let (orig, afterOrig) = PostfixLine.readAddress(p, at: pos + 10) else {
                return .rejected(.malformed)
            }
            if !orig.isEmpty { recipient = orig }
            pos = afterOrig
        }
        guard let s = Bytes.find(", status=", in: p, from: pos) else { return .rejected(.malformed) }
        var e = s + 9
        while e < p.count && p[e] != 0x20 && p[e] != UInt8(ascii: ",") && p[e] != UInt8(ascii: "(") { e += 1 }
        guard let word = Self.readStatus(p, s + 9..<e, daemon: daemon) else { return .rejected(.malformed) }
        let time = header.time
        guard let slot = existing(p, qid, time: time) else { return .rejected(.unknownQueueID) }
        guard case .status(let status) = word else { return .ignored }
        if table[slot].isNotice || table[slot].isFilterHop { return .used }
        let rkey = Bytes.wordHash(p, recipient)
        if table[slot].hasAttempted(rkey) { return .used }
        if eventOutput == .countOnly {
            // The same decision as below, on presence only.
            guard hasAccount(slot) else { return .rejected(.unknownQueueID) }
            if table[slot].attemptedCount < Self.maxRememberedRecipients { table[slot].addAttempted(rkey) }
            counters.events += 1
            return .used
        }
        if table[slot].headerTrust == .undecided && table[slot].account != nil { decideHeaderTrust(slot) }
        guard let (account, source) = resolveAccount(slot) else { return .rejected(.unknownQueueID) }
        if table[slot].attemptedCount < Self.maxRememberedRecipients { table[slot].addAttempted(rkey) }
        let hostName = host(p, header.host)
        let queueID = table[slot].queueIDText
        events.append(
            SendEvent(
                time: time, host: hostName, account: account.accountKey, accountSource: source,
                sender: table[slot].sender ?? "", recipient: Bytes.string(p, recipient), subject: table[slot].subject,
                template: table[slot].template, messageID: table[slot].messageID, queueID: queueID,
                clientIP: table[slot].clientIP, login: table[slot].saslUser ?? table[slot].localUser,
                claimedAccount: table[slot].headerTrust == .notBelieved ? table[slot].account : nil, status: status,
                subjectCut: table[slot].subjectCut))
        counters.events += 1
        return .used
    }

    /// Decides whether the message's account header is believed (see
    /// ``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``): once per message, at its first
    /// event, when smtpd's or pickup's line has long been read.
    private mutating func decideHeaderTrust(_ slot: Int32) {
        let clientIP = table[slot].clientIP
        let believed = headerRules.believes(
            login: table[slot].saslUser ?? table[slot].localUser, clientIP: clientIP,
            isLocal: clientIP == nil && table[slot].localUser != nil)
        table[slot].headerTrust = believed ? .believed : .notBelieved
    }

    /// The text stored for a field that is present when ``eventOutput`` is ``EventOutput/countOnly``: a small
    /// (inline, never allocated) non-empty string.
    private static var presentField: String { "-" }

    /// The `String` of a field value stored in the message state, through the string cache; with
    /// ``EventOutput/countOnly``, ``presentField`` (or `""` for an empty value: an empty sender is the null
    /// sender).
    ///
    /// - Complexity: O(length of the range) with ``EventOutput/events``, O(1) with ``EventOutput/countOnly``.
    @inline(__always)
    private mutating func cachedField(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> String {
        if eventOutput == .countOnly { return r.isEmpty ? "" : Self.presentField }
        return strings.string(p, r)
    }

    /// The `String` of a field value that rarely repeats (not cached); ``presentField`` / `""` with
    /// ``EventOutput/countOnly``.
    ///
    /// - Complexity: O(length of the range) with ``EventOutput/events``, O(1) with ``EventOutput/countOnly``.
    @inline(__always)
    private func field(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> String {
        if eventOutput == .countOnly { return r.isEmpty ? "" : Self.presentField }
        return Bytes.string(p, r)
    }

    /// Whether ``resolveAccount(_:)`` finds an account for the message in `slot`, on presence only: the header
    /// counts only when nothing else does, and then there is no login, so whether it is believed rests on the
    /// client alone.
    @inline(__always)
    private func hasAccount(_ slot: Int32) -> Bool {
        if table[slot].saslUser != nil || table[slot].localUser != nil || table[slot].sender != nil { return true }
        guard table[slot].account != nil, let clientIP = table[slot].clientIP else { return false }
        return headerRules.believes(login: nil, clientIP: clientIP, isLocal: false)
    }

    /// The account of the message in `slot`: the account header when believed, else SASL user, else pickup
    /// submitter, else envelope sender.
    ///
    /// Reads the fields one by one: passing the whole message (`table[slot]`) to a function copies it, retaining
    /// and then releasing every string it holds (and inlined, as a call would copy the parser).
    @inline(__always)
    private func resolveAccount(_ slot: Int32) -> (String, AccountSource)? {
        if table[slot].headerTrust == .believed, let a = table[slot].account { return (a, .header) }
        if let u = table[slot].saslUser { return (u, .authenticated) }
        if let l = table[slot].localUser { return (l, .localUser) }
        if let s = table[slot].sender { return (s.isEmpty ? "<>" : s, .sender) }
        return nil
    }

    /// The current line's host field `p[r]` as a `String`, shared by every event of a run of one host: called
    /// after ``setScope(_:host:program:)`` for the same line, so ``scopeKey`` holds these bytes when valid.
    private mutating func host(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> String {
        if let scopeHost { return scopeHost }
        let text = Bytes.string(p, r)
        if scopeKeyHostCount >= 0 { scopeHost = text }
        return text
    }
}

extension PostfixParser: EnvelopedLineParser {}
