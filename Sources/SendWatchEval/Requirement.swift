public import SendWatchCore

/// A pass/fail condition on an ``EvaluationReport``, for CI: `sendwatch eval --require ...` exits 1 naming every
/// unmet one.
///
/// Syntax: comma-separated `METRIC OP VALUE` with `OP` one of `>=`, `<=`, `=`, `>`, `<` (no spaces needed;
/// spaces are ignored). Metrics:
///
/// | metric | value | example |
/// |---|---|---|
/// | `recall`, `precision` | account-level ratio, 0...1 | `recall>=0.95` |
/// | `incidents` | `all`, or a number of detected incidents | `incidents=all`, `incidents>=3` |
/// | `missed` | number of missed incidents | `missed<=1` |
/// | `latency` | median latency over all detected incidents, seconds (`600`, `600s`, `10m`, `1h`) | `latency<=15m` |
/// | `latency:KIND` | median latency of the incidents of kind `KIND` | `latency:tenant-swarm<=600` |
/// | `lookalikes` | distinct look-alike accounts flagged | `lookalikes=0` |
/// | `unlabelled` | flagged accounts that are neither abusive nor look-alikes | `unlabelled<=5` |
/// | `clean_per_day` | clean alerts per day | `clean_per_day<=2` |
///
/// A metric that is n/a (no detected incident of the kind, no abusive account for recall, ...) fails every
/// requirement on it, and so does `latency:KIND` for a kind the labels do not have: a CI gate must not pass
/// because the thing it guards disappeared.
public struct Requirement: Sendable, Equatable, CustomStringConvertible {
    public enum Metric: Sendable, Equatable {
        case recall
        case precision
        case incidentsDetected
        case incidentsMissed
        /// Median latency of one kind, or of all detected incidents when nil.
        case medianLatency(kind: String?)
        case lookAlikeAccounts
        case unlabelledAccounts
        case cleanAlertsPerDay
    }

    public enum Comparison: String, Sendable, Equatable, CaseIterable {
        case atLeast = ">="
        case atMost = "<="
        case greater = ">"
        case less = "<"
        case equal = "="

        func holds(_ lhs: Double, _ rhs: Double) -> Bool {
            switch self {
            case .atLeast: lhs >= rhs
            case .atMost: lhs <= rhs
            case .greater: lhs > rhs
            case .less: lhs < rhs
            case .equal: lhs == rhs
            }
        }
    }

    public var metric: Metric
    public var comparison: Comparison
    public var value: Double
    /// The requirement as written (spaces removed), used in messages.
    public var description: String

    /// Parses a comma-separated list such as `recall>=0.95,precision>=0.95,incidents=all,lookalikes=0`.
    ///
    /// - Throws: ``EvaluationError`` (`invalidRequirement`) naming the item that cannot be read.
    public static func parseList(_ spec: String) throws(EvaluationError) -> [Requirement] {
        var out: [Requirement] = []
        for raw in spec.split(separator: ",") {
            let item = String(raw.filter { $0 != " " && $0 != "\t" })
            guard !item.isEmpty else { continue }
            out.append(try parse(item))
        }
        return out
    }

    /// Parses one requirement, e.g. `latency:tenant-swarm<=10m`.
    public static func parse(_ item: String) throws(EvaluationError) -> Requirement {
        func fail(_ why: String) -> EvaluationError {
            EvaluationError(code: .invalidRequirement, message: "requirement '\(item)': \(why)")
        }
        // Find the first operator character; two-character operators first.
        guard let opStart = item.firstIndex(where: { $0 == "<" || $0 == ">" || $0 == "=" }) else {
            throw fail("expected METRIC>=VALUE, METRIC<=VALUE or METRIC=VALUE")
        }
        let name = String(item[..<opStart])
        let rest = item[opStart...]
        guard let comparison = Comparison.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw fail("unknown comparison")
        }
        let valueText = String(rest.dropFirst(comparison.rawValue.count))
        guard !valueText.isEmpty else { throw fail("missing value") }

