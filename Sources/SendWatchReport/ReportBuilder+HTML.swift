internal import SendWatchCore

extension ReportBuilder {
    /// The most account-to-artefact links considered for the graph (the most important incidents' first).
    static let maxGraphLinks = 200_000

    /// Writes the report: one self-contained HTML document (inline CSS, SVG and script; nothing is loaded from
    /// the network).
    ///
    /// The page is written section by section, so `out` receives a few large writes; each section is bounded by
    /// the drawing caps of ``limits``.
    ///
    /// - Parameters:
    ///   - out: receives the document.
    ///   - source: the input names shown in the header.
    /// - Complexity: O(i log i + l log l) in the kept incidents and graph links.
    public func render(into out: inout some TextOutputStream, source: ReportSource) {
        let byImportance = incidents.sorted(by: Incident.moreImportant)
        let accountSeverity = accountSeverities()
        var h = ""
        writeHead(&h, source: source)
        writeSummary(&h, source: source)
        out.write(h)
        h = ""
        writeControls(&h)
        h += "<main>\n"
        writeTimeline(&h, byImportance: byImportance)
        out.write(h)
        h = ""
        writeGraph(&h, byImportance: byImportance, accountSeverity: accountSeverity)
        out.write(h)
        h = ""
        writeIndex(&h, byImportance: byImportance)
        out.write(h)
        h = ""
        h += "<section id=\"incidents\">\n<h2>Incidents in detail</h2>\n"
        let detailed = byImportance.prefix(limits.maxDetailedIncidents)
        h += "<p class=\"note\">The \(HTML.plural(detailed.count, "incident")) shown in full, most severe first"
        if detailed.count < incidents.count {
            h +=
                " (the \(HTML.count(detailed.count)) most severe of \(HTML.count(incidents.count)); the others are in the index above)"
        }
        h +=
            ". Indicators are marked: <mark class=\"ind ind-phone\">phone</mark> <mark class=\"ind ind-url\">URL</mark> "
        h += "<mark class=\"ind ind-domain\">domain</mark> <mark class=\"ind ind-money\">money</mark>.</p>\n"
        out.write(h)
        for (k, incident) in detailed.enumerated() {
            h = ""
            writeIncident(&h, incident, open: k < 10)
            out.write(h)
        }
        h = "</section>\n"
        writeFooter(&h)
        h += "</main>\n<script>\(ReportAssets.main)</script>\n</body>\n</html>\n"
        out.write(h)
    }

    /// The highest severity of any incident each kept account is in.
    private func accountSeverities() -> [String: Severity] {
        var out: [String: Severity] = [:]
        for incident in incidents {
            for a in incident.accounts { out[a] = max(out[a] ?? .low, incident.severity) }
        }
        return out
    }

    // MARK: - Head and summary

    private func writeHead(_ h: inout String, source: ReportSource) {
        h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta http-equiv=\"Content-Security-Policy\" content=\"\(ReportAssets.contentSecurityPolicy)\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<meta name=\"generator\" content=\"sendwatch report\">\n"
        h += "<title>SendWatch report: \(HTML.escape(source.alerts, max: 80))</title>\n"
        h += "<style>\n\(ReportAssets.css)\n</style>\n</head>\n<body>\n<script>\(ReportAssets.errorCapture)</script>\n"
    }

