import Foundation
import SendWatchCore
import SendWatchEval
import Testing

/// One v5 alert line with an incident and the incidents merged into it.
private func line(_ id: String, incident: String, merged: [String] = [], at time: String, accounts: [String]) -> String
{
    var base = alertLine(id, at: time, accounts: accounts)
    base = base.replacingOccurrences(of: #"{"v":1,"id":"\#(id)","#, with: #"{"v":5,"id":"\#(id)","#)
    let mergedJSON =
        merged.isEmpty ? "" : #","merged_incidents":["# + merged.map { "\"\($0)\"" }.joined(separator: ",") + "]"
    return base.replacingOccurrences(
        of: #""id":"\#(id)","#, with: #""id":"\#(id)","incident":"\#(incident)"\#(mergedJSON),"#)
}

@Suite struct IncidentSplitTests {
    @Test("Each labelled incident counts the SendWatch incidents naming its accounts, merged ids joined")
    func fragmentation() throws {
        let labels = try handLabels()
        // swarm-1 is in two SendWatch incidents (A, B) until a record of A says B was merged into it.
        let split = [
            line("a1", incident: "A", at: "2026-11-29T08:01:00Z", accounts: ["t-1"]),
            line("b1", incident: "B", at: "2026-11-29T08:02:00Z", accounts: ["t-2"]),
            line("u1", incident: "U", at: "2026-11-29T09:30:00Z", accounts: ["u-1"]),
        ]
        let before = try evaluate(split, labels: labels)
        #expect(before.incidents.map(\.sendWatchIncidents) == [2, 1])
        #expect(before.incidentsSplit == 1)
        #expect(before.incidentsSharing == 0)
        #expect(before.text().contains("1 labelled incident(s) split over several, 0 sharing one with another"))
        let merged = split + [line("a1", incident: "A", merged: ["B"], at: "2026-11-29T08:03:00Z", accounts: ["t-1"])]
        let after = try evaluate(merged, labels: labels)
        #expect(after.incidents.map(\.sendWatchIncidents) == [1, 1])
        #expect(after.incidentsSplit == 0)
        // A record listing accounts of both labelled incidents makes them share one SendWatch incident.
        let shared = merged + [line("c1", incident: "U", merged: ["A"], at: "2026-11-29T09:40:00Z", accounts: ["u-1"])]
        let joined = try evaluate(shared, labels: labels)
        #expect(joined.incidents.map(\.sendWatchIncidents) == [1, 1])
        #expect(joined.incidentsSharing == 2)
        #expect(joined.incidents.map(\.sharesIncidentWith) == [["burst-1"], ["swarm-1"]])
        let json = String(decoding: joined.jsonBytes(), as: UTF8.self)
        #expect(json.contains(#""incidents_split":0,"incidents_sharing":2,"#))
        #expect(json.contains(#""sendwatch_incidents":1,"shares_incident_with":["burst-1"]"#))
        // Records before schema v3 have no incident: each alert id is its own.
        let old = try evaluate(
            [
                alertLine("x", at: "2026-11-29T08:01:00Z", accounts: ["t-1"]),
                alertLine("y", at: "2026-11-29T08:02:00Z", accounts: ["t-2"]),
            ], labels: labels)
        #expect(old.incidents.map(\.sendWatchIncidents) == [2, 0])
    }

    @Test("An aggregate alert (no template, no artefact, several accounts) is no split of a campaign it lists")
    func aggregateAlerts() throws {
        let labels = try handLabels()
        func aggregate(_ id: String, incident: String, accounts: [String], artefact: Bool = false) -> String {
            line(id, incident: incident, at: "2026-11-29T09:35:00Z", accounts: accounts)
                .replacingOccurrences(
                    of: #""template":{"id":"t1"}"#, with: #""template":null"#
                )
                .replacingOccurrences(
                    of: #""evidence":{"n":3}"#,
                    with: artefact ? #""evidence":{"artefact":"+18665550197"}"# : #""evidence":{"n":3}"#)
        }
        let campaign = [
            line("a1", incident: "A", at: "2026-11-29T08:01:00Z", accounts: ["t-1", "t-2"]),
            line("u1", incident: "U", at: "2026-11-29T09:30:00Z", accounts: ["u-1"]),
        ]
        // A concentrated_strangers alert over all templates, in its own incident Z, lists accounts of both.
        let report = try evaluate(
            campaign + [aggregate("z1", incident: "Z", accounts: ["t-1", "u-1"])], labels: labels)
        #expect(report.incidents.map(\.sendWatchIncidents) == [1, 1])
        #expect(report.incidentsSplit == 0 && report.incidentsSharing == 0)
        // With an artefact it is a campaign's alert: the swarm is then in two incidents, and shares Z with the burst.
        let linked = try evaluate(
            campaign + [aggregate("z1", incident: "Z", accounts: ["t-1", "u-1"], artefact: true)], labels: labels)
        #expect(linked.incidents.map(\.sendWatchIncidents) == [2, 2])
        // A campaign only an aggregate alert names is in that alert's incident.
        let alone = try evaluate([aggregate("z1", incident: "Z", accounts: ["t-1", "t-2"])], labels: labels)
        #expect(alone.incidents.map(\.sendWatchIncidents) == [1, 0])
    }
}
