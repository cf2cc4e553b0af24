import SendWatchCore
import Testing

@testable import SendWatchDetect

@Suite struct SharedArtefactTests {
    @Test(
        "Lure artefacts are normalised: a phone number to its digits, a URL or address to its host",
        arguments: [
            ("Call +1 (888) 555-0110 now", ["phone:18885550110"]),
            ("call 1-888-555-0110", ["phone:18885550110"]),
            ("Visit https://WWW.Paypa1-Secure.com/login?x=1", ["domain:paypa1-secure.com"]),
            ("write to help@refund-desk.example.", ["domain:refund-desk.example"]),
            ("paypa1-secure.com/verify or 0044 20 7946 0958", ["domain:paypa1-secure.com", "phone:00442079460958"]),
            ("Acme GmbH", []),
            ("Order 12345678", []),
            ("2026-12-04 10:30", []),
            (
                "Send 0.1 ETH to 0x52908400098527886E0F7030069857D2E4169EE7.",
                ["wallet:0x52908400098527886e0f7030069857d2e4169ee7"]
            ),
            ("BTC: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT now", ["wallet:1BoatSLRHtKNngkdXEeobR76b53LETtpyT"]),
            ("version 1.2.3", []),
            ("Q3-plan.pdf", []),
            ("jaso-42621.DOCX and budget.xlsx", []),
            ("photos.zip", ["domain:photos.zip"]),
            ("https://invoice.pdf/claim", ["domain:invoice.pdf"]),
            ("www.report.pdf", ["domain:report.pdf"]),
        ])
    func extraction(value: String, expected: [String]) {
        #expect(LureArtefact.extract(from: value).artefacts == expected)
    }

    @Test(
        "The lure text is the normalised wording with numbers masked; names and short words have none",
        arguments: [
            ("Refund pending, call +1 (888) 555-0110", "text:refund pending call #"),
            ("REFUND pending - call 1 877 555 0199!", "text:refund pending call #"),
            ("R\u{0435}fund pending, call \u{FF11}-888-555-0110", "text:refund pending call #"),
            ("Call +1 (888) 555-0110", nil),
            ("Support Team", nil),
            ("1-800-Flowers Team", nil),
            ("Acme.io", nil),
            ("Billing desk 1-888-555-0163", nil),
            ("Your invoice 4711 of 2026-12-04 is ready", nil),
            ("Your payment of $499 is pending. Call +1 (888) 555-0134", "text:is pending call #"),
            ("Questions? Call us at +1 (888) 555-0110", nil),
            ("Claim your refund at hxxps://refund-portal.example/claim", "text:your refund at #"),
        ] as [(String, String?)])
    func lureText(value: String, expected: String?) {
        #expect(LureArtefact.extract(from: value).text == expected)
    }

    @Test("A slot that holds only the number takes its wording from the template's text around it")
    func lureTextAroundSlot() {
        let folded = LureArtefact.around(
            slot: 1, of: "Welcome to <*>, Refund pending, call <*> today!", "1 866 555 7443")
        #expect(folded == ", Refund pending, call 1 866 555 7443 today!")
        #expect(LureArtefact.extract(from: folded).text == "text:refund pending call #")
        #expect(LureArtefact.around(slot: 0, of: "<*> invited you to join <*>", "x") == "x invited you to join ")
        #expect(LureArtefact.around(slot: 2, of: "<*> invited you", "x") == "x")
    }

