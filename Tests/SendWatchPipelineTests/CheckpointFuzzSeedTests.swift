import Foundation
import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchIngest
import SendWatchTemplates
import Testing

/// The committed seeds of the checkpoint fuzz target (`Fuzz/Seeds/checkpoint`) still restore in their mode, the
/// first byte mod 6 (`Fuzz/checkpoint.swift`): a seed of an old layout only reaches the decoder's error paths, and
/// all of them had stopped restoring once without anything saying so. The fuzz target's code is not a module the
/// tests can import, so the decoding of each mode is written again here with the same configurations as its
/// `writeSeed`; when a deliberate layout change makes this fail, regenerate the seeds as docs/development.md says.
@Suite("Checkpoint fuzz seeds")
struct CheckpointFuzzSeedTests {
    /// The fuzz target's `detectionConfiguration`: an engine's state is restored only under the configuration
    /// it was saved with.
    static let detectionConfiguration = DetectionConfiguration(
        ages: .init(warmupSeconds: 600, maxTrackedAccounts: 256, rememberedFilterBits: 1024),
        miner: .init(maxTemplates: 64, cacheSize: 64),
        memoryBudgetBytes: 1 << 20, maxAlertAccounts: 16)

    static let formatConfiguration = FormatConfiguration(maxOpenMessages: 64)

    static let seedDirectory = TestPaths.repositoryRoot.appendingPathComponent("Fuzz/Seeds/checkpoint")

    /// The seeds' file names (read when the suite is set up, so that each is its own test case).
    static let seedNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: seedDirectory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }()

    /// A parser's state read as checkpoint version 1, as the fuzz target's mode 5 reads it.
    struct VersionOneState<Parser: CheckpointingParser>: Decodable {
        var checkpoint: Parser.Checkpoint

        init(from decoder: any Decoder) throws { checkpoint = try Parser.decodeCheckpoint(from: decoder, version: 1) }
    }

    @Test("The seed directory holds a seed of every mode")
    func everyModeHasASeed() throws {
        var modes = Set<UInt8>()
        for name in Self.seedNames { modes.insert(try #require(Self.contents(of: name).first) % 6) }
        #expect(modes == Set(0..<6))
    }

    @Test("A committed seed restores in its mode", arguments: seedNames)
    func seedRestores(name: String) throws {
        let bytes = try Self.contents(of: name)
        let mode = try #require(bytes.first, "the seed \(name) is empty") % 6
        let body = Array(bytes.dropFirst())
        switch mode {
        case 0:
            let directory = try TestPaths.makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("state").path
            try Data(body).write(to: URL(fileURLWithPath: path))
            let file = try #require(try CheckpointFile.read(path: path))
            // The fuzz target restores the body as an engine and as a Postfix parser: one of them must restore.
            let restored: Void? =
                (try? Self.restoreEngine(file.body, sections: nil)) ?? (try? Self.restorePostfix(file.body))
            #expect(restored != nil, "the checkpoint file \(name) restores neither an engine nor a Postfix parser")
        case 1: try Self.restoreEngine(body, sections: nil)
        case 2: try Self.restorePostfix(body)
        case 3:
            _ = try EximParser(
                configuration: Self.formatConfiguration,
                restoring: StateCoding.decode(EximParser.Checkpoint.self, from: body))
        case 4: try Self.restoreEngine(body, sections: Self.emptyEngineSections())
        default:
            let postfix = try? PostfixParser(
                configuration: Self.formatConfiguration,
                restoring: StateCoding.decode(VersionOneState<PostfixParser>.self, from: body).checkpoint)
            let exim = try? EximParser(
                configuration: Self.formatConfiguration,
                restoring: StateCoding.decode(VersionOneState<EximParser>.self, from: body).checkpoint)
            let json = try? JSONLinesParser(
                configuration: Self.formatConfiguration,
                restoring: StateCoding.decode(VersionOneState<JSONLinesParser>.self, from: body).checkpoint)
            #expect(
                postfix != nil || exim != nil || json != nil,
                "the seed \(name) restores no parser from a state of checkpoint version 1")
        }
    }

    /// The seed's bytes; `*.seed.zst` decompressed, as scripts/fuzz puts it in the corpus.
    static func contents(of name: String) throws -> [UInt8] {
        let path = seedDirectory.appendingPathComponent(name).path
        guard name.hasSuffix(".seed.zst") else { return Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
        var source = try InputSource.open(path: path)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { return bytes }
            bytes += buffer[..<n]
        }
    }

    static func restoreEngine(_ body: [UInt8], sections: StateSections?) throws {
        let saved =
            try sections.map { try StateCoding.decode(DetectionEngine.Checkpoint.self, from: body, sections: $0) }
            ?? StateCoding.decode(DetectionEngine.Checkpoint.self, from: body)
        _ = try DetectionEngine(configuration: detectionConfiguration, restoring: saved)
    }

    static func restorePostfix(_ body: [UInt8]) throws {
        _ = try PostfixParser(
            configuration: formatConfiguration, restoring: StateCoding.decode(PostfixParser.Checkpoint.self, from: body)
        )
    }

    /// The large arrays of an empty engine's checkpoint, which mode 4 takes for a body written without them.
    static func emptyEngineSections() throws -> StateSections {
        var body: [UInt8] = []
        var sections = StateSections()
        try StateCoding.encode(
            DetectionEngine(configuration: detectionConfiguration).checkpoint(), into: &body, sections: &sections)
        return sections
    }
}
