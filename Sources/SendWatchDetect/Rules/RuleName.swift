/// The name of a detection rule: its configuration section (`rules.<name>`), the `kind` of its alerts, and
/// its key in the engine's checkpoint.
///
/// Each rule declares its name once, as a static constant of its type (``YoungAccountBurstRule/name``); code
/// that needs another rule's name uses that constant, never a string.
public struct RuleName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The snake_case name, e.g. `template_swarm`.
    public let rawValue: String

    /// A rule name; `rawValue` is snake_case ASCII.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (a: RuleName, b: RuleName) -> Bool { a.rawValue < b.rawValue }
}
