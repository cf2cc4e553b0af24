import SendWatchCore
import SendWatchWindows

extension AlertLifecycle {
    /// Everything but the configuration (`Codable`): every open alert (its last record, the volume it reported,
    /// its last finding time and the finding held for its next record) by its (kind, key) slot, the count
    /// of alerts closed early, the closed alerts remembered for linking incidents and the incidents (creation
    /// time and merged ids) by id.
    ///
    /// Decoding checks the structure and throws `DecodingError.dataCorrupted`;
    /// ``AlertLifecycle/init(configuration:restoring:)`` checks the open-alert bound.
    public struct Checkpoint: Codable, Sendable {
        var slotKeys: [UInt64]
        var alerts: [OpenAlert]
        var closedEarly: Int
        var closed: [ClosedAlert]
        var incidentIDs: [String]
        var incidents: [IncidentInfo]

        enum CodingKeys: String, CodingKey {
            case slotKeys, alerts, closedEarly, closed, incidentIDs, incidents
        }

        init(_ l: AlertLifecycle) {
            // Sorted by slot key, so that the same state always encodes to the same bytes.
            let open = l.open.sorted { $0.key < $1.key }
            slotKeys = open.map(\.key)
            alerts = open.map(\.value)
            closedEarly = l.closedEarly
            closed = Array(l.closed)
            let incidents = l.incidents.sorted { $0.key < $1.key }
            incidentIDs = incidents.map(\.key)
            self.incidents = incidents.map(\.value)
        }

        /// Decodes and checks the structure.
        ///
        /// - Throws: `DecodingError.dataCorrupted` when the slot keys and alerts (or incident ids and incidents)
        ///   differ in number, a slot key or incident id repeats, an open or remembered alert names an incident
        ///   that is not saved, or the early-close count is out of range; `DecodingError` from the alerts and
        ///   findings.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            slotKeys = try c.decode([UInt64].self, forKey: .slotKeys)
            alerts = try c.decode([OpenAlert].self, forKey: .alerts)
            closedEarly = try c.decode(Int.self, forKey: .closedEarly)
            closed = try c.decode([ClosedAlert].self, forKey: .closed)
            incidentIDs = try c.decode([String].self, forKey: .incidentIDs)
            incidents = try c.decode([IncidentInfo].self, forKey: .incidents)
            let known = Set(incidentIDs)
            try StateCheck.require(
                incidentIDs.count == incidents.count && known.count == incidentIDs.count,
                "AlertLifecycle: \(incidentIDs.count) incident ids for \(incidents.count) incidents", decoder)
            try StateCheck.require(
                alerts.allSatisfy { known.contains($0.last.incident) }
                    && closed.allSatisfy { known.contains($0.incident) },
                "AlertLifecycle: an alert names an incident that is not saved", decoder)
            try StateCheck.require(
                incidents.allSatisfy { $0.merged.count <= Alert.maxMergedIncidents },
                "AlertLifecycle: an incident lists more than \(Alert.maxMergedIncidents) merged ids", decoder)
            try StateCheck.require(
                slotKeys.count == alerts.count && Set(slotKeys).count == slotKeys.count,
                "AlertLifecycle: \(slotKeys.count) slot keys for \(alerts.count) alerts", decoder)
            try StateCheck.require(StateCheck.isCount(closedEarly), "AlertLifecycle: closedEarly out of range", decoder)
        }
    }

    /// The open alerts and counters, for a checkpoint (see ``Checkpoint``).
    ///
    /// - Complexity: O(open alerts × log(open alerts)).
    public func checkpoint() -> Checkpoint { Checkpoint(self) }

    /// Rebuilds the lifecycle with `configuration` and the saved open alerts.
    ///
    /// - Throws: ``DetectionCheckpointError`` when more alerts are open, or more closed alerts remembered, than
    ///   ``Configuration/maxOpenAlerts``.
    public init(configuration: Configuration, restoring checkpoint: Checkpoint) throws {
        self.init(configuration: configuration)
        guard checkpoint.alerts.count <= configuration.maxOpenAlerts else {
            throw DetectionCheckpointError(
                "alert lifecycle: \(checkpoint.alerts.count) open alerts, maxOpenAlerts is \(configuration.maxOpenAlerts)"
            )
        }
        guard checkpoint.closed.count <= configuration.maxOpenAlerts else {
            throw DetectionCheckpointError(
                "alert lifecycle: \(checkpoint.closed.count) remembered closed alerts, maxOpenAlerts is "
                    + "\(configuration.maxOpenAlerts)")
        }
        for (slot, alert) in zip(checkpoint.slotKeys, checkpoint.alerts) { open[slot] = alert }
        closedEarly = checkpoint.closedEarly
        closed = RememberedAlerts(checkpoint.closed)
        incidents = Dictionary(uniqueKeysWithValues: zip(checkpoint.incidentIDs, checkpoint.incidents))
    }
}