    private func writeSummary(_ h: inout String, source: ReportSource) {
        h += "<header class=\"top\"><div class=\"inner\">\n<h1>SendWatch report</h1>\n"
        h += "<div class=\"src\">Alerts: <span class=\"mono\">\(HTML.escape(source.alerts, max: 200))</span>"
        if !source.events.isEmpty {
            let names = source.events.prefix(5).map { HTML.escape($0, max: 120) }.joined(separator: ", ")
            h += " · events: <span class=\"mono\">\(names)\(source.events.count > 5 ? ", …" : "")</span>"
        }
        h += " · all times UTC (event time from the logs)</div>\n<div class=\"cards\" id=\"summary\">\n"
        func card(_ value: String, _ label: String, id: String) {
            h += "<div class=\"card\" id=\"\(id)\"><b>\(value)</b><span>\(label)</span></div>\n"
        }
        card(HTML.count(records), "alert records", id: "sum-records")
        card(HTML.count(incidents.count), "incidents", id: "sum-incidents")
        let alertIDs = incidents.reduce(0) { $0 + $1.alerts.count }
        let unlisted = incidents.contains { $0.recordsOfUnlistedAlerts > 0 }
        card((unlisted ? "≥ " : "") + HTML.count(alertIDs), "alerts (ids)", id: "sum-alerts")
        var kinds: [String: Int] = [:]
        for i in incidents {
            for k in i.kinds { kinds[k, default: 0] += 1 }
        }
        let byCount = kinds.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        for (k, (kind, n)) in byCount.prefix(6).enumerated() {
            card(HTML.count(n), HTML.escape(kind, max: 40), id: "sum-kind-\(k)")
        }
        let accounts = Set(incidents.lazy.flatMap(\.accounts)).count
        let capped = incidents.contains { $0.accountsTotal > $0.accounts.count }
        card((capped ? "≥ " : "") + HTML.count(accounts), "accounts named", id: "sum-accounts")
        if let start = incidents.map(\.start).min(), let end = incidents.map(\.end).max() {
            card(
                HTML.duration(seconds: (end.microseconds - start.microseconds) / 1_000_000),
                "\(HTML.time(start)) → \(HTML.time(end))", id: "sum-range")
        }
        var severities: [Severity: Int] = [:]
        for i in incidents { severities[i.severity, default: 0] += 1 }
        let critical = severities[.critical] ?? 0
        let others = [Severity.high, .medium, .low].compactMap { s in severities[s].map { "\($0) \(s.rawValue)" } }
        card(HTML.count(critical), (["critical"] + others).joined(separator: ", "), id: "sum-severity")
        if hasEvents {
            card(
                HTML.count(events), "send events read, \(HTML.count(eventsOfAlertedAccounts)) by alerted accounts",
                id: "sum-events")
        }
        h += "</div>\n"
        var problems: [String] = []
        if badLines > 0 {
            let samples = badLineSamples.map { "line \($0.line): \(HTML.escape($0.problem))" }.joined(separator: "; ")
            problems.append("\(HTML.plural(badLines, "line")) skipped, not v1-v5 alert records (\(samples))")
        }
        if recordsNotKept > 0 {
            problems.append(
                "\(HTML.plural(recordsNotKept, "record")) of incidents beyond the first \(HTML.count(limits.maxIncidents)) not shown"
            )
        }
        if accountsNotTracked > 0 {
            problems.append(
                "events of \(HTML.plural(accountsNotTracked, "account")) not tracked (beyond \(HTML.count(limits.maxAccounts)))"
            )
        }
        if !problems.isEmpty {
            h += "<p class=\"src\" id=\"input-problems\">\(problems.joined(separator: " · "))</p>\n"
        }
        h += "</div></header>\n"
    }

    private func writeControls(_ h: inout String) {
        let kinds = Set(incidents.flatMap(\.kinds)).sorted()
        h +=
            "<nav id=\"controls\" hidden><div style=\"max-width:1240px;margin:0 auto;padding:0 20px;display:flex;gap:10px;flex-wrap:wrap;align-items:center\">\n"
        h +=
            "<input type=\"search\" id=\"f-text\" placeholder=\"Filter: account, template, phone, domain…\" aria-label=\"Filter\">\n"
        h += "<select id=\"f-kind\" aria-label=\"Kind\"><option value=\"\">all kinds</option>"
        for k in kinds { h += "<option value=\"\(HTML.escape(k))\">\(HTML.escape(k, max: 40))</option>" }
        h += "</select>\n<select id=\"f-sev\" aria-label=\"Severity\"><option value=\"low\">any severity</option>"
        h += "<option value=\"medium\">medium and up</option><option value=\"high\">high and up</option>"
        h += "<option value=\"critical\">critical</option></select>\n"
        h +=
            "<button type=\"button\" id=\"expand-all\">Expand all</button><button type=\"button\" id=\"collapse-all\">Collapse all</button>\n"
        h += "<span class=\"count\" id=\"f-count\"></span>\n</div></nav>\n"
    }

    // MARK: - Timeline

