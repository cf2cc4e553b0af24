import SendWatchCore
import Synchronization

/// The accounts of the open alerts of a tail run, as one immutable value: what the policy service looks logins
/// up in.
///
/// Holds every account an open alert lists (``Alert/accounts``: at most `detect.max_alert_accounts` per
/// alert, so an alert whose `accounts_total` exceeds the cap holds only the listed ones), with the alert that
/// flagged it most recently. Bound: at most `alerts.max_open` × `detect.max_alert_accounts` entries.
public struct OpenAlertAccounts: Sendable {
    /// Why an account is flagged: the alert, and when the run first delivered it.
    public struct Flag: Sendable, Equatable {
        /// The alert's id (`sw-…`).
        public var alertID: String
        /// Wall-clock seconds since the epoch at which the run delivered the alert's first record.
        public var openedAt: Double

        /// A flag.
        public init(alertID: String, openedAt: Double) {
            self.alertID = alertID
            self.openedAt = openedAt
        }
    }

    /// Account → the open alert that flagged it most recently (the newest ``Flag/openedAt``).
    public var flags: [String: Flag]

    /// Nothing flagged.
    public init(flags: [String: Flag] = [:]) { self.flags = flags }

    /// The flag of `account`, if an open alert lists it.
    ///
    /// - Complexity: O(1) expected.
    public func flag(of account: String) -> Flag? { flags[account] }
}

/// The shared, lock-protected ``OpenAlertAccounts`` of a tail run: the run swaps in a new value after a delivery
/// that opened, grew or closed an alert; the policy service's threads read the current one.
///
/// The lock is held only to copy or swap one reference (the dictionary is built before), so a reader never
/// waits for the detection loop, and the loop never waits for a reader.
public final class OpenAlertBoard: Sendable {
    private let current = Mutex(OpenAlertAccounts())

    /// An empty board.
    public init() {}

    /// The current value.
    public var snapshot: OpenAlertAccounts { current.withLock { $0 } }

    /// Replaces the current value.
    public func publish(_ value: OpenAlertAccounts) { current.withLock { $0 = value } }
}

/// The open alerts a tail run has delivered, kept from their records (create, update, close): builds the
/// ``OpenAlertAccounts`` the run publishes. Owned by the run's loop.
///
/// After a restart from a checkpoint it starts from the restored alert lifecycle's open alerts
/// (``restore(_:watermark:now:)``), so they hold again at once. Bound: as many alerts as `alerts.max_open` (an
/// alert closed early to make room has its `close` record delivered like any other).
struct OpenAlertTracker {
    private var open: [String: (accounts: [String], openedAt: Double)] = [:]

    /// Starts from `records`, the last records of the open alerts of a restored detection state
    /// (`DetectionEngine.openAlertRecords`), at wall-clock time `now`. The checkpoint does not
    /// keep when each `create` was delivered: an alert's age in event time (from its first event to the restored
    /// `watermark`) stands for its age in wall-clock time, which dates it no later than its delivery, so
    /// `policy.expiry` ends a restored hold no later than it would have without the restart (downtime apart).
    mutating func restore(_ records: [Alert], watermark: EventTime?, now: Double) {
        open.removeAll(keepingCapacity: true)
        for record in records where record.action != .close {
            let ageMicroseconds = watermark.map { max(0, $0.microseconds - record.firstEventTime.microseconds) } ?? 0
            open[record.id] = (record.accounts, now - Double(ageMicroseconds) / 1_000_000)
        }
    }

    /// Takes delivered records at wall-clock time `now`; true when the open set changed.
    mutating func take(_ records: [Alert], now: Double) -> Bool {
        var changed = false
        for record in records {
            switch record.action {
            case .create, .update:
                let openedAt = open[record.id]?.openedAt ?? now
                if open[record.id]?.accounts != record.accounts {
                    open[record.id] = (record.accounts, openedAt)
                    changed = true
                }
            case .close:
                if open.removeValue(forKey: record.id) != nil { changed = true }
            }
        }
        return changed
    }

    /// The accounts of the open alerts, each with the newest alert that lists it.
    ///
    /// - Complexity: O(accounts of all open alerts).
    func accounts() -> OpenAlertAccounts {
        var flags: [String: OpenAlertAccounts.Flag] = [:]
        for (id, alert) in open {
            for account in alert.accounts {
                let flag = OpenAlertAccounts.Flag(alertID: id, openedAt: alert.openedAt)
                if let held = flags[account],
                    held.openedAt > flag.openedAt || (held.openedAt == flag.openedAt && held.alertID < id)
                {
                    continue
                }
                flags[account] = flag
            }
        }
        return OpenAlertAccounts(flags: flags)
    }
}
