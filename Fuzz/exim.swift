// Fuzz target: Exim main log lines → EximParser → event JSON lines.

import SendWatchFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    var parser = EximParser(configuration: FormatConfiguration(maxOpenMessages: 64))
    fuzzParser(&parser, data)
    return 0
}
