import SendWatchCore
import SendWatchTemplates
import Testing

@Suite struct TemplateMinerTests {
    @Test("Legitimate and scam tenant names in one template share an id and yield their slot values")
    func examplePair() throws {
        var miner = TemplateMiner()
        let a = miner.mine("Acme GmbH sent you a private message")
        let b = miner.mine("Your payment of $499 is pending. Call +1 (888) 555-0134 sent you a private message")
        #expect(a.id == b.id)
        #expect(b.text == "<*> sent you a private message")
        #expect(b.slots == ["Your payment of $499 is pending. Call +1 (888) 555-0134"])
        let c = miner.mine("Acme GmbH sent you a private message")
        #expect(c.id == a.id)
        #expect(c.slots == ["Acme GmbH"])
        #expect(miner._checkInvariants() == nil)
    }
}
