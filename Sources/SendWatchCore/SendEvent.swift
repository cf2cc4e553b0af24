/// One attempt to deliver one message to one recipient: the unit every later stage counts.
///
/// A message with five recipients yields five events. Retries of a recipient after a `deferred` status are
/// not new events: the event records the first attempt's status.
public struct SendEvent: Hashable, Sendable {
    /// The log time of the first delivery attempt to this recipient (for JSON-lines input: the send time).
    public var time: EventTime
    /// The host that wrote the log line (syslog host field), when the format has one.
    public var host: String?
    /// The resolved account: the account header when the submitter is trusted to set it, else the
    /// authenticated user, else the local submitter, else the envelope sender (see ``accountSource``).
    public var account: String
    /// The account's creation time, when the log carries one (JSON `account_created`).
    public var accountCreated: EventTime?
    /// The envelope sender (`from=<...>`, `<=` address); empty for the null sender.
    public var sender: String
    /// The recipient address as logged (`to=<...>`).
    public var recipient: String
    /// The decoded subject, or `nil` when the log does not carry one.
    public var subject: String?
    /// The explicit template id (template header or JSON `template_id`), or `nil`.
    public var template: String?
    /// The `Message-ID`, without angle brackets, or `nil`.
    public var messageID: String?
    /// The MTA's queue id (Postfix queue id, Exim message id), or `nil` for JSON-lines input.
    public var queueID: String?
    /// The submitting client's IP address, or `nil` (local submission, not logged).
    public var clientIP: String?
    /// Where ``account`` came from.
    public var accountSource: AccountSource
    /// The status of the first attempt.
    public var status: DeliveryStatus
    /// The login that submitted the message: the SASL / authenticated user, else the local submitter (Postfix
    /// `pickup`, Exim `U=` of a local submission); `nil` when the log does not say (JSON lines without a mapped
    /// `login`).
    public var login: String?
    /// The account header's value when it was not believed (the submitter is not one the configuration trusts
    /// to name accounts), kept as evidence of what the sender claimed; `nil` otherwise.
    public var claimedAccount: String?
    /// Whether ``subject`` is only the start of the real subject: the log cut it (Postfix logs at most 200 bytes
    /// of a header, before decoding, so an RFC 2047-encoded subject of 60 characters may already be cut). The
    /// miner then matches it as a prefix of a known template (``TemplateMiner``), never learns from it.
    public var subjectCut = false
}

extension SendEvent {
    /// Declared in an extension so that the struct keeps its memberwise initializer, to which this one delegates:
    /// an initializer that assigns the fields one by one makes the compiler build the event in a temporary and
    /// copy it out (a retain and a release per string field, about 5 % of a replay's parsing thread), the
    /// memberwise one builds it in place. Not inlinable, for the same reason: an inlined copy of the body in
    /// another module cannot reach the internal memberwise initializer. The stored properties are declared in
    /// another order than these parameters, so that the two initializers have different names.
    public init(
        time: EventTime, host: String? = nil, account: String, accountSource: AccountSource,
        accountCreated: EventTime? = nil,
        sender: String, recipient: String, subject: String? = nil, template: String? = nil, messageID: String? = nil,
        queueID: String? = nil, clientIP: String? = nil, login: String? = nil, claimedAccount: String? = nil,
        status: DeliveryStatus, subjectCut: Bool = false
    ) {
        self.init(
            time: time, host: host, account: account, accountCreated: accountCreated, sender: sender,
            recipient: recipient, subject: subject, template: template, messageID: messageID, queueID: queueID,
            clientIP: clientIP, accountSource: accountSource, status: status, login: login,
            claimedAccount: claimedAccount, subjectCut: subjectCut)
    }
}

/// Where an event's account id came from, in order of preference.
public enum AccountSource: String, Hashable, Sendable, CaseIterable {
    /// A configured account header (default `X-Account-Id`) from a trusted submitter, or the JSON `account`
    /// field.
    case header
    /// The SASL / authenticated user (`sasl_username=`, Exim `A=authenticator:id`).
    case authenticated
    /// The local submitter (`pickup` uid, Exim `U=`) when nothing better is known.
    case localUser = "local_user"
    /// The envelope sender.
    case sender
}

/// The outcome of a delivery attempt, as the MTA logged it.
public enum DeliveryStatus: String, Hashable, Sendable, CaseIterable {
    case sent
    case deferred
    case bounced
    case expired
    /// Accepted and thrown away (Postfix `discard`, Exim `:blackhole:`).
    case discarded
    /// A JSON-lines send record without a status: the service accepted it for sending.
    case accepted
}
