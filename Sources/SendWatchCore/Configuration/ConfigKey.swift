/// A configuration value as the file gives it: a scalar's text, or null (`null`, `~` or nothing).
public enum ConfigScalar: Sendable, Equatable {
    case null
    case text(String)
}

/// One configuration key, declared once: its name, doc, default (read from a default value of `Root`), the
/// range it accepts, and how it is applied.
///
/// Every output about a key comes from this one declaration: the commented default file
/// (`sendwatch config defaults`), the configuration reference in the docs, and validation (`config check` and
/// start-up). The range given to a factory such as ``integer(_:_:in:doc:)`` must be the range the code that uses
/// the value can take: the tests run a replay with every key at each end of its range (``extremes``).
///
/// Usage:
/// ```swift
/// static let keys: [ConfigKey<Configuration>] = [
///     .duration("window", \.windowSeconds, doc: "The window."),
///     .integer("limit", \.limit, in: 1...100_000_000, doc: "Recipients per window above which it fires."),
/// ]
/// ```
public struct ConfigKey<Root>: Sendable {
    /// The key's name within its section, e.g. `window`.
    public let name: String
    /// Lines of documentation, printed as comments above the key.
    public let doc: [String]
    /// What the key accepts, e.g. `1 to 4096`, `true or false`.
    public let accepted: String
    /// The least and the greatest accepted value as configuration text (empty for keys without a range, such
    /// as names).
    public let extremes: [String]
    let render: @Sendable (Root) -> String
    let assign: @Sendable (inout Root, ConfigScalar) -> String?

    /// A key with its own rendering and parsing.
    ///
    /// - Parameters:
    ///   - render: The value held by a `Root`, as configuration text.
    ///   - assign: Applies a value; returns the problem (without the key's name) when the value is not accepted.
    public init(
        _ name: String, doc: [String], accepted: String, extremes: [String],
        render: @escaping @Sendable (Root) -> String,
        assign: @escaping @Sendable (inout Root, ConfigScalar) -> String?
    ) {
        self.name = name
        self.doc = doc
        self.accepted = accepted
        self.extremes = extremes
        self.render = render
        self.assign = assign
    }

    /// The value `root` holds, as configuration text.
    public func text(of root: Root) -> String { render(root) }

    /// Applies `value` to `root`; returns the problem, without the key's name, when it is not accepted (and
    /// leaves `root` as it was).
    public func apply(_ value: ConfigScalar, to root: inout Root) -> String? { assign(&root, value) }

    /// The same key for a configuration that holds a `Root` (a rule's settings within the detection settings).
    public func scoped<Outer>(
        get: @escaping @Sendable (Outer) -> Root, set: @escaping @Sendable (inout Outer, Root) -> Void
    ) -> ConfigKey<Outer> {
        let render = self.render
        let assign = self.assign
        return ConfigKey<Outer>(
            name, doc: doc, accepted: accepted, extremes: extremes, render: { render(get($0)) },
            assign: { outer, value in
                var inner = get(outer)
                if let problem = assign(&inner, value) { return problem }
                set(&outer, inner)
                return nil
            })
    }
}

extension ConfigKey {
    /// The longest duration any key accepts: ten years (365-day years).
    public static var maxDurationSeconds: Int64 { 10 * 365 * 86_400 }

    /// A whole number within `range`; `_` may group digits (`200_000`). A `null` sets `nullValue` when given.
    public static func integer(
        _ name: String, _ path: any WritableKeyPath<Root, Int> & Sendable, in range: ClosedRange<Int>,
        null nullValue: Int? = nil, doc: String...
    ) -> ConfigKey {
        let accepted = "\(range.lowerBound) to \(range.upperBound)" + (nullValue != nil ? " (or null)" : "")
        return ConfigKey(
            name, doc: doc, accepted: accepted, extremes: ["\(range.lowerBound)", "\(range.upperBound)"],
            render: { "\($0[keyPath: path])" },
            assign: { root, value in
                switch value {
                case .null:
                    guard let nullValue else { return "expected an integer from \(accepted), got null" }
                    root[keyPath: path] = nullValue
                case .text(let s):
                    guard let n = Int(s.filter { $0 != "_" }), range.contains(n) else {
                        return "expected an integer from \(accepted), got '\(s)'"
                    }
                    root[keyPath: path] = n
                }
                return nil
            })
    }

