import SendWatchCore
import SendWatchWindows
import Testing

@testable import SendWatchDetect

/// What `recipient_fanin` keeps per recipient.
@Suite("recipient_fanin table")
struct RecipientFanInTableTests {
    @Test("recipient_fanin keeps no names in its table; the target is named from the event that fires, lower-cased")
    func fanInTargetNamedAtFiring() {
        var s = Scenario()
        s.warmUp(accounts: ["x"])
        for a in 0..<4 {
            let to = a == 0 ? "CEO@Target.Example" : "ceo@target.example"
            s.send("young-\(a)", to: to, subject: "Invoice \(a)", at: 4000 + Int64(a * 10))
        }
        s.finish()
        #expect(s.kinds() == ["recipient_fanin"])
        #expect(s.alerts.first?.evidence.first { $0.0 == "target" }?.1 == .string("recipient:ceo@target.example"))
        let rule = s.engine.rules.lazy.compactMap { $0 as? RecipientFanInRule }.first
        let entries = rule?.table.entries.entries { $0.key < $1.key } ?? []
        #expect(entries.count == 1)
        #expect(entries.allSatisfy { $0.name.isEmpty })
    }
}
