import Foundation
import Testing

@Suite struct SimulateCommandTests {
    @Test(
        "simulate refuses a bad --scale with a message naming the range, never a trap",
        arguments: ["nan", "inf", "-inf", "1e308", "0", "-1", "5000", "10000"])
    func badScale(scale: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sim-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CommandLine.run([
            "simulate", "--scenario", "mixed", "--seed", "1", "--scale=\(scale)",
            "--out", dir.appendingPathComponent("log").path, "--labels", dir.appendingPathComponent("labels").path,
        ])
        #expect(result.status == 64, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("scale must be a number from 0.001 to 4000"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("labels").path))
    }
}