    private func writeTimeline(_ h: inout String, byImportance: [Incident]) {
        h += "<section id=\"timeline\">\n<h2>Timeline</h2>\n"
        guard let t0 = incidents.map(\.start).min(), let t1Raw = incidents.map(\.end).max() else {
            h += "<p class=\"note\">No alerts.</p>\n</section>\n"
            return
        }
        let rows = byImportance.prefix(limits.maxTimelineRows).sorted(by: Incident.earlier)
        h += "<p class=\"note\">One row per incident, from its first event to its last record; colour is the kind, "
        h += "strength the severity; a dashed outline means still open at the end of the file. "
        if rows.count < incidents.count {
            h +=
                "<strong>Showing the \(HTML.count(rows.count)) most severe of \(HTML.plural(incidents.count, "incident"))</strong> "
            h += "(\(HTML.count(incidents.count - rows.count)) more in the index below). "
        }
        h += "Click a row for its details.</p>\n"
        let t1 = max(t1Raw, EventTime(microseconds: t0.microseconds + 60_000_000))
        let width = 1200.0
        let labelWidth = 300.0
        let right = 16.0
        let top = 26.0
        let rowHeight = 16.0
        let plot = width - labelWidth - right
        let span = Double(t1.microseconds - t0.microseconds)
        func x(_ t: EventTime) -> Double { labelWidth + Double(t.microseconds - t0.microseconds) / span * plot }
        let height = top + Double(rows.count) * rowHeight + 8
        h +=
            "<svg id=\"timeline-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" "
        h += "width=\"\(fmt(width))\" height=\"\(fmt(height))\" role=\"img\" aria-label=\"Timeline of incidents\">\n"
        // Axis: a tick step from a fixed ladder so that there are at most 8 ticks, aligned to UTC.
        let steps: [Int64] = [
            60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800, 2_592_000,
        ]
        let spanSeconds = Int64(span / 1_000_000)
        let step = steps.first { spanSeconds / $0 <= 8 } ?? (spanSeconds / 8 + 1)
        var tick = (t0.seconds / step + 1) * step
        // Ticks stop short of the right edge, where a centred label would be cut.
        while tick < t1.seconds, x(EventTime(seconds: tick)) < width - right - 30 {
            let tx = x(EventTime(seconds: tick))
            let label = HTML.time(EventTime(seconds: tick))
            let text =
                step >= 86_400
                ? String(label.prefix(10))
                : (tick % 86_400 == 0 ? String(label.prefix(16)) : String(label.dropFirst(11).prefix(5)))
            h +=
                "<line class=\"axis\" x1=\"\(fmt(tx))\" y1=\"\(fmt(top - 6))\" x2=\"\(fmt(tx))\" y2=\"\(fmt(height - 4))\"/>"
            h += "<text class=\"tick\" x=\"\(fmt(tx))\" y=\"\(fmt(top - 10))\" text-anchor=\"middle\">\(text)</text>\n"
            tick += step
        }
        h +=
            "<text class=\"tick\" x=\"8\" y=\"\(fmt(top - 10))\">\(HTML.time(t0)) → \(HTML.shortTime(t1, reference: t0))</text>\n"
        for (r, incident) in rows.enumerated() {
            let y = top + Double(r) * rowHeight
            let x1 = x(incident.start)
            let x2 = max(x(incident.end), x1 + 3)
            let opacity =
                ["low": "0.35", "medium": "0.55", "high": "0.8", "critical": "1"][incident.severity.rawValue] ?? "1"
            let label = incident.kinds.joined(separator: "+") + " · " + incidentLabel(incident)
            h += "<a href=\"#i\(incident.order)\" class=\"tl-row\" data-kind=\"\(kindsAttribute(incident))\" "
            h += "data-sev=\"\(incident.severity.rawValue)\" data-search=\"\(HTML.escape(searchText(incident)))\">"
            h +=
                "<title>\(HTML.escape(incident.kinds.joined(separator: ", "))) (\(incident.severity.rawValue)) \(HTML.escape(incident.id))\n"
            h +=
                "\(HTML.time(incident.start)) → \(HTML.time(incident.end))\n\(HTML.plural(incident.accountsTotal, "account"))"
            h += "\n\(HTML.escape(incidentLabel(incident)))</title>"
            h +=
                "<rect class=\"bg\" x=\"0\" y=\"\(fmt(y))\" width=\"\(fmt(width))\" height=\"\(fmt(rowHeight))\" fill=\"transparent\"/>"
            h +=
                "<text x=\"\(fmt(labelWidth - 8))\" y=\"\(fmt(y + 11.5))\" text-anchor=\"end\">\(HTML.escape(label, max: 42))</text>"
            var cls = "bar"
            if incident.severity == .critical { cls += " critical" }
            if !incident.closed { cls += " open" }
            h +=
                "<rect class=\"\(cls)\" x=\"\(fmt(x1))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(x2 - x1))\" height=\"\(fmt(rowHeight - 6))\" "
            h += "rx=\"2\" fill=\"\(HTML.colour(kind: incident.kind))\" fill-opacity=\"\(opacity)\"/></a>\n"
        }
        h += "</svg>\n<div class=\"legend\">"
        for k in Set(rows.map(\.kind)).sorted() {
            h += "<span><i style=\"background:\(HTML.colour(kind: k))\"></i>\(HTML.escape(k, max: 40))</span>"
        }
        h += "<span>lighter → darker: low, medium, high, critical</span></div>\n</section>\n"
    }

    /// A short label for an incident: its template text, else its sample subject, else its first account.
    private func incidentLabel(_ i: Incident) -> String {
        if let t = i.template { return t.text }
        if let s = i.sampleSubject { return (i.accounts.first.map { $0 + ": " } ?? "") + s }
        return i.accounts.first ?? i.id
    }

    /// The incident's kinds for the `data-kind` attribute the filter matches: separated by spaces.
    private func kindsAttribute(_ i: Incident) -> String { HTML.escape(i.kinds.joined(separator: " ")) }

