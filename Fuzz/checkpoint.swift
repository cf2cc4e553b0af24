// Fuzz target: checkpoint files and their state bodies.
//
// The first byte picks what the rest is (mod 6):
//   0  a checkpoint file → CheckpointFile.read, then its body as in 1 and 2;
//   1  a StateCoding body of DetectionEngine.Checkpoint → restore the engine, process a few events; restore it
//      again keeping only what fits a changed configuration (as tail does after one), process a few events;
//   2  a StateCoding body of PostfixParser.Checkpoint → restore the parser, parse a few lines;
//   3  a StateCoding body of EximParser.Checkpoint → restore the parser, parse a few lines;
//   4  as 1, but the body is encoded as `tail` writes it, with its large arrays out of line (StateSections: the
//      2 MiB count-min sketch of established domains, the recipient filters), and those are taken from an empty
//      engine: nearly every mutation then lands in the tables, the miner and the alerts instead of the arrays;
//   5  a StateCoding body of a Postfix, Exim or JSON-lines checkpoint in version 1's layout (written up to
//      0aee8b2) → read through decodeCheckpoint(from:version: 1) as `tail` reads an older state, restore, parse a
//      few lines.
// The CRC in a checkpoint file makes mutations of a file's body useless, so modes 1-5 fuzz the body decoding
// directly. Set SENDWATCH_FUZZ_WRITE_SEEDS=<dir> to write real checkpoints of every kind there and exit (the
// seeds in Fuzz/Seeds/checkpoint were made so).

import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchIngest
import SendWatchTemplates

#if canImport(Glibc)
import Glibc
#endif

/// A small detection configuration, so that the state (and the seeds) stay small; restoring uses the same.
let detectionConfiguration = DetectionConfiguration(
    ages: .init(warmupSeconds: 600, maxTrackedAccounts: 256, rememberedFilterBits: 1024),
    miner: .init(maxTemplates: 64, cacheSize: 64),
    memoryBudgetBytes: 1 << 20, maxAlertAccounts: 16)

let formatConfiguration = FormatConfiguration(maxOpenMessages: 64)

/// A few events that touch the young-account, template and fan-in paths.
func sampleEvents(from t0: Int64, count: Int) -> [SendEvent] {
    var events: [SendEvent] = []
    for i in 0..<count {
        let account: String = i % 5 == 0 ? "old-\(i % 3)" : "young-\(i % 9)"
        let created: EventTime? = i % 4 == 0 ? EventTime(seconds: t0 - 3600) : nil
        let template: String? = i % 6 == 0 ? "parcel" : nil
        let subject = "Your parcel \(i % 4) is on hold, call +1 555 010\(i % 10)"
        let time = EventTime(seconds: t0 &+ Int64(i * 7))
        events.append(
            SendEvent(
                time: time, account: account, accountSource: .header, accountCreated: created,
                sender: "no-reply@platform.example", recipient: "user\(i % 11)@mail\(i % 3).example",
                subject: subject, template: template, messageID: "m\(i)@platform.example", status: .sent))
    }
    return events
}

let postfixLines = [
    #"2026-11-29T05:31:13.964711+00:00 vm postfix/submission/smtpd[30644]: 4jcbNd6rkhz7hqW: client=unknown[127.0.0.13], sasl_method=PLAIN, sasl_username=carol@example.org"#,
    #"2026-11-29T05:31:13.965058+00:00 vm postfix/cleanup[30648]: 4jcbNd6rkhz7hqW: message-id=<20261129053113.000001.e8e25d94@example.org>"#,
    #"2026-11-29T05:31:13.965081+00:00 vm postfix/cleanup[30648]: 4jcbNd6rkhz7hqW: warning: header Subject: Invoice INV-2026-0042 for November from unknown[127.0.0.13]; from=<carol@example.org> to=<mei69@mailbox.test> proto=ESMTP helo=<carol-desktop>"#,
    #"2026-11-29T05:31:13.965096+00:00 vm postfix/cleanup[30648]: 4jcbNd6rkhz7hqW: warning: header X-Account-Id: acct-1003 from unknown[127.0.0.13]; from=<carol@example.org> to=<mei69@mailbox.test> proto=ESMTP helo=<carol-desktop>"#,
    #"2026-11-29T05:31:13.965622+00:00 vm postfix/qmgr[30640]: 4jcbNd6rkhz7hqW: from=<carol@example.org>, size=578, nrcpt=1 (queue active)"#,
    #"2026-11-29T05:31:13.972449+00:00 vm postfix/smtp[30649]: 4jcbNd6rkhz7hqW: to=<mei69@mailbox.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.01, delays=0/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as SINK000001)"#,
    #"2026-11-29T05:31:13.972707+00:00 vm postfix/qmgr[30640]: 4jcbNd6rkhz7hqW: removed"#,
]

