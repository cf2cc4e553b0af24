public import SendWatchCore

/// One message the simulated traffic submits, with everything any log format needs and the planned time of
/// every step, so that all formats describe the same traffic for the same seed.
public struct SimulatedMessage: Sendable {
    /// When the client connected (Postfix `connect from`).
    public var connected: EventTime
    /// When the message was accepted (Postfix `client=`/`cleanup`, Exim `<=`, the JSON `ts`).
    public var accepted: EventTime
    /// When the queue manager took it (Postfix `qmgr ... (queue active)`).
    public var queued: EventTime
    /// The account SendWatch resolves: the `X-Account-Id` value when there is one, else the SASL user.
    public var account: String
    /// The SASL (authenticated) user.
    public var saslUser: String
    /// The envelope sender.
    public var sender: String
    /// The `X-Account-Id` header value, if the message carries one.
    public var accountHeader: String?
    /// When the account was created (written in JSON lines only).
    public var accountCreated: EventTime
    /// The submitting client's IP address.
    public var clientIP: String
    /// The client's EHLO name.
    public var helo: String
    /// Submission port: 587 (`postfix/submission/smtpd`) or 25 (`postfix/smtpd`).
    public var port: Int
    /// The decoded subject.
    public var subject: String
    /// The platform's template id (notification tenants only).
    public var templateID: String?
    /// The Message-ID without angle brackets.
    public var messageID: String
    /// The message size in bytes.
    public var size: Int
    /// The recipients in RCPT order.
    public var recipients: [SimulatedRecipient]

    /// The earliest first delivery attempt over all recipients.
    public var firstAttempt: EventTime {
        recipients.map(\.firstAttempt).min() ?? queued
    }

    /// The time of the last attempt of any recipient.
    public var lastAttempt: EventTime {
        recipients.map { $0.retries.last ?? $0.firstAttempt }.max() ?? queued
    }

    /// The time after the first delivery pass (every recipient attempted once).
    public var firstPassEnd: EventTime {
        recipients.map(\.firstAttempt).max() ?? queued
    }
}

/// One recipient of a ``SimulatedMessage`` and what happened to it.
public struct SimulatedRecipient: Sendable {
    /// The recipient address.
    public var address: String
    /// The first attempt's time.
    public var firstAttempt: EventTime
    /// The outcome of the first attempt; a deferred recipient is retried at each of ``retries`` (all deferred
    /// again but the last, which is sent).
    public var outcome: Outcome
    /// Times of later attempts (only for `deferred`).
    public var retries: [EventTime]

    /// What happened at the first attempt.
    public enum Outcome: Hashable, Sendable {
        case sent
        /// Greylisted (451); delivered at the last retry.
        case deferred
        /// Rejected permanently (550 user unknown); a non-delivery notice goes to the sender.
        case bounced
    }
}