    /// What the filter box searches for an incident: ids, kinds, template, subject, accounts, slot values, and
    /// the evidence samples (logins, client IPs, recipients and their domains, queue ids).
    private func searchText(_ i: Incident) -> String {
        var parts = [i.id, i.template?.text ?? "", i.sampleSubject ?? ""]
        parts += i.alerts.map(\.id) + i.kinds
        parts += i.accounts.prefix(20)
        for set in Incident.sampleSets { parts += i[keyPath: set].values }
        parts += i.slotValues.map(\.value)
        for a in i.artefacts { parts.append(a.label) }
        return parts.joined(separator: " ").lowercased()
    }

    // MARK: - Graph

    private func writeGraph(_ h: inout String, byImportance: [Incident], accountSeverity: [String: Severity]) {
        h += "<section id=\"graph\">\n<h2>Accounts and the lure artefacts they share</h2>\n"
        var links: [ArtefactGraph.Link] = []
        var linksDropped = 0
        func add(_ l: ArtefactGraph.Link) {
            if links.count < Self.maxGraphLinks { links.append(l) } else { linksDropped += 1 }
        }
        for account in activity.keys.sorted() {
            // Safe to force unwrap: the key comes from the dictionary itself.
            for (artefact, n) in activity[account]!.artefacts.sorted(by: { $0.key < $1.key }) {
                add(.init(account: account, artefact: artefact, weight: n, fromEvents: true))
            }
        }
        for incident in byImportance {
            let artefacts = incident.artefacts
            guard !artefacts.isEmpty else { continue }
            for account in incident.accounts where (activity[account]?.events ?? 0) == 0 {
                for a in artefacts { add(.init(account: account, artefact: a, weight: 1, fromEvents: false)) }
            }
        }
        let graph = ArtefactGraph(
            links: links, maxArtefacts: limits.maxGraphArtefacts, maxAccounts: limits.maxGraphAccounts,
            maxLinksPerAccount: limits.maxGraphLinksPerAccount, lanes: 2)
        h += "<p class=\"note\">Phone numbers (as digits) and hosts found in the incidents' slot values and subjects, "
        h += "joined to the accounts that used them. "
        h +=
            hasEvents
            ? "Solid lines come from the accounts' own messages (--events); dashed ones from an alert that lists the account and the artefact, for accounts without events. "
            : "Lines are dashed: they come from the alerts (an alert's accounts joined to its artefacts); give --events for the exact links per account. "
        h +=
            "\(HTML.plural(graph.artefactsTotal, "artefact")), \(HTML.count(graph.sharedArtefactsTotal)) shared by two or more accounts. "
        if graph.artefacts.count < graph.artefactsTotal || graph.accounts.count < graph.candidateAccounts
            || linksDropped > 0
        {
            h += "<strong>Showing the \(HTML.count(graph.artefacts.count)) most shared artefacts and "
            h += "\(HTML.count(graph.accounts.count)) of their \(HTML.count(graph.candidateAccounts)) accounts</strong>"
            if linksDropped > 0 {
                h += " (\(HTML.count(linksDropped)) links beyond \(HTML.count(Self.maxGraphLinks)) not considered)"
            }
            h += ". "
        }
        if graph.linksNotDrawn > 0 {
            h += "<strong>\(HTML.plural(graph.linksNotDrawn, "weaker link")) not drawn</strong> (at most "
            h += "\(limits.maxGraphLinksPerAccount) per account, the strongest first). "
        }
        h += "Hover a node to highlight its links.</p>\n"
        guard !graph.artefacts.isEmpty else {
            h +=
                "<p class=\"note\" id=\"graph-empty\">No phone numbers or hosts in the alerts' slot values or subjects.</p>\n</section>\n"
            return
        }
        // Two lanes side by side, each an accounts column and an artefacts column.
        let width = 1200.0
        let laneWidth = 600.0
        let top = 24.0
        let rowHeight = 15.0
        func accountX(_ lane: Int) -> Double { Double(lane) * laneWidth + 235 }
        func artefactX(_ lane: Int) -> Double { Double(lane) * laneWidth + 385 }
        let height = top * 2 + graph.rows * rowHeight
        func y(_ row: Double) -> Double { top + row * rowHeight + rowHeight / 2 }
        h += "<svg id=\"graph-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" "
        h +=
            "width=\"\(fmt(width))\" height=\"\(fmt(height))\" role=\"img\" aria-label=\"Accounts linked to shared artefacts\">\n"
        for lane in 0..<2 {
            h += "<text class=\"tick\" x=\"\(fmt(accountX(lane)))\" y=\"14\" text-anchor=\"end\">ACCOUNTS</text>"
            h += "<text class=\"tick\" x=\"\(fmt(artefactX(lane)))\" y=\"14\">PHONE NUMBERS AND HOSTS</text>\n"
        }
        for e in graph.edges {
            let account = graph.accounts[e.account]
            let artefact = graph.artefacts[e.artefact]
            let x1 = accountX(account.lane)
            let x2 = artefactX(artefact.lane)
            let y1 = y(account.row)
            let y2 = y(artefact.row)
            let mid = (x1 + x2) / 2
            let w = min(4.0, 0.7 + Double(e.weight).squareRoot() / 3)
            h +=
                "<path class=\"ge\(e.fromEvents ? "" : " inferred")\" data-a=\"a\(e.account)\" data-t=\"t\(e.artefact)\" "
            h +=
                "stroke-width=\"\(fmt(w))\" d=\"M\(fmt(x1)) \(fmt(y1))C\(fmt(mid)) \(fmt(y1)) \(fmt(mid)) \(fmt(y2)) \(fmt(x2)) \(fmt(y2))\">"
            h += "<title>\(e.fromEvents ? HTML.plural(e.weight, "message") : "from an alert")</title></path>\n"
        }
        for (k, a) in graph.accounts.enumerated() {
            let sev = accountSeverity[a.name].map { " sev-\($0.rawValue)" } ?? ""
            h += "<g class=\"gn account\(sev)\" data-n=\"a\(k)\"><title>\(HTML.escape(a.name))</title>"
            h += "<circle cx=\"\(fmt(accountX(a.lane)))\" cy=\"\(fmt(y(a.row)))\" r=\"5\"/>"
            h +=
                "<text x=\"\(fmt(accountX(a.lane) - 10))\" y=\"\(fmt(y(a.row) + 4))\" text-anchor=\"end\">\(HTML.escape(a.name, max: 36))</text></g>\n"
        }
        for (k, a) in graph.artefacts.enumerated() {
            let r = a.accounts >= 2 ? min(9.0, 4.0 + Double(a.accounts).squareRoot()) : 5.0
            h += "<g class=\"gn \(a.artefact.kind.rawValue)\" data-n=\"t\(k)\"><title>\(a.artefact.kind.rawValue): "
            h += "\(HTML.escape(a.artefact.label)), \(HTML.plural(a.accounts, "account"))</title>"
            h += "<circle cx=\"\(fmt(artefactX(a.lane)))\" cy=\"\(fmt(y(a.row)))\" r=\"\(fmt(r))\"/>"
            h +=
                "<text x=\"\(fmt(artefactX(a.lane) + 12))\" y=\"\(fmt(y(a.row) + 4))\">\(HTML.escape(a.artefact.label, max: 30))"
            h += " (\(a.accounts))</text></g>\n"
        }
        h += "</svg>\n<div class=\"legend\"><span><i style=\"background:#e03131\"></i>phone number</span>"
        h +=
            "<span><i style=\"background:#2f9e44\"></i>host or domain</span><span><i style=\"background:#1c7ed6\"></i>account "
        h +=
            "(ringed <i style=\"background:var(--high)\"></i>in a high, <i style=\"background:var(--critical)\"></i>in a critical incident)</span></div>\n"
        // The same facts as a table: readable without SVG, searchable, and copyable.
        h += "<details><summary>The shared artefacts as a table</summary>\n<table id=\"artefact-table\"><thead><tr>"
        h +=
            "<th>Artefact</th><th>Kind</th><th class=\"num\">Accounts</th><th>Accounts (drawn)</th></tr></thead><tbody>\n"
        var accountsOf = [[String]](repeating: [], count: graph.artefacts.count)
        for e in graph.edges { accountsOf[e.artefact].append(graph.accounts[e.account].name) }
        for (k, a) in graph.artefacts.enumerated() {
            let names = accountsOf[k].sorted()
            h += "<tr><td class=\"mono wrap\">\(HTML.escape(a.artefact.label))</td><td>\(a.artefact.kind.rawValue)</td>"
            h += "<td class=\"num\">\(a.accounts)</td><td class=\"mono wrap\">"
            h += names.prefix(20).map { HTML.escape($0, max: 80) }.joined(separator: ", ")
            h += names.count > 20 ? ", … (\(names.count - 20) more)" : ""
            h += "</td></tr>\n"
        }
        h += "</tbody></table></details>\n</section>\n"
    }

