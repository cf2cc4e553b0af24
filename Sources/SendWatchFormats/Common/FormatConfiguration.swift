/// Settings every log-format parser shares: how an event's account and template are resolved, and how local
/// timestamps map to UTC.
public struct FormatConfiguration: Sendable {
    /// The header whose value is the account id when the log carries it (Postfix `header_checks` WARN/INFO
    /// line, Exim ACL `logwrite` line). Matched case-insensitively. Default `X-Account-Id`.
    public var accountHeader: String
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
        templateHeader: String = "X-Template-Id",
        zone: LocalTimeZone = .utc,
        maxOpenMessages: Int = 200_000,
        openMessageTimeoutSeconds: Int64 = 6 * 86_400
    ) {
        self.accountHeader = accountHeader
        self.templateHeader = templateHeader
        self.zone = zone
        self.maxOpenMessages = maxOpenMessages
        self.openMessageTimeoutSeconds = openMessageTimeoutSeconds
    }
}
