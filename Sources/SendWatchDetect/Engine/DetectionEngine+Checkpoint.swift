import SendWatchCore
import SendWatchTemplates
import SendWatchWindows

/// How a saved detection state (``DetectionEngine/Checkpoint``) lays out what changed in it since, told to the
/// decoder through its `userInfo` under ``userInfoKey`` (absent: ``current``), so that a checkpoint written by an
/// earlier version is migrated rather than refused. The state formats of `tail` and `detect` say which layout a
/// file has.
public enum DetectionStateLayout: Int, Sendable, Comparable {
    /// `concentrated_strangers`' accounts save no held first recipient (``ConcentratedStrangersRule``'s
    /// `Opening`): `tail` state formats 11 and earlier, `detect` 6 and earlier. Read with none held (an account
    /// restored so counts its next recipient in full, as it did then); never written.
    case withoutOpenings = 1
    /// What this version writes.
    case current = 2

    /// The `userInfo` key the layout is given under.
    public static let userInfoKey = CodingUserInfoKey(rawValue: "sendwatch.detectionStateLayout")!

    /// The `userInfo` that tells a decoder this layout.
    public var userInfo: [CodingUserInfoKey: any Sendable] { [Self.userInfoKey: self] }

    /// The layout `decoder` is told (``current`` when none).
    static func of(_ decoder: any Decoder) -> DetectionStateLayout {
        decoder.userInfo[userInfoKey] as? DetectionStateLayout ?? .current
    }

    /// The layout `encoder` is told (``current`` when none; an older one only to write what an older version
    /// wrote, for a test of the migration).
    static func of(_ encoder: any Encoder) -> DetectionStateLayout {
        encoder.userInfo[userInfoKey] as? DetectionStateLayout ?? .current
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

extension DetectionEngine {
    /// Everything but the configuration (`Codable`): the account ages (with the registry entries), the template
    /// miner, the open alerts, the shared tables slot for slot (`SharedTables`), the sketch of established
    /// recipient domains, the counters, the watermark, the minute of the last close check, and each enabled
    /// rule's own state under its name (``RuleStates``).
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
        var tables: SharedTables
        var establishedDomains: CountMinSketch
        /// Absent in a checkpoint written before the filter existed: the filter then starts empty.
        var establishedRecipients: SeenFilter?
        var counters: DetectionCounters
        var watermark: EventTime?
        var lastAdvance: Int64
        var jumpCandidate: EventTime?
        var jumpVotes: Int
        var jumpLine: UInt64
        var rules: RuleStates
    }

    /// The whole detection state, for a checkpoint (see ``Checkpoint``).
    ///
    /// - Complexity: O(open alerts, templates and registry, for sorting); the tables and large arrays are shared
    ///   copy-on-write until the engine next changes them.
    public func checkpoint() -> Checkpoint {
        Checkpoint(
            ages: context.ages.checkpoint(), miner: context.miner.checkpoint(),
            lifecycle: context.lifecycle.checkpoint(),
            tables: context.tables, establishedDomains: context.establishedDomains,
            establishedRecipients: context.establishedRecipients, counters: context.counters,
            watermark: watermark, lastAdvance: lastAdvance, jumpCandidate: jumpCandidate, jumpVotes: jumpVotes,
            jumpLine: jumpLine,
            rules: RuleStates(states: rules.map { (type(of: $0).name, $0.savedState()) }))
    }

    /// Rebuilds the engine with `configuration` and the saved state.
    ///
    /// The configuration is not part of the checkpoint: every component is built from `configuration`, then
    /// given its saved state, which must have the shape `configuration` gives it. Each enabled rule checks its
    /// own saved state; a rule enabled since the checkpoint starts empty, and the state of a rule disabled
    /// since is dropped. Turning on or off a rule with a budget share that takes the shares past the whole
    /// changes every table's bound, which is refused like any other budget change.
    ///
    /// - Throws: ``DetectionCheckpointError`` when the state does not fit `configuration`: different table
    ///   bounds (the memory budget), a window, exact capacity, bucket count or baseline setting that differs
    ///   from the one the configuration gives new entries, a first-seen table larger than the configured bound
    ///   allows or a different filter size, or more open alerts than allowed; ``TemplateCheckpointError`` when
    ///   the miner's state does not fit ``DetectionConfiguration/miner``.
    /// - Complexity: O(state).
    public init(configuration: DetectionConfiguration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        let c = configuration
        context.ages = try AccountAges(configuration: c.ages, restoring: checkpoint.ages)
        context.miner = try TemplateMiner(configuration: c.miner, restoring: checkpoint.miner)
        context.lifecycle = try AlertLifecycle(configuration: c.lifecycle, restoring: checkpoint.lifecycle)
        context.tables = try Self.fitting(
            checkpoint.tables, like: context.tables, features: context.features)
        let d = checkpoint.establishedDomains
        let fresh = context.establishedDomains
        guard d.width == fresh.width && d.depth == fresh.depth && d.epochMicroseconds == fresh.epochMicroseconds
        else { throw DetectionCheckpointError("established domains: sketch size or epoch differs") }
        context.establishedDomains = d
        if let saved = checkpoint.establishedRecipients, let fresh = context.establishedRecipients {
            guard saved.capacity == fresh.capacity else {
                throw DetectionCheckpointError(
                    "established recipients: filter of \(saved.capacity) items, the configuration makes "
                        + "\(fresh.capacity)")
            }
            context.establishedRecipients = saved
        }
        context.counters = checkpoint.counters
        for i in rules.indices {
            let name = type(of: rules[i]).name
            guard let saved = checkpoint.rules.states.first(where: { $0.name == name }) else { continue }
            rules[i] = try rules[i].restored(configuration, budget: ruleBudget, from: saved.state)
        }
        context.ruleEvictions = rules.reduce(0) { $0 &+ $1.evictions }
        watermark = checkpoint.watermark
        lastAdvance = checkpoint.lastAdvance
        guard (0..<Self.timeJumpConfirmations).contains(checkpoint.jumpVotes) else {
            throw DetectionCheckpointError("time-jump votes \(checkpoint.jumpVotes) out of range")
        }
        jumpCandidate = checkpoint.jumpCandidate
        jumpVotes = checkpoint.jumpVotes
        jumpLine = checkpoint.jumpLine
    }

    /// The saved shared tables when each has the bounds of the fresh one and every entry the windows the
    /// features give new entries.
    static func fitting(
        _ saved: SharedTables, like fresh: SharedTables, features f: FeatureSettings
    ) throws(DetectionCheckpointError) -> SharedTables {
        func distinct(_ d: SlidingDistinct, seconds: Int64, capacity: Int) -> Bool {
            d.configuration == .init(horizonMicroseconds: seconds * 1_000_000, exactCapacity: capacity)
        }
        var out = saved
        out.young = try saved.young.fitting(like: fresh.young, "young accounts") { $0.burst.fits(f) }
        out.templates = try saved.templates.fitting(like: fresh.templates, "templates") { _ in true }
        out.slotValues = try saved.slotValues.fitting(like: fresh.slotValues, "slot values") {
            distinct($0.young, seconds: f.suspiciousWindowSeconds, capacity: 64)
        }
        return out
    }
}

extension BoundedKeyTable {
    /// `self` when its bounds equal those of `fresh` (the table the configuration makes) and every value
    /// passes `fits`.
    ///
    /// - Throws: ``DetectionCheckpointError`` naming the table (`name`).
    func fitting(
        like fresh: BoundedKeyTable, _ name: String, _ fits: (Value) -> Bool
    ) throws(DetectionCheckpointError) -> BoundedKeyTable {
        guard maxEntries == fresh.maxEntries, maxBytes == fresh.maxBytes else {
            throw DetectionCheckpointError(
                "\(name): table bounds \(maxEntries) entries / \(maxBytes) bytes, the configuration makes "
                    + "\(fresh.maxEntries) / \(fresh.maxBytes)")
        }
        do {
            try forEachValue { value in
                guard fits(value) else {
                    throw DetectionCheckpointError("\(name): an entry's windows differ from the configuration's")
                }
            }
        } catch let error as DetectionCheckpointError {
            throw error
        } catch {
            throw DetectionCheckpointError("\(name): \(error)")
        }
        return self
    }
}

extension DetectionRule {
    /// ``checkpoint()`` as a value the engine's checkpoint can hold.
    func savedState() -> any Codable & Sendable { checkpoint() }