        func number() throws(EvaluationError) -> Double {
            guard let v = Double(valueText), v.isFinite else { throw fail("'\(valueText)' is not a number") }
            return v
        }
        switch name {
        case "recall", "precision":
            let v = try number()
            guard v >= 0 && v <= 1 else { throw fail("a ratio is between 0 and 1") }
            return Requirement(
                metric: name == "recall" ? .recall : .precision, comparison: comparison, value: v, description: item)
        case "incidents":
            if valueText == "all" {
                guard comparison == .equal else { throw fail("use incidents=all") }
                return Requirement(metric: .incidentsMissed, comparison: .equal, value: 0, description: item)
            }
            return Requirement(
                metric: .incidentsDetected, comparison: comparison, value: try number(), description: item)
        case "missed":
            return Requirement(metric: .incidentsMissed, comparison: comparison, value: try number(), description: item)
        case "lookalikes":
            return Requirement(
                metric: .lookAlikeAccounts, comparison: comparison, value: try number(), description: item)
        case "unlabelled":
            return Requirement(
                metric: .unlabelledAccounts, comparison: comparison, value: try number(), description: item)
        case "clean_per_day":
            return Requirement(
                metric: .cleanAlertsPerDay, comparison: comparison, value: try number(), description: item)
        default:
            guard name == "latency" || name.hasPrefix("latency:") else {
                throw fail(
                    "unknown metric '\(name)'; known: recall, precision, incidents, missed, latency, latency:KIND, "
                        + "lookalikes, unlabelled, clean_per_day")
            }
            let kind = name == "latency" ? nil : String(name.dropFirst("latency:".count))
            if let kind, kind.isEmpty { throw fail("missing incident kind after 'latency:'") }
            guard let seconds = durationSeconds(valueText) else {
                throw fail("'\(valueText)' is not a duration like 600, 600s, 10m or 1h")
            }
            return Requirement(
                metric: .medianLatency(kind: kind), comparison: comparison, value: seconds, description: item)
        }
    }

    private static func durationSeconds(_ text: String) -> Double? {
        var t = Substring(text)
        var unit = 1.0
        switch t.last {
        case "s": unit = 1; t = t.dropLast()
        case "m": unit = 60; t = t.dropLast()
        case "h": unit = 3600; t = t.dropLast()
        default: break
        }
        guard let v = Double(t), v.isFinite else { return nil }
        return v * unit
    }

    /// Nil when the report meets the requirement, else a sentence naming it and the actual value.
    public func check(_ report: EvaluationReport) -> String? {
        let actual: Double?
        var detail = ""
        switch metric {
        case .recall: actual = report.recall
        case .precision: actual = report.precision
        case .incidentsDetected: actual = Double(report.incidentsDetected)
        case .incidentsMissed:
            let missed = report.incidents.filter { !$0.detected }
            actual = Double(missed.count)
            if !missed.isEmpty {
                let ids = missed.prefix(5).map(\.id).joined(separator: ", ")
                detail = ": " + ids + (missed.count > 5 ? ", ..." : "")
            }
        case .medianLatency(let kind):
            if let kind {
                guard let k = report.latencyByKind.first(where: { $0.kind == kind }) else {
                    return "unmet: \(description) (no incident of kind '\(kind)' in the labels)"
                }
                actual = k.medianLatencySeconds
            } else {
                actual = report.medianLatencySeconds
            }
        case .lookAlikeAccounts: actual = Double(report.lookAlikeAccountsFlagged)
        case .unlabelledAccounts: actual = Double(report.unlabelledAccountsFlagged)
        case .cleanAlertsPerDay: actual = report.cleanAlertsPerDay
        }
        guard let actual else { return "unmet: \(description) (the value is n/a)" }
        if comparison.holds(actual, value) { return nil }
        return "unmet: \(description) (actual \(shown(actual))\(detail))"
    }

    private func shown(_ v: Double) -> String {
        switch metric {
        case .recall, .precision: Format.fixed(v, 4)
        case .medianLatency: Format.fixed(v, 1) + "s"
        case .cleanAlertsPerDay: Format.fixed(v, 2)
        default: v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
        }
    }
}

extension EvaluationReport {
    /// One message per unmet requirement, in the order given; empty when all are met.
    public func unmet(_ requirements: [Requirement]) -> [String] {
        requirements.compactMap { $0.check(self) }
    }
}