    // MARK: - Index

    private func writeIndex(_ h: inout String, byImportance: [Incident]) {
        let rows = byImportance.prefix(limits.maxIndexRows).sorted(by: Incident.earlier)
        let detailed = Set(byImportance.prefix(limits.maxDetailedIncidents).map(\.order))
        h += "<section id=\"index\">\n<h2>All incidents</h2>\n<p class=\"note\">"
        if rows.count < incidents.count {
            h +=
                "<strong>The \(HTML.count(rows.count)) most severe of \(HTML.plural(incidents.count, "incident"))</strong>, "
        } else {
            h += "\(HTML.plural(incidents.count, "incident")), "
        }
        h += "in order of their first event; click a column to sort. Linked ids have a detail section below.</p>\n"
        h += "<div style=\"max-height:480px;overflow:auto;border:1px solid var(--line);border-radius:6px\">\n"
        h += "<table class=\"sortable\" id=\"index-table\"><thead><tr><th data-sort=\"num\">Start</th>"
        h +=
            "<th data-sort=\"num\" class=\"num\">Duration</th><th data-sort=\"text\">Kind</th><th data-sort=\"num\">Severity</th>"
        h += "<th data-sort=\"num\" class=\"num\">Accounts</th><th data-sort=\"num\" class=\"num\">Records</th>"
        h +=
            "<th data-sort=\"text\">State</th><th data-sort=\"text\">Template or subject</th><th data-sort=\"text\">Incident</th>"
        h += "</tr></thead><tbody>\n"
        let sevRank: [Severity: Int] = [.low: 0, .medium: 1, .high: 2, .critical: 3]
        for i in rows {
            let seconds = (i.end.microseconds - i.start.microseconds) / 1_000_000
            h += "<tr data-kind=\"\(kindsAttribute(i))\" data-sev=\"\(i.severity.rawValue)\">"
            h += "<td data-v=\"\(i.start.microseconds)\" class=\"mono\">\(HTML.time(i.start))</td>"
            h += "<td data-v=\"\(seconds)\" class=\"num\">\(HTML.duration(seconds: seconds))</td>"
            h += "<td>\(kindChips(i))</td>"
            h +=
                "<td data-v=\"\(sevRank[i.severity] ?? 0)\"><span class=\"sev sev-\(i.severity.rawValue)\">\(i.severity.rawValue)</span></td>"
            h += "<td class=\"num\" data-v=\"\(i.accountsTotal)\">\(HTML.count(i.accountsTotal))</td>"
            h += "<td class=\"num\" data-v=\"\(i.records)\">\(i.records)</td><td>\(i.closed ? "closed" : "open")</td>"
            h += "<td>\(HTML.escape(incidentLabel(i), max: 90))</td>"
            if detailed.contains(i.order) {
                h += "<td class=\"mono nowrap\"><a href=\"#i\(i.order)\">\(HTML.escape(i.id, max: 40))</a></td></tr>\n"
            } else {
                h += "<td class=\"mono nowrap\">\(HTML.escape(i.id, max: 40))</td></tr>\n"
            }
        }
        h += "</tbody></table></div>\n</section>\n"
    }

