import Foundation
import SendWatchCore
import SendWatchDetect
import Testing

@Suite("Hostile text in alerts")
struct HostileAlertTests {
    @Test("Scam text crafted to look like JSON or log structure stays data in the alert, byte for byte")
    func hostileSlotValues() throws {
        var engine = DetectionEngine()
        var alerts: [Alert] = []
        let start: Int64 = 1_795_000_000
        var n = 0
        func send(_ t: Int64, _ account: String, _ subject: String) {
            n += 1
            let e = SendEvent(
                time: EventTime(seconds: t), account: account, accountSource: .header,
                sender: "no-reply@notify.example", recipient: "u\(n)@d\(n % 7).example", subject: subject, status: .sent
            )
            engine.process(e, into: &alerts)
        }
        // Established traffic teaches the template during the warm-up.
        for i in 0..<200 { send(start + Int64(i) * 20, "est-\(i % 30)", "Invoice from Shop\(i % 9) is ready") }
        let hostile = [
            "\"}],\"kind\":\"none\",\"x\":[{\" pay at hxxps://evil.example/a call +1 888 555 0134",
            "Pay $499 now\u{0}\u{1B}[31m; from=<root> to=<x@y> call +1 888 555 0199 hxxps://e.example",
            "\\\"\\u0000 \u{7F} é😀 urgent: verify at hxxps://verify.example/\u{2028} or call +1 888 555 0100",
        ]
        for k in 0..<12 {
            for j in 0..<3 {
                send(start + 7200 + Int64(k * 60 + j * 10), "tenant-\(k)", "Invoice from \(hostile[k % 3]) is ready")
            }
        }
        let slot = alerts.filter { $0.kind == "slot_content" }
        try #require(!slot.isEmpty)
        for alert in alerts {
            var w = JSONWriter()
            alert.writeJSONLine(to: &w)
            #expect(w.bytes.last == 0x0A)
            #expect(w.bytes.dropLast().allSatisfy { $0 >= 0x20 }, "one line, no raw control characters")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
            #expect(object["kind"] as? String == alert.kind)
            #expect(object["id"] as? String == alert.id)
        }
        // The slot values come back exactly as sent.
        var w = JSONWriter()
        try #require(slot.last).writeJSONLine(to: &w)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        let evidence = try #require(object["evidence"] as? [String: Any])
        let values = (evidence["top_suspicious_slot_values"] as? [[String: Any]] ?? []).compactMap {
            $0["value"] as? String
        }
        #expect(!values.isEmpty)
        for v in values { #expect(hostile.contains(v), "\(v.debugDescription)") }
    }
}
