import SendWatchCore

/// Incidents: which alerts are one campaign.
///
/// Alerts that list a common account or share a lure artefact are one incident. An alert links when it is
/// created, when it writes a later record with accounts, and when it gains an artefact; it links to every open
/// alert and every alert closed within ``Configuration/incidentMemorySeconds`` that lists one of its accounts or
/// has one of its artefacts. When the alerts it links to belong to two or more incidents, those become one:
///
/// - **Aggregate alerts** are the exception: an alert with no template and no lure artefact that lists more
///   than one account (`concentrated_strangers` over all templates, `recipient_fanin`). Its accounts share only
///   what the rule counted (mailing strangers, one recipient), not a campaign, so it may list accounts of two
///   attackers; linking through it would make them one incident. So an aggregate alert links by account to at
///   most one incident, once: while it is alone in its own incident (its id, nothing merged), it joins the
///   incident whose other alerts (not aggregate, open or remembered) list most of its accounts, the oldest on
///   a tie; then it stays there. No alert links to an aggregate alert by account (a campaign's alert created
///   after it pulls it in instead, by the same rule), and a closed aggregate alert is remembered without
///   accounts. So an aggregate alert never merges two incidents by account.
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
        let accounts: [String]
        var artefacts: [UInt64]
        var closedAt: EventTime
        /// The keys of ``accounts``, for linking (derived: not saved).
        let accountKeys: AccountKeys

        enum CodingKeys: String, CodingKey {
            case incident, accounts, artefacts, closedAt
        }

        init(incident: String, accounts: [String], artefacts: [UInt64], closedAt: EventTime) {
            self.incident = incident
            self.accounts = accounts
            self.artefacts = artefacts
            self.closedAt = closedAt
            accountKeys = AccountKeys(accounts)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                incident: try c.decode(String.self, forKey: .incident),
                accounts: try c.decode([String].self, forKey: .accounts),
                artefacts: try c.decode([UInt64].self, forKey: .artefacts),
                closedAt: try c.decode(EventTime.self, forKey: .closedAt))
        }
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
    /// them instead, and its own id is not named as merged. An aggregate alert (``isAggregate(_:)``) links only
    /// as ``attach(_:accounts:at:fresh:unwritten:)`` says; any other alert also pulls in the aggregate alerts still alone that list one of
    /// its accounts.
    ///
    /// - Complexity: O(listed accounts + artefacts) index lookups (``OpenAlerts``, ``RememberedAlerts``), plus
    ///   for each alert found O(its listed accounts + ``maxArtefacts`` × artefacts), plus a merge's relabelling
    ///   (O(open + remembered alerts)), and for each aggregate alert pulled in ``isAlone(_:)`` and the same again.
    @discardableResult
    mutating func link(
        _ slot: UInt64, accounts: [String], artefacts: [UInt64], at now: EventTime, fresh: Bool = false
    ) -> String {
        // Safe to force unwrap: callers link only an open alert.
        let own = open[slot]!.last.incident
        guard !accounts.isEmpty || !artefacts.isEmpty else { return own }
        // Safe to force unwrap: as above.
        if isAggregate(open[slot]!, listing: accounts) {
            return attach(slot, accounts: accounts, at: now, fresh: fresh)
        }
        let wanted = Set(accounts)
        // The index names the only alerts that may list one of these accounts or name one of these artefacts;
        // each is confirmed as the scan of every alert confirmed it (a key hit by comparing the names).
        let wantedKeys = AccountKeys(accounts)
        let candidates = open.slots(listing: wantedKeys, naming: artefacts)
        var linked: Set<String> = [own]
        // An alert of an incident already linked (its own, or one found before) cannot change the outcome: it is
        // passed over before it is copied (thousands of alerts of one incident may share an artefact).
        for k in candidates {
            guard let incident = open.incident(of: k), !linked.contains(incident) else { continue }
            // Safe to force unwrap: the index holds only the slots of open alerts.
            let a = open[k]!
            if a.artefacts.contains(where: artefacts.contains)
                || (!isAggregate(a) && a.accountKeys.meets(wantedKeys)
                    && a.last.accounts.contains(where: wanted.contains))
            {
                linked.insert(a.last.incident)
            }
        }
        let memory = configuration.incidentMemorySeconds * 1_000_000
        closed.forEachCandidate(listing: wantedKeys, naming: artefacts) { c in
            guard !linked.contains(c.incident) && now.microseconds - c.closedAt.microseconds <= memory else { return }
            if c.artefacts.contains(where: artefacts.contains)
                || (c.accountKeys.meets(wantedKeys) && c.accounts.contains(where: wanted.contains))
            {
                linked.insert(c.incident)
            }
        }
        if linked.count > 1 {
            if fresh {
                linked.remove(own)
                incidents[own] = nil
                // Safe to force unwrap: `linked` held another incident besides `own`.
                let joined = linked.count == 1 ? linked.first! : merge(linked)
                open[slot]?.last.incident = joined
            } else {
                merge(linked)
            }
        }
        // Aggregate alerts still alone that list one of these accounts join the incident holding most of theirs
        // (which may now be this one); in a fixed order, so that the ids kept do not depend on the table's.
        var lone: [(UInt64, Alert)] = []
        for k in candidates where k != slot && !lone.contains(where: { $0.0 == k }) {
            // Safe to force unwrap: linking relabels alerts, it never removes one.
            let a = open[k]!
            if isAggregate(a) && a.accountKeys.meets(wantedKeys) && a.last.accounts.contains(where: wanted.contains)
                && isAlone(a)
            {
                lone.append((k, a.last))
            }
        }
        lone.sort { ($0.1.firstEventTime, $0.1.id) < ($1.1.firstEventTime, $1.1.id) }
        // A fresh alert's own id, never written, is not named as merged when an aggregate alert's incident
        // takes it in.
        let unwritten = fresh && open[slot]?.last.incident == own ? own : nil
        for (k, last) in lone { attach(k, accounts: last.accounts, at: now, unwritten: unwritten) }
        // Safe to force unwrap: linking relabels alerts, it never removes one.
        return open[slot]!.last.incident
    }

    /// Whether `alert` is an aggregate alert: no template, no lure artefact and more than one account (its own
    /// record's, or `accounts` it is about to list). Its accounts have in common only what its rule counted.
    func isAggregate(_ alert: OpenAlert, listing accounts: [String] = []) -> Bool {
        Alert.isAggregate(
            hasTemplate: alert.last.template != nil, hasArtefact: !alert.artefacts.isEmpty,
            accounts: max(alert.last.accountsTotal, accounts.count))
    }

    /// Whether `alert` is still alone in an incident of its own: its incident is its id, nothing was merged
    /// into it and no other open or remembered alert carries it. An aggregate alert alone has not linked by
    /// account yet.
    ///
    /// - Complexity: O(open + remembered alerts).
    private func isAlone(_ alert: OpenAlert) -> Bool {
        let id = alert.last.id
        guard alert.last.incident == id, (incidents[id]?.merged ?? []).isEmpty else { return false }
        var carriers = 0
        for a in open.values where a.last.incident == id { carriers += 1 }
        return carriers == 1 && !closed.contains { $0.incident == id }
    }

    /// Links the aggregate alert at `slot` by `accounts`: while it is alone (``isAlone(_:)``), it joins the
    /// incident whose other alerts (not aggregate, open or remembered) list most of `accounts`, the oldest
    /// incident on a tie; once it has joined one, it stays. A `fresh` alert joins it as in
    /// ``link(_:accounts:artefacts:at:fresh:)``; `unwritten` is an incident id no record carries yet, which a
    /// merge does not name.
    /// Returns the alert's incident afterwards.
    ///
    /// - Complexity: O(``isAlone(_:)``), plus O(listed accounts) index lookups and for each alert found
    ///   O(its listed accounts), plus a merge's relabelling.
    @discardableResult
    private mutating func attach(
        _ slot: UInt64, accounts: [String], at now: EventTime, fresh: Bool = false, unwritten: String? = nil
    ) -> String {
        // Safe to force unwrap: callers attach only an open alert.
        let alert = open[slot]!
        let own = alert.last.incident
        guard isAlone(alert) else { return own }
        let wanted = Set(accounts)
        let wantedKeys = AccountKeys(accounts)
        var holders: [String: Set<String>] = [:]
        for k in open.slots(listing: wantedKeys) where open.incident(of: k) != own {
            // Safe to force unwrap: the index holds only the slots of open alerts.
            let a = open[k]!
            guard !isAggregate(a) && a.accountKeys.meets(wantedKeys) else { continue }
            for account in a.last.accounts where wanted.contains(account) {
                holders[a.last.incident, default: []].insert(account)
            }
        }
        let memory = configuration.incidentMemorySeconds * 1_000_000
        closed.forEachCandidate(listing: wantedKeys) { c in
            guard
                c.incident != own && now.microseconds - c.closedAt.microseconds <= memory
                    && c.accountKeys.meets(wantedKeys)
            else { return }
            for account in c.accounts where wanted.contains(account) {
                holders[c.incident, default: []].insert(account)
            }
        }
        func rank(_ id: String) -> (Int, EventTime, String) {
            // Safe to force unwrap: ranked ids are keys of `holders`.
            (-holders[id]!.count, incidents[id]?.created ?? EventTime(microseconds: 0), id)
        }
        guard let best = holders.keys.min(by: { rank($0) < rank($1) }) else { return own }
        guard fresh else { return merge([own, best], unwritten: unwritten) }
        incidents[own] = nil
        open[slot]?.last.incident = best
        return best
    }

    /// Merges `ids` into the oldest of them; returns its id. `unwritten`, an id no record carries yet, is not
    /// named as merged.
    @discardableResult
    private mutating func merge(_ ids: Set<String>, unwritten: String? = nil) -> String {
        func age(_ id: String) -> (EventTime, String) { (incidents[id]?.created ?? EventTime(microseconds: 0), id) }
        let ordered = ids.sorted { age($0) < age($1) }
        let kept = ordered[0]
        // Usually one or two ids, compared without hashing each alert's incident; a set when there are more.
        let absorbedIDs = Array(ordered.dropFirst())
        let absorbedSet = Set(absorbedIDs)
        let isAbsorbed: (String) -> Bool =
            absorbedIDs.count <= 4 ? { absorbedIDs.contains($0) } : { absorbedSet.contains($0) }
        var info = incidents[kept] ?? IncidentInfo(created: EventTime(microseconds: 0), merged: [])
        for id in ordered.dropFirst() {
            for name in [id] + (incidents[id]?.merged ?? [])
            where name != unwritten && info.merged.count < Alert.maxMergedIncidents {
                if !info.merged.contains(name) { info.merged.append(name) }
            }
            incidents[id] = nil
        }
        incidents[kept] = info
        // The slots first, from the incidents alone: the alerts of other incidents are not copied.
        let relabelled = open.incidentBySlot.compactMap { isAbsorbed($0.value) ? $0.key : nil }
        for k in relabelled { open[k]?.last.incident = kept }
        closed.relabel(where: isAbsorbed, as: kept)
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
        // An aggregate alert's accounts link nothing (see the type's discussion).
        let aggregate = Alert.isAggregate(
            hasTemplate: record.template != nil, hasArtefact: !artefacts.isEmpty, accounts: record.accountsTotal)
        closed.append(
            ClosedAlert(
                incident: record.incident, accounts: aggregate ? [] : record.accounts, artefacts: artefacts,
                closedAt: record.eventTime))
    }

    /// Forgets the closed alerts that closed longer than the memory ago; returns whether any was.
    mutating func forgetClosed(before now: EventTime) -> Bool {
        let memory = configuration.incidentMemorySeconds * 1_000_000
        return closed.removeAll { now.microseconds - $0.closedAt.microseconds > memory }
    }

    /// Drops the incidents no open or remembered alert belongs to (they can never be linked to again).
    mutating func pruneIncidents() {
        var live = Set(open.values.lazy.map(\.last.incident))
        live.formUnion(closed.lazy.map(\.incident))
        guard live.count < incidents.count else { return }
        incidents = incidents.filter { live.contains($0.key) }
    }
}
