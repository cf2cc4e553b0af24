extension AlertLifecycle {
    /// The closed alerts remembered for linking incidents, in the order they closed, with an index of the
    /// account keys and artefacts each lists (as ``OpenAlerts`` for the open ones).
    ///
    /// Forgetting the alert closed first is O(1) amortised: the alerts forgotten at the front are dropped in one
    /// move once they are half of the storage (an `Array.removeFirst` per close moved all 10,000 remembered
    /// alerts each time once the table was full).
    ///
    /// Memory: the alerts (at most ``Configuration/maxOpenAlerts``, plus as many forgotten ones not yet
    /// dropped), a serial each (8 bytes), and one ``KeyMultimap`` pair (16 bytes, at most 8 cells each) per
    /// account key and artefact of each remembered alert. Derived: only the alerts are saved.
    struct RememberedAlerts: Sendable, Sequence {
        /// The alerts; those before ``head`` are forgotten.
        private var alerts: [ClosedAlert] = []
        /// `serials[i]` identifies `alerts[i]` in the index; ascending.
        private var serials: [UInt64] = []
        private var head = 0
        private var nextSerial: UInt64 = 0
        /// Account key → serial of a remembered alert listing it.
        private var accountIndex = KeyMultimap()
        /// Artefact → serial of a remembered alert naming it.
        private var artefactIndex = KeyMultimap()

        init() {}

        /// The alerts of `list`, closed first first.
        init(_ list: [ClosedAlert]) {
            for alert in list { append(alert) }
        }

        var count: Int { alerts.count - head }
        var isEmpty: Bool { count == 0 }
        func makeIterator() -> ArraySlice<ClosedAlert>.Iterator { alerts[head...].makeIterator() }

        /// The pairs the index holds (for tests): account keys, then artefacts.
        var indexedPairs: (accounts: Int, artefacts: Int) { (accountIndex.count, artefactIndex.count) }

        /// Remembers `alert` as the one closed last.
        mutating func append(_ alert: ClosedAlert) {
            let serial = nextSerial
            nextSerial &+= 1
            alerts.append(alert)
            serials.append(serial)
            OpenAlerts.reindex(&accountIndex, serial, from: [], to: alert.accountKeys.sorted)
            OpenAlerts.reindex(artefacts: &artefactIndex, serial, from: [], to: alert.artefacts)
        }

        /// Forgets the alert closed first.
        ///
        /// - Precondition: not empty.
        mutating func removeFirst() {
            precondition(head < alerts.count, "no remembered alert to forget")
            unindex(head)
            head += 1
            if head >= 64 && head * 2 >= alerts.count { compact() }
        }

        /// Forgets the alerts for which `forget` is true; returns whether any was.
        ///
        /// - Complexity: O(remembered alerts).
        mutating func removeAll(where forget: (ClosedAlert) -> Bool) -> Bool {
            compact()
            var w = 0
            for r in alerts.indices {
                if forget(alerts[r]) {
                    unindex(r)
                    continue
                }
                if w != r {
                    alerts.swapAt(w, r)
                    serials[w] = serials[r]
                }
                w += 1
            }
            let removed = w < alerts.count
            alerts.removeLast(alerts.count - w)
            serials.removeLast(serials.count - w)
            return removed
        }

        /// Relabels the alerts of the incidents for which `absorbed` is true as `kept`.
        ///
        /// - Complexity: O(remembered alerts).
        mutating func relabel(where absorbed: (String) -> Bool, as kept: String) {
            for i in head..<alerts.count where absorbed(alerts[i].incident) { alerts[i].incident = kept }
        }

        /// Calls `body` with each remembered alert that may list one of `accounts` or name one of `artefacts`, in
        /// no fixed order and again for each further one it holds: a superset of the alerts that do (callers
        /// confirm each), usually exactly them.
        ///
        /// - Complexity: O(keys + artefacts) lookups, each O(1) expected plus the alerts holding that key, and
        ///   O(1) per alert found while no alert was forgotten out of order (else O(log remembered alerts)).
        func forEachCandidate(
            listing accounts: AccountKeys, naming artefacts: [UInt64] = [], _ body: (ClosedAlert) -> Void
        ) {
            let visit = { (serial: UInt64) in
                if let i = position(of: serial) { body(alerts[i]) }
            }
            for key in accounts.sorted { accountIndex.forEach(key, visit) }
            for artefact in artefacts { artefactIndex.forEach(artefact, visit) }
        }

        /// The position of the alert with `serial` among the remembered ones, or `nil`.
        private func position(of serial: UInt64) -> Int? {
            guard head < alerts.count else { return nil }
            // Serials are consecutive unless alerts were forgotten out of order (an expiry).
            let guess = serial &- serials[head]
            if guess < UInt64(alerts.count - head), serials[head + Int(guess)] == serial { return head + Int(guess) }
            var low = head
            var high = alerts.count
            while low < high {
                let mid = (low + high) / 2
                if serials[mid] < serial { low = mid + 1 } else { high = mid }
            }
            return low < alerts.count && serials[low] == serial ? low : nil
        }

        private mutating func unindex(_ i: Int) {
            OpenAlerts.reindex(&accountIndex, serials[i], from: alerts[i].accountKeys.sorted, to: [])
            OpenAlerts.reindex(artefacts: &artefactIndex, serials[i], from: alerts[i].artefacts, to: [])
        }

        /// Drops the forgotten alerts before ``head``.
        private mutating func compact() {
            guard head > 0 else { return }
            alerts.removeFirst(head)
            serials.removeFirst(head)
            head = 0
        }
    }
}
