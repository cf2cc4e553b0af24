// The shared body of the three parser targets (postfix, exim, jsonl).

import SendWatchCore

/// The keys of a `sendwatch events` line, in order (`account_created` only when known, then `subject_cut` only
/// when the log cut the subject).
let eventKeys = [
    "time", "host", "account", "account_source", "sender", "recipient", "subject", "template", "message_id",
    "queue_id", "client_ip", "login", "claimed_account", "status",
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
        let expected =
            eventKeys + (event.accountCreated == nil ? [] : ["account_created"])
            + (event.subjectCut ? ["subject_cut"] : [])
        guard keys == expected else {
            fuzzFailure("event line has keys \(keys), expected \(expected)")
        }
    }
}

/// How a parser target saves and restores its parser (the same calls `sendwatch tail` makes).
struct Restart<P: EventParser, Saved: Codable & Equatable> {
    var save: (P) -> Saved
    var restore: (Saved) throws -> P
}

/// The year hint picked by the input's first byte.
func yearHint(_ data: UnsafeRawBufferPointer) -> YearHint {
    switch data.first.map({ $0 & 3 }) {
    case 0: return .none
    case 1: return .modified(EventTime(seconds: 1_700_000_000))
    default: return .year(2024)
    }
}

/// Feeds the input to `make()`'s parser line by line, then finishes, checking every event written on the way and
/// the counters at the end.
///
/// Then the restart property: a second parser is stopped before line k (k from the input's last byte), its
/// checkpoint goes through StateCoding and back, must restore, must save the same state again, and the restored
/// parser must give exactly the outcomes, events and counters of the uninterrupted run.
func fuzzParser<P: EventParser, Saved: Codable & Equatable>(
    _ make: () -> P, _ restart: Restart<P, Saved>, _ data: UnsafeRawBufferPointer
) {
    let hint = yearHint(data)
    var parser = make()
    parser.beginInput(yearHint: hint)
    var events: EventBatch = []
    var outcomes: [LineOutcome] = []
    forEachLine(data) { line in
        outcomes.append(parser.parse(line: line, into: &events))
    }
    parser.finish(into: &events)
    checkEventLines(events)
    guard parser.counters.lines == outcomes.count else {
        fuzzFailure("counted \(parser.counters.lines) lines, fed \(outcomes.count)")
    }

    let split = Int(data.last ?? 0) % (outcomes.count + 1)
    var first = make()
    first.beginInput(yearHint: hint)
    var restartedEvents: EventBatch = []
    var restartedOutcomes: [LineOutcome] = []
    var restarted: P?
    var index = 0
    forEachLine(data) { line in
        if index == split { restarted = roundTrip(first, restart) }
        if restarted != nil {
            restartedOutcomes.append(restarted!.parse(line: line, into: &restartedEvents))
        } else {
            restartedOutcomes.append(first.parse(line: line, into: &restartedEvents))
        }
        index += 1
    }
    var last = restarted ?? roundTrip(first, restart)
    last.finish(into: &restartedEvents)
    guard restartedOutcomes == outcomes else {
        let common = min(restartedOutcomes.count, outcomes.count)
        let at = (0..<common).first { restartedOutcomes[$0] != outcomes[$0] } ?? common
        fuzzFailure("restart before line \(split): outcome of line \(at) differs")
    }
    guard restartedEvents == events else {
        fuzzFailure(
            "restart before line \(split): \(restartedEvents.count) events, uninterrupted \(events.count) (or they differ)"
        )
    }
    guard last.counters == parser.counters else {
        fuzzFailure("restart before line \(split): counters \(last.counters), uninterrupted \(parser.counters)")
    }
}

/// Saves `parser`, encodes and decodes the checkpoint, restores it, and checks the restored parser saves the same.
func roundTrip<P: EventParser, Saved: Codable & Equatable>(_ parser: P, _ restart: Restart<P, Saved>) -> P {
    let saved = restart.save(parser)
    do {
        let decoded = try StateCoding.decode(Saved.self, from: StateCoding.encode(saved))
        guard decoded == saved else { fuzzFailure("checkpoint changed in StateCoding: \(saved) → \(decoded)") }
        let restored = try restart.restore(decoded)
        guard restart.save(restored) == saved else { fuzzFailure("restored parser saves a different checkpoint") }
        return restored
    } catch {
        fuzzFailure("a parser's own checkpoint does not restore: \(error)")
    }
}
