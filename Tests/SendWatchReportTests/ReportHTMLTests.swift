import Foundation
import SendWatchCore
import SendWatchReport
import Testing

@Suite struct ReportHTMLTests {
    /// How often `needle` occurs in `haystack`.
    func count(_ needle: String, in haystack: String) -> Int {
        haystack.components(separatedBy: needle).count - 1
    }

    @Test("Hostile account names, subjects, kinds, ids and template text render as text")
    func escaping() throws {
        let hostile = "<script>document.body.setAttribute('data-pwned','1')</script>"
        let lines = [
            AlertLines.alert(
                id: "sw-\"><img src=x onerror=alert(1)>", kind: "young_account_burst<b>", accounts: [hostile],
                subject: "Pay at hxxps://evil.example/<svg onload=alert(2)> \"quoted\" & 'single'",
                reasons: ["</li><script>alert(3)</script>"]),
            AlertLines.alert(
                id: "sw-2", at: 60, accounts: ["a&b", "x\"y"],
                template: AlertTemplate(id: "t<1>", text: "Hi <*> </title><script>"),
                slotValues: ["<iframe src=//evil.example> call +1 (888) 555-0178"]),
        ]
        let html = try AlertLines.render(lines)
        // Exactly the page's own two scripts, and no element the input tried to inject.
        #expect(count("<script", in: html) == 2)
        for injected in ["<img", "<svg onload", "<iframe", "burst<b>", "</title><script", "data-pwned','1')</script>"] {
            #expect(!html.contains(injected), "\(injected) must be escaped")
        }
        #expect(
            html.contains("&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)&lt;/script&gt;"))
        #expect(html.contains("sw-&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("a&amp;b"))
        #expect(html.contains("young_account_burst&lt;b&gt;"))
        #expect(html.contains("&lt;iframe src=//evil.example&gt;"))
        // The page never loads anything: no external references at all.
        for external in ["src=\"http", "href=\"http", "url(", "@import", "<link"] {
            #expect(!html.contains(external), "\(external)")
        }
    }

    @Test("Incidents that a later record names as merged are one incident under the kept id, in any order")
    func mergedIncidents() throws {
        let older = AlertLines.alert(id: "sw-a", kind: "slot_content", accounts: ["t-1"])
        let younger = AlertLines.alert(id: "sw-b", kind: "template_swarm", at: 60, accounts: ["t-2"])
        let merge = AlertLines.alert(
            id: "sw-b", action: .update, kind: "template_swarm", at: 120, accounts: ["t-1", "t-2"], incident: "sw-a",
            merged: ["sw-b"])
        let lateOld = AlertLines.alert(
            id: "sw-b", action: .close, kind: "template_swarm", at: 200, accounts: ["t-2"], incident: "sw-b")
        let other = AlertLines.alert(id: "sw-c", kind: "account_rate", at: 30, accounts: ["t-9"])
        for lines in [
            [older, younger, merge, other], [younger, merge, older, lateOld, other], [merge, older, younger],
        ] {
            let html = try AlertLines.render(lines)
            let incidents = lines.contains(other) ? 2 : 1
            #expect(count("<article class=\"incident", in: html) == incidents)
            #expect(html.contains("incident <span class=\"mono incident-id\">sw-a</span> · 2 alerts"))
            #expect(!html.contains("incident <span class=\"mono incident-id\">sw-b</span>"))
        }
    }

    @Test("Alerts sharing an incident are one incident, with their ids, kinds, submitters and search terms")
    func groupsByIncident() throws {
        let html = try AlertLines.render([
            AlertLines.alert(
                id: "sw-a", kind: "slot_content", accounts: ["t-1"], logins: ["mallory@evil.test"],
                recipients: ["v1@victims.test"], queueIDs: ["4XyZ1"]),
            AlertLines.alert(
                id: "sw-b", kind: "template_swarm", at: 60, accounts: ["t-1", "t-2"], incident: "sw-a",
                logins: ["eve@evil.test"], queueIDs: ["4XyZ2"]),
            AlertLines.alert(
                id: "sw-b", action: .close, kind: "template_swarm", at: 120, accounts: ["t-2"], incident: "sw-a"),
            AlertLines.alert(id: "sw-c", kind: "account_rate", at: 30, accounts: ["t-9"]),
        ])
        #expect(count("<article class=\"incident", in: html) == 2)
        #expect(html.contains("id=\"sum-incidents\"><b>2</b><span>incidents</span>"))
        #expect(html.contains("id=\"sum-alerts\"><b>3</b><span>alerts (ids)</span>"))
        #expect(html.contains("data-kind=\"slot_content template_swarm\""))
        #expect(html.contains("incident <span class=\"mono incident-id\">sw-a</span> · 2 alerts"))
        #expect(
            html.contains(
                "<ul class=\"plain alert-ids\"><li><span class=\"mono\">sw-a</span> slot_content <span class=\"note\">open</span></li>"
                    + "<li><span class=\"mono\">sw-b</span> template_swarm</li></ul>"))
        // Logins of both alerts, with the largest total a record gave.
        #expect(
            html.contains(
                "<h5>Logins (2 of 6)</h5><ul class=\"plain mono wrap logins\"><li>mallory@evil.test</li><li>eve@evil.test</li></ul>"
            ))
        #expect(
            html.contains("<h5>Client IPs (1)</h5><ul class=\"plain mono wrap client-ips\"><li>203.0.113.7</li></ul>"))
        #expect(
            html.contains(
                "<h5>Queue ids (2)</h5><ul class=\"plain mono wrap queue-ids\"><li>4XyZ1</li><li>4XyZ2</li></ul>"))
        #expect(
            html.contains(
                "<h5>Recipients (1)</h5><ul class=\"plain mono wrap recipients\"><li>v1@victims.test</li></ul>"))
        // The filter box finds an incident by a queue id or a login.
        #expect(html.contains("4xyz2") && html.contains("data-search=\"sw-a "))
    }

    @Test("Indicators are marked inside slot values, subjects and template text")
    func marking() throws {
        let html = try AlertLines.render([
            AlertLines.alert(
                id: "sw-1", accounts: ["t-1", "t-2"],
                template: AlertTemplate(id: "x", text: "Your invoice <*> from <*> is ready"),
                slotValues: [
                    "You won a $1000 gift card. Call +1 (888) 555-0178", "Crypto bonus at hxxps://coin-bonus.example/r",
                ])
        ])
        #expect(html.contains("<mark class=\"ind ind-money\" title=\"money: $1000\">$1000</mark>"))
        #expect(html.contains("<mark class=\"ind ind-phone\" title=\"phone: 18885550178\">+1 (888) 555-0178</mark>"))
        #expect(
            html.contains(
                "<mark class=\"ind ind-url\" title=\"url: coin-bonus.example\">hxxps://coin-bonus.example/r</mark>"))
        #expect(
            html.contains(
                "Your invoice <span class=\"slot\">&lt;*&gt;</span> from <span class=\"slot\">&lt;*&gt;</span> is ready"
            ))
    }

    @Test("Two accounts sharing one phone number are joined through one graph node")
    func sharedPhone() throws {
        let html = try AlertLines.render([
            AlertLines.alert(
                id: "sw-1", kind: "young_account_burst", accounts: ["alice"], subject: "Call +1 (888) 555-0178 now"),
            AlertLines.alert(
                id: "sw-2", kind: "young_account_burst", at: 30, accounts: ["bob"],
                subject: "Ring +1-888-555-0178 today"),
            AlertLines.alert(
                id: "sw-3", kind: "young_account_burst", at: 40, accounts: ["carol"], subject: "Nothing to see"),
        ])
        #expect(count("class=\"gn phone\"", in: html) == 1)
        #expect(count("class=\"gn account", in: html) == 2)
        #expect(html.contains("+18885550178 (2)"))
        // Both accounts' edges end at the one artefact node.
        #expect(count("data-t=\"t0\"", in: html) == 2)
        #expect(!html.contains(">carol</text>"))
    }

    @Test("Events add first and last send, age and recipient domains, and exact (solid) graph links")
    func events() throws {
        let lines = [AlertLines.alert(id: "sw-1", accounts: ["t-1", "t-2"], slotValues: ["Call +1 (888) 555-0178"])]
        func event(_ account: String, _ seconds: Int64, _ to: String, _ subject: String) -> SendEvent {
            SendEvent(
                time: EventTime(seconds: AlertLines.base.seconds + seconds), account: account, accountSource: .header,
                accountCreated: AlertLines.base, sender: "n@notify.example", recipient: to, subject: subject,
                status: .sent)
        }
        let html = try AlertLines.render(
            lines,
            events: [
                event("t-1", 10, "a@mail.example", "Call +1 (888) 555-0178"),
                event("t-1", 70, "b@Mail.Example", "Call +1 (888) 555-0178"),
                event("t-2", 20, "c@other.example", "Call +1 888 555 0178"),
                event("t-9", 20, "d@x.example", "not an alerted account"),
            ])
        #expect(html.contains("<td class=\"num\">10s at first send</td>"))
        #expect(html.contains("mail.example <span class=\"note\">2 events</span>"))
        #expect(!html.contains("x.example"))
        #expect(html.contains("class=\"ge\" data-a=\"a0\" data-t=\"t0\""))
        #expect(!html.contains("class=\"ge inferred\""))
        #expect(html.contains("4</b><span>send events read, 3 by alerted accounts"))
    }

    @Test("Drawing caps hold with many incidents, and the page says what it left out")
    func caps() throws {
        var lines: [String] = []
        for i in 0..<500 {
            let sev: Severity = i % 50 == 0 ? .critical : (i % 2 == 0 ? .high : .medium)
            lines.append(
                AlertLines.alert(
                    id: "sw-\(i)", severity: sev, at: Int64(i * 10 + 5), first: Int64(i * 10),
                    accounts: (0..<30).map { "acct-\(i)-\($0)" }, subject: "Call +1 555 010 \(String(1000 + i % 40))"))
        }
        let limits = ReportLimits(
            maxAccountsPerIncident: 20, maxTimelineRows: 25, maxDetailedIncidents: 7, maxIndexRows: 40,
            maxAccountsShown: 5, maxGraphArtefacts: 6, maxGraphAccounts: 9)
        let html = try AlertLines.render(lines, limits: limits)
        #expect(count("class=\"tl-row\"", in: html) == 25)
        #expect(count("<article class=\"incident", in: html) == 7)
        #expect(count("<tr data-kind=", in: html) == 40)
        #expect(count("class=\"gn account", in: html) == 9)
        #expect(count("class=\"gn phone\"", in: html) <= 6)
        #expect(html.contains("Showing the 25 most severe of 500 incidents"))
        #expect(html.contains("The 40 most severe of 500 incidents"))
        #expect(html.contains("(the 7 most severe of 500; the others are in the index above)"))
        #expect(html.contains("Showing the 6 most shared artefacts and 9 of their"))
        // Accounts are shared out over the drawn artefacts, so every drawn artefact has at least one.
        #expect(count("class=\"gn phone\"", in: html) == 6)
        #expect(html.contains("Accounts (5 of 30)"))
        // The critical incidents come first: all 10 of them are in the timeline.
        #expect(count("data-sev=\"critical\" data-search", in: html) == 10)
    }

    @Test("The graph draws at most the capped number of links per account, the strongest first")
    func linkCap() throws {
        let lures = (0..<6).map { "Visit hxxps://lure\($0).example now" }
        let lines = [
            AlertLines.alert(id: "sw-1", accounts: ["a", "b"], slotValues: lures),
            // lure0 and lure1 are in a second alert too: their links from a and b weigh 2.
            AlertLines.alert(id: "sw-2", at: 60, accounts: ["a", "b"], slotValues: Array(lures.prefix(2))),
        ]
        let html = try AlertLines.render(lines, limits: ReportLimits(maxGraphLinksPerAccount: 2))
        #expect(count("class=\"ge inferred\"", in: html) == 4)
        #expect(html.contains("8 weaker links not drawn</strong> (at most 2 per account, the strongest first)"))
        #expect(html.contains(">lure0.example (2)</text>"))
        #expect(html.contains(">lure1.example (2)</text>"))
        #expect(!html.contains(">lure2.example ("))
    }

    @Test("Bad lines are counted and shown; an unknown schema version stops the report")
    func badInput() throws {
        var builder = ReportBuilder()
        try builder.add(line: Array("not json".utf8))
        try builder.add(line: Array("{\"v\":1,\"id\":\"x\"}".utf8))
        try builder.add(line: Array("   ".utf8))
        try builder.add(line: Array(AlertLines.alert(id: "sw-1", accounts: ["a"]).utf8))
        #expect(builder.badLines == 2)
        #expect(builder.records == 1)
        var html = ""
        builder.render(into: &html, source: ReportSource(alerts: "a.jsonl"))
        #expect(html.contains("2 lines skipped, not v1-v5 alert records (line 1: not valid JSON"))
        #expect(throws: ReportError.self) { try builder.add(line: Array("{\"v\":6,\"id\":\"x\"}".utf8)) }
    }

    @Test("Input of lines none of which is an alert record is refused; an empty one or a mixed one is not")
    func noRecords() throws {
        var builder = ReportBuilder()
        try builder.checkUsable()
        try builder.add(line: Array(#"{"class_uid":2004,"finding_info":{"uid":"sw-1"}}"#.utf8))
        #expect(throws: ReportError.self) { try builder.checkUsable() }
        try builder.add(line: Array(AlertLines.alert(id: "sw-1", accounts: ["a"]).utf8))
        try builder.checkUsable()
    }

    @Test("An empty alert file still gives a complete page")
    func empty() throws {
        let html = try AlertLines.render([])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.hasSuffix("</html>\n"))
        #expect(html.contains("No alerts."))
    }

    @Test("The same records give the same bytes, whatever order of dictionary iteration")
    func deterministic() throws {
        var lines: [String] = []
        for i in 0..<60 {
            lines.append(
                AlertLines.alert(
                    id: "sw-\(i % 20)", action: i < 20 ? .create : .update, at: Int64(i * 7),
                    accounts: ["a\(i % 9)", "b\(i % 5)"],
                    subject: "Visit hxxps://lure\(i % 4).example or call +44 20 7946 09\(10 + i % 3)"))
        }
        let first = try AlertLines.render(lines)
        let second = try AlertLines.render(lines)
        #expect(first == second)
    }
}
