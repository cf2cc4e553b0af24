import SendWatchCore
public import SendWatchPipeline

/// What the policy service answers to one request, and why: the decision table of `tail --policy`.
///
/// | request | answer |
/// |---|---|
/// | malformed, oversize, not authenticated | `DUNNO` |
/// | login in `policy.never_hold` | `DUNNO` |
/// | a service login (`accounts.account_header_logins`) | `DUNNO` |
/// | login not an account of an open alert | `DUNNO` |
/// | login flagged by an alert older than `policy.expiry` | `DUNNO` |
/// | login flagged by an open alert | `policy.action policy.text [alert id]` |
///
/// Only `sasl_username` is looked up, never `sender` or `client_address`: the envelope sender is whatever the
/// client writes after `MAIL FROM`, so matching it would let anyone have another sender's mail held by forging
/// that sender (and an alert's account can itself come from a forged envelope sender, when the log had no
/// account header or login). A login is what the client proved with its password. It is looked up ASCII-lowercased
/// (`Blaster@…` is `blaster@…`), as every format folds account keys when it parses them.
public struct PolicyDecision: Sendable, Equatable {
    /// Why the answer is what it is; counted and tested, never sent.
    public enum Reason: String, Sendable, CaseIterable {
        /// The login belongs to an open alert: the configured action.
        case flagged
        /// The request was malformed or oversize.
        case malformed
        /// The client did not authenticate.
        case notAuthenticated = "not_authenticated"
        /// The login is in `policy.never_hold`.
        case neverHold = "never_hold"
        /// The login is one of the platform's service logins (`accounts.account_header_logins`): holding it would
        /// hold every tenant behind it.
        case serviceLogin = "service_login"
        /// No open alert lists the login.
        case notFlagged = "not_flagged"
        /// The alert that lists the login is older than `policy.expiry`.
        case expired
    }

    /// Why.
    public var reason: Reason
    /// The answer's `action=` value: `DUNNO`, or the action, its text and the alert id in brackets.
    public var action: String

    /// Decides on `request` against the open alerts' accounts at wall-clock time `now` (seconds since the epoch).
    ///
    /// - Complexity: O(1) expected: two hash lookups.
    public init(
        request: PolicyRequest, accounts: OpenAlertAccounts, configuration: PolicyConfiguration, now: Double
    ) {
        func dunno(_ reason: Reason) -> PolicyDecision { PolicyDecision(reason: reason, action: "DUNNO") }
        switch request {
        case .malformed, .oversize:
            self = dunno(.malformed)
        case .access(let login):
            guard let login else {
                self = dunno(.notAuthenticated)
                return
            }
            if configuration.neverHold.contains(login.lowercased()) {
                self = dunno(.neverHold)
            } else if configuration.serviceLogins.contains(login) {
                self = dunno(.serviceLogin)
            } else if let flag = accounts.flag(of: login.accountKey) {
                if now - flag.openedAt > Double(configuration.expirySeconds) {
                    self = dunno(.expired)
                } else {
                    self = PolicyDecision(
                        reason: .flagged,
                        action: "\(configuration.action.rawValue) \(configuration.text) [\(flag.alertID)]")
                }
            } else {
                self = dunno(.notFlagged)
            }
        }
    }

    private init(reason: Reason, action: String) {
        self.reason = reason
        self.action = action
    }

    /// The answer as sent: `action=…`, a newline, and the empty line that ends it.
    public var answer: String { "action=\(action)\n\n" }
}
