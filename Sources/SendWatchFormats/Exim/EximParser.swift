public import SendWatchCore

/// Parses the Exim main log (`/var/log/exim4/mainlog`), joining each message's lines by host and message id
/// into one ``SendEvent`` per recipient.
///
/// Accepted line layouts:
/// - `YYYY-MM-DD HH:MM:SS[.fff] [+ZZZZ] [[pid]] MSGID ...` (mainlog; `+pid` and `log_timezone` variants);
/// - the same body behind a syslog header, `Jun 29 16:04:19 server exim[1234]: ...` or
///   `2026-11-29T05:31:11.903175+00:00 vm exim4[12]: ...` or `1764928801.123456 mx1 exim[12]: ...`
///   (`journalctl -o short-unix`), for Exim logging to syslog (any program name that
///   starts with `exim`). If Exim's own timestamp follows the header (`syslog_timestamp`), it is skipped and the
///   header time is used. Lines of other programs in a shared syslog file are `.ignored`. Every header layout
///   ``SyslogHeaderReader`` reads is accepted (RFC 5424, `journalctl` shapes, a `<mail.info>` tag), and other
///   programs' lines are counted in ``ParseCounters/otherPrograms``. The event `host` is the syslog host; mainlog
///   lines have none. Long lines that syslog carried in numbered parts (`[1/3] …`) are joined first
///   (``EximSplitLines``: the parts before the last are `.used`, the last gets the joined line's outcome). Lines
///   are joined by (syslog host, message id), so a central log of several Exim hosts whose ids collide keeps their
///   messages apart (see ``EximMessageKey``).
/// - either of the above inside a journal or Docker JSON record (``JSONEnvelope``).
///
/// How lines become events:
/// - `MSGID <Header>: value` (an ACL `logwrite` of the configured account or template header, matched
///   case-insensitively) comes before the arrival and is remembered. Two headers are logged as one line,
///   `acct-1003\nacct-7777` (a literal backslash-n): the **first value wins**, as it does for a repeated
///   header line.
/// - `<=` (arrival) records sender, `H=` client IP (the bracketed address; IPv6 too), `U=` (local user, used
///   only when there is no `H=`: on SMTP it is an RFC 1413 ident and not trusted), `A=authenticator:id` (the
///   id is everything after the first colon), `id=` (Message-ID, angle brackets removed) and `T="subject"`
///   (decoded by ``EximQuotedText``: escapes undone, octal bytes read as UTF-8, folding `\n` removed). Fields
///   are read as `KEY=value` tokens in any order, quoted values by their escaped closing quote, so a subject
///   containing ` for `, ` id=` or ` T=` cannot confuse it; the `for a b c` recipient list ends the fields.
///   `<= <>` or an `R=parent-id` marks an Exim-generated notice (bounce, delay warning): counted in
///   ``ParseCounters/nonDeliveryNotices``, and its deliveries produce no events.
/// - Delivery lines make events: `=>` first recipient of a delivery and `->` further ones (`sent`), `>>`
///   cutthrough delivery (`sent`), `*>` delivery suppressed by `-N` (`discarded`: accepted and not delivered),
///   `**` (`bounced`), `==` (`deferred`), and `=> :blackhole: <addr>` (`discarded`). The recipient is the
///   address in `<...>` after the delivered address when there is one (the original address the sender
///   gave: `=> root <root@host>` for a local delivery, `|command <addr>` / `/file <addr>` for pipes and files,
///   `=> alias-target <alias@domain>` for redirects), else the delivered address. Only the first attempt of
///   each (message, recipient) makes an event, with that attempt's status; a later `==` or `=>` for the same
///   recipient does not. Addresses are compared as logged (byte for byte).
/// - Account: the logged account header when the submitter is trusted to set it
///   (``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``; otherwise its value is kept as
///   ``SendEvent/claimedAccount``), else the authenticated id, else the local user of a local submission, else
///   the envelope sender. The event's ``SendEvent/login`` is the authenticated id, else that local user.
/// - `Completed` drops the message. `removed by` (`exim -Mrm`) drops it as incomplete. `cancelled by`
///   (`exim -Mg`), `Frozen`, `Message is frozen` and other lines with a message id only keep the message open.
/// - A delivery line for an unknown message id still makes an event when it carries `F=<sender>`
///   (`+sender_on_delivery`): account = sender (source `sender`), no subject or client IP; the id is then
///   remembered so later lines of that message are deduplicated. `F=<>` means a notice (no event). Without
///   `F=` the line is rejected with ``RejectReason/unknownQueueID``.
/// - Lines without a message id (daemon start, queue runs, `rejected RCPT`, `authenticator failed`,
///   `SMTP connection from`, TLS errors) are `.ignored`; so are lines with an id but no meaning for events,
///   and blank lines.
///   A line that does not start with a timestamp or a syslog header is rejected (`bad_timestamp`,
///   `timestamp_out_of_range`, `not_syslog`); a NUL byte gives `nul_byte`; a delivery line without an address
///   gives `malformed`.
///
/// Memory is bounded by ``FormatConfiguration/maxOpenMessages``: when full, the least recently touched message
/// is dropped (counted in ``ParseCounters/evictedMessages`` and ``ParseCounters/incompleteMessages`` when it
/// had arrived). A message with no line for ``FormatConfiguration/openMessageTimeoutSeconds`` of event time is
/// dropped as incomplete; the check runs lazily on each timestamped line from the least recently touched end,
/// so it is amortised O(1) (with event time going backwards, a message may live a little longer than the
/// timeout). Header-only, notice and orphan entries are dropped without being counted as incomplete.
///
/// Usage:
/// ```swift
/// var parser = EximParser()
/// var events: EventBatch = []
/// parser.beginInput(yearHint: .none)
/// for line in lines { line.withUnsafeBytes { _ = parser.parse(line: $0, into: &events) } }
/// parser.finish(into: &events)
/// ```
public struct EximParser: EventParser, Sendable {
    /// Counters so far.
    public internal(set) var counters = ParseCounters()

