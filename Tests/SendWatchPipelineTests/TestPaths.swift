import Foundation

/// Paths inside the repository, found from this file's location, so tests can use `datasets/` and other
/// targets' fixtures without copying them.
enum TestPaths {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func dataset(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("datasets").appendingPathComponent(name).path
    }

    static func formatsFixture(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/SendWatchFormatsTests/Fixtures").appendingPathComponent(relative)
            .path
    }

    /// A fresh temporary directory, removed by the caller with `cleanUp`.
    static func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sendwatch-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
