public import Logging

/// What reading a lease key gave.
public enum LeaseRead: Sendable, Equatable {
    /// The key's latest value and its revision.
    case entry(revision: UInt64, value: String)
    /// The key does not exist.
    case missing
    /// The store cannot be reached; the text says why. Reading again later is safe.
    case unavailable(String)
}

/// What a revision-checked write of a lease key gave.
public enum LeaseWrite: Sendable, Equatable {
    /// Written; the key's new revision.
    case written(revision: UInt64)
    /// Refused: the key exists (create) or its latest revision is not the one given (update). The text says why.
    case conflict(String)
    /// The store cannot be reached or did not answer; whether the write happened is unknown.
    case unavailable(String)
}

/// Where a ``WorkerLease`` keeps its key: a JetStream key-value bucket (`NATSLeaseStore` of SendWatchFleet) or a
/// test double. Every write is checked against a revision, so two writers can never both believe they wrote
/// over the same revision. Called on the owner's thread only.
public protocol LeaseStore {
    /// The key's latest value.
    mutating func read() -> LeaseRead
    /// Writes `value` only if the key does not exist.
    mutating func create(_ value: String) -> LeaseWrite
    /// Writes `value` only if the key's latest revision is `last`.
    mutating func update(_ value: String, last: UInt64) -> LeaseWrite
}

/// The lease state a worker's metrics show.
public struct LeaseFigures: Sendable, Equatable {
    /// Whether this process holds the lease now (false: standby, waiting for it).
    public var held = false
    /// Times this process took or lost the lease.
    public var changes = 0
    /// The key's revision this process last wrote or saw.
    public var revision: UInt64 = 0
    /// All zero.
    public init() {}
}

/// A lease on one key that makes one worker of a name the holder and any other started with that name a standby
/// (`sendwatch detect`; docs/fleet.md).
///
/// No clocks are compared between machines: the holder renews by writing the key again (a revision-checked
/// update, every ``renewSeconds``); a standby takes over when it has seen the same revision for ``seconds`` by
/// its own monotonic clock (the holder stopped renewing: killed, hung, cut off), by an update checked against that
/// revision, so that of several standbys one wins. A holder whose update is refused has lost the lease (a standby
/// took it after the holder paused longer than the lease): it must stop at once and write nothing more of its
/// state. ``confirm(now:)`` renews unconditionally, for a holder about to write its checkpoint (the fencing
/// check). A released lease (``release()``, at a clean stop) is taken at once.
///
/// Safety rests on the holder confirming before each write and on each write taking less than ``seconds``:
/// after a confirmed renewal no standby can take the lease for ``seconds``.
public final class WorkerLease {
    /// How one step of a standby ended.
    public enum Acquire: Sendable, Equatable {
        /// This process holds the lease now.
        case held
        /// Another process holds it; try again after ``WorkerLease/pollSeconds``.
        case waiting
        /// The store cannot be reached; try again later.
        case unavailable
    }

    /// What a holder's renewal said.
    public enum Renewal: Sendable, Equatable {
        /// Still held (renewed now, or renewed recently enough).
        case held
        /// Another process holds it: stop consuming and write nothing more.
        case lost
        /// The store cannot be reached: the lease may run out; write nothing until a renewal succeeds.
        case unavailable
    }

    /// The value a released lease holds.
    static let releasedValue = "released"

    /// Seconds without a renewal after which a standby takes the lease.
    public let seconds: Double
    /// Seconds between a holder's renewals: a third of ``seconds``.
    public var renewSeconds: Double { seconds / 3 }
    /// Seconds between a standby's reads of the key: a quarter of ``seconds``, at most 1.
    public var pollSeconds: Double { min(seconds / 4, 1) }
    /// Seconds after the holder's last renewal that reached the store from which it publishes nothing (until a
    /// renewal succeeds or shows the loss): two thirds of ``seconds``, ``seconds`` less one ``renewSeconds``.
    ///
    /// The holder's clock reading for a renewal is taken before the update is sent, and a standby can first see
    /// the new revision only once the store wrote it, so later; it takes over only after seeing that revision
    /// unchanged for ``seconds`` by its own clock. So no standby takes over before the last renewal's reading plus
    /// ``seconds``, and a holder that starts no publish after the reading plus ``publishSeconds`` stops a third of
    /// the lease before any standby can take over: that last third (3.3 s of the default 10 s, 0.33 s of the
    /// smallest lease, 1 s) is the margin for a publish already on the wire to reach the server and for the two
    /// monotonic clocks' rates to differ (500 ppm at most under NTP: 5 ms in 10 s). Pausing earlier would pause at
    /// every renewal slower than a poll interval; the two thirds leave a whole renewal interval of attempts (one per
    /// ``pollSeconds``) before publishing stops.
    public var publishSeconds: Double { seconds - renewSeconds }
    /// This process's identity, the value it writes.
    public let holder: String
    /// The current state, for metrics.
    public private(set) var figures = LeaseFigures()
    private var store: any LeaseStore
    private let logger: Logger
    /// The revision a standby has seen and since when (its monotonic time), or nil.
    private var observed: (revision: UInt64, since: Double)?
    /// When the holder last wrote the key (monotonic seconds, taken before the write was sent).
    private var renewedAt = 0.0
    /// Whether the store was reported unreachable (logged once per outage).
    private var outage = false
    /// When ``renew(now:)`` last wrote or tried to write the key (monotonic seconds).
    private var attemptedAt = -Double.infinity