    private let configuration: FormatConfiguration
    /// ``FormatConfiguration/believesAccountHeader(login:clientIP:isLocal:)``, prepared.
    private let headerRules: AccountHeaderRules
    private var zone: LocalTimeZone
    // Internal (not private) for the checkpoint extension (EximParser+Checkpoint.swift).
    var syslog: SyslogHeaderReader
    var table: EximMessageTable
    /// Reused buffer for decoding escaped subjects.
    private var scratch: [UInt8] = []
    /// The last syslog host turned into a `String`, reused while the host does not change.
    private var cachedHost: String?
    // Internal (not private) for ``EnvelopedLineParser``: journal and Docker JSON records, whose line inside is
    // parsed, and the buffer of the current record's line.
    var envelope = JSONEnvelope()
    var envelopeLine: [UInt8] = []
    // Internal (not private) for the checkpoint extension: long lines syslog carried in parts.
    var splitLines = EximSplitLines()
    /// Whether a joined line is being read (its text is not searched for a split tag again).
    private var readingJoinedLine = false

    /// Creates a parser.
    ///
    /// - Parameter configuration: account/template header names, time zone of zone-less timestamps, and the
    ///   bounds of the per-message table.
    public init(configuration: FormatConfiguration = .init()) {
        self.configuration = configuration
        self.headerRules = AccountHeaderRules(configuration)
        self.zone = configuration.zone
        self.syslog = SyslogHeaderReader(zone: configuration.zone)
        self.table = EximMessageTable(capacity: configuration.maxOpenMessages)
        scratch.reserveCapacity(256)
    }

    /// Starts a new input; message state carries over (a rotated log continues in the next file).
    public mutating func beginInput(yearHint: YearHint) {
        syslog.beginInput(yearHint: yearHint)
        zone.beginStream()
    }

    /// The latest time given to a year-less syslog timestamp (Exim logging to syslog) of the current input.
    public var latestYearlessTime: EventTime? { syslog.latestYearlessTime }

