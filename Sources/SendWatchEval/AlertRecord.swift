public import SendWatchCore

/// The parts of one SendWatch alert record (any of ``readableVersions``, as `Alert.writeJSONLine` writes it) that
/// scoring uses.
///
/// Required keys: `v` (1 to 5), `id`, `action` (`create`, `update` or `close`), `kind`, `event_time`
/// (RFC 3339) and `accounts` (array of strings). `accounts_total`, when present, must be a non-negative
/// integer; `incident` (v3), when present, a string, and `merged_incidents` (v5) an array of strings;
/// `template` and `evidence.artefact` only tell whether the alert is ``aggregate``; every other key (`severity`,
/// `score`, `first_event_time`, `reasons`, ...) is ignored. Only the *listed* accounts are scored: an alert capped to its first N accounts counts those N,
/// never `accounts_total`.
public struct AlertRecord: Sendable, Equatable {
    public var id: String
    public var action: AlertAction
    public var kind: String
    public var eventTime: EventTime
    /// The listed accounts, as written.
    public var accounts: [String]
    /// The detector's total (may exceed `accounts.count`); `accounts.count` when absent.
    public var accountsTotal: Int
    /// The record's `incident`; ``id`` for records before schema v3.
    public var incident: String
    /// The record's `merged_incidents` (v5): incident ids merged into ``incident``.
    public var mergedIncidents: [String]
    /// Whether the alert is about several accounts with no template and no lure artefact (`template` null, no
    /// `evidence.artefact`: `concentrated_strangers` over all templates, `recipient_fanin`). Such an alert may
    /// list accounts of two attackers, and SendWatch never links incidents through it by account (README,
    /// Output), so scoring does not count its incident as a split of a campaign's (see
    /// ``EvaluationReport/IncidentResult/sendWatchIncidents``).
    public var aggregate: Bool

    public init(
        id: String, action: AlertAction, kind: String, eventTime: EventTime, accounts: [String],
        accountsTotal: Int? = nil, incident: String? = nil, mergedIncidents: [String] = [], aggregate: Bool = false
    ) {
        self.aggregate = aggregate
        self.incident = incident ?? id
        self.mergedIncidents = mergedIncidents
        self.id = id
        self.action = action
        self.kind = kind
        self.eventTime = eventTime
        self.accounts = accounts
        self.accountsTotal = accountsTotal ?? accounts.count
    }

    /// The alert schema versions `eval` and `report` read: every version SendWatch has written, up to the
    /// current `Alert.schemaVersion` (a test keeps the two equal, so a new schema version is a decision here too).
    public static let readableVersions: ClosedRange<Int> = 1...5

    /// ``readableVersions`` in words, for messages: `1 to 5`.
    public static var versionsText: String { "\(readableVersions.lowerBound) to \(readableVersions.upperBound)" }

    /// Why a line is not a usable alert record.
    public enum LineProblem: Error, Sendable, Equatable {
        /// The line is not one JSON object with the required keys and types; the text says which.
        case malformed(String)
        /// `v` is a number outside ``AlertRecord/readableVersions``: a schema this scorer does not know. Fatal for
        /// the whole file.
        case unsupportedVersion(String)
    }

    /// Reads one alert line (without its newline).
    ///
    /// - Complexity: O(n) in the line length (one JSON parse).
    public static func parse(line: some Collection<UInt8>) -> Result<AlertRecord, LineProblem> {
        let makeError: (String) -> EvaluationError = { EvaluationError(code: .invalidLabels, message: $0) }
        let node: JSONNode
        switch JSONNode.parse(line) {
        case .success(let n): node = n
        case .failure(let e): return .failure(.malformed(e.reason))
        }
        do throws(EvaluationError) {
            let f = try JSONFields(node, path: "", makeError: makeError)
            let v = try f.require("v")
            guard case .int(let version) = v else {
                return .failure(.malformed("'v' must be a number from \(Self.versionsText), not \(v.typeName)"))
            }
            guard Self.readableVersions.contains(Int(clamping: version)) else {
                return .failure(.unsupportedVersion(String(version)))
            }
            let actionText = try f.string("action")
            guard let action = AlertAction(rawValue: actionText) else {
                return .failure(.malformed("'action' must be create, update or close, not '\(actionText.prefix(40))'"))
            }
            var total: Int?
            if let t = f.object["accounts_total"] {
                guard case .int(let n) = t, n >= 0, n <= Int64(Int32.max) else {
                    return .failure(.malformed("'accounts_total' must be a non-negative integer"))
                }
                total = Int(n)
            }
            var incident: String?
            if f.object["incident"] != nil { incident = try f.string("incident") }
            let merged = f.object["merged_incidents"] != nil ? try f.stringArray("merged_incidents") : []
            let accounts = try f.stringArray("accounts")
            var artefact = false
            if case .object(let evidence)? = f.object["evidence"] { artefact = evidence["artefact"] != nil }
            var noTemplate = false
            if case .null? = f.object["template"] { noTemplate = true }
            let aggregate = Alert.isAggregate(
                hasTemplate: !noTemplate, hasArtefact: artefact, accounts: total ?? accounts.count)
            return .success(
                AlertRecord(
                    id: try f.string("id"), action: action, kind: try f.string("kind"),
                    eventTime: try f.time("event_time"), accounts: accounts, accountsTotal: total,
                    incident: incident, mergedIncidents: merged, aggregate: aggregate))
        } catch {
            return .failure(.malformed(error.message))
        }
    }
}