    /// A rule of this type with `configuration`'s settings and the state `saved`.
    func restored(
        _ configuration: DetectionConfiguration, budget: Int, from saved: any Codable & Sendable
    ) throws(DetectionCheckpointError) -> any DetectionRule {
        guard let state = saved as? Checkpoint else {
            throw DetectionCheckpointError("\(Self.name): state of another type")
        }
        return try Self(
            configuration: configuration.rules[Configuration.self],
            limits: DetectionEngine.limits(Self.self, configuration, budget: budget), restoring: state)
    }
}

/// Each enabled rule's saved state under its name, in registry order. Encoded as the name, then the state the
/// rule's ``DetectionRule/Checkpoint`` type writes; decoding finds the type by the name in ``RuleRegistry``.
struct RuleStates: Codable, Sendable {
    var states: [(name: RuleName, state: any Codable & Sendable)]

    init(states: [(name: RuleName, state: any Codable & Sendable)]) { self.states = states }

    init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        states = []
        while !c.isAtEnd {
            let name = RuleName(try c.decode(String.self))
            guard let rule = RuleRegistry.rules.first(where: { $0.name == name }) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown rule '\(name)'")
            }
            guard !states.contains(where: { $0.name == name }) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "rule '\(name)' saved twice")
            }
            states.append((name, try Self.decodeState(rule, from: &c)))
        }
    }

    private static func decodeState<R: DetectionRule>(
        _ rule: R.Type, from container: inout any UnkeyedDecodingContainer
    ) throws -> any Codable & Sendable {
        try container.decode(R.Checkpoint.self)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        for (name, state) in states {
            try c.encode(name.rawValue)
            try c.encode(state)
        }
    }
}
