// Fuzz target: JSON lines → JSONLinesParser (the default mapping, then a nested one) → event JSON lines.

import SendWatchFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    var flat = JSONLinesParser(maxRecipientsPerRecord: 16, maxDepth: 16)
    fuzzParser(&flat, data)
    var nested = JSONLinesParser(mapping: .amazonSES, maxRecipientsPerRecord: 16, maxDepth: 16)
    fuzzParser(&nested, data)
    return 0
}
