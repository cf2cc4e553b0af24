// Fuzz target: Exim main log lines → EximParser → event JSON lines, and the same with a restart from a
// checkpoint before one line (see fuzzParser).

import SendWatchFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    let configuration = FormatConfiguration(maxOpenMessages: 64)
    let restart = Restart<EximParser, EximParser.Checkpoint>(
        save: { $0.checkpoint() }, restore: { try EximParser(configuration: configuration, restoring: $0) })
    fuzzParser({ EximParser(configuration: configuration) }, restart, data)
    return 0
}
