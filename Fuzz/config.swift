// Fuzz target: Configuration.load(yaml:) on the input as (lossy) UTF-8 text; a configuration that loads must
// also build the parsers and the detection engine it describes.

import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchPipeline

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    let text = String(decoding: data, as: UTF8.self)
    guard let config = try? Configuration.load(yaml: text) else { return 0 }
    var events: EventBatch = []
    var jsonl = JSONLinesParser(configuration: config.formats, mapping: config.jsonFieldMapping)
    let record =
        #"{"ts":"2024-05-01T10:00:00Z","account":"a1","sender":"s@x.example","to":["r@y.example"],"subject":"Hi"}"#
    Array(record.utf8).withUnsafeBytes { _ = jsonl.parse(line: $0, into: &events) }
    var postfix = PostfixParser(configuration: config.formats)
    postfix.finish(into: &events)
    // The sizes are clamped: a large configured bound is allowed, but allocating it on every run would only slow
    // the fuzzer down (the default first-seen table alone is 36 MB).
    var detection = config.detection
    detection.ages.maxTrackedAccounts = min(detection.ages.maxTrackedAccounts, 4096)
    detection.ages.rememberedFilterBits = 1 << 12
    detection.miner.maxTemplates = min(detection.miner.maxTemplates, 1024)
    detection.miner.cacheSize = min(detection.miner.cacheSize, 4096)
    detection.memoryBudgetBytes = min(detection.memoryBudgetBytes, 8 << 20)
    var engine = DetectionEngine(configuration: detection)
    var alerts: [Alert] = []
    for event in events { engine.process(event, into: &alerts) }
    engine.finish(into: &alerts)
    return 0
}
