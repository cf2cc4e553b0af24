import SendWatchCore

/// The settings of one rule: its configuration section's values. Every rule's settings have `enabled` and a
/// window (the keys `enabled` and `window`, declared once for all rules).
public protocol RuleConfiguration: Sendable {
    /// The defaults.
    init()
    /// Whether the rule runs.
    var enabled: Bool { get set }
    /// The window the rule counts over, in seconds.
    var windowSeconds: Int64 { get set }
}

/// The settings of a rule that fires on a number of distinct young accounts in its window (`slot_content`,
/// `shared_artefact`, `template_swarm`): the key `min_young_accounts`, declared once for them.
protocol YoungAccountsThreshold: RuleConfiguration {
    /// Distinct young accounts in the window that fire.
    var minYoungAccounts: Int { get set }
}

extension ConfigKey where Root: YoungAccountsThreshold {
    /// The key `min_young_accounts` (1 to 10,000,000); `doc` says what the accounts share.
    static func minYoungAccounts(doc: String) -> ConfigKey {
        .integer("min_young_accounts", \.minYoungAccounts, in: 1...10_000_000, doc: doc)
    }
}

/// A rule, as far as its settings go: the type ``DetectionConfiguration/subscript(_:)`` finds them by.
public protocol ConfiguredRule {
    /// The settings of the rule's configuration section, `rules.<name>`.
    associatedtype Configuration: RuleConfiguration
}

/// The settings of every registered rule, each kept by its type.
///
/// A rule's settings that were never set are its defaults. They are read and set by the rule's type through
/// ``DetectionConfiguration/subscript(_:)``, so neither this type nor ``DetectionConfiguration`` lists rules.
///
/// Usage:
/// ```swift
/// var configuration = DetectionConfiguration()
/// configuration[TemplateSwarmRule.self].windowSeconds = 7200
/// ```
public struct RuleSettings: Sendable {
    private var values: [ObjectIdentifier: any RuleConfiguration] = [:]

    /// Every rule at its defaults.
    public init() {}

    /// The settings of the rule whose settings type is `type`.
    public subscript<C: RuleConfiguration>(_ type: C.Type) -> C {
        get { values[ObjectIdentifier(type)] as? C ?? C() }
        set { values[ObjectIdentifier(type)] = newValue }
    }
}

/// A share of ``DetectionConfiguration/memoryBudgetBytes`` for one bounded table: `budget / denominator *
/// numerator` bytes, computed in that order so that every table gets the same bytes as it always has.
public struct BudgetShare: Sendable, Equatable {
    public var numerator: Int
    public var denominator: Int

    /// `numerator / denominator` of the budget, e.g. `BudgetShare(3, of: 10)` for 30 %.
    public init(_ numerator: Int, of denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The bytes of `budget` this share gives.
    func bytes(of budget: Int) -> Int { budget / denominator * numerator }
}
