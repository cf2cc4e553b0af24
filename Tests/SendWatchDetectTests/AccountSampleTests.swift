import Foundation
import SendWatchTesting
import Testing

@testable import SendWatchDetect

@Suite("A young account's evidence samples in one buffer")
struct AccountSampleTests {
    @Test("Each list keeps its first distinct values in order, up to its cap; a further one sets its group's flag")
    func listsKeepFirstDistinctValues() {
        var sample = AccountSample()
        for i in 0..<7 { sample.addMessageID("<message-\(i % 6)@example.test>") }
        sample.addMessageID(nil)
        #expect(sample.values(.messageIDs) == (0..<5).map { "<message-\($0)@example.test>" })
        #expect(!sample.submittersOverflowed && !sample.deliveriesOverflowed)

        for i in 0..<4 {
            sample.addSubmitter(login: "login-\(i)", clientIP: "192.0.2.\(i % 2)", claimedAccount: nil)
            sample.addDelivery(recipient: "victim-\(i)@provider-\(i % 3).test", queueID: i == 0 ? "" : "Q\(i)")
        }
        #expect(sample.values(.logins) == ["login-0", "login-1", "login-2", "login-3"])
        #expect(sample.values(.clientIPs) == ["192.0.2.0", "192.0.2.1"])
        #expect(sample.values(.claimedAccounts) == [])
        #expect(sample.values(.recipients) == (0..<4).map { "victim-\($0)@provider-\($0 % 3).test" })
        #expect(sample.values(.recipientDomains) == ["provider-0.test", "provider-1.test", "provider-2.test"])
        #expect(sample.values(.queueIDs) == ["Q1", "Q2", "Q3"])
        #expect(!sample.submittersOverflowed && !sample.deliveriesOverflowed)

        // A repeat of a held value changes nothing; a fifth distinct login sets only the submitters' flag.
        sample.addSubmitter(login: "login-2", clientIP: nil, claimedAccount: nil)
        #expect(!sample.submittersOverflowed)
        sample.addSubmitter(login: "login-4", clientIP: nil, claimedAccount: nil)
        #expect(sample.submittersOverflowed && !sample.deliveriesOverflowed)
        #expect(sample.values(.logins).count == 4)
        sample.addDelivery(recipient: "no-domain", queueID: nil)
        #expect(sample.deliveriesOverflowed)
        #expect(sample.approximateHeapBytes == 5 * 48 + (4 + 2 + 4 + 3 + 3) * 32)
    }

    @Test("Values equal as strings are one value, byte-different or not, long or short")
    func stringEquality() {
        var sample = AccountSample()
        let long = String(repeating: "x", count: 300) + "@example.test"
        sample.addSubmitter(login: "caf\u{E9}", clientIP: nil, claimedAccount: long)
        // The decomposed accent is the same string; the long value's length needs two length bytes.
        sample.addSubmitter(login: "cafe\u{301}", clientIP: nil, claimedAccount: long)
        sample.addSubmitter(login: "cafe", clientIP: nil, claimedAccount: nil)
        #expect(sample.values(.logins) == ["caf\u{E9}", "cafe"])
        #expect(sample.values(.claimedAccounts) == [long])
    }

    @Test("The buffer grows to what its values need, not by doubling")
    func bufferHoldsItsValues() {
        var sample = AccountSample()
        for i in 0..<4 {
            sample.addDelivery(recipient: "a-rather-long-recipient-\(i)@mail.example.test", queueID: "4Q\(i)XYZ")
            sample.addMessageID("<20261205.\(i).abcdef@mail.example.test>")
        }
        // malloc rounds to 16 bytes; doubling would leave up to half of the buffer free.
        #expect(sample.bytes.capacity - sample.bytes.count < 16)
    }

    @Test("Values found in the buffer are held as copies, read back whole and still compare equal")
    func copiesOfEarlierBytes() {
        var sample = AccountSample()
        for i in 0..<4 {
            let queueID = "4QX\(i)Z9Y8W7"
            let messageID = "\(queueID).8363db6f1e63bf5\(i)@riverblue48832.shop"
            sample.addMessageID(messageID)
            sample.addSubmitter(login: "acct48832", clientIP: "198.51.100.\(i)", claimedAccount: nil)
            sample.addDelivery(recipient: "victim.\(i)@provider-\(i % 2).example", queueID: queueID)
        }
        #expect(sample.values(.messageIDs) == (0..<4).map { "4QX\($0)Z9Y8W7.8363db6f1e63bf5\($0)@riverblue48832.shop" })
        #expect(sample.values(.recipients) == (0..<4).map { "victim.\($0)@provider-\($0 % 2).example" })
        #expect(sample.values(.recipientDomains) == ["provider-0.example", "provider-1.example"])
        #expect(sample.values(.queueIDs) == (0..<4).map { "4QX\($0)Z9Y8W7" })
        // Domains, queue ids and the message ids' and recipients' parts after the `@` are copies: the buffer is
        // well under the values' bytes with a tag and a length byte each.
        let literalBytes = AccountSample.List.allCases.reduce(0) { sum, list in
            sum + sample.values(list).reduce(0) { $0 + 2 + $1.utf8.count }
        }
        #expect(sample.bytes.count * 4 < literalBytes * 3, "\(sample.bytes.count) of \(literalBytes)")
        // A value held as a copy is found again: nothing is added, no list overflows.
        let before = sample.bytes
        sample.addMessageID("4QX2Z9Y8W7.8363db6f1e63bf52@riverblue48832.shop")
        sample.addDelivery(recipient: "victim.3@provider-1.example", queueID: "4QX1Z9Y8W7")
        #expect(sample.bytes == before)
        #expect(!sample.deliveriesOverflowed)
        // A value that is only a prefix or a longer variant of a copy is a new value.
        sample.addDelivery(recipient: "victim.3@provider-1.exampl", queueID: nil)
        #expect(sample.deliveriesOverflowed)
        // Non-ASCII values are copied byte for byte and still compare as strings.
        var other = AccountSample()
        other.addDelivery(recipient: "jos\u{E9}@caf\u{E9}.example", queueID: nil)
        other.addSubmitter(login: "x", clientIP: nil, claimedAccount: "caf\u{E9}.example")
        other.addSubmitter(login: nil, clientIP: nil, claimedAccount: "cafe\u{301}.example")
        #expect(other.values(.recipientDomains) == ["caf\u{E9}.example"])
        #expect(other.values(.claimedAccounts) == ["caf\u{E9}.example"])
    }

