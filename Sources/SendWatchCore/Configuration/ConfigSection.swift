/// A group of keys at one path of the configuration file, e.g. `detect` or `rules.template_swarm`.
public struct ConfigSection<Root>: Sendable {
    /// The path of the section, e.g. `["rules", "template_swarm"]`.
    public let path: [String]
    /// Comment lines printed above the section's name.
    public let doc: [String]
    /// The keys, in documentation order.
    public let keys: [ConfigKey<Root>]
    /// Problems of the section's values taken together (each starting with the key's dotted name); run after
    /// every key of the file is applied.
    let check: @Sendable (Root) -> [String]

    /// A section; `check` finds problems that no single key shows (none by default).
    public init(
        _ path: [String], doc: [String] = [], keys: [ConfigKey<Root>],
        check: @escaping @Sendable (Root) -> [String] = { _ in [] }
    ) {
        self.path = path
        self.doc = doc
        self.keys = keys
        self.check = check
    }

    /// The dotted name of the section, e.g. `rules.template_swarm`.
    public var name: String { path.joined(separator: ".") }

    /// The same section for a configuration that holds a `Root`.
    public func scoped<Outer>(
        get: @escaping @Sendable (Outer) -> Root, set: @escaping @Sendable (inout Outer, Root) -> Void
    ) -> ConfigSection<Outer> {
        let check = self.check
        return ConfigSection<Outer>(
            path, doc: doc, keys: keys.map { $0.scoped(get: get, set: set) }, check: { check(get($0)) })
    }

    /// The section moved under `prefix` (a rule's section under `rules`).
    public func nested(under prefix: [String]) -> ConfigSection {
        ConfigSection(prefix + path, doc: doc, keys: keys, check: check)
    }
}

/// A configuration file's parsed tree, independent of the YAML library: mappings keep the file's order.
public indirect enum ConfigNode: Sendable {
    case scalar(ConfigScalar)
    case mapping([(key: String, value: ConfigNode)])
    /// A sequence or anything else that is neither a scalar nor a mapping.
    case other
}

/// Every section of a configuration, in documentation order: the one declaration that the default file, the
/// docs and validation are made from.
public struct ConfigSchema<Root>: Sendable {
    /// Comment lines at the top of the default file.
    public let header: [String]
    public let sections: [ConfigSection<Root>]

    public init(header: [String], sections: [ConfigSection<Root>]) {
        self.header = header
        self.sections = sections
    }

    /// The values of `root` as a commented YAML file: each section's doc, then each key's doc, what it
    /// accepts, and its value.
    public func yaml(of root: Root) -> String {
        var lines = header
        var previous: [String] = []
        for section in sections {
            var common = 0
            while common < min(previous.count, section.path.count) && previous[common] == section.path[common] {
                common += 1
            }
            if common == 0 { lines.append("") }
            for depth in common..<section.path.count {
                let indent = String(repeating: "  ", count: depth)
                if depth == section.path.count - 1 { lines += section.doc.map { indent + "# " + $0 } }
                lines.append(indent + section.path[depth] + ":")
            }
            let indent = String(repeating: "  ", count: section.path.count)
            for key in section.keys {
                lines += key.doc.map { indent + "# " + $0 }
                lines.append(indent + "# Accepts " + key.accepted + ".")
                lines.append(indent + key.name + ": " + key.text(of: root))
            }
            previous = section.path
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The key with the dotted name `name` (`detect.warmup`), or `nil`.
    public func key(named name: String) -> ConfigKey<Root>? {
        let parts = name.split(separator: ".").map(String.init)
        guard let last = parts.last else { return nil }
        let path = Array(parts.dropLast())
        return sections.first { $0.path == path }?.keys.first { $0.name == last }
    }

    /// Every key with its dotted name, in documentation order.
    public var allKeys: [(name: String, key: ConfigKey<Root>)] {
        sections.flatMap { section in section.keys.map { ((section.path + [$0.name]).joined(separator: "."), $0) } }
    }

    /// Applies a parsed file to `root`; returns every problem, each starting with the dotted name of its key.
    /// Keys the schema does not declare are problems (`unknown key`); the values of the other keys are applied.
    public func apply(_ node: ConfigNode, to root: inout Root) -> [String] {
        var problems: [String] = []
        walk(node, at: [], into: &root, problems: &problems)
        for section in sections { problems += section.check(root) }
        return problems
    }

    /// The declared name an unknown dotted key `name` was most likely meant to be: the one key of the same name
    /// in another section (`warmup` at the top level: `detect.warmup`), else the key or section nearest to it by
    /// edit distance (adjacent letters swapped count one), if at most 2 edits and under a third of its
    /// length away (`detect.warmpu`: `detect.warmup`). `nil` when nothing is that near.
    /// - Complexity: O(keys × name length²), once per unknown key.
    public func suggestion(for name: String) -> String? {
        let keys = allKeys.map(\.name)
        let last = name.split(separator: ".").last.map(String.init) ?? name
        let sameName = keys.filter { $0 != name && $0.split(separator: ".").last.map(String.init) == last }
        if sameName.count == 1 { return sameName[0] }
        var candidates = keys
        for section in sections {
            for depth in 1...max(1, section.path.count) where depth <= section.path.count {
                let dotted = section.path.prefix(depth).joined(separator: ".")
                if !candidates.contains(dotted) { candidates.append(dotted) }
            }
        }
        let target = Array(name.utf8)
        let limit = min(2, (target.count - 1) / 3)
        guard limit > 0 else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = Self.editDistance(target, Array(candidate.utf8))
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// The optimal string alignment distance of `a` and `b`: insertions, deletions, substitutions and swaps of
    /// adjacent bytes, each one edit.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = min(d, before[j - 2] + 1) }
                current[j] = d
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }

    /// Dotted name of `path + [key]`.
    private static func dotted(_ path: [String], _ key: String) -> String { (path + [key]).joined(separator: ".") }

    private func walk(_ node: ConfigNode, at path: [String], into root: inout Root, problems: inout [String]) {
        let entries: [(key: String, value: ConfigNode)]
        switch node {
        case .mapping(let m): entries = m
        case .scalar(.null): entries = []
        default:
            problems.append((path.isEmpty ? "top level" : path.joined(separator: ".")) + ": expected a mapping of keys")
            return
        }
        let section = sections.first { $0.path == path }
        for (k, v) in entries {
            let name = Self.dotted(path, k)
            if let key = section?.keys.first(where: { $0.name == k }) {
                guard case .scalar(let value) = v else {
                    problems.append("\(name): expected a single value")
                    continue
                }
                if let problem = key.apply(value, to: &root) { problems.append("\(name): \(problem)") }
            } else if sections.contains(where: {
                $0.path.count > path.count && Array($0.path.prefix(path.count + 1)) == path + [k]
            }) {
                walk(v, at: path + [k], into: &root, problems: &problems)
            } else {
                problems.append("\(name): unknown key" + (suggestion(for: name).map { " (did you mean \($0)?)" } ?? ""))
            }
        }
    }
}
