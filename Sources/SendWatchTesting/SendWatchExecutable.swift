public import Foundation

/// The built `sendwatch` executable, which SwiftPM puts beside the test bundle (a few folders up from the test
/// runner); nil when it was not built.
public var sendwatchExecutable: URL? {
    var dir = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("sendwatch")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}
