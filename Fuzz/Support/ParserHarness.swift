// The shared body of the three parser targets (postfix, exim, jsonl).

import SendWatchCore

/// The keys of a `sendwatch events` line, in order (`account_created` only when known).
let eventKeys = [
    "time", "host", "account", "account_source", "sender", "recipient", "subject", "template", "message_id",
    "queue_id", "client_ip", "status",
]

/// Writes every event as a JSON line and checks that the line is one JSON object with exactly the event keys.
func checkEventLines(_ events: EventBatch) {
    var writer = JSONWriter(capacity: 1024)
    for event in events {
        writer.reset()
        event.writeJSONLine(to: &writer)
        guard let keys = JSONCheck.objectKeys(ofLine: writer.bytes) else {
            fuzzFailure("event line is not one JSON object: \(String(decoding: writer.bytes, as: UTF8.self))")
        }
        let expected = event.accountCreated == nil ? eventKeys : eventKeys + ["account_created"]
        guard keys == expected else {
            fuzzFailure("event line has keys \(keys), expected \(expected)")
        }
    }
}

/// Feeds the input to `parser` line by line (the first byte picks the year hint), then finishes, checking every
/// event written on the way and the counters at the end.
func fuzzParser<P: EventParser>(_ parser: inout P, _ data: UnsafeRawBufferPointer) {
    let hint: YearHint
    switch data.first.map({ $0 & 3 }) {
    case 0: hint = .none
    case 1: hint = .modified(EventTime(seconds: 1_700_000_000))
    default: hint = .year(2024)
    }
    parser.beginInput(yearHint: hint)
    var events: EventBatch = []
    var lines = 0
    forEachLine(data) { line in
        lines += 1
        _ = parser.parse(line: line, into: &events)
        if events.count > 256 {
            checkEventLines(events)
            events.removeAll(keepingCapacity: true)
        }
    }
    parser.finish(into: &events)
    checkEventLines(events)
    let counters = parser.counters
    guard counters.lines == lines else {
        fuzzFailure("counted \(counters.lines) lines, fed \(lines)")
    }
}
