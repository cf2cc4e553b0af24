import SendWatchCore

extension EvaluationReport {
    /// The report as a plain-text table for people: aligned columns, lines of at most 100 characters (long
    /// ids and kinds are cut with `…`), sections Accounts, Incidents, Median latency, Look-alikes,
    /// Clean alerts, Input, Labels and Warnings. Control characters from the inputs (ANSI escapes in an
    /// account name) are shown as escapes (``TerminalText``).
    public func text() -> String {
        var out = ""
        out += "Accounts (alert records at or after warm-up end \(warmupEnd))\n"
        var accounts = TextTable([
            .init(title: "flagged", alignment: .right, maxWidth: 12),
            .init(title: "abusive", alignment: .right, maxWidth: 12),
            .init(title: "both", alignment: .right, maxWidth: 12),
            .init(title: "precision", alignment: .right, maxWidth: 9),
            .init(title: "recall", alignment: .right, maxWidth: 9),
        ])
        accounts.add([
            String(flaggedAccounts), String(abusiveAccounts), String(truePositiveAccounts),
            Format.ratio(precision), Format.ratio(recall),
        ])
        accounts.render(into: &out)

        out += "\nIncidents: \(incidentsDetected) of \(incidents.count) detected\n"
        if !incidents.isEmpty {
            var table = TextTable([
                .init(title: "id", alignment: .left, maxWidth: 22),
                .init(title: "kind", alignment: .left, maxWidth: 16),
                .init(title: "detected", alignment: .left, maxWidth: 8),
                .init(title: "latency", alignment: .right, maxWidth: 9),
                .init(title: "flagged", alignment: .right, maxWidth: 20),
                .init(title: "first alert", alignment: .left, maxWidth: 18),
            ])
            for i in incidents {
                table.add([
                    i.id, i.kind, i.detected ? "yes" : "NO", Format.duration(i.latencySeconds),
                    "\(i.accountsFlagged)/\(i.accounts) \(Format.percent(i.shareFlagged))", i.firstAlertKind ?? "-",
                ])
            }
            table.render(into: &out)
            out += "SendWatch incidents: \(incidentsSplit) labelled incident(s) split over several, "
            out += "\(incidentsSharing) sharing one with another\n"
            for i in incidents where i.sendWatchIncidents > 1 {
                out += Format.clip("  \(i.id) is split over \(i.sendWatchIncidents) SendWatch incidents") + "\n"
            }
            for i in incidents where !i.sharesIncidentWith.isEmpty {
                out += Format.clip("  \(i.id) shares one with \(i.sharesIncidentWith.joined(separator: ", "))") + "\n"
            }

            out += "\nMedian latency (detected incidents)\n"
            var medians = TextTable([
                .init(title: "kind", alignment: .left, maxWidth: 30),
                .init(title: "detected", alignment: .right, maxWidth: 15),
                .init(title: "median", alignment: .right, maxWidth: 9),
            ])
            for k in latencyByKind {
                medians.add([k.kind, "\(k.detected)/\(k.incidents)", Format.duration(k.medianLatencySeconds)])
            }
            medians.add(["all", "\(incidentsDetected)/\(incidents.count)", Format.duration(medianLatencySeconds)])
            medians.render(into: &out)
        }

        out += "\nLook-alikes: \(lookAlikeAccountsFlagged) account(s) flagged; unlabelled: "
        out += "\(unlabelledAccountsFlagged) account(s) flagged\n"
        var groups = TextTable([
            .init(title: "id", alignment: .left, maxWidth: 22),
            .init(title: "kind", alignment: .left, maxWidth: 22),
            .init(title: "flagged", alignment: .right, maxWidth: 11),
            .init(title: "e.g.", alignment: .left, maxWidth: 34),
        ])
        for g in lookAlikes {
            groups.add([g.id, g.kind, "\(g.flagged)/\(g.accounts)", g.flaggedSample.first ?? ""])
        }
        groups.add(["unlabelled", "-", String(unlabelledAccountsFlagged), unlabelledSample.first ?? ""])
        groups.render(into: &out)

        out += "\nClean alerts (no abusive account listed): \(cleanAlerts) in "
        if let d = durationSeconds {
            out += Format.fixed(d / 86_400, 3) + " days = " + (cleanAlertsPerDay.map { Format.fixed($0, 2) } ?? "n/a")
            out += " per day ("
            out += durationSource == .labelsEnd ? "labels end" : "last alert"
            out += " - warm-up end)\n"
        } else {
            out += "n/a days (no labels end and no alert)\n"
        }

        out += "\nInput: \(lines) lines, \(records) records, \(badLines) bad lines; scored \(scoredRecords) "
        out += "records of \(scoredAlerts) alerts\n"
        out += "  warm-up: \(warmupRecords) records of \(warmupAlerts) alerts, \(warmupAccounts) accounts "
        out += "(\(warmupAbusiveAccounts) abusive), not scored\n"
        for b in badLineExamples {
            out += Format.clip("  line \(b.line): \(b.reason)") + "\n"
        }
        if badLines > badLineExamples.count {
            out += "  ... \(badLines - badLineExamples.count) more bad lines\n"
        }
        if !metadata.isEmpty {
            out += "\nLabels:"
            var width = 7
            for m in metadata {
                let item = " \(m.key)=\(m.value)"
                if width + item.count > 100 {
                    out += "\n       "
                    width = 7
                }
                out += item
                width += item.count
            }
            out += "\n"
        }
        if !labelWarnings.isEmpty || !warnings.isEmpty {
            out += "\nWarnings:\n"
            for w in labelWarnings + warnings { out += Format.clip("  \(w)") + "\n" }
        }
        // Ids, kinds, account names and label values come from the alert and label files: no terminal escapes.
        return TerminalText.escaped(out, keepingNewlines: true)
    }
}

extension Format {
    /// `line` cut to 100 characters.
    static func clip(_ line: String) -> String { line.count > 100 ? String(line.prefix(99)) + "…" : line }
}
