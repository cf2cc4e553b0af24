import SendWatchCore
import Testing

@testable import SendWatchDetect

/// `take` and `wants` decide on an open alert where the open-alert table stores it (``AlertLifecycle/OpenAlerts``
/// `inPlace`) when the finding writes no record and brings no new artefact; these check that such a finding
/// still replaces the held one, keeps the alert open and leaves the index alone, and that a finding with a new
/// artefact still takes the path that indexes it.
@Suite struct AlertLifecycleInPlaceTests {
    @Test("A finding that writes nothing replaces the held one in place; a new artefact is still indexed")
    func heldInPlace() {
        var l = AlertLifecycle()
        let slot = AlertLifecycle.slotKey(TemplateSwarmRule.name, "t")
        #expect(l.take(finding("t", accounts: 10, volume: 80), at: at(100)).map(\.action) == [.create])
        let pairs = l.open.indexedPairs
        // More accounts, too little and too soon for an update: held.
        #expect(l.take(finding("t", accounts: 11, volume: 90), at: at(160)).isEmpty)
        #expect(l.open[slot]?.pending?.accountsTotal == 11)
        #expect(l.open[slot]?.pendingAt == at(160))
        #expect(l.open[slot]?.lastFinding == at(160))
        #expect(l.open.indexedPairs == pairs)
        // Nothing beyond the last record: the held finding stays, the alert counts as seen.
        #expect(l.take(finding("t", accounts: 10, volume: 80), at: at(170)).isEmpty)
        #expect(l.open[slot]?.pending?.accountsTotal == 11)
        #expect(l.open[slot]?.pendingAt == at(160))
        #expect(l.open[slot]?.lastFinding == at(170))
        // A new artefact: no record, but the alert keeps and indexes it.
        var withPhone = finding("t", accounts: 12, volume: 95)
        let phone = StableHash.of("phone:5550100")
        withPhone.artefacts = [phone]
        #expect(l.take(withPhone, at: at(180)).isEmpty)
        #expect(l.open[slot]?.artefacts == [phone])
        #expect(l.open.slots(listing: AccountKeys([]), naming: [phone]) == [slot])
        #expect(l.open[slot]?.pending?.accountsTotal == 12)
        // `wants`: the held figures again are not wanted (the alert is seen at 190), one more account is.
        let unwanted = l.wants(
            kind: TemplateSwarmRule.name, key: "t", severity: .medium, accountsTotal: 12, volume: 95, at: at(190))
        #expect(!unwanted)
        #expect(l.open[slot]?.lastFinding == at(190))
        let wanted = l.wants(
            kind: TemplateSwarmRule.name, key: "t", severity: .medium, accountsTotal: 13, volume: 95, at: at(195))
        #expect(wanted)
        #expect(l.open[slot]?.lastFinding == at(190))
        let noAlert = l.wants(
            kind: TemplateSwarmRule.name, key: "u", severity: .medium, accountsTotal: 1, volume: 1, at: at(195))
        #expect(noAlert)
        // No alert at a slot: nothing runs, nothing is added.
        let ran = l.open.inPlace(slot &+ 1) { _ in 1 }
        #expect(ran == nil)
        #expect(l.openCount == 1)
        // The held finding is what the interval's update reports.
        let held = l.emitHeld(at: at(100 + 600))
        #expect(held.map(\.action) == [.update])
        #expect(held.first?.accountsTotal == 12)
    }
}