    @Test("A lure text keeps three words of at most 32 bytes each")
    func lureTextBounded() {
        let long = String(repeating: "x", count: 40)
        #expect(
            LureArtefact.extract(from: "one two \(long) +1 888 555 0110").text
                == "text:one two \(String(repeating: "x", count: LureArtefact.lureTextMaxWordBytes)) #")
        #expect(LureArtefact.extract(from: "a b c d +1 888 555 0110").text == nil)
    }

    /// Young accounts rotating over three templates (explicit ids), each putting `wording` and `phone(t)` into
    /// the slot (an empty one left out); `lone_lure` and `bare_phone` off unless asked for, so the thresholds are
    /// what is tested.
    /// `publicDomains` are mailed 25 times each by established accounts during the warm-up.
    static func rotation(
        accounts: Int, publicDomains: [String] = [], wording: String = "Refund pending, call", loneLure: Bool = false,
        barePhone: Bool = false, phone: (Int) -> String
    ) -> Scenario {
        var config = DetectionConfiguration()
        config[SharedArtefactRule.self].enabled = true
        config[SharedArtefactRule.self].loneLure = loneLure
        config[SharedArtefactRule.self].barePhone = barePhone
        var s = Scenario(config)
        let templates = ["invite", "document", "message"]
        s.warmUp(accounts: (0..<9).map { "old-\($0)" })
        for i in 0..<9 {
            s.send(
                "old-\(i)", to: "u\(i)@corp\(i).example", subject: "Org \(i) GmbH sent you an update",
                at: 100 + Int64(i), template: templates[i % 3])
        }
        for (d, domain) in publicDomains.enumerated() {
            for k in 0..<25 {
                s.send(
                    "old-\(k % 9)", to: "reader\(k)@\(domain)", subject: "Weekly report", at: 500 + Int64(d * 30 + k))
            }
        }
        for t in 0..<accounts {
            s.send(
                "trial-\(t)", to: "victim\(t)@webmail\(t % 3).example",
                subject: [wording, phone(t)].filter { !$0.isEmpty }.joined(separator: " ") + " sent you an update",
                at: 4000 + Int64(t * 60),
                template: templates[t % 3])
        }
        s.finish()
        return s
    }

    @Test("Young accounts rotating templates with one phone number fire shared_artefact, listing the templates")
    func fires() throws {
        let formats = ["+1 (888) 555-0110", "1-888-555-0110", "18885550110", "+1 888 555 0110"]
        let s = Self.rotation(accounts: 4) { formats[$0 % formats.count] }
        let alerts = s.alerts.filter { $0.kind == SharedArtefactRule.name.rawValue }
        let first = try #require(alerts.first)
        #expect(first.action == .create)
        #expect(first.evidence.first { $0.0 == "artefact" }?.1 == .string("phone:18885550110"))
        #expect(first.accounts == ["trial-0", "trial-1", "trial-2"])
        guard case .array(let templates)? = first.evidence.first(where: { $0.0 == "templates" })?.1 else {
            Issue.record("no templates in the evidence")
            return
        }
        #expect(templates.count == 3)
        #expect(alerts.last.map { $0.accountsTotal } == 4)
    }

    @Test("Below the threshold, or with a different number per account and too few words, shared_artefact is quiet")
    func quiet() {
        let below = Self.rotation(accounts: 2) { _ in "+1 (888) 555-0110" }
        #expect(!below.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        let distinct = Self.rotation(accounts: 6, wording: "Call") { "+1 (888) 555-01\(10 + $0)" }
        #expect(!distinct.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
    }

    @Test("A different number per account with the same wording links on the lure text")
    func lureTextLinks() throws {
        let s = Self.rotation(accounts: 4) { "+1 (888) 555-01\(10 + $0)" }
        let alerts = s.alerts.filter { $0.kind == SharedArtefactRule.name.rawValue }
        let first = try #require(alerts.first)
        #expect(first.evidence.first { $0.0 == "artefact" }?.1 == .string("text:refund pending call #"))
        #expect(first.accounts == ["trial-0", "trial-1", "trial-2"])
        // Common hosts only: the wording alone never links.
        let common = Self.rotation(accounts: 6) { _ in "see help.platform.example/faq for help today" }
        #expect(!common.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
    }

    @Test("Young accounts each sharing a document of their own with the same wording are no campaign")
    func documentNamesDoNotLink() {
        // What a document-sharing template says for every new user: the file name is no host, so there is no
        // artefact, and without one the wording never links.
        let s = Self.rotation(accounts: 8, wording: "Dana mentioned you in the document") { "plan-\(4711 + $0).pdf" }
        #expect(!s.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
    }

    @Test("A whole lure in one value (an artefact with lure words or money) fires at its first account")
    func loneLure() throws {
        let s = Self.rotation(accounts: 2, loneLure: true) { "+1 (888) 555-01\(10 + $0)" }
        let alerts = s.alerts.filter { $0.kind == SharedArtefactRule.name.rawValue }
        let first = try #require(alerts.first)
        // Keyed by the wording, so the next account with its own number joins the same alert.
        #expect(first.evidence.first { $0.0 == "artefact" }?.1 == .string("text:refund pending call #"))
        #expect(first.accounts == ["trial-0"])
        #expect(Set(alerts.flatMap(\.accounts)) == ["trial-0", "trial-1"])
        // No lure words, no money: a number in a name waits for the threshold; a common host never fires.
        let plain = Self.rotation(accounts: 2, wording: "Plantly Studio Berlin", loneLure: true) {
            "+1 (888) 555-01\(10 + $0)"
        }
        #expect(!plain.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        let help = Self.rotation(accounts: 2, wording: "Urgent: billing help at", loneLure: true) { _ in
            "help.platform.example"
        }
        #expect(!help.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
    }

    @Test("A wallet with payment words (pay, fee, deposit, transfer) is a whole lure: it fires at its first account")
    func loneWalletLure() throws {
        let wallets = ["bc1qh9kltdqfl6nyvue96dkapjcr9v4ed4h85xhf9z", "0x52908400098527886E0F7030069857D2E4169EE7"]
        for wording in ["Pay fee to", "Deposit to", "Transfer the fees to"] {
            let s = Self.rotation(accounts: 2, wording: wording, loneLure: true) { wallets[$0 % 2] }
            let alerts = s.alerts.filter { $0.kind == SharedArtefactRule.name.rawValue }
            // Before: no lure word, so one wallet per account waited for 3 accounts each and nothing fired.
            let first = try #require(alerts.first, "\(wording)")
            #expect(first.accounts == ["trial-0"], "\(wording)")
            #expect(Set(alerts.flatMap(\.accounts)) == ["trial-0", "trial-1"], "\(wording)")
        }
        // A wallet in a name without such words still waits for the threshold.
        let plain = Self.rotation(accounts: 2, wording: "Satoshi Fan Club", loneLure: true) { wallets[$0 % 2] }
        #expect(!plain.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
    }

    @Test(
        "A bare phone number is a phone number with at most one word besides",
        arguments: [
            ("+1 (866) 555-0197", true), ("Tel 1-866-555-0197", true), ("1-8OO-555-0197", true),
            ("Support: 1.866.555.0197", true), ("Acme Plumbing 0800 555 0123", false),
            ("Call 1-866-555-0197 now", false), ("1-800-Flowers Team", false), ("24/7 Plumbing Ltd", false),
            ("Route 66 Diner", false), ("refund-desk.example", false), ("1-866-555-0197 refund-desk.example", false),
        ])
    func barePhoneValues(value: String, bare: Bool) {
        #expect(LureArtefact.isBarePhone(value, artefacts: LureArtefact.extract(from: value).artefacts) == bare)
    }

    @Test("A bare phone number in a slot fires at its first account; names and brands with numbers do not")
    func barePhone() throws {
        for wording in ["", "Tel"] {
            let s = Self.rotation(accounts: 1, wording: wording, barePhone: true) { _ in "+1 (866) 555-0197" }
            let first = try #require(s.alerts.first { $0.kind == SharedArtefactRule.name.rawValue })
            #expect(first.accounts == ["trial-0"])
            #expect(first.evidence.first { $0.0 == "artefact" }?.1 == .string("phone:18665550197"))
            #expect(first.reasons.first?.contains("a bare phone number") == true)
        }
        let off = Self.rotation(accounts: 2, wording: "Tel") { _ in "+1 (866) 555-0197" }
        #expect(!off.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        let named = Self.rotation(accounts: 2, wording: "Acme Plumbing", barePhone: true) { _ in "0800 555 0123" }
        #expect(!named.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        for brand in ["1-800-Flowers Team", "24/7 Plumbing Ltd", "Route 66 Diner"] {
            let s = Self.rotation(accounts: 2, wording: brand, barePhone: true) { _ in "" }
            #expect(s.alerts.isEmpty)
        }
    }

    @Test("A lone artefact keeps the wording of the value that made it lone in every record of its alert")
    func loneReasonIsStable() throws {
        // trial-0 names the number bare (lone at once); trial-1 and trial-2 name it inside lure words, which lead
        // with their wording: the number's alert still says why one account was enough.
        let s = Self.rotation(accounts: 3, wording: "", loneLure: true, barePhone: true) {
            $0 == 0 ? "+1 (866) 555-0197" : "Refund of $499 pending, call +1 (866) 555-0197"
        }
        let records = s.alerts.filter {
            $0.kind == SharedArtefactRule.name.rawValue
                && $0.evidence.first { $0.0 == "artefact" }?.1 == .string("phone:18665550197")
        }
        #expect(records.count >= 2, "a create and an update: \(records.map(\.accounts))")
        for record in records {
            #expect(record.reasons.first?.contains("a bare phone number") == true, "\(record.reasons)")
        }
    }

    @Test("On by default")
    func onByDefault() {
        #expect(DetectionEngine().rules.contains { type(of: $0).name == SharedArtefactRule.name })
    }

    @Test("Too common to link: the sender's own domain and its subdomains, and a domain established accounts mail")
    func commonArtefacts() {
        // The test sender is no-reply@platform.example.
        let own = Self.rotation(accounts: 6) { _ in "see help.platform.example/faq" }
        #expect(!own.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        let exact = Self.rotation(accounts: 6) { _ in "see platform.example" }
        #expect(!exact.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        let webmail = Self.rotation(accounts: 6, publicDomains: ["bigmail.example"]) { _ in
            "bookings via bigmail.example"
        }
        #expect(!webmail.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        // A domain that merely ends like the sender's is not its subdomain; an unmailed domain links.
        let lookalike = Self.rotation(accounts: 6) { _ in "see evilplatform.example" }
        #expect(lookalike.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
        let scam = Self.rotation(accounts: 6, publicDomains: ["bigmail.example"]) { _ in "visit refund-desk.example" }
        #expect(scam.alerts.contains { $0.kind == SharedArtefactRule.name.rawValue })
    }

    @Test("A slot value whose only host is a common one is no lure for slot_content either")
    func commonHostIsNoLure() {
        // Nine accounts over three templates: three per template, slot_content's threshold.
        let help = Self.rotation(accounts: 9) { _ in "see help.platform.example/faq" }
        #expect(!help.alerts.contains { $0.kind == SlotContentRule.name.rawValue })
        let scam = Self.rotation(accounts: 9) { _ in "see refund-desk.example/faq" }
        #expect(scam.alerts.contains { $0.kind == SlotContentRule.name.rawValue })
    }

    @Test("A campaign longer than the window keeps reporting its new accounts while the windowed count is flat")
    func longCampaign() {
        var config = DetectionConfiguration()
        config[SharedArtefactRule.self].windowSeconds = 3600
        var s = Scenario(config)
        let templates = ["invite", "document", "message"]
        s.warmUp(accounts: (0..<9).map { "old-\($0)" })
        for i in 0..<9 {
            s.send(
                "old-\(i)", to: "u\(i)@corp\(i).example", subject: "Org \(i) GmbH sent you an update",
                at: 100 + Int64(i), template: templates[i % 3])
        }
        // One new account every 20 minutes for 5 hours: at most 3 or 4 in any hour.
        for t in 0..<15 {
            s.send(
                "trial-\(t)", to: "victim\(t)@webmail.example", subject: "Call +1 888 555 0110 sent you an update",
                at: 4000 + Int64(t * 1200), template: templates[t % 3])
        }
        s.finish()
        let listed = Set(s.alerts.filter { $0.kind == SharedArtefactRule.name.rawValue }.flatMap(\.accounts))
        #expect(listed == Set((0..<15).map { "trial-\($0)" }))
    }
}
