/// What the Postfix policy service of `sendwatch tail --policy` answers for a login of an open alert: the
/// `policy.*` section of the configuration file.
///
/// The service answers ``action`` with ``text`` for a request whose `sasl_username` is an account of an open
/// alert, unless the login is in ``neverHold`` or ``serviceLogins``, or the alert is older than ``expirySeconds``; every other request
/// is answered `DUNNO` (Postfix goes on with its other restrictions).
public struct PolicyConfiguration: Sendable, Equatable {
    /// `policy.action`: what Postfix is told to do with a flagged login's mail. Default ``PolicyAction/hold``.
    public var action: PolicyAction
    /// `policy.text`: the text after the action (logged by Postfix; for `REJECT` and `DEFER_IF_PERMIT` also sent
    /// to the SMTP client). Printable ASCII, at most 200 characters. Default
    /// `SendWatch open alert, held for review`.
    public var text: String
    /// `policy.never_hold`: logins never held, whatever the alerts say (the platform's own service logins,
    /// monitoring, VIPs). Compared without regard to ASCII case; kept lower-cased. At most 10,000. Default none.
    public var neverHold: Set<String>
    /// `policy.expiry`: seconds (wall clock) after the run first delivered an alert's `create` record after which
    /// the alert no longer holds, although it may still be open. Default 12 hours.
    public var expirySeconds: Int64
    /// The platform's own service logins (`accounts.account_header_logins`, compared exactly): never held, since
    /// holding one would hold every tenant that sends through it. Their tenants are suspended by the platform from
    /// the alert stream instead. Set by `tail` from the accounts section; default none.
    public var serviceLogins: Set<String>

    /// The most logins ``neverHold`` takes.
    public static let maxNeverHold = 10_000
    /// The longest ``text``, in characters.
    public static let maxTextLength = 200

    /// The defaults: `HOLD`, a short text, nobody exempt, 12 hours.
    public init() {
        action = .hold
        text = "SendWatch open alert, held for review"
        neverHold = []
        expirySeconds = 12 * 3600
        serviceLogins = []
    }

    /// Whether `text` may follow an action on Postfix's `action=` line: 1 to ``maxTextLength`` printable ASCII
    /// characters (no line break, which would end the answer).
    public static func isValidText(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maxTextLength && text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }

    /// `never_hold` text (logins separated by commas, spaces around them ignored) as a lower-cased set, or nil
    /// when an entry is empty, has a character outside printable ASCII, or there are more than ``maxNeverHold``.
    public static func parseNeverHold(_ text: String) -> Set<String>? {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { entry in
            let start = entry.drop { $0 == " " }
            return start.dropLast(start.reversed().prefix { $0 == " " }.count)
        }
        if entries.count == 1 && entries[0].isEmpty { return [] }
        var logins = Set<String>()
        for entry in entries {
            let login = entry.lowercased()
            guard !login.isEmpty, login.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
            logins.insert(login)
        }
        return logins.count <= maxNeverHold ? logins : nil
    }
}

/// The action the policy service answers for a flagged login (SMTPD_POLICY_README's access(5) actions).
public enum PolicyAction: String, Sendable, CaseIterable {
    /// `HOLD`: the mail is accepted and put on the hold queue until an operator releases (`postsuper -H`) or
    /// deletes it. The SMTP client sees a normal acceptance.
    case hold = "HOLD"
    /// `DEFER_IF_PERMIT`: a temporary refusal (4xx) when the other restrictions would accept; the client retries.
    case deferIfPermit = "DEFER_IF_PERMIT"
    /// `REJECT`: a permanent refusal (5xx); the text is sent to the client.
    case reject = "REJECT"
}
