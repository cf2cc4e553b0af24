import SendWatchCore

extension AlertLifecycle {
    /// The open alerts by their (kind, key) slot, with an index of the account keys (``AccountKeys``) and lure
    /// artefacts each lists, so that incident linking visits only the alerts that may share one with a finding
    /// instead of every open alert.
    ///
    /// Linking scanned every open and remembered alert for every record written: with thousands of alerts open
    /// (a log where most accounts are new and many name a lure), that scan grew with the alerts and made the
    /// cost per young-account event grow with the length of the log (docs/performance.md, "Adversarial
    /// cardinality"). Every change of an alert goes through the subscript's setter, which updates the index from
    /// the difference of the old and new keys and artefacts, so the index cannot drift from the alerts.
    ///
    /// Memory: besides the alerts, one ``KeyMultimap`` pair (16 bytes, at most 8 cells each) per distinct listed
    /// account key and per artefact of each open alert: at most ``Configuration/maxOpenAlerts`` ×
    /// (`detect.max_alert_accounts` + ``AlertLifecycle/maxArtefacts``) pairs. Derived: never saved.
    struct OpenAlerts: Sendable, Sequence {
        private(set) var bySlot: [UInt64: OpenAlert] = [:]
        /// Each open alert's incident (``Alert/incident`` of its last record), so that linking can pass over the
        /// alerts of its own incident without copying them.
        private(set) var incidentBySlot: [UInt64: String] = [:]
        /// Account key → slot of an open alert listing it.
        private var accountIndex = KeyMultimap()
        /// Artefact → slot of an open alert naming it.
        private var artefactIndex = KeyMultimap()

        var count: Int { bySlot.count }
        var keys: Dictionary<UInt64, OpenAlert>.Keys { bySlot.keys }
        var values: Dictionary<UInt64, OpenAlert>.Values { bySlot.values }
        func makeIterator() -> Dictionary<UInt64, OpenAlert>.Iterator { bySlot.makeIterator() }

        /// The pairs the index holds (for tests): account keys, then artefacts.
        var indexedPairs: (accounts: Int, artefacts: Int) { (accountIndex.count, artefactIndex.count) }

        /// The open alert at `slot`; setting it (or `nil`) updates the index.
        ///
        /// - Complexity: O(1) expected when the alert's account keys and artefacts are unchanged (the arrays are
        ///   compared by identity first); otherwise O(old + new keys) plus O(artefacts²) with at most
        ///   ``AlertLifecycle/maxArtefacts`` artefacts.
        subscript(slot: UInt64) -> OpenAlert? {
            get { bySlot[slot] }
            set {
                let old = bySlot[slot]
                bySlot[slot] = newValue
                if newValue?.last.incident != old?.last.incident { incidentBySlot[slot] = newValue?.last.incident }
                Self.reindex(
                    &accountIndex, slot, from: old?.accountKeys.sorted ?? [], to: newValue?.accountKeys.sorted ?? [])
                Self.reindex(artefacts: &artefactIndex, slot, from: old?.artefacts ?? [], to: newValue?.artefacts ?? [])
            }
        }

        /// `body`'s result on the open alert at `slot`, where it is stored; `nil` when no alert is open there. For
        /// the fields the index and the incidents do not derive from (the held finding, the times, the last
        /// volume): `body` must leave ``OpenAlert/last`` and ``OpenAlert/artefacts`` as they were (debug builds
        /// check it). Reading an alert through the getter copies it (a retain and a release of its record's and
        /// held finding's storage), and writing it back through the setter compares its old and new keys.
        ///
        /// - Complexity: O(1) expected plus `body`.
        @inline(__always)
        mutating func inPlace<R>(_ slot: UInt64, _ body: (inout OpenAlert) -> R) -> R? {
            #if DEBUG
            let before = bySlot[slot].map { ($0.last, $0.artefacts) }
            defer {
                if let (last, artefacts) = before, let after = bySlot[slot] {
                    assert(
                        after.last.accounts == last.accounts && after.last.incident == last.incident
                            && after.last.id == last.id && after.artefacts == artefacts,
                        "OpenAlerts.inPlace changed an indexed field")
                }
            }
            #endif
            return bySlot[slot]?.apply(body)
        }

        /// The incident of the open alert at `slot`.
        func incident(of slot: UInt64) -> String? { incidentBySlot[slot] }

        /// The slots of the open alerts that may list one of `accounts` or name one of `artefacts`, in no fixed
        /// order and repeated when an alert holds several of them: a superset of the alerts that do (callers
        /// confirm each), usually exactly them.
        ///
        /// - Complexity: O(keys + artefacts) lookups, each O(1) expected plus the alerts holding that key.
        func slots(listing accounts: AccountKeys, naming artefacts: [UInt64] = []) -> [UInt64] {
            var found: [UInt64] = []
            for key in accounts.sorted { accountIndex.forEach(key) { found.append($0) } }
            for artefact in artefacts { artefactIndex.forEach(artefact) { found.append($0) } }
            return found
        }

        /// Replaces the pairs (`k`, `value`) for the account keys `k` in `old` with those for `k` in `new`; both
        /// are ascending without repeats (``AccountKeys/sorted``).
        ///
        /// - Complexity: O(old + new) when they differ, O(1) when they share storage.
        static func reindex(_ index: inout KeyMultimap, _ value: UInt64, from old: [UInt64], to new: [UInt64]) {
            guard old != new else { return }
            var i = 0
            var j = 0
            while i < old.count || j < new.count {
                if j == new.count || (i < old.count && old[i] < new[j]) {
                    index.remove(old[i], value)
                    i += 1
                } else if i == old.count || new[j] < old[i] {
                    index.insert(new[j], value)
                    j += 1
                } else {
                    i += 1
                    j += 1
                }
            }
        }

        /// Replaces the pairs (`a`, `value`) for the artefacts `a` in `old` with those for `a` in `new` (neither
        /// repeats one; an alert keeps at most ``AlertLifecycle/maxArtefacts``).
        ///
        /// - Complexity: O(old × new) when they differ.
        static func reindex(artefacts index: inout KeyMultimap, _ value: UInt64, from old: [UInt64], to new: [UInt64]) {
            guard old != new else { return }
            for a in old where !new.contains(a) { index.remove(a, value) }
            for a in new where !old.contains(a) { index.insert(a, value) }
        }
    }
}

extension AlertLifecycle.OpenAlert {
    /// `body(&self)`: mutating, so that the open-alert table calls it through the dictionary's in-place accessor.
    @inline(__always)
    fileprivate mutating func apply<R>(_ body: (inout Self) -> R) -> R { body(&self) }
}
