import SendWatchCore
import SendWatchTemplates
import SendWatchWindows

extension DetectionEngine {
    /// Everything but the configuration (`Codable`): the account ages (with the registry entries), the template
    /// miner, the open alerts, the six bounded tables slot for slot (young accounts, templates, pairs,
    /// recipients, rates, slot values), the sketch of established recipient domains, the counters, the
    /// watermark and the minute of the last close check.
    ///
    /// With a checkpoint taken between two events, an engine restored from it produces exactly the alerts the
    /// saved engine would have produced for the same further events.
    ///
    /// Usage:
    /// ```swift
    /// let saved = engine.checkpoint()                      // encode `saved` into the checkpoint file
    /// ...
    /// var engine = try DetectionEngine(configuration: configuration, restoring: saved)
    /// ```
    public struct Checkpoint: Codable, Sendable {
        var ages: AccountAges.Checkpoint
        var miner: TemplateMiner.Checkpoint
        var lifecycle: AlertLifecycle.Checkpoint
        var young: BoundedKeyTable<YoungAccountState>
        var templates: BoundedKeyTable<TemplateState>
        var pairs: BoundedKeyTable<PairState>
        var fanIn: BoundedKeyTable<FanInState>
        var rates: BoundedKeyTable<RateState>
        var slotValues: BoundedKeyTable<FanInState>
        var establishedDomains: CountMinSketch
        var counters: DetectionCounters
        var watermark: EventTime?
        var lastAdvance: Int64
        var jumpCandidate: EventTime?
        var jumpVotes: Int
    }

    /// The whole detection state, for a checkpoint (see ``Checkpoint``).
    ///
    /// - Complexity: O(open alerts, templates and registry, for sorting); the tables and large arrays are shared
    ///   copy-on-write until the engine next changes them.
    public func checkpoint() -> Checkpoint {
        Checkpoint(
            ages: ages.checkpoint(), miner: miner.checkpoint(), lifecycle: lifecycle.checkpoint(), young: young,
            templates: templates, pairs: pairs, fanIn: fanIn, rates: rates, slotValues: slotValues,
            establishedDomains: establishedDomains, counters: counters, watermark: watermark, lastAdvance: lastAdvance,
            jumpCandidate: jumpCandidate, jumpVotes: jumpVotes)
    }

    /// Rebuilds the engine with `configuration` and the saved state.
    ///
    /// The configuration is not part of the checkpoint: every component is built from `configuration`, then
    /// given its saved state, which must have the shape `configuration` gives it.
    ///
    /// - Throws: ``DetectionCheckpointError`` when the state does not fit `configuration`: different table
    ///   bounds (the memory budget), a window, exact capacity, bucket count or baseline setting that differs
    ///   from the one the configuration gives new entries, a first-seen table larger than the configured bound allows or a different filter size, or more
    ///   open alerts than allowed; ``TemplateCheckpointError`` when the miner's state does not fit
    ///   ``DetectionConfiguration/miner``.
    /// - Complexity: O(state).
    public init(configuration: DetectionConfiguration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        let c = configuration
        ages = try AccountAges(configuration: c.ages, restoring: checkpoint.ages)
        miner = try TemplateMiner(configuration: c.miner, restoring: checkpoint.miner)
        lifecycle = try AlertLifecycle(configuration: c.lifecycle, restoring: checkpoint.lifecycle)

        func count(_ s: SlidingCount, seconds: Int64) -> Bool {
            s.horizonMicroseconds == seconds * 1_000_000 && s.bucketCount == Self.windowBuckets
        }
        func distinct(_ d: SlidingDistinct, seconds: Int64, capacity: Int) -> Bool {
            d.configuration == .init(horizonMicroseconds: seconds * 1_000_000, exactCapacity: capacity)
        }
        let cap = max(16, c.maxAlertAccounts)
        let baseline = EWMABaseline.Configuration(
            intervalMicroseconds: c.swarm.windowSeconds * 1_000_000, halfLifeIntervals: c.swarm.baselineHalfLifeWindows)
        young = try Self.fitting(checkpoint.young, like: young, "young accounts") {
            count($0.short, seconds: c.burst.windowSeconds) && count($0.long, seconds: c.burst.longWindowSeconds)
        }
        templates = try Self.fitting(checkpoint.templates, like: templates, "templates") {
            distinct($0.spreadYoung, seconds: c.swarm.windowSeconds, capacity: cap)
                && distinct($0.suspiciousYoung, seconds: c.slots.windowSeconds, capacity: cap)
                && count($0.youngMessages, seconds: c.swarm.windowSeconds) && $0.baseline.configuration == baseline
        }
        pairs = try Self.fitting(checkpoint.pairs, like: pairs, "pairs") { _ in true }
        fanIn = try Self.fitting(checkpoint.fanIn, like: fanIn, "recipients") {
            distinct($0.young, seconds: c.fanIn.windowSeconds, capacity: max(16, min(c.maxAlertAccounts, 256)))
        }
        rates = try Self.fitting(checkpoint.rates, like: rates, "account rates") {
            count($0.count, seconds: c.accountRate.windowSeconds)
        }
        slotValues = try Self.fitting(checkpoint.slotValues, like: slotValues, "slot values") {
            distinct($0.young, seconds: c.slots.windowSeconds, capacity: 64)
        }
        let d = checkpoint.establishedDomains
        guard d.width == establishedDomains.width && d.depth == establishedDomains.depth
            && d.epochMicroseconds == establishedDomains.epochMicroseconds
        else { throw DetectionCheckpointError("established domains: sketch size or epoch differs") }
        establishedDomains = d
        counters = checkpoint.counters
        watermark = checkpoint.watermark
        lastAdvance = checkpoint.lastAdvance
        guard (0..<Self.timeJumpConfirmations).contains(checkpoint.jumpVotes) else {
            throw DetectionCheckpointError("time-jump votes \(checkpoint.jumpVotes) out of range")
        }
        jumpCandidate = checkpoint.jumpCandidate
        jumpVotes = checkpoint.jumpVotes
    }

    /// `saved` when its bounds equal those of `fresh` (the table the configuration makes) and every value
    /// passes `fits`.
    private static func fitting<Value>(
        _ saved: BoundedKeyTable<Value>, like fresh: BoundedKeyTable<Value>, _ name: String, _ fits: (Value) -> Bool
    ) throws -> BoundedKeyTable<Value> {
        guard saved.maxEntries == fresh.maxEntries, saved.maxBytes == fresh.maxBytes else {
            throw DetectionCheckpointError(
                "\(name): table bounds \(saved.maxEntries) entries / \(saved.maxBytes) bytes, the configuration makes "
                    + "\(fresh.maxEntries) / \(fresh.maxBytes)")
        }
        try saved.forEachValue { value in
            guard fits(value) else {
                throw DetectionCheckpointError("\(name): an entry's windows differ from the configuration's")
            }
        }
        return saved
    }
}
