import Foundation
import SendWatchTesting

/// Paths inside the repository, found from this file's location, so tests can use `datasets/` and other
/// targets' fixtures without copying them.
///
/// Asking for a path pins the test process's `TZ` to UTC (``pinTimeZoneToUTC()``): the in-process runs that read
/// a dataset or a log written to a temporary directory read zone-less times in the system's zone by default.
enum TestPaths {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func dataset(_ name: String) -> String {
        pinTimeZoneToUTC()
        return repositoryRoot.appendingPathComponent("datasets").appendingPathComponent(name).path
    }

    static func formatsFixture(_ relative: String) -> String {
        pinTimeZoneToUTC()
        let fixtures = repositoryRoot.appendingPathComponent("Tests/SendWatchFormatsTests/Fixtures")
        return fixtures.appendingPathComponent(relative).path
    }

    /// A fresh temporary directory, removed by the caller with `cleanUp`.
    static func makeTemporaryDirectory() throws -> URL {
        pinTimeZoneToUTC()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sendwatch-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
