public import SendWatchCore

/// Everything a simulation run depends on. The output is a pure function of this value.
///
/// Usage:
/// ```swift
/// var config = SimulationConfiguration(scenario: Scenario.named("tenant-swarm")!, seed: 7)
/// config.format = .exim
/// try config.validate()
/// ```
public struct SimulationConfiguration: Hashable, Sendable {
    /// The scenario (its incidents).
    public var scenario: Scenario
    /// The seed every random draw derives from.
    public var seed: UInt64
    /// The time of the first traffic. Default 2026-11-29T06:00:00Z.
    public var start: EventTime
    /// The run's length in seconds: no message is submitted after `start + durationSeconds` (deliveries and
    /// retries of earlier messages may follow). Default: the scenario's ``Scenario/defaultDurationSeconds``.
    public var durationSeconds: Int64
    /// The scales a run accepts: above 0 and up to the scale at which the largest look-alike (the newsletter)
    /// reaches ``BurstPlan/maxMessagesPerAccount`` messages, 4,000.
    public static let scaleRange: ClosedRange<Double> =
        0.001...(Double(BurstPlan.maxMessagesPerAccount) / Scenario.newsletterMessages)

    /// Multiplies background volume (number of ordinary accounts and tenants) and the look-alikes' sizes;
    /// incidents keep their planned size. Default 1: 400 ordinary accounts and 150 tenants, about 1,500
    /// messages an hour.
    public var scale: Double
    /// The output format. Default ``SimulationFormat/postfix``.
    public var format: SimulationFormat
    /// Seconds of background-only traffic at the start, except plans that start at the run's start
    /// (``BurstPlan/startsAtRunStart``); every established account sends in its first 55 minutes. Default 4,500
    /// (1 h 15 min), past SendWatch's default 1 h warm-up.
    public var warmupSeconds: Int64
    /// The look-alikes (hard negatives). Default ``Scenario/lookAlikes(scale:)`` of ``scale`` followed by the
    /// scenario's own ``Scenario/lookAlikes``.
    public var lookAlikes: [BurstPlan]
    /// The Postfix host name field. Default `mx1`.
    public var host: String

    public init(
        scenario: Scenario, seed: UInt64, start: EventTime = EventTime(seconds: 1_795_932_000),
        durationSeconds: Int64? = nil, scale: Double = 1, format: SimulationFormat = .postfix,
        warmupSeconds: Int64 = 4_500, lookAlikes: [BurstPlan]? = nil, host: String = "mx1"
    ) {
        self.scenario = scenario
        self.seed = seed
        self.start = start
        self.durationSeconds = durationSeconds ?? scenario.defaultDurationSeconds
        self.scale = scale
        self.format = format
        self.warmupSeconds = warmupSeconds
        self.lookAlikes = lookAlikes ?? (Scenario.lookAlikes(scale: scale) + scenario.lookAlikes)
        self.host = host
    }

    /// The time the warm-up ends; no young account sends before it, except in plans that start at the run's
    /// start (``BurstPlan/startsAtRunStart``).
    public var warmupEnd: EventTime { EventTime(microseconds: start.microseconds + warmupSeconds * 1_000_000) }

    /// The end of the submission window.
    public var end: EventTime { EventTime(microseconds: start.microseconds + durationSeconds * 1_000_000) }

    /// The shortest duration that fits every incident, in seconds: the warm-up, the incidents' latest send
    /// and 15 minutes for their deliveries.
    public var minimumDurationSeconds: Int64 {
        let latest =
            scenario.incidents.map { $0.latestSendAfterWarmupSeconds(warmupSeconds: warmupSeconds) }.max() ?? 0
        return warmupSeconds + latest + 15 * 60
    }

    /// Checks every field and reports all problems at once.
    ///
    /// - Throws: ``SimulationError`` listing each problem.
    public func validate() throws(SimulationError) {
        var problems: [String] = []
        if !Self.scaleRange.contains(scale) {
            problems.append(
                "scale must be a number from \(Self.scaleRange.lowerBound) to \(Int(Self.scaleRange.upperBound)) (got \(scale))"
            )
        }
        if warmupSeconds < 3_600 { problems.append("the warm-up must be at least 1 h (got \(warmupSeconds) s)") }
        if durationSeconds < minimumDurationSeconds {
            problems.append(
                "scenario '\(scenario.name)' needs a duration of at least \(hoursMinutes(minimumDurationSeconds)) "
                    + "(got \(hoursMinutes(durationSeconds)))")
        }
        if durationSeconds > 366 * 86_400 { problems.append("duration must be at most 366 days") }
        let year = CivilDate(daysSinceEpoch: start.seconds / 86_400).year
        if start.microseconds < 0 || year > 2199 { problems.append("start must lie between 1970 and 2199") }
        for plan in scenario.incidents + lookAlikes {
            if plan.accounts < 1 || plan.accounts > BurstPlan.maxAccounts || plan.messagesPerAccount < 1
                || plan.messagesPerAccount > BurstPlan.maxMessagesPerAccount || plan.spreadSeconds < 0
                || plan.startAfterWarmupSeconds < 0
                || !(plan.gapSeconds >= 0 && plan.gapSeconds < 1e9)
            {
                problems.append("burst '\(plan.kind.rawValue)' has an out-of-range size or timing")
            }
            if plan.startsAtRunStart && plan.kind.isAttack {
                problems.append(
                    "attack burst '\(plan.kind.rawValue)' must not start at the run's start: "
                        + "alerts before the warm-up's end are not scored")
            }
        }
        if host.isEmpty || host.utf8.contains(where: { $0 <= 0x20 }) { problems.append("host must be one word") }
        if !problems.isEmpty { throw SimulationError(problems: problems) }
    }
}

/// A configuration the simulator cannot run, with every problem found.
public struct SimulationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One sentence per problem.
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "; ") }
}

/// `8h30m`, `2h`, `45m` or `90s`: a duration for messages.
func hoursMinutes(_ seconds: Int64) -> String {
    guard seconds > 0 else { return "\(seconds)s" }
    let h = seconds / 3600
    let m = seconds % 3600 / 60
    let s = seconds % 60
    var out = ""
    if h > 0 { out += "\(h)h" }
    if m > 0 { out += "\(m)m" }
    if s > 0 { out += "\(s)s" }
    return out
}
