import Testing

@testable import SendWatchCore

@Suite("Account keys")
struct AccountKeyTests {
    @Test("A login or address with a domain is folded to ASCII lowercase")
    func addressesFold() {
        #expect("Blaster@Example.ORG".accountKey == "blaster@example.org")
        #expect("blaster@example.org".accountKey == "blaster@example.org")
        // Letters outside ASCII are kept as written.
        #expect("Ärger@Example.org".accountKey == "Ärger@example.org")
    }

    @Test("An opaque account id without @ keeps its case: ids may differ only in case")
    func opaqueIdsKeepCase() {
        #expect("tn_AbC123".accountKey == "tn_AbC123")
        #expect("tn_abc123".accountKey == "tn_abc123")
        #expect("tn_AbC123".accountKey != "tn_abc123".accountKey)
    }
}