    // MARK: - One incident

    private func writeIncident(_ h: inout String, _ i: Incident, open: Bool) {
        let sev = i.severity.rawValue
        h +=
            "<article class=\"incident sev-\(sev)\" id=\"i\(i.order)\" data-kind=\"\(kindsAttribute(i))\" data-sev=\"\(sev)\">\n"
        h +=
            "<details\(open ? " open" : "")><summary>\(kindChips(i)) <span class=\"sev sev-\(sev)\">\(sev)</span>"
        h += "<span class=\"title\">\(HTML.escape(incidentLabel(i), max: 120))</span>"
        let seconds = (i.end.microseconds - i.start.microseconds) / 1_000_000
        h += "<span class=\"meta\">incident <span class=\"mono incident-id\">\(HTML.escape(i.id))</span> · "
        h += "\(HTML.plural(i.alerts.count, "alert")) · \(HTML.time(i.start)) → "
        h += "\(HTML.shortTime(i.end, reference: i.start)) (\(HTML.duration(seconds: seconds))) · "
        h += "\(HTML.plural(i.accountsTotal, "account")) · \(HTML.plural(i.records, "record")) · "
        h += i.closed ? "closed" : "open at the end of the file"
        switch i.accountAge {
        case .spread(let lo, let mid, let hi)?:
            h += " · account ages \(HTML.duration(seconds: Int64(lo)))–\(HTML.duration(seconds: Int64(hi))), "
            h += "median \(HTML.duration(seconds: Int64(mid)))"
        case .single(let s)?:
            h += " · account age \(HTML.duration(seconds: Int64(s)))"
        case nil: break
        }
        h += "</span></summary>\n<div class=\"body\"><div class=\"cols\"><div>\n"
        if let t = i.template {
            h += "<h4>Template</h4><p class=\"tpl\">\(HTML.template(t.text))</p>"
            h += "<div class=\"note\">id <span class=\"mono\">\(HTML.escape(t.id))</span></div>\n"
        }
        if !i.slotValues.isEmpty {
            h +=
                "<h4>Suspicious slot values</h4><table class=\"slots\"><thead><tr><th>Value</th><th class=\"num\">Messages</th>"
            h += "<th>Indicators</th></tr></thead><tbody>\n"
            for v in i.slotValues {
                h += "<tr><td class=\"wrap\">\(HTML.marked(v.value))</td><td class=\"num\">\(HTML.count(v.count))</td>"
                h += "<td>\(HTML.escape(v.indicators.joined(separator: ", "), max: 120))</td></tr>\n"
            }
            h += "</tbody></table>\n"
        }
        if let s = i.sampleSubject {
            h += "<h4>Sample subject</h4><p class=\"tpl wrap\">\(HTML.marked(s))</p>\n"
        }
        let artefacts = i.artefacts
        if !artefacts.isEmpty {
            h += "<h4>Artefacts</h4><p class=\"mono wrap\">"
            h += artefacts.map {
                "<mark class=\"ind ind-\($0.kind == .phone ? "phone" : "domain")\">\(HTML.escape($0.label))</mark>"
            }
            .joined(separator: " ")
            h += "</p>\n"
        }
        h += "<h4>Reasons</h4><ul class=\"plain\">"
        for r in i.reasons.prefix(10) { h += "<li>\(HTML.marked(r))</li>" }
        h += "</ul>\n</div><div>\n"
        writeAlerts(&h, i)
        writeSubmitters(&h, i)
        writeAccounts(&h, i)
        writeDomains(&h, i)
        writeSearchTerms(&h, i)
        h += "</div></div></div></details>\n</article>\n"
    }