let jsonLines = [
    #"{"ts":1795930513,"account":"acct-1003","to":["mei69@mailbox.test","mei69@mailbox.test"],"status":"odd"}"#,
    #"{"ts":1795930514,"account":"acct-1004","to":"ben.liam@mailbox.test","subject":"Photos"}"#,
]

let eximLines = [
    #"2026-11-29 05:35:47 1xXXZj-0000c0-39 X-Account-Id: acct-1002"#,
    #"2026-11-29 05:35:47 1xXXZj-0000c0-39 <= bob@example.net H=([127.0.0.12]) [127.0.0.12]:49079 P=esmtpa A=plain_server:bob@example.net S=573 id=20261129053547.000001.2b5eadad@example.net T="Photos from the weekend" for ben.liam@mailbox.test ximena@uni.example.edu"#,
    #"2026-11-29 05:35:47 1xXXZj-0000c0-39 => ben.liam@mailbox.test F=<bob@example.net> R=smarthost T=remote_smtp S=594 H=127.0.0.1 [127.0.0.1] C="250 2.0.0 Ok: queued as SINK000001""#,
    #"2026-11-29 05:35:47 1xXXZj-0000c0-39 -> ximena@uni.example.edu F=<bob@example.net> R=smarthost T=remote_smtp S=594 H=127.0.0.1 [127.0.0.1] C="250 2.0.0 Ok: queued as SINK000001""#,
    #"2026-11-29 05:35:47 1xXXZj-0000c0-39 Completed"#,
]

func parse<P: EventParser>(_ parser: inout P, _ lines: [String]) {
    var events: EventBatch = []
    parser.beginInput(yearHint: .year(2026))
    for line in lines {
        Array(line.utf8).withUnsafeBytes { _ = parser.parse(line: $0, into: &events) }
    }
    parser.finish(into: &events)
}

/// ``detectionConfiguration`` with fewer accounts per alert: every shared table's distinct counts change shape, so
/// restoring a state saved under ``detectionConfiguration`` with it keeps some parts and resets others.
let changedDetectionConfiguration = DetectionConfiguration(
    ages: .init(warmupSeconds: 600, maxTrackedAccounts: 256, rememberedFilterBits: 1024),
    miner: .init(maxTemplates: 64, cacheSize: 64),
    memoryBudgetBytes: 1 << 20, maxAlertAccounts: 8)

/// Restores an engine from `body` (its large arrays in `sections`, when given) and runs it.
func fuzzEngineBody(_ body: [UInt8], sections: StateSections? = nil) {
    let decoded =
        sections.map { try? StateCoding.decode(DetectionEngine.Checkpoint.self, from: body, sections: $0) }
        ?? (try? StateCoding.decode(DetectionEngine.Checkpoint.self, from: body))
    guard let saved = decoded else { return }
    if var engine = try? DetectionEngine(configuration: detectionConfiguration, restoring: saved) {
        runEngine(&engine)
    }
    // What `tail` does after a configuration change: keep the parts that fit, start the others empty.
    var reset: [String] = []
    var partial = DetectionEngine(configuration: changedDetectionConfiguration, restoringWhatFits: saved, reset: &reset)
    runEngine(&partial)
}

/// Processes a few events after the engine's watermark, finishes, and checkpoints again.
func runEngine(_ engine: inout DetectionEngine) {
    var alerts: [Alert] = []
    let t0 = engine.watermark?.seconds ?? 1_800_000_000
    for event in sampleEvents(from: t0 &+ 1, count: 24) { engine.process(event, into: &alerts) }
    engine.finish(into: &alerts)
    _ = try? StateCoding.encode(engine.checkpoint())
}

func fuzzPostfixBody(_ body: [UInt8]) {
    guard let saved = try? StateCoding.decode(PostfixParser.Checkpoint.self, from: body),
        var parser = try? PostfixParser(configuration: formatConfiguration, restoring: saved)
    else { return }
    parse(&parser, postfixLines)
}

/// A parser's state read as checkpoint version 1 (``CheckpointingParser/decodeCheckpoint(from:version:)``), as
/// `tail` reads one saved by an older build.
struct VersionOneState<Parser: CheckpointingParser>: Decodable {
    var checkpoint: Parser.Checkpoint

    init(from decoder: any Decoder) throws { checkpoint = try Parser.decodeCheckpoint(from: decoder, version: 1) }
}

