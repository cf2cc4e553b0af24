/// Settings every log-format parser shares: how an event's account and template are resolved, and how local
/// timestamps map to UTC.
public struct FormatConfiguration: Sendable {
    /// The header whose value is the account id when the log carries it (Postfix `header_checks` WARN/INFO
    /// line, Exim ACL `logwrite` line). Matched case-insensitively. Default `X-Account-Id`.
    public var accountHeader: String
    /// The submitters whose ``accountHeader`` is believed, by login: the SASL login (Postfix `sasl_username=`,
    /// Exim `A=`), or for a local submission the local user (Postfix `pickup`, Exim `U=`). Compared exactly.
    /// Any submitter can write the header, so a message from anyone else is keyed by its login as if the header
    /// were absent, and the header's value is kept as ``SendEvent/claimedAccount``. Default: the service login
    /// of the bundled simulated datasets, `notify@notify.example.net` (example.net is reserved, RFC 2606: no
    /// real server has that login).
    public var accountHeaderLogins: Set<String>
    /// The submitters whose ``accountHeader`` is believed, by client network (the submitting client's
    /// address). A local submission (no client) counts as coming from loopback. Default: loopback
    /// (`127.0.0.0/8`, `::1/128`): the platform's application on the mail host itself.
    public var accountHeaderNetworks: [IPNetwork]
    /// The header whose value is an explicit template id. Matched case-insensitively. Default `X-Template-Id`.
    public var templateHeader: String
    /// The zone of timestamps without an offset. Default UTC.
    public var zone: LocalTimeZone
    /// The most messages a joining parser (Postfix, Exim) keeps open at once. When full, the message seen
    /// least recently is dropped and counted in `ParseCounters.evictedMessages`. Default 200,000
    /// (about 100 MB at the worst case of long subjects and many recipients).
    public var maxOpenMessages: Int
    /// How long, in seconds of event time, a message may stay open without any line before it is dropped and
    /// counted as incomplete. Default 6 days: Postfix's `maximal_queue_lifetime` (5 days) plus a day, so a
    /// message that is retried for its whole lifetime is still deduplicated.
    public var openMessageTimeoutSeconds: Int64

    public init(
        accountHeader: String = "X-Account-Id",
        accountHeaderLogins: Set<String> = FormatConfiguration.defaultAccountHeaderLogins,
        accountHeaderNetworks: [IPNetwork] = IPNetwork.loopback,
        templateHeader: String = "X-Template-Id",
        zone: LocalTimeZone = .utc,
        maxOpenMessages: Int = 200_000,
        openMessageTimeoutSeconds: Int64 = 6 * 86_400
    ) {
        self.accountHeader = accountHeader
        self.accountHeaderLogins = accountHeaderLogins
        self.accountHeaderNetworks = accountHeaderNetworks
        self.templateHeader = templateHeader
        self.zone = zone
        self.maxOpenMessages = maxOpenMessages
        self.openMessageTimeoutSeconds = openMessageTimeoutSeconds
    }

    /// The default ``accountHeaderLogins``: the bundled simulated datasets' service login.
    public static let defaultAccountHeaderLogins: Set<String> = ["notify@notify.example.net"]

    /// Whether the account header of a message is believed: its login is one of ``accountHeaderLogins``, or
    /// its client address lies in one of ``accountHeaderNetworks`` (a local submission, without a client,
    /// counts as loopback). A message with neither a login nor a client known is not believed.
    ///
    /// - Parameters:
    ///   - login: the SASL login, else the local submitter, if known.
    ///   - clientIP: the submitting client's address as logged, if any.
    ///   - isLocal: whether the message was submitted locally (no client).
    /// - Complexity: O(login length + networks × address length); called once per message.
    public func believesAccountHeader(login: String?, clientIP: String?, isLocal: Bool) -> Bool {
        if let login, accountHeaderLogins.contains(login) { return true }
        if let clientIP { return accountHeaderNetworks.contains { $0.contains(clientIP) } }
        return isLocal && believesLocalSubmissions
    }

    /// Whether a local submission (no client) is trusted: loopback is one of ``accountHeaderNetworks``.
    var believesLocalSubmissions: Bool {
        accountHeaderNetworks.contains { $0.contains("127.0.0.1") || $0.contains("::1") }
    }
}