    /// A lease of `holder` on the key `store` keeps, running out `seconds` after the last renewal.
    public init(store: any LeaseStore, holder: String, seconds: Double, logger: Logger) {
        self.store = store
        self.holder = holder
        self.seconds = seconds
        self.logger = logger
    }

    /// Whether this process holds the lease.
    public var held: Bool { figures.held }

    /// One standby step at monotonic time `now`: takes the lease if it is missing, released, or not renewed for
    /// ``seconds`` since this process first saw its revision; otherwise notes the revision seen. `.held` at once
    /// while this process holds it.
    public func tryAcquire(now: Double) -> Acquire {
        if figures.held { return .held }
        let write: LeaseWrite
        switch store.read() {
        case .unavailable(let why):
            // What was seen before the outage says nothing about the holder now: watch again from scratch.
            observed = nil
            noteOutage(why)
            return .unavailable
        case .missing:
            endOutage()
            write = store.create(holder)
        case .entry(let revision, let value):
            endOutage()
            figures.revision = revision
            if value != Self.releasedValue {
                guard let seen = observed, seen.revision == revision else {
                    if observed == nil { logger.info("standby: the lease is held by \(value); waiting") }
                    observed = (revision, now)
                    return .waiting
                }
                guard now - seen.since >= seconds else { return .waiting }
                logger.warning(
                    "the lease holder \(value) has not renewed for \(Int(seconds)) s; taking over",
                    metadata: ["detect.lease_revision": "\(revision)"])
            }
            write = store.update(holder, last: revision)
        }
        switch write {
        case .written(let revision):
            figures.held = true
            figures.changes += 1
            figures.revision = revision
            observed = nil
            renewedAt = now
            logger.info("holding the lease", metadata: ["detect.lease_revision": "\(revision)"])
            return .held
        case .conflict:
            // Another standby was faster, or the holder renewed: watch the new revision.
            observed = nil
            return .waiting
        case .unavailable(let why):
            observed = nil
            noteOutage(why)
            return .unavailable
        }
    }

    /// Renews the lease if ``renewSeconds`` have passed since the last renewal (a holder's step).
    /// While the store is unreachable, an attempt at most every ``pollSeconds`` (`.unavailable` in between):
    /// each attempt can block for the client's request timeout, and a holder checks its lease often (between
    /// slices of a large release, before each record it publishes).
    public func renew(now: Double) -> Renewal {
        guard figures.held else { return .lost }
        if now - renewedAt < renewSeconds { return .held }
        if outage && now - attemptedAt < pollSeconds { return .unavailable }
        attemptedAt = now
        return confirm(now: now)
    }

    /// Whether a holder may publish at monotonic time `now`: it holds the lease and its last renewal that reached
    /// the store is less than ``publishSeconds`` old. False while it has been cut off from the store that long (a
    /// standby may take the lease a third of the lease time later, and this holder could not know): it publishes
    /// nothing then, and keeps calling ``renew(now:)`` (which tries the store at most once a ``pollSeconds``)
    /// until a renewal succeeds (true again) or is refused (`.lost`).
    public func mayPublish(now: Double) -> Bool { figures.held && now - renewedAt < publishSeconds }

    /// Renews the lease now, checked against the revision last written: the fencing check before a holder
    /// writes its checkpoint. After `.held`, no standby takes the lease for ``seconds``.
    public func confirm(now: Double) -> Renewal {
        guard figures.held else { return .lost }
        switch store.update(holder, last: figures.revision) {
        case .written(let revision):
            endOutage()
            figures.revision = revision
            renewedAt = now
            return .held
        case .conflict(let why):
            endOutage()
            figures.held = false
            figures.changes += 1
            logger.error(
                "lost the lease (another worker took it over after this one did not renew in time); stopping without writing more state",
                metadata: ["detect.reason": "\(why)"])
            return .lost
        case .unavailable(let why):
            noteOutage(why)
            return .unavailable
        }
    }

    /// Stops holding the lease without writing the key: the state store refused this holder's checkpoint
    /// because another worker claimed it, so whatever the key says, this process is no longer the holder. As a
    /// standby it watches the key again (and takes it only once nobody renews it for ``seconds``).
    public func abandon() {
        guard figures.held else { return }
        figures.held = false
        figures.changes += 1
        observed = nil
        logger.error("the state store was claimed by another worker; giving up the lease and standing by")
    }

    /// Gives the lease up (a clean stop), so a standby takes it at once. Best effort: when the store cannot be
    /// reached, the lease runs out after ``seconds``.
    public func release() {
        guard figures.held else { return }
        figures.held = false
        figures.changes += 1
        if case .written(let revision) = store.update(Self.releasedValue, last: figures.revision) {
            figures.revision = revision
        }
    }

    private func noteOutage(_ why: String) {
        guard !outage else { return }
        outage = true
        logger.warning("the lease store is unreachable", metadata: ["detect.reason": "\(why)"])
    }

    private func endOutage() { outage = false }
}

@available(*, unavailable)
extension WorkerLease: Sendable {}
