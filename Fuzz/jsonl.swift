// Fuzz target: JSON lines → JSONLinesParser (the default mapping, then a nested one) → event JSON lines.

import SendWatchFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    for mapping in [JSONFieldMapping(), .amazonSES] {
        let restart = Restart<JSONLinesParser, JSONLinesParser.Checkpoint>(
            save: { $0.checkpoint() },
            restore: { try JSONLinesParser(mapping: mapping, maxRecipientsPerRecord: 16, maxDepth: 16, restoring: $0) })
        fuzzParser({ JSONLinesParser(mapping: mapping, maxRecipientsPerRecord: 16, maxDepth: 16) }, restart, data)
    }
    return 0
}
