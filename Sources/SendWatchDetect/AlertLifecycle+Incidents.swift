import SendWatchCore

/// Incidents: which alerts are one campaign.
///
/// Alerts that list a common account or share a lure artefact are one incident. An alert links when it is
/// created, when it writes a later record with accounts, and when it gains an artefact; it links to every open
/// alert and every alert closed within ``Configuration/incidentMemorySeconds`` that lists one of its accounts or
/// has one of its artefacts. When the alerts it links to belong to two or more incidents, those become one:
///
/// - The **oldest** incident (the one created first in event time, then the smallest id) keeps its id: the
///   result depends only on which incidents merge, never on the order they are found in.
/// - Every open and remembered alert of the others is relabelled, so each later record of each of them
///   carries the kept id, with ``Alert/mergedIncidents`` naming the ids merged into it (at most
///   ``Alert/maxMergedIncidents``). Records already written keep their id: a consumer joins them through
///   `merged_incidents`.
///
/// Relabelling instead of parent pointers keeps every incident id that any alert carries a live one; a merge
/// costs O(open + remembered alerts), and there are fewer merges than created alerts (each removes an incident).
/// Everything here is event-time state saved in the checkpoint, so replay, tail and a restart agree.
///
/// Bounds: at most ``Configuration/maxOpenAlerts`` closed alerts are remembered (at the bound the one closed
/// first is forgotten early: a campaign slower than that many closes may split), each with the accounts its
/// close record lists (at most `detect.max_alert_accounts`) and at most ``maxArtefacts`` artefacts; the incident
/// table holds only incidents of open or remembered alerts, pruned as alerts close or are forgotten.
extension AlertLifecycle {
    /// A closed alert remembered for linking: its incident (relabelled by merges), the accounts of its close
    /// record and its artefacts.
    struct ClosedAlert: Sendable, Codable {
        var incident: String
        var accounts: [String]
        var artefacts: [UInt64]
        var closedAt: EventTime
    }

    /// One incident: when its first alert was created (which incident is older decides which id a merge
    /// keeps) and the ids merged into it, in merge order, at most ``Alert/maxMergedIncidents``.
    struct IncidentInfo: Sendable, Codable, Equatable {
        var created: EventTime
        var merged: [String]
    }

    /// The number of closed alerts remembered for linking incidents.
    public var rememberedClosedCount: Int { closed.count }

    /// Links the open alert at `slot` with `accounts` and `artefacts` to every incident they meet, merging
    /// them with its own; returns the alert's incident afterwards.
    ///
    /// A `fresh` alert (being created: its own id was never written as an incident) that meets incidents joins
    /// them instead, and its own id is not named as merged.
    ///
    /// - Complexity: O((open + remembered alerts) × (listed accounts + ``maxArtefacts`` × artefacts)), plus a
    ///   merge's relabelling.
    @discardableResult
    mutating func link(
        _ slot: UInt64, accounts: [String], artefacts: [UInt64], at now: EventTime, fresh: Bool = false
    ) -> String {
        // Safe to force unwrap: callers link only an open alert.
        let own = open[slot]!.last.incident
        guard !accounts.isEmpty || !artefacts.isEmpty else { return own }
        let wanted = Set(accounts)
        var linked: Set<String> = [own]
        for a in open.values where a.last.incident != own {
            if a.artefacts.contains(where: artefacts.contains) || a.last.accounts.contains(where: wanted.contains) {
                linked.insert(a.last.incident)
            }
        }
        let memory = configuration.incidentMemorySeconds * 1_000_000
        for c in closed where c.incident != own && now.microseconds - c.closedAt.microseconds <= memory {
            if c.artefacts.contains(where: artefacts.contains) || c.accounts.contains(where: wanted.contains) {
                linked.insert(c.incident)
            }
        }
        guard linked.count > 1 else { return own }
        guard fresh else { return merge(linked) }
        linked.remove(own)
        incidents[own] = nil
        // Safe to force unwrap: `linked` held another incident besides `own`.
        let joined = linked.count == 1 ? linked.first! : merge(linked)
        open[slot]?.last.incident = joined
        return joined
    }

    /// Merges `ids` into the oldest of them; returns its id.
    private mutating func merge(_ ids: Set<String>) -> String {
        func age(_ id: String) -> (EventTime, String) { (incidents[id]?.created ?? EventTime(microseconds: 0), id) }
        let ordered = ids.sorted { age($0) < age($1) }
        let kept = ordered[0]
        let absorbed = Set(ordered.dropFirst())
        var info = incidents[kept] ?? IncidentInfo(created: EventTime(microseconds: 0), merged: [])
        for id in ordered.dropFirst() {
            for name in [id] + (incidents[id]?.merged ?? []) where info.merged.count < Alert.maxMergedIncidents {
                if !info.merged.contains(name) { info.merged.append(name) }
            }
            incidents[id] = nil
        }
        incidents[kept] = info
        for k in Array(open.keys) where absorbed.contains(open[k]?.last.incident ?? "") {
            open[k]?.last.incident = kept
        }
        for i in closed.indices where absorbed.contains(closed[i].incident) { closed[i].incident = kept }
        return kept
    }

    /// Sets `record`'s merged ids from its incident.
    func stampIncident(_ record: inout Alert) {
        record.mergedIncidents = incidents[record.incident]?.merged ?? []
    }

    /// Remembers a closed alert for linking, forgetting the one closed first when the table is full.
    mutating func remember(_ record: Alert, artefacts: [UInt64]) {
        guard configuration.incidentMemorySeconds > 0 else { return }
        // Expired entries go first, so that which entry the bound drops does not depend on when the last
        // expiry ran.
        if closed.count >= configuration.maxOpenAlerts { _ = forgetClosed(before: record.eventTime) }
        if closed.count >= configuration.maxOpenAlerts { closed.removeFirst() }
        closed.append(
            ClosedAlert(
                incident: record.incident, accounts: record.accounts, artefacts: artefacts,
                closedAt: record.eventTime))
    }

    /// Forgets the closed alerts that closed longer than the memory ago; returns whether any was.
    mutating func forgetClosed(before now: EventTime) -> Bool {
        let memory = configuration.incidentMemorySeconds * 1_000_000
        let before = closed.count
        closed.removeAll { now.microseconds - $0.closedAt.microseconds > memory }
        return closed.count < before
    }

    /// Drops the incidents no open or remembered alert belongs to (they can never be linked to again).
    mutating func pruneIncidents() {
        var live = Set(open.values.lazy.map(\.last.incident))
        live.formUnion(closed.lazy.map(\.incident))
        guard live.count < incidents.count else { return }
        incidents = incidents.filter { live.contains($0.key) }
    }
}