    @Test("A full list whose group overflowed takes nothing more; a full list of another group still sets its flag")
    func saturatedListsStayAsTheyAre() {
        // Five deliveries and message ids each: every list of deliveries overflows, the message ids fill up.
        var sample = AccountSample()
        (0..<5).forEach { sample.addDelivery(recipient: "r\($0)@d\($0).test", queueID: "Q\($0)") }
        (0..<5).forEach { sample.addMessageID("<m\($0)@x.test>") }
        #expect(sample.deliveriesOverflowed && !sample.submittersOverflowed)
        let before = sample.bytes
        for i in 0..<8 {
            sample.addDelivery(recipient: "late\(i)@d\(i % 6).test", queueID: "Q\(i)")
            sample.addMessageID("<late\(i)@x.test>")
        }
        #expect(sample.bytes == before)
        #expect(sample.values(.recipients) == (0..<4).map { "r\($0)@d\($0).test" })
        #expect(sample.values(.messageIDs) == (0..<5).map { "<m\($0)@x.test>" })
        // The submitters' flag is apart from the deliveries': a fifth login still sets it.
        for i in 0..<4 { sample.addSubmitter(login: "l\(i)", clientIP: nil, claimedAccount: nil) }
        #expect(!sample.submittersOverflowed)
        sample.addSubmitter(login: "l3", clientIP: nil, claimedAccount: nil)
        #expect(!sample.submittersOverflowed)
        sample.addSubmitter(login: "l4", clientIP: nil, claimedAccount: nil)
        #expect(sample.submittersOverflowed)
    }

    @Test("Saved and restored, the lists and flags are equal; a saved list longer than its cap is refused")
    func roundTrip() throws {
        var sample = AccountSample()
        sample.addDelivery(recipient: "r@d.test", queueID: "Q1")
        sample.addSubmitter(login: "l", clientIP: "198.51.100.1", claimedAccount: "c")
        sample.addMessageID("m")
        for i in 0..<5 { sample.addSubmitter(login: "l\(i)", clientIP: nil, claimedAccount: nil) }
        let saved = try JSONEncoder().encode(sample)
        let restored = try JSONDecoder().decode(AccountSample.self, from: saved)
        #expect(restored == sample)
        #expect(restored.submittersOverflowed && !restored.deliveriesOverflowed)
        for list in AccountSample.List.allCases { #expect(restored.values(list) == sample.values(list)) }

        var json = try #require(try JSONSerialization.jsonObject(with: saved) as? [String: Any])
        json["queueIDs"] = ["1", "2", "3", "4", "5"]
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(AccountSample.self, from: try JSONSerialization.data(withJSONObject: json))
        }
        json["queueIDs"] = ["1", "1"]
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(AccountSample.self, from: try JSONSerialization.data(withJSONObject: json))
        }
    }

    @Test("A delivery's recipient and domain, read from the recipient's bytes, are the values a substring gave")
    func deliveryAsSubstrings() {
        // Before issue 17's cut, `addDelivery` searched the recipient's last `@` through `String.UTF8View` and
        // added the domain as a `Substring`; the same values must land in the same records.
        func reference(_ sample: inout AccountSample, recipient: String, queueID: String?) {
            if !recipient.isEmpty {
                sample.add(recipient, to: .recipients)
                if let at = recipient.utf8.lastIndex(of: UInt8(ascii: "@")) {
                    let domain = recipient[recipient.utf8.index(after: at)...]
                    if !domain.isEmpty { sample.add(domain, to: .recipientDomains) }
                }
            }
            if let queueID, !queueID.isEmpty { sample.add(queueID, to: .queueIDs) }
        }
        let locals = ["a", "jos\u{E9}", "jose\u{301}", "x@y", "", "victim.1"]
        let domains = ["caf\u{E9}.example", "cafe\u{301}.example", "d.test", "", "mail.example.test", "@"]
        var random = SplitMix64(seed: 17)
        for _ in 0..<2_000 {
            var sample = AccountSample()
            var expected = AccountSample()
            for _ in 0..<random.below(12) {
                let recipient =
                    random.below(8) == 0 ? random.pick(locals) : random.pick(locals) + "@" + random.pick(domains)
                let queueID: String? = random.below(4) == 0 ? nil : "Q\(random.below(6))"
                sample.addDelivery(recipient: recipient, queueID: queueID)
                reference(&expected, recipient: recipient, queueID: queueID)
            }
            #expect(sample == expected)
            #expect(sample.bytes == expected.bytes)
        }
    }
}