/// Mode 5: the body as a version-1 Postfix state, then as a version-1 Exim state, then as a version-1 JSON-lines
/// state.
func fuzzVersionOneBody(_ body: [UInt8]) {
    if let saved = try? StateCoding.decode(VersionOneState<PostfixParser>.self, from: body),
        var parser = try? PostfixParser(configuration: formatConfiguration, restoring: saved.checkpoint)
    {
        parse(&parser, postfixLines)
    }
    if let saved = try? StateCoding.decode(VersionOneState<EximParser>.self, from: body),
        var parser = try? EximParser(configuration: formatConfiguration, restoring: saved.checkpoint)
    {
        parse(&parser, eximLines)
    }
    if let saved = try? StateCoding.decode(VersionOneState<JSONLinesParser>.self, from: body),
        var parser = try? JSONLinesParser(configuration: formatConfiguration, restoring: saved.checkpoint)
    {
        parse(&parser, jsonLines)
    }
}

func fuzzEximBody(_ body: [UInt8]) {
    guard let saved = try? StateCoding.decode(EximParser.Checkpoint.self, from: body),
        var parser = try? EximParser(configuration: formatConfiguration, restoring: saved)
    else { return }
    parse(&parser, eximLines)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    guard let mode = data.first else { return 0 }
    let rest = UnsafeRawBufferPointer(rebasing: data[1...])
    switch mode % 6 {
    case 0:
        writeScratchFile(scratchPath, rest)
        guard let contents = try? CheckpointFile.read(path: scratchPath, maxBytes: 1 << 20) else { return 0 }
        _ = CheckpointFile.integerField("version", in: contents.header)
        fuzzEngineBody(contents.body)
        fuzzPostfixBody(contents.body)
    case 1: fuzzEngineBody(Array(rest))
    case 2: fuzzPostfixBody(Array(rest))
    case 4: fuzzEngineBody(Array(rest), sections: emptyEngineSections)
    case 5: fuzzVersionOneBody(Array(rest))
    default: fuzzEximBody(Array(rest))
    }
    return 0
}

// MARK: - The large arrays of an engine body

/// The large arrays of an empty engine's checkpoint, out of line as `tail` writes them: found through the
/// encoding's structure (``StateSections``), not by searching the body's bytes, so a change of the engine's layout
/// cannot lose them.
let emptyEngineSections: StateSections = {
    var body: [UInt8] = []
    var sections = StateSections()
    do {
        try StateCoding.encode(
            DetectionEngine(configuration: detectionConfiguration).checkpoint(), into: &body, sections: &sections)
    } catch {
        fuzzFailure("cannot encode an empty engine's checkpoint: \(error)")
    }
    guard !sections.parts.isEmpty else { fuzzFailure("an empty engine's checkpoint has no large arrays") }
    return sections
}()

/// `engine`'s checkpoint without its large arrays (which must have the sizes of ``emptyEngineSections``), for
/// mode 4.
func bodyWithoutSections(_ engine: DetectionEngine) throws -> [UInt8] {
    var body: [UInt8] = []
    var sections = StateSections()
    try StateCoding.encode(engine.checkpoint(), into: &body, sections: &sections)
    guard sections.parts.map(\.count) == emptyEngineSections.parts.map(\.count) else {
        fuzzFailure("the engine's large arrays changed size")
    }
    return body
}

// MARK: - Seeds

/// Writes `[mode] + bytes` to `directory/name`, after checking that the body restores (a seed that does not
/// would only exercise the decoder's error paths).
func writeSeed(_ directory: String, _ name: String, mode: UInt8, _ bytes: [UInt8]) {
    do {
        switch mode {
        case 1:
            _ = try DetectionEngine(
                configuration: detectionConfiguration,
                restoring: StateCoding.decode(DetectionEngine.Checkpoint.self, from: bytes))
        case 4:
            _ = try DetectionEngine(
                configuration: detectionConfiguration,
                restoring: StateCoding.decode(
                    DetectionEngine.Checkpoint.self, from: bytes, sections: emptyEngineSections))
        case 2:
            _ = try PostfixParser(
                configuration: formatConfiguration,
                restoring: StateCoding.decode(PostfixParser.Checkpoint.self, from: bytes))
        case 3:
            _ = try EximParser(
                configuration: formatConfiguration,
                restoring: StateCoding.decode(EximParser.Checkpoint.self, from: bytes))
        case 5:
            // Postfix, Exim or JSON lines: one of the three must restore.
            let postfix = try? PostfixParser(
                configuration: formatConfiguration,
                restoring: StateCoding.decode(VersionOneState<PostfixParser>.self, from: bytes).checkpoint)
            let exim = try? EximParser(
                configuration: formatConfiguration,
                restoring: StateCoding.decode(VersionOneState<EximParser>.self, from: bytes).checkpoint)
            if postfix == nil && exim == nil {
                _ = try JSONLinesParser(
                    configuration: formatConfiguration,
                    restoring: StateCoding.decode(VersionOneState<JSONLinesParser>.self, from: bytes).checkpoint)
            }
        default: break
        }
    } catch {
        fuzzFailure("seed \(name) does not restore: \(error)")
    }
    ([mode] + bytes).withUnsafeBytes { writeScratchFile(directory + "/" + name, $0) }
}