    /// Parses one line (without its terminator) and appends any events to `events`.
    ///
    /// - Complexity: O(line length), with `memchr` for delimiters; no allocation on lines without a message
    ///   id. Strings are made only for values stored per message and for emitted events.
    public mutating func parse(line: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome {
        counters.lines += 1
        let before = events.count
        let outcome = classifyEnveloped(line, into: &events)
        counters.events += events.count - before
        counters.record(outcome)
        return outcome
    }

    /// Drops every open message, counting the arrived ones as incomplete. Emits no events: events are made
    /// at delivery lines only.
    public mutating func finish(into events: inout EventBatch) {
        var incomplete = 0
        table.forEachOldestFirst { state in
            if state.countsAsIncomplete { incomplete += 1 }
        }
        table.removeAll()
        counters.incompleteMessages += incomplete
        giveUpSplitParts(splitLines.removeAll())
    }

    /// One part of a long line syslog carried in parts (``EximSplitLines``): `.used` while the line is not
    /// complete, the joined line's outcome for the last part.
    private mutating func joinSplitPart(
        _ p: UnsafeRawBufferPointer, host: Range<Int>, headerEnd: Int,
        tag: (part: Int, total: Int, newline: Bool, text: Int), into events: inout EventBatch
    ) -> LineOutcome {
        var joined: [UInt8] = []
        switch splitLines.accept(
            p, key: Bytes.hash(p, host.lowerBound..<headerEnd), header: 0..<headerEnd, tag: tag,
            into: &joined)
        {
        case .kept(let givenUp):
            giveUpSplitParts(givenUp)
            return .used
        case .refused(let givenUp):
            giveUpSplitParts(givenUp - 1)
            return .rejected(.splitLineIncomplete)
        case .joined(let givenUp):
            giveUpSplitParts(givenUp)
            readingJoinedLine = true
            defer { readingJoinedLine = false }
            return joined.withUnsafeBytes { classify($0, into: &events) }
        }
    }

    /// Counts parts of split lines given up. They were counted as used when they came; counting them as
    /// rejected now moves them out of ``ParseCounters/understood``.
    private mutating func giveUpSplitParts(_ parts: Int) {
        if parts > 0 { counters.rejected[.splitLineIncomplete, default: 0] += parts }
    }

    // MARK: - Line layout

    /// Where the parts of the current line are.
    private struct LineContext {
        var time: EventTime
        var host: Range<Int>?
    }

    /// Classifies one line as the MTA wrote it (a JSON record's line already unwrapped).
    mutating func classify(_ p: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome {
        let n = p.count
        // A blank line carries nothing, and is no broken timestamp.
        guard n > 0, p[0] > 0x20 || !Bytes.isBlank(p) else { return .ignored }
        if Bytes.find(0, in: p, from: 0) != nil { return .rejected(.nulByte) }

        var ctx: LineContext
        var i: Int
        if Timestamps.isDigit(p[0]), let (time, end) = Timestamps.readDateTime(p, at: 0, zone: &zone) {
            guard end < n else { return .ignored }
            guard p[end] == 0x20 else { return .rejected(.badTimestamp) }
            if Self.looksLikeSyslogProgram(p, hostStart: end + 1) {
                switch readSyslog(p) {
                case .failure(let reason): return .rejected(reason)
                case .success(nil): return .ignored
                case .success(let found?): (ctx, i) = found
                }
            } else {
                ctx = LineContext(time: time, host: nil)
                i = end + 1
            }
        } else if Timestamps.isDigit(p[0]) && Timestamps.readUnixTime(p, at: 0) == nil {
            return .rejected(Self.timestampReason(p))
        } else {
            // A syslog header; one that starts with a digit has the time in epoch seconds (`-o short-unix`).
            switch readSyslog(p) {
            case .failure(let reason): return Bytes.isJournalMarker(p) ? .ignored : .rejected(reason)
            case .success(nil): return .ignored
            case .success(let found?): (ctx, i) = found
            }
        }

        if !readingJoinedLine, let host = ctx.host, let tag = EximSplitLines.readTag(p, at: i) {
            return joinSplitPart(p, host: host, headerEnd: i, tag: tag, into: &events)
        }
        expire(nowSeconds: ctx.time.seconds)

        // `+pid`: `[1234] ` between the time and the rest.
        if i < n, p[i] == UInt8(ascii: "["), let close = Bytes.find(UInt8(ascii: "]"), in: p, from: i + 1),
            close > i + 1, close + 1 < n, p[close + 1] == 0x20,
            (i + 1..<close).allSatisfy({ Timestamps.isDigit(p[$0]) })
        {
            i = close + 2
        }
        guard i < n, let idEnd = Bytes.find(0x20, in: p, from: i), EximMessageID.isMessageID(p, i..<idEnd) else {
            return .ignored
        }
        let idRange = i..<idEnd
        let rest = idEnd + 1
        guard rest < n else { return .ignored }

        if rest + 2 < n, p[rest + 2] == 0x20 {
            let a = p[rest]
            let b = p[rest + 1]
            let body = rest + 3
            switch (a, b) {
            case (UInt8(ascii: "<"), UInt8(ascii: "=")):
                return readArrival(p, id: idRange, from: body, ctx: ctx)
            case (UInt8(ascii: "="), UInt8(ascii: ">")), (UInt8(ascii: "-"), UInt8(ascii: ">")),
                (UInt8(ascii: ">"), UInt8(ascii: ">")):
                return readDelivery(p, id: idRange, from: body, status: .sent, ctx: ctx, into: &events)
            case (UInt8(ascii: "*"), UInt8(ascii: ">")):
                return readDelivery(p, id: idRange, from: body, status: .discarded, ctx: ctx, into: &events)
            case (UInt8(ascii: "*"), UInt8(ascii: "*")):
                return readDelivery(p, id: idRange, from: body, status: .bounced, ctx: ctx, into: &events)
            case (UInt8(ascii: "="), UInt8(ascii: "=")):
                return readDelivery(p, id: idRange, from: body, status: .deferred, ctx: ctx, into: &events)
            default:
                break
            }
        }
        return readOther(p, id: idRange, from: rest, ctx: ctx)
    }

    /// Reads a syslog header and checks the program. `nil` = a syslog line of another program.
    private mutating func readSyslog(
        _ p: UnsafeRawBufferPointer
    ) -> Result<(LineContext, Int)?, RejectReason> {
        let header: SyslogHeader
        switch syslog.read(p) {
        case .failure(let reason):
            if reason == .unknownTimeZone && counters.unknownZoneAbbreviation == nil {
                counters.unknownZoneAbbreviation = syslog.unknownZoneAbbreviation
            }
            return .failure(reason)
        case .success(let h): header = h
        }
        guard Bytes.hasPrefix("exim", in: p, at: header.program.lowerBound) else {
            counters.otherPrograms += 1
            if PostfixParser.isPostfixProgram(p, header.program) { counters.otherMailServerLines += 1 }
            return .success(nil)
        }
        var i = header.messageStart
        // Exim's own timestamp inside the message (`syslog_timestamp = true`): skip it.
        if i < p.count, Timestamps.isDigit(p[i]), let (_, end) = Timestamps.readDateTime(p, at: i, zone: &zone),
            end < p.count, p[end] == 0x20
        {
            i = end + 1
        }
        return .success((LineContext(time: header.time, host: header.host), i))
    }

    /// Whether the bytes after a leading date-time are a syslog header rather than a main-log body: `HOST
    /// exim…[pid]: ` or `HOST exim…: ` (an optional `<facility.level>` tag first, or BusyBox's `facility.priority`
    /// after the host), or another program's `HOST PROGRAM[PID]: ` (that program's line in a shared syslog file; the pid is required, so that a
    /// main-log line such as `Start queue run: pid=1` is not taken for one).
    private static func looksLikeSyslogProgram(_ p: UnsafeRawBufferPointer, hostStart tagStart: Int) -> Bool {
        let n = p.count
        let hostStart = SyslogHeaderReader.skipFacilityTag(p, at: tagStart)
        guard hostStart < n, p[hostStart] != UInt8(ascii: "["),
            let hostEnd = Bytes.find(0x20, in: p, from: hostStart), hostEnd > hostStart, hostEnd + 1 < n,
            p[hostEnd + 1] != 0x20, !EximMessageID.isMessageID(p, hostStart..<hostEnd)
        else { return false }
        // BusyBox syslogd's `facility.priority` between the host and the program.
        var programStart = hostEnd + 1
        if let tagEnd = Bytes.find(0x20, in: p, from: programStart, to: min(n, programStart + 17)),
            SyslogHeaderReader.isFacilityPriority(p, programStart..<tagEnd)
        {
            programStart = tagEnd + 1
        }
        let isExim = Bytes.hasPrefix("exim", in: p, at: programStart)
        var k = programStart
        while k < n {
            switch p[k] {
            case UInt8(ascii: ":"):
                return isExim
            case UInt8(ascii: "["):
                guard k > programStart, let close = Bytes.find(UInt8(ascii: "]"), in: p, from: k),
                    close + 1 < n && p[close + 1] == UInt8(ascii: ":")
                else { return false }
                return isExim || (close > k + 1 && (k + 1..<close).allSatisfy { Timestamps.isDigit(p[$0]) })
            case 0x20:
                return false
            default:
                k += 1
            }
        }
        return false
    }

    /// `timestamp_out_of_range` for a well-formed date outside the plausible years, else `bad_timestamp`.
    private static func timestampReason(_ p: UnsafeRawBufferPointer) -> RejectReason {
        guard p.count >= 19, p[4] == UInt8(ascii: "-"), p[7] == UInt8(ascii: "-") else { return .badTimestamp }
        var year = 0
        for k in 0..<4 {
            guard Timestamps.isDigit(p[k]) else { return .badTimestamp }
            year = year * 10 + Int(p[k] &- 0x30)
        }
        return Timestamps.plausibleYears.contains(year) ? .badTimestamp : .timestampOutOfRange
    }

    // MARK: - Message table

    /// The table key of message id `p[id]` on the line's host, and its hash.
    @inline(__always)
    private func messageKey(_ p: UnsafeRawBufferPointer, _ id: Range<Int>, _ ctx: LineContext) -> (
        EximMessageKey, UInt64
    ) {
        let host = ctx.host.map { Bytes.wordHash(p, $0) } ?? 0
        return (EximMessageKey(p, id, host: host), Self.keyHash(idHash: Bytes.hash(p, id), host: host))
    }

    /// The table hash of a message id whose bytes hash to `idHash`, on the host whose hash is `host`.
    static func keyHash(idHash: UInt64, host: UInt64) -> UInt64 {
        host == 0 ? idHash : (idHash ^ host) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Drops messages idle for longer than the timeout, least recently touched first.
    ///
    /// - Complexity: amortised O(1) per line: each message is dropped once.
    private mutating func expire(nowSeconds: Int64) {
        let (limit, overflow) = nowSeconds.subtractingReportingOverflow(configuration.openMessageTimeoutSeconds)
        guard !overflow else { return }
        while let oldest = table.oldestSlot, table[oldest].lastTouched < limit {
            if drop(oldest) { counters.incompleteMessages += 1 }
        }
    }

    /// Removes a message; returns whether it counts as incomplete (it had arrived).
    mutating func drop(_ slot: Int32) -> Bool {
        defer { table.remove(slot) }
        return table[slot].countsAsIncomplete
    }

    /// Inserts a new message, evicting the least recently touched one when the table is full.
    private mutating func insert(
        _ p: UnsafeRawBufferPointer, id: Range<Int>, key: EximMessageKey, hash: UInt64, phase: EximMessageState.Phase,
        seconds: Int64
    ) -> Int32 {
        insertEvictingOldest(
            EximMessageState(key: key, hash: hash, seconds: seconds, phase: phase, queueID: Bytes.string(p, id)))
    }

    /// Inserts `state` (a message not in the table) as the most recently touched, first evicting the least recently
    /// touched message when the table is full (counted as evicted, and as incomplete if it had arrived); for a
    /// new message and for one restored from a checkpoint alike.
    mutating func insertEvictingOldest(_ state: consuming EximMessageState) -> Int32 {
        if table.isFull, let oldest = table.oldestSlot, drop(oldest) {
            counters.incompleteMessages += 1
            counters.evictedMessages += 1
        }
        return table.insert(state)
    }

    // MARK: - Arrival

    private mutating func readArrival(
        _ p: UnsafeRawBufferPointer, id: Range<Int>, from start: Int, ctx: LineContext
    ) -> LineOutcome {
        let n = p.count
        guard start < n else { return .rejected(.malformed) }
        let senderEnd = Bytes.find(0x20, in: p, from: start) ?? n
        let senderRange = start..<senderEnd
        var fields = EximArrivalFields()
        fields.read(p, from: senderEnd)

        let (key, hash) = messageKey(p, id, ctx)
        let seconds = ctx.time.seconds
        var index = table.find(key, hash: hash)
        if let existing = index, table[existing].phase != .pending {
            // The id arrives again (a replayed log, or ids reused after a long time): start over.
            if drop(existing) { counters.incompleteMessages += 1 }
            index = nil
        }
        let idx = index ?? insert(p, id: id, key: key, hash: hash, phase: .pending, seconds: seconds)
        table.touch(idx, at: seconds)

        if Bytes.equals("<>", in: p, senderRange) || fields.hasReference {
            table[idx].phase = .notice
            table[idx].accountHeader = nil
            table[idx].template = nil
            counters.nonDeliveryNotices += 1
            return .used
        }
        var sender = senderRange
        if sender.count >= 2, p[sender.lowerBound] == UInt8(ascii: "<"), p[sender.upperBound - 1] == UInt8(ascii: ">") {
            sender = sender.lowerBound + 1..<sender.upperBound - 1
        }
        // Exim decodes RFC 2047 itself but prints a last encoded word cut by its length limit raw.
        let subject = fields.subject.map {
            RFC2047.decodeCutFinalWord(
                EximQuotedText.decode(p, $0, scratch: &scratch), undecoded: &counters.undecodedSubjectWords)
        }
        table[idx].phase = .arrived
        table[idx].sender = Bytes.string(p, sender)
        table[idx].subject = subject
        table[idx].messageID = fields.messageID.map { Bytes.string(p, $0) }
        table[idx].clientIP = fields.clientIP.map { Bytes.string(p, $0) }
        table[idx].authenticated = fields.authenticatedID.map { Bytes.string(p, $0) }
        // U= on an SMTP arrival is an RFC 1413 ident answer, which the client controls: only trust it locally.
        table[idx].localUser = fields.hasHost ? nil : fields.localUser.map { Bytes.string(p, $0) }
        return .used
    }

    // MARK: - Delivery

    private mutating func readDelivery(
        _ p: UnsafeRawBufferPointer, id: Range<Int>, from start: Int, status: DeliveryStatus, ctx: LineContext,
        into events: inout EventBatch
    ) -> LineOutcome {
        guard let d = EximDeliveryFields(p, from: start) else { return .rejected(.malformed) }
        var status = status
        if Bytes.equals(":blackhole:", in: p, d.address) { status = .discarded }

        let (key, hash) = messageKey(p, id, ctx)
        let seconds = ctx.time.seconds
        let idx: Int32
        if let found = table.find(key, hash: hash) {
            idx = found
            table.touch(idx, at: seconds)
            switch table[idx].phase {
            case .notice:
                return .ignored
            case .pending, .orphan:
                if let s = d.sender {
                    if s.isEmpty {
                        table[idx].phase = .notice
                        return .ignored
                    }
                    if table[idx].sender.isEmpty { table[idx].sender = Bytes.string(p, s) }
                }
                table[idx].phase = .orphan
            case .arrived:
                break
            }
        } else {
            guard let s = d.sender else { return .rejected(.unknownQueueID) }
            if s.isEmpty {
                _ = insert(p, id: id, key: key, hash: hash, phase: .notice, seconds: seconds)
                return .ignored
            }
            idx = insert(p, id: id, key: key, hash: hash, phase: .orphan, seconds: seconds)
            table[idx].sender = Bytes.string(p, s)
        }

        guard table[idx].insertAttempted(Bytes.hash(p, d.recipient)) else { return .used }
        if table[idx].headerTrust == .undecided && table[idx].accountHeader != nil {
            let clientIP = table[idx].clientIP
            let believed = headerRules.believes(
                login: table[idx].authenticated ?? table[idx].localUser, clientIP: clientIP,
                isLocal: clientIP == nil && table[idx].localUser != nil)
            table[idx].headerTrust = believed ? .believed : .notBelieved
        }
        let state = table[idx]
        let account: String
        let source: AccountSource
        if let a = state.accountHeader, state.headerTrust == .believed {
            (account, source) = (a, .header)
        } else if let a = state.authenticated {
            (account, source) = (a, .authenticated)
        } else if let a = state.localUser {
            (account, source) = (a, .localUser)
        } else {
            (account, source) = (state.sender, .sender)
        }
        events.append(
            SendEvent(
                time: ctx.time, host: hostString(p, ctx.host), account: account.accountKey, accountSource: source,
                sender: state.sender, recipient: Bytes.string(p, d.recipient), subject: state.subject,
                template: state.template, messageID: state.messageID, queueID: state.queueID,
                clientIP: state.clientIP, login: state.authenticated ?? state.localUser,
                claimedAccount: state.headerTrust == .notBelieved ? state.accountHeader : nil, status: status))
        return .used
    }

    private mutating func hostString(_ p: UnsafeRawBufferPointer, _ range: Range<Int>?) -> String? {
        guard let range else { return nil }
        if let cached = cachedHost, cached.utf8.elementsEqual(UnsafeRawBufferPointer(rebasing: p[range])) {
            return cached
        }
        let s = Bytes.string(p, range)
        cachedHost = s
        return s
    }

    // MARK: - Other lines with a message id

    private mutating func readOther(
        _ p: UnsafeRawBufferPointer, id: Range<Int>, from start: Int, ctx: LineContext
    ) -> LineOutcome {
        let n = p.count
        let (key, hash) = messageKey(p, id, ctx)
        let seconds = ctx.time.seconds
        let found = table.find(key, hash: hash)

        if Bytes.hasPrefix("Completed", in: p, at: start) {
            guard let idx = found else { return .ignored }
            table.remove(idx)
            return .used
        }
        if Bytes.hasPrefix("removed by ", in: p, at: start) {
            guard let idx = found else { return .ignored }
            if drop(idx) { counters.incompleteMessages += 1 }
            return .used
        }
        // `Header-Name: value` from an ACL logwrite.
        if let colon = Bytes.find(UInt8(ascii: ":"), in: p, from: start), colon > start,
            Bytes.find(0x20, in: p, from: start, to: colon) == nil
        {
            let name = start..<colon
            let isAccount = Bytes.equalsIgnoringCase(configuration.accountHeader, in: p, name)
            let isTemplate = !isAccount && Bytes.equalsIgnoringCase(configuration.templateHeader, in: p, name)
            if isAccount || isTemplate {
                guard let value = Self.headerValue(p, from: colon + 1, end: n) else { return .ignored }
                var idx: Int32
                if let f = found {
                    idx = f
                    if table[f].phase != .pending {
                        // A header line always precedes its arrival: this one starts a new message.
                        if drop(f) { counters.incompleteMessages += 1 }
                        idx = insert(p, id: id, key: key, hash: hash, phase: .pending, seconds: seconds)
                    }
                } else {
                    idx = insert(p, id: id, key: key, hash: hash, phase: .pending, seconds: seconds)
                }
                table.touch(idx, at: seconds)
                if isAccount {
                    if table[idx].accountHeader == nil { table[idx].accountHeader = Bytes.string(p, value) }
                } else if table[idx].template == nil {
                    table[idx].template = Bytes.string(p, value)
                }
                return .used
            }
        }
        // cancelled by, Frozen, Message is frozen, host errors, ...: the message is still open.
        if let idx = found { table.touch(idx, at: seconds) }
        return .ignored
    }

    /// The first value of a logged header: after the colon and blanks, up to a literal `\n` (which separates
    /// repeated headers in one logwrite line) or the end, without trailing blanks. `nil` when empty.
    private static func headerValue(_ p: UnsafeRawBufferPointer, from: Int, end: Int) -> Range<Int>? {
        var s = from
        while s < end && (p[s] == 0x20 || p[s] == 0x09) { s += 1 }
        var e = end
        var k = s
        while let bs = Bytes.find(UInt8(ascii: "\\"), in: p, from: k, to: end) {
            if bs + 1 < end && p[bs + 1] == UInt8(ascii: "n") {
                e = bs
                break
            }
            k = bs + 1
        }
        while e > s && (p[e - 1] == 0x20 || p[e - 1] == 0x09) { e -= 1 }
        return e > s ? s..<e : nil
    }
}

extension EximParser: EnvelopedLineParser {}
