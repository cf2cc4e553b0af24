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
        /// The open alerts by slot key.
        var open: SortedColumns<UInt64, OpenAlert>
        var closedEarly: Int
        var closed: [ClosedAlert]
        /// The incidents by id.
        var incidents: SortedColumns<String, IncidentInfo>

        enum CodingKeys: String, CodingKey {
            case open, closedEarly, closed, incidents
        }

        init(_ l: AlertLifecycle) {
            open = SortedColumns(l.open)
            closedEarly = l.closedEarly
            closed = Array(l.closed)
            incidents = SortedColumns(l.incidents)
        }

        /// Decodes and checks the structure.
        ///
        /// - Throws: `DecodingError.dataCorrupted` when the slot keys and alerts (or incident ids and incidents)
        ///   differ in number, a slot key or incident id repeats, an open or remembered alert names an incident
        ///   that is not saved, or the early-close count is out of range; `DecodingError` from the alerts and
        ///   findings.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            open = try c.decode(SortedColumns.self, forKey: .open)
            closedEarly = try c.decode(Int.self, forKey: .closedEarly)
            closed = try c.decode([ClosedAlert].self, forKey: .closed)
            incidents = try c.decode(SortedColumns.self, forKey: .incidents)
            let known = Set(incidents.keys)
            try StateCheck.require(
                open.values.allSatisfy { known.contains($0.last.incident) }
                    && closed.allSatisfy { known.contains($0.incident) },
                "AlertLifecycle: an alert names an incident that is not saved", decoder)
            try StateCheck.require(
                incidents.values.allSatisfy { $0.merged.count <= Alert.maxMergedIncidents },
                "AlertLifecycle: an incident lists more than \(Alert.maxMergedIncidents) merged ids", decoder)
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
        guard checkpoint.open.values.count <= configuration.maxOpenAlerts else {
            throw DetectionCheckpointError(
                "alert lifecycle: \(checkpoint.open.values.count) open alerts, maxOpenAlerts is \(configuration.maxOpenAlerts)"
            )
        }
        guard checkpoint.closed.count <= configuration.maxOpenAlerts else {
            throw DetectionCheckpointError(
                "alert lifecycle: \(checkpoint.closed.count) remembered closed alerts, maxOpenAlerts is "
                    + "\(configuration.maxOpenAlerts)")
        }
        for (slot, alert) in zip(checkpoint.open.keys, checkpoint.open.values) { open[slot] = alert }
        closedEarly = checkpoint.closedEarly
        closed = RememberedAlerts(checkpoint.closed)
        incidents = checkpoint.incidents.dictionary
    }
}
