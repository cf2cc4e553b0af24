import SendWatchCore
import SendWatchEval
import Testing

@Suite("Evaluation input: labels and alert lines")
struct InputTests {
    @Test("Hand-written labels are read, with extra keys kept as sorted metadata")
    func labelsRead() throws {
        let labels = try handLabels()
        #expect(labels.warmupEnd == time("2026-11-29T07:00:00Z"))
        #expect(labels.incidents.map(\.id) == ["swarm-1", "burst-1"])
        #expect(labels.incidents[0].firstSend.map(\.account) == ["t-1", "t-2"])
        #expect(
            labels.incidents[0].firstSend[1].time.microseconds == time("2026-11-29T08:05:00Z").microseconds + 500_000)
        #expect(labels.incidents[1].end == nil)
        #expect(labels.hardNegatives.map(\.accounts) == [["news@shop.example"], ["t-50", "t-51"]])
        #expect(labels.end == time("2026-11-30T07:00:00Z"))
        #expect(labels.metadata.map(\.key) == ["end", "notes", "scenario", "seed"])
        #expect(labels.metadata.map(\.value) == ["2026-11-30T07:00:00Z", "{1 keys}", "hand", "1"])
        #expect(labels.warnings.isEmpty)
    }

    @Test(
        "Bad labels are refused with the key named",
        arguments: [
            ("[]", "the top level must be a JSON object"),
            ("{", "not valid JSON"),
            (#"{"incidents":[],"hard_negatives":[],"abusive_accounts":[]}"#, "missing required key 'warmup_end'"),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","hard_negatives":[],"abusive_accounts":[]}"#,
                "missing required key 'incidents'"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"abusive_accounts":[]}"#,
                "missing required key 'hard_negatives'"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[]}"#,
                "missing required key 'abusive_accounts'"
            ),
            (
                #"{"warmup_end":"07:00","incidents":[],"hard_negatives":[],"abusive_accounts":[]}"#,
                "'warmup_end' is not an RFC 3339 time"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00","incidents":[],"hard_negatives":[],"abusive_accounts":[]}"#,
                "'warmup_end' is not an RFC 3339 time"
            ),
            (
                #"{"warmup_end":7,"incidents":[],"hard_negatives":[],"abusive_accounts":[]}"#,
                "'warmup_end' must be a string, not a number"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":{},"hard_negatives":[],"abusive_accounts":[]}"#,
                "'incidents' must be an array, not an object"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[{"id":"a","kind":"k","accounts":["x"]}],"hard_negatives":[],"abusive_accounts":["x"]}"#,
                "missing required key 'incidents[0].start'"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[{"id":"a","kind":"k","accounts":[],"start":"2026-11-29T08:00:00Z"}],"hard_negatives":[],"abusive_accounts":[]}"#,
                "'incidents[0].accounts' is empty"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[{"id":"a","kind":"k","accounts":["x",3],"start":"2026-11-29T08:00:00Z"}],"hard_negatives":[],"abusive_accounts":[]}"#,
                "'incidents[0].accounts[1]' must be a string, not a number"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[{"id":"a","kind":"k","accounts":["x"],"start":"2026-11-29T08:00:00Z","first_send":{"x":"soon"}}],"hard_negatives":[],"abusive_accounts":["x"]}"#,
                "'incidents[0].first_send.x' is not an RFC 3339 time"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[{"id":"a","kind":"k","accounts":["x"],"start":"2026-11-29T08:00:00Z"},{"id":"a","kind":"k","accounts":["y"],"start":"2026-11-29T08:00:00Z"}],"hard_negatives":[],"abusive_accounts":["x","y"]}"#,
                "duplicate id 'a'"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[{"id":"n","accounts":[]}],"abusive_accounts":[]}"#,
                "missing required key 'hard_negatives[0].kind'"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[],"abusive_accounts":[null]}"#,
                "'abusive_accounts[0]' must be a string, not null"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[],"abusive_accounts":[],"end":"x"}"#,
                "'end' is not an RFC 3339 time"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[],"abusive_accounts":[],"x":1e999}"#,
                "not valid JSON"
            ),
        ])
    func badLabels(json: String, message: String) {
        #expect {
            _ = try Labels.parse(Array(json.utf8))
        } throws: { error in
            guard let e = error as? EvaluationError else { return false }
            return e.code == .invalidLabels && e.message.contains(message)
        }
    }

    @Test(
        "A key that looks like a misspelt schema key is refused with the key and a suggestion; other keys are kept",
        arguments: [
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negative":[],"abusive_accounts":[]}"#,
                "'hard_negative' is not a key of the labels schema; did you mean 'hard_negatives'?"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[],"abusive_accounts":[],"ends":"2026-11-30T07:00:00Z"}"#,
                "'ends' is not a key of the labels schema; did you mean 'end'?"
            ),
            (
                #"{"Warmup_End":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[],"abusive_accounts":[]}"#,
                "did you mean 'warmup_end'?"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[{"id":"a","kind":"k","accounts":["x"],"start":"2026-11-29T08:00:00Z","frist_send":{"x":"2026-11-29T08:00:00Z"}}],"hard_negatives":[],"abusive_accounts":["x"]}"#,
                "'incidents[0].frist_send' is not a key of the labels schema; did you mean 'first_send'?"
            ),
            (
                #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[],"hard_negatives":[{"id":"n","kind":"k","Accounts":["y"],"accounts":[]}],"abusive_accounts":[]}"#,
                "'hard_negatives[0].Accounts' is not a key of the labels schema; did you mean 'accounts'?"
            ),
        ])
    func misspeltKeys(json: String, message: String) {
        #expect {
            _ = try Labels.parse(Array(json.utf8))
        } throws: { error in
            guard let e = error as? EvaluationError else { return false }
            return e.code == .invalidLabels && e.message.contains(message)
        }
    }

    @Test("Extra keys far from every schema key are allowed (seed, start, notes, description)")
    func extraKeysAllowed() throws {
        let json =
            #"{"warmup_end":"2026-11-29T07:00:00Z","incidents":[{"id":"a","kind":"k","accounts":["x"],"start":"2026-11-29T08:00:00Z","description":"wave 1"}],"hard_negatives":[{"id":"n","kind":"k","accounts":["y"],"notes":"ok"}],"abusive_accounts":["x"],"seed":1,"start":"2026-11-29T06:00:00Z","format":"exim"}"#
        let labels = try Labels.parse(Array(json.utf8))
        #expect(labels.metadata.map(\.key) == ["format", "seed", "start"])
    }

    @Test(
        "Alert input with lines but no SendWatch record is refused; an empty input scores as no detections",
        arguments: [
            (#"{"class_uid":2004,"category_uid":2,"finding_info":{"uid":"sw-1"}}"#, true),
            ("\u{00}\u{01}\u{FF}binary\u{02}", true),
            ("not json at all\n{\"v\":1}", true),
            ("", false),
            ("\n  \n", false),
        ])
    func noUsableAlerts(input: String, refused: Bool) throws {
        var evaluation = Evaluation(labels: try handLabels())
        try evaluation.consume(Array(input.utf8))
        if refused {
            #expect {
                _ = try evaluation.finish()
            } throws: { error in
                guard let e = error as? EvaluationError else { return false }
                return e.code == .noUsableAlerts && e.message.contains("line 1")
            }
        } else {
            let report = try evaluation.finish()
            #expect(report.records == 0)
            #expect(report.flaggedAccounts == 0)
        }
    }

    @Test("Inconsistent labels load with warnings")
    func labelWarnings() throws {
        let json = #"""
            {"warmup_end":"2026-11-29T07:00:00Z",
             "incidents":[{"id":"a","kind":"k","accounts":["x","y"],"start":"2026-11-29T08:00:00Z"}],
             "hard_negatives":[{"id":"n","kind":"newsletter","accounts":["x"]}],"abusive_accounts":["x"]}
            """#
        let labels = try Labels.parse(Array(json.utf8))
        #expect(labels.warnings.count == 2)
        #expect(labels.warnings[0].contains("incident 'a': 1 account(s) not in abusive_accounts"))
        #expect(labels.warnings[1].contains("look-alike 'n'"))
    }

    @Test(
        "RFC 3339 times",
        arguments: [
            ("2026-11-29T07:15:00Z", Int64(1_795_936_500) * 1_000_000),
            ("2026-11-29t07:15:00z", Int64(1_795_936_500) * 1_000_000),
            ("2026-11-29 07:15:00Z", Int64(1_795_936_500) * 1_000_000),
            ("2026-11-29T08:15:00+01:00", Int64(1_795_936_500) * 1_000_000),
            ("2026-11-29T02:45:00-04:30", Int64(1_795_936_500) * 1_000_000),
            ("2026-11-29T07:15:00.5Z", Int64(1_795_936_500) * 1_000_000 + 500_000),
            ("2026-11-29T07:15:00.123456789Z", Int64(1_795_936_500) * 1_000_000 + 123_456),
            ("2016-12-31T23:59:60Z", Int64(1_483_228_800) * 1_000_000),
        ])
    func rfc3339(text: String, micros: Int64) {
        #expect(RFC3339.parse(text)?.microseconds == micros)
    }

    @Test(
        "Not RFC 3339",
        arguments: [
            "", "2026-11-29", "2026-11-29T07:15:00", "2026-11-29T07:15Z", "2026-02-30T07:15:00Z",
            "2026-11-29T24:00:00Z", "2026-11-29T07:15:00.Z", "2026-11-29T07:15:00.1234567890Z",
            "2026-11-29T07:15:00+0100", "2026-11-29T07:15:00Z ", "2026-1-29T07:15:00Z", "２026-11-29T07:15:00Z",
        ])
    func notRFC3339(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test(
        "Malformed alert lines are counted with their line numbers and skipped",
        arguments: [
            ("not json", "not valid JSON"),
            ("[1,2]", "must be a JSON object"),
            (#"{"id":"a"}"#, "missing required key 'v'"),
            (#"{"v":"1","id":"a"}"#, "'v' must be a number from 1 to 5, not a string"),
            (
                #"{"v":1,"action":"create","kind":"k","event_time":"2026-11-29T08:00:00Z","accounts":[]}"#,
                "missing required key 'id'"
            ),
            (
                #"{"v":1,"id":"a","action":"open","kind":"k","event_time":"2026-11-29T08:00:00Z","accounts":[]}"#,
                "'action' must be create, update or close"
            ),
            (
                #"{"v":1,"id":"a","action":"create","kind":"k","event_time":"yesterday","accounts":[]}"#,
                "'event_time' is not an RFC 3339 time"
            ),
            (
                #"{"v":1,"id":"a","action":"create","kind":"k","event_time":"2026-11-29T08:00:00Z","accounts":"t-1"}"#,
                "'accounts' must be an array, not a string"
            ),
            (
                #"{"v":1,"id":"a","action":"create","kind":"k","event_time":"2026-11-29T08:00:00Z","accounts":[1]}"#,
                "'accounts[0]' must be a string"
            ),
            (
                #"{"v":1,"id":"a","action":"create","kind":"k","event_time":"2026-11-29T08:00:00Z","accounts":[],"accounts_total":-1}"#,
                "'accounts_total' must be a non-negative integer"
            ),
            (String(repeating: "[", count: 100_000), "not valid JSON"),
        ])
    func malformedLine(line: String, reason: String) throws {
        let good = alertLine("a1", at: "2026-11-29T08:30:00Z", accounts: ["t-1"])
        let report = try evaluate([good, "", line, good], labels: try handLabels())
        #expect(report.lines == 4)
        #expect(report.records == 2)
        #expect(report.badLines == 1)
        #expect(report.badLineExamples.first?.line == 3)
        #expect(report.badLineExamples.first?.reason.contains(reason) == true)
    }

    @Test("A line longer than maxLineBytes is a bad line; the next line is read")
    func longLine() throws {
        var evaluation = Evaluation(labels: try handLabels(), limits: .init(maxLineBytes: 300))
        let good = alertLine("a1", at: "2026-11-29T08:30:00Z", accounts: ["t-1"])
        let long = alertLine("a2", at: "2026-11-29T08:30:00Z", accounts: (0..<100).map { "acct-\($0)" })
        try evaluation.consume(Array((long + "\n" + good + "\n" + long).utf8))
        let report = try evaluation.finish()
        #expect(report.records == 1)
        #expect(report.badLines == 2)
        #expect(report.badLineExamples.map(\.line) == [1, 3])
        #expect(report.badLineExamples[0].reason.hasPrefix("line_too_long"))
    }

    @Test("Bad-line examples are capped; the count is not")
    func badLineExamplesCapped() throws {
        var evaluation = Evaluation(labels: try handLabels(), limits: .init(maxBadLineExamples: 3))
        try evaluation.consume(Array(String(repeating: "x\n", count: 50).utf8))
        try evaluation.consume(Array((alertLine("a1", at: "2026-11-29T08:30:00Z", accounts: ["t-1"]) + "\n").utf8))
        let report = try evaluation.finish()
        #expect(report.records == 1)
        #expect(report.badLines == 50)
        #expect(report.badLineExamples.map(\.line) == [1, 2, 3])
        #expect(report.text().contains("... 47 more bad lines"))
    }

    @Test("eval and report read every schema version SendWatch writes, up to the current one")
    func readableVersionsFollowTheWriter() {
        #expect(AlertRecord.readableVersions == 1...Alert.schemaVersion)
    }

    @Test("An alert record of another schema version is an error naming the line")
    func unsupportedVersion() throws {
        let next = Alert.schemaVersion + 1
        let v6 = alertLine("a1", at: "2026-11-29T08:30:00Z", accounts: ["t-1"]).replacingVersion(next)
        #expect {
            _ = try evaluate([alertLine("a0", at: "2026-11-29T08:30:00Z", accounts: []), v6], labels: try handLabels())
        } throws: { error in
            guard let e = error as? EvaluationError else { return false }
            return e.code == .unsupportedAlertVersion && e.message.contains("line 2")
                && e.message.contains("version \(next)")
        }
    }

    @Test("Feeding the alert file in chunks of any size gives the same report", arguments: [1, 2, 7, 64, 1000])
    func chunking(size: Int) throws {
        let text = [
            alertLine("a1", at: "2026-11-29T08:04:00Z", accounts: ["t-1", "t-2"]),
            "broken",
            alertLine("a1", "close", at: "2026-11-29T08:10:00Z", accounts: ["t-1", "zed"]) + "\r",
            "",
            alertLine("a2", at: "2026-11-29T09:02:30Z", accounts: ["u-1"]),
        ].joined(separator: "\n")
        let whole = try evaluate([text], labels: try handLabels())
        var evaluation = Evaluation(labels: try handLabels())
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            try evaluation.consume(Array(bytes[i..<min(i + size, bytes.count)]))
            try evaluation.consume([])
            i += size
        }
        let chunked = try evaluation.finish()
        #expect(chunked == whole)
        #expect(whole.records == 3)
        #expect(whole.lines == 5)
        #expect(whole.badLineExamples.map(\.line) == [2])
    }

    @Test("At the account cap, new accounts are not tracked and the report says so")
    func accountCap() throws {
        var evaluation = Evaluation(labels: try handLabels(), limits: .init(maxTrackedAccounts: 2))
        try evaluation.consume(Array(alertLine("a", at: "2026-11-29T08:30:00Z", accounts: ["p", "q", "r"]).utf8))
        let report = try evaluation.finish()
        #expect(report.flaggedAccounts == 2)
        #expect(report.warnings.count == 1)
        #expect(report.warnings[0].contains("account cap (2) reached"))
    }
}

extension String {
    fileprivate func replacingVersion(_ v: Int) -> String {
        guard hasPrefix(#"{"v":1,"#) else { return self }
        return #"{"v":\#(v),"# + dropFirst(7)
    }
}