    /// One chip per kind of the incident's alerts, in the order first seen.
    private func kindChips(_ i: Incident) -> String {
        i.kinds.map {
            "<span class=\"chip\" style=\"background:\(HTML.colour(kind: $0))\">\(HTML.escape($0, max: 40))</span>"
        }
        .joined(separator: " ")
    }

    /// The incident's alerts: id, kind, and whether still open.
    private func writeAlerts(_ h: inout String, _ i: Incident) {
        h += "<h4>Alerts (\(HTML.count(i.alerts.count)))</h4><ul class=\"plain alert-ids\">"
        for a in i.alerts {
            h += "<li><span class=\"mono\">\(HTML.escape(a.id, max: 40))</span> \(HTML.escape(a.kind, max: 40))"
            h += i.openAlerts.contains(a.id) ? " <span class=\"note\">open</span></li>" : "</li>"
        }
        h += "</ul>\n"
        if i.recordsOfUnlistedAlerts > 0 {
            h += "<div class=\"note\">\(HTML.plural(i.recordsOfUnlistedAlerts, "record")) of further alerts not listed "
            h +=
                "(the report lists the first \(HTML.count(limits.maxAlertsPerIncident)) alerts of an incident).</div>\n"
        }
    }

    /// A sample as a list: its values, and a note when the total is larger.
    private func writeSample(_ h: inout String, _ title: String, _ sample: SampleSet, cls: String) {
        guard !sample.values.isEmpty else { return }
        let count =
            sample.total > sample.values.count
            ? "\(HTML.count(sample.values.count)) of \(HTML.count(sample.total))" : HTML.count(sample.total)
        h += "<h5>\(title) (\(count))</h5><ul class=\"plain mono wrap \(cls)\">"
        for v in sample.values { h += "<li>\(HTML.escape(v, max: 120))</li>" }
        h += "</ul>\n"
    }

    /// Who submitted the incident's mail (the evidence's `submitters`): what to suspend or hold.
    private func writeSubmitters(_ h: inout String, _ i: Incident) {
        guard !i.logins.values.isEmpty || !i.clientIPs.values.isEmpty else { return }
        h += "<div class=\"submitters\"><h4>Submitters</h4>\n"
        writeSample(&h, "Logins", i.logins, cls: "logins")
        writeSample(&h, "Client IPs", i.clientIPs, cls: "client-ips")
        h += "</div>\n"
    }

    /// What to search the mail logs for: sample message ids, queue ids, recipients and their domains.
    private func writeSearchTerms(_ h: inout String, _ i: Incident) {
        let samples = [i.queueIDs, i.recipients, i.recipientDomains]
        guard !i.messageIDs.isEmpty || samples.contains(where: { !$0.values.isEmpty }) else { return }
        h += "<div class=\"deliveries\"><h4>Search the logs for</h4>\n"
        writeSample(
            &h, "Sample message ids", SampleSet(values: i.messageIDs, total: i.messageIDs.count), cls: "message-ids")
        writeSample(&h, "Queue ids", i.queueIDs, cls: "queue-ids")
        writeSample(&h, "Recipients", i.recipients, cls: "recipients")
        writeSample(&h, "Recipient domains (from the alerts)", i.recipientDomains, cls: "recipient-domains")
        h += "</div>\n"
    }