    /// A whole number within `range` that may also be `null` (no value).
    public static func optionalInteger(
        _ name: String, _ path: any WritableKeyPath<Root, Int?> & Sendable, in range: ClosedRange<Int>, doc: String...
    ) -> ConfigKey {
        let accepted = "\(range.lowerBound) to \(range.upperBound), or null"
        return ConfigKey(
            name, doc: doc, accepted: accepted, extremes: ["\(range.lowerBound)", "\(range.upperBound)"],
            render: { $0[keyPath: path].map { "\($0)" } ?? "null" },
            assign: { root, value in
                guard case .text(let s) = value else {
                    root[keyPath: path] = nil
                    return nil
                }
                guard let n = Int(s.filter { $0 != "_" }), range.contains(n) else {
                    return "expected an integer from \(accepted), got '\(s)'"
                }
                root[keyPath: path] = n
                return nil
            })
    }

    /// A size given in MiB within `range`, held in bytes.
    public static func mebibytes(
        _ name: String, _ path: any WritableKeyPath<Root, Int> & Sendable, in range: ClosedRange<Int>, doc: String...
    ) -> ConfigKey {
        let accepted = "\(range.lowerBound) to \(range.upperBound)"
        return ConfigKey(
            name, doc: doc, accepted: accepted, extremes: ["\(range.lowerBound)", "\(range.upperBound)"],
            render: { "\($0[keyPath: path] >> 20)" },
            assign: { root, value in
                guard case .text(let s) = value, let n = Int(s.filter { $0 != "_" }), range.contains(n) else {
                    return "expected an integer from \(accepted), got \(value.quoted)"
                }
                root[keyPath: path] = n << 20
                return nil
            })
    }

    /// A duration (`45s`, `10m`, `1h30m`, `7d`, or a number of seconds) within `range`, held in seconds; by
    /// default any positive duration up to ``maxDurationSeconds`` (a window, a timeout).
    public static func duration(
        _ name: String, _ path: any WritableKeyPath<Root, Int64> & Sendable,
        in range: ClosedRange<Int64> = 1...maxDurationSeconds, doc: String...
    ) -> ConfigKey {
        let low = DurationText.format(range.lowerBound)
        let high = DurationText.format(range.upperBound)
        let accepted = "\(low) to \(high)"
        return ConfigKey(
            name, doc: doc, accepted: accepted, extremes: [low, high],
            render: { DurationText.format($0[keyPath: path]) },
            assign: { root, value in
                guard case .text(let s) = value, let d = DurationText.seconds(s), range.contains(d) else {
                    return "expected a duration like 30m, 6h or 7d from \(accepted), got \(value.quoted)"
                }
                root[keyPath: path] = d
                return nil
            })
    }

    /// A number within `range`. `rendered` prints the default when its plain form is too long (⅓).
    public static func number(
        _ name: String, _ path: any WritableKeyPath<Root, Double> & Sendable, in range: ClosedRange<Double>,
        rendered: (@Sendable (Double) -> Double)? = nil, doc: String...
    ) -> ConfigKey {
        let accepted = "\(ConfigText.number(range.lowerBound)) to \(ConfigText.number(range.upperBound))"
        return ConfigKey(
            name, doc: doc, accepted: accepted,
            extremes: [ConfigText.number(range.lowerBound), ConfigText.number(range.upperBound)],
            render: { root in ConfigText.number(rendered.map { f in f(root[keyPath: path]) } ?? root[keyPath: path]) },
            assign: { root, value in
                guard case .text(let s) = value, let x = Double(s), x.isFinite, range.contains(x) else {
                    return "expected a number from \(accepted), got \(value.quoted)"
                }
                root[keyPath: path] = x
                return nil
            })
    }

    /// `true` or `false` (also `yes`/`no`, `on`/`off`).
    public static func bool(_ name: String, _ path: any WritableKeyPath<Root, Bool> & Sendable, doc: String...)
        -> ConfigKey
    {
        ConfigKey(
            name, doc: doc, accepted: "true or false", extremes: ["false", "true"],
            render: { "\($0[keyPath: path])" },
            assign: { root, value in
                switch value {
                case .text("true"), .text("yes"), .text("on"): root[keyPath: path] = true
                case .text("false"), .text("no"), .text("off"): root[keyPath: path] = false
                default: return "expected true or false, got \(value.quoted)"
                }
                return nil
            })
    }
}

extension ConfigScalar {
    /// The value for a message: `'text'` or `null`.
    public var quoted: String {
        switch self {
        case .null: return "null"
        case .text(let s): return "'\(s)'"
        }
    }
}

/// How configuration values are printed.
public enum ConfigText {
    /// A whole number without a fraction (`3`), anything else in Swift's shortest form (`0.05`).
    public static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
