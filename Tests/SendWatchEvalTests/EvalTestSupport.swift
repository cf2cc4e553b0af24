import SendWatchCore
import SendWatchEval

/// Hand-written labels: two incidents, two look-alike groups, one day of labelled traffic after the warm-up.
let handLabelsJSON = """
    {"warmup_end": "2026-11-29T07:00:00Z",
     "incidents": [
       {"id": "swarm-1", "kind": "tenant-swarm", "accounts": ["t-1", "t-2", "t-3", "t-4"],
        "start": "2026-11-29T08:00:00Z", "end": "2026-11-29T09:00:00Z",
        "first_send": {"t-1": "2026-11-29T08:00:00Z", "t-2": "2026-11-29T08:05:00.5+00:00"}},
       {"id": "burst-1", "kind": "young-burst", "accounts": ["u-1"], "start": "2026-11-29T10:00:00+01:00"}
     ],
     "hard_negatives": [
       {"id": "news-1", "kind": "newsletter", "accounts": ["news@shop.example"]},
       {"id": "onboard-1", "kind": "tenant-onboarding", "accounts": ["t-50", "t-51"]}
     ],
     "abusive_accounts": ["t-1", "t-2", "t-3", "t-4", "u-1"],
     "scenario": "hand", "seed": 1, "end": "2026-11-30T07:00:00Z", "notes": {"by": "me"}}
    """

func handLabels() throws -> Labels { try Labels.parse(Array(handLabelsJSON.utf8)) }

/// One alert line in schema v1 with the keys `Alert.writeJSONLine` writes.
func alertLine(
    _ id: String, _ action: String = "create", at time: String, accounts: [String], total: Int? = nil,
    kind: String = "template_swarm"
) -> String {
    let list = accounts.map { "\"\($0)\"" }.joined(separator: ",")
    return """
        {"v":1,"id":"\(id)","action":"\(action)","kind":"\(kind)","severity":"high","score":0.9,\
        "event_time":"\(time)","first_event_time":"\(time)","accounts":[\(list)],\
        "accounts_total":\(total ?? accounts.count),"template":{"id":"t1"},\
        "evidence":{"n":3},"reasons":["why"]}
        """
}

/// Scores `lines` (joined with newlines) against `labels`.
func evaluate(_ lines: [String], labels: Labels) throws -> EvaluationReport {
    var evaluation = Evaluation(labels: labels)
    try evaluation.consume(Array(lines.joined(separator: "\n").utf8))
    return try evaluation.finish()
}

func time(_ text: String) -> EventTime {
    // Safe to force unwrap: test constants.
    RFC3339.parse(text)!
}
