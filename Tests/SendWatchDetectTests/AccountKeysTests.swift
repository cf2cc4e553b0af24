import Testing

@testable import SendWatchDetect

@Suite struct AccountKeysTests {
    @Test("Account keys meet exactly when the lists share an account, whichever list is longer")
    func meets() {
        let many = AccountKeys((0..<1000).map { "acct-\($0)" })
        #expect(many.sorted.count == 1000)
        #expect(many.sorted == many.sorted.sorted())
        #expect(many.meets(AccountKeys(["nobody", "acct-999"])))
        #expect(AccountKeys(["acct-0"]).meets(many))
        #expect(!many.meets(AccountKeys(["nobody", "acct-1000", "ACCT-1"])))
        #expect(!many.meets(AccountKeys([])))
        #expect(!AccountKeys([]).meets(AccountKeys([])))
        // Repeats count once.
        #expect(AccountKeys(["a", "b", "a", "a"]).sorted.count == 2)
    }
}