    private func writeAccounts(_ h: inout String, _ i: Incident) {
        let shown = i.accounts.prefix(limits.maxAccountsShown)
        // An age per account: the alert's own for a one-account alert, else the age at first send when the log
        // carries creation times. The column is left out when no account has one.
        let ages: [String?] = shown.map { account in
            if case .single(let s)? = i.accountAge, i.accounts.count == 1 {
                return HTML.duration(seconds: Int64(s)) + " at the alert"
            }
            return activity[account]?.ageAtFirstSend.map {
                HTML.duration(seconds: $0.components.seconds) + " at first send"
            }
        }
        let hasAges = ages.contains { $0 != nil }
        h +=
            "<h4>Accounts (\(shown.count < i.accountsTotal ? "\(HTML.count(shown.count)) of " : "")\(HTML.count(i.accountsTotal)))</h4>"
        h += "<div class=\"scroll\"><table class=\"accounts\"><thead><tr><th>Account</th>"
        if hasAges { h += "<th class=\"num\">Age</th>" }
        if hasEvents { h += "<th>First send</th><th>Last send</th><th class=\"num\">Events</th>" }
        h += "</tr></thead><tbody>\n"
        for (account, age) in zip(shown, ages) {
            h += "<tr><td class=\"mono wrap\">\(HTML.escape(account, max: 100))</td>"
            if hasAges { h += "<td class=\"num\">\(age ?? "—")</td>" }
            if hasEvents {
                if let a = activity[account], let first = a.firstSend, let last = a.lastSend {
                    h +=
                        "<td class=\"mono\">\(HTML.time(first))</td><td class=\"mono\">\(HTML.shortTime(last, reference: first))</td>"
                    h += "<td class=\"num\">\(HTML.count(a.events))</td>"
                } else {
                    h += "<td colspan=\"3\" class=\"note\">no events</td>"
                }
            }
            h += "</tr>\n"
        }
        h += "</tbody></table></div>\n"
        if shown.count < i.accountsTotal {
            h += "<div class=\"note\">\(HTML.count(i.accountsTotal - shown.count)) more not listed"
            if i.accounts.count >= limits.maxAccountsPerIncident {
                h +=
                    " (the report keeps the first \(HTML.count(limits.maxAccountsPerIncident)) accounts of an incident)"
            } else if i.accounts.count < i.accountsTotal {
                h += " (the alerts list only \(HTML.count(i.accounts.count)))"
            }
            h += ".</div>\n"
        }
    }

    private func writeDomains(_ h: inout String, _ i: Incident) {
        var domains: [String: Int] = [:]
        var other = 0
        for account in i.accounts {
            guard let a = activity[account] else { continue }
            for (d, n) in a.domains { domains[d, default: 0] += n }
            other += a.otherDomainEvents
        }
        if !domains.isEmpty {
            let top = domains.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            h += "<h4>Recipient domains (\(HTML.count(domains.count)))</h4><ul class=\"plain mono\">"
            for (d, n) in top.prefix(12) {
                h += "<li>\(HTML.escape(d, max: 80)) <span class=\"note\">\(HTML.plural(n, "event"))</span></li>"
            }
            if top.count > 12 { h += "<li class=\"note\">\(top.count - 12) more</li>" }
            if other > 0 {
                h += "<li class=\"note\">\(HTML.plural(other, "event")) to domains beyond the per-account cap</li>"
            }
            h += "</ul>\n"
        } else if let n = i.recipientDomainCount {
            h +=
                "<h4>Recipient domains</h4><p class=\"note\">\(HTML.count(n)) (count from the alert; give --events for the names)</p>\n"
        }
    }

    private func writeFooter(_ h: inout String) {
        h += "<footer>Made by <code>sendwatch report</code> from SendWatch alert records. Drawing caps: timeline "
        h +=
            "\(limits.maxTimelineRows) rows, \(limits.maxDetailedIncidents) detailed incidents, index \(HTML.count(limits.maxIndexRows)) rows, "
        h +=
            "graph \(limits.maxGraphArtefacts) artefacts and \(limits.maxGraphAccounts) accounts, \(limits.maxAccountsShown) accounts per incident. "
        h += "Everything from the input is shown as text; the page loads nothing from the network.</footer>\n"
    }
}

/// A coordinate with at most one decimal, without a trailing `.0`: small, stable SVG.
private func fmt(_ v: Double) -> String {
    let tenths = (v * 10).rounded()
    let whole = Int(tenths) / 10
    let frac = abs(Int(tenths)) % 10
    if frac == 0 { return String(whole) }
    return (tenths < 0 && whole == 0 ? "-" : "") + "\(whole).\(frac)"
}