func writeSeeds(to directory: String) throws {
    // Detection engines: empty, after a few events, after many. (An engine's body is at least 2 MB, its sketch of
    // established domains; scripts/fuzz keeps those seeds zstd-compressed as `*.seed.zst`.)
    var engine = DetectionEngine(configuration: detectionConfiguration)
    var alerts: [Alert] = []
    writeSeed(directory, "engine-empty", mode: 1, try StateCoding.encode(engine.checkpoint()))
    let events = sampleEvents(from: 1_800_000_000, count: 400)
    for (i, event) in events.enumerated() {
        engine.process(event, into: &alerts)
        if i == 20 {
            writeSeed(directory, "engine-20", mode: 1, try StateCoding.encode(engine.checkpoint()))
            writeSeed(directory, "engine-20-tables", mode: 4, try bodyWithoutSections(engine))
        }
    }
    let body = try StateCoding.encode(engine.checkpoint())
    writeSeed(directory, "engine-400", mode: 1, body)
    // The same without the large arrays, for mode 4.
    writeSeed(directory, "engine-400-tables", mode: 4, try bodyWithoutSections(engine))

    // Parsers with open messages (the last line of each sample, which would close the message, left out).
    var postfix = PostfixParser(configuration: formatConfiguration)
    var exim = EximParser(configuration: formatConfiguration)
    var batch: EventBatch = []
    writeSeed(directory, "postfix-empty", mode: 2, try StateCoding.encode(postfix.checkpoint()))
    writeSeed(directory, "exim-empty", mode: 3, try StateCoding.encode(exim.checkpoint()))
    postfix.beginInput(yearHint: .year(2026))
    exim.beginInput(yearHint: .year(2026))
    for line in postfixLines.dropLast() {
        Array(line.utf8).withUnsafeBytes { _ = postfix.parse(line: $0, into: &batch) }
    }
    for line in eximLines.dropLast() { Array(line.utf8).withUnsafeBytes { _ = exim.parse(line: $0, into: &batch) } }
    guard postfix.checkpoint().openMessages == 1 else { fuzzFailure("the Postfix sample left no open message") }
    let postfixBody = try StateCoding.encode(postfix.checkpoint())
    writeSeed(directory, "postfix-open", mode: 2, postfixBody)
    writeSeed(directory, "exim-open", mode: 3, try StateCoding.encode(exim.checkpoint()))
    // The same in checkpoint version 1's layout, as 0aee8b2 wrote them, for mode 5.
    let postfixVersionOne = CheckpointLayout(checkpoint: postfix.checkpoint(), version: 1)
    writeSeed(directory, "postfix-open-v1", mode: 5, try StateCoding.encode(postfixVersionOne))
    let eximVersionOne = CheckpointLayout(checkpoint: exim.checkpoint(), version: 1)
    writeSeed(directory, "exim-open-v1", mode: 5, try StateCoding.encode(eximVersionOne))
    var json = JSONLinesParser(configuration: formatConfiguration)
    parse(&json, jsonLines)
    guard json.checkpoint() != JSONLinesParser().checkpoint() else { fuzzFailure("the JSON lines counted nothing") }
    let jsonVersionOne = CheckpointLayout(checkpoint: json.checkpoint(), version: 1)
    writeSeed(directory, "jsonl-v1", mode: 5, try StateCoding.encode(jsonVersionOne))

    // Whole checkpoint files, as CheckpointFile.write makes them.
    for (name, fileBody) in [("file-engine", body), ("file-postfix", postfixBody)] {
        let path = scratchPath + ".seed"
        let header = Array(#"{"version":1,"output_bytes":0}"#.utf8)
        do { try CheckpointFile.write(path: path, header: header, body: fileBody) } catch { fuzzFailure("\(error)") }
        guard let file = try? CheckpointFile.read(path: path) else { fuzzFailure("cannot read back \(path)") }
        writeSeed(directory, name, mode: 0, file.header + [0x0A] + file.body)
        unlink(path)
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    if let directory = getenv("SENDWATCH_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) {
        do { try writeSeeds(to: directory) } catch { fuzzFailure("writing seeds: \(error)") }
        fputs("seeds written to \(directory)\n", stderr)
        exit(0)
    }
    return 0
}
