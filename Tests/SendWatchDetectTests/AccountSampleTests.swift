import Foundation
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
}
