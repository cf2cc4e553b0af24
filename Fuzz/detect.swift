// Fuzz target: format detection (`--format auto`) over raw lines (journal and Docker JSON envelopes, every
// syslog shape, layouts, other MTAs' logs), then the Postfix and Exim parsers over the same lines.

import SendWatchCore
import SendWatchFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    // Deterministic: two detectors fed the same lines decide the same at the same line.
    var first = FormatDetector(decisiveVotes: 4)
    var second = FormatDetector(decisiveVotes: 4)
    var decisions: [LogFormat?] = []
    forEachLine(data) { decisions.append(first.observe(line: $0)) }
    var again: [LogFormat?] = []
    forEachLine(data) { again.append(second.observe(line: $0)) }
    guard decisions == again, first.bestGuess == second.bestGuess, first.foreignGuess == second.foreignGuess else {
        fuzzFailure("detection differs between two runs over the same lines")
    }
    // Restart: a detector saved before line k (from the last byte) and restored decides as the uninterrupted one.
    let split = Int(data.last ?? 0) % (decisions.count + 1)
    var current = FormatDetector(decisiveVotes: 4)
    var restarted: [LogFormat?] = []
    var index = 0
    forEachLine(data) { line in
        if index == split {
            do {
                current = try FormatDetector(decisiveVotes: 4, restoring: current.checkpoint())
            } catch {
                fuzzFailure("a detector's own checkpoint does not restore: \(error)")
            }
        }
        restarted.append(current.observe(line: line))
        index += 1
    }
    guard restarted == decisions, current.bestGuess == first.bestGuess else {
        fuzzFailure("a restored detector decides differently: \(restarted) vs \(decisions)")
    }
    // The parsers read whatever detection saw (envelopes, split Exim lines) without trapping.
    var events: EventBatch = []
    var postfix = PostfixParser(configuration: FormatConfiguration(maxOpenMessages: 16))
    var exim = EximParser(configuration: FormatConfiguration(maxOpenMessages: 16))
    postfix.beginInput(yearHint: yearHint(data))
    exim.beginInput(yearHint: yearHint(data))
    forEachLine(data) { line in
        _ = postfix.parse(line: line, into: &events)
        _ = exim.parse(line: line, into: &events)
    }
    postfix.finish(into: &events)
    exim.finish(into: &events)
    checkEventLines(events)
    for c in [postfix.counters, exim.counters] {
        guard c.understood + c.ignored + c.rejectedTotal == c.lines, c.otherPrograms <= c.ignored else {
            fuzzFailure("line classes do not add up: \(c)")
        }
    }
    return 0
}
