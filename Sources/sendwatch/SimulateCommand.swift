import ArgumentParser
import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchPipeline
import SendWatchSimulation

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a realistic, labelled mail log: background traffic, look-alikes and attacks.",
        discussion: """
            Scenarios: \(Scenario.names.joined(separator: ", ")). The log is deterministic for a seed and is \
            streamed in constant memory, so any size can be written. An output path ending in '.zst' is \
            compressed by the 'zstd' command, which must be on PATH. The labels (incidents, look-alikes, \
            abusive accounts) are written as one JSON object once the log is complete.
            """
    )

    @Option(name: .long, help: "Scenario: \(Scenario.names.joined(separator: ", ")).")
    var scenario: String

    @Option(name: .long, help: "Seed of every random choice (an unsigned 64-bit integer).")
    var seed: UInt64

    @Option(name: .long, help: "Length of the run, e.g. 6h or 90m (default: the scenario's, 6h or 9h).")
    var duration: String?

    @Option(
        name: .long,
        help:
            "Multiplies background accounts and rates and the look-alikes' sizes: \(SimulationConfiguration.scaleRange.lowerBound) to \(Int(SimulationConfiguration.scaleRange.upperBound))."
    )
    var scale: Double = 1

    @Option(name: .long, help: "Output format: \(SimulationFormat.namesText).")
    var format: String = "postfix"

    @Option(name: .long, help: "Time of the first traffic, RFC 3339 (default 2026-11-29T06:00:00Z).")
    var start: String?

    @Option(name: .long, help: "Log file to write (replaced); '.zst' compresses through the zstd command.")
    var out: String

    @Option(name: .long, help: "Labels file to write (JSON).")
    var labels: String

    func run() throws {
        guard let scenarioValue = Scenario.named(scenario) else {
            throw ValidationError("unknown scenario '\(scenario)'; known: \(Scenario.names.joined(separator: ", "))")
        }
        guard let formatValue = SimulationFormat(rawValue: format) else {
            throw ValidationError("unknown format '\(format)'; use \(SimulationFormat.namesText)")
        }
        var durationSeconds: Int64?
        if let duration {
            guard let s = DurationText.seconds(duration), s > 0 else {
                throw ValidationError("--duration: '\(duration)' is not a duration like 6h, 90m or 1h30m")
            }
            durationSeconds = s
        }
        var startTime: EventTime?
        if let start {
            var zone = LocalTimeZone.utc
            let bytes = Array(start.utf8)
            let parsed = bytes.withUnsafeBytes { Timestamps.readDateTime($0, at: 0, zone: &zone) }
            guard let parsed, parsed.end == bytes.count else {
                throw ValidationError("--start: '\(start)' is not an RFC 3339 time like 2026-12-31T22:00:00Z")
            }
            startTime = parsed.time
        }
        var config = SimulationConfiguration(
            scenario: scenarioValue, seed: seed, durationSeconds: durationSeconds, scale: scale, format: formatValue)
        if let startTime { config.start = startTime }

        var simulator: Simulator
        do {
            simulator = try Simulator(configuration: config)
        } catch {
            throw ValidationError(error.description)
        }
        var sink = try FileLineSink(path: out)
        let summary = simulator.run(into: &sink)
        try sink.close()
        let labelBytes = simulator.labels().jsonBytes()
        guard let labelsHandle = openForWriting(labels) else {
            printError("sendwatch: cannot write labels file \(labels)")
            throw ExitCode(2)
        }
        do {
            try labelsHandle.write(contentsOf: Data(labelBytes))
            try labelsHandle.close()
        } catch {
            printError("sendwatch: cannot write labels file \(labels): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        printError(
            "sendwatch: simulated \(summary.messages) messages, \(summary.lines) lines, \(summary.bytes) bytes "
                + "(\(scenario), seed \(seed), \(format)); labels in \(labels)")
    }
}

/// Writes lines to a file, plain or through `zstd`, in 1 MiB chunks.
struct FileLineSink: SimulationSink {
    private var buffer: [UInt8] = []
    private let handle: FileHandle
    private let process: Process?
    private let path: String
    private var failure: String?

    init(path: String) throws {
        self.path = path
        buffer.reserveCapacity(1 << 20 + 4096)
        if path.hasSuffix(".zst") {
            guard let zstd = FileLineSink.findExecutable("zstd") else {
                throw ValidationError(
                    "--out \(path): writing .zst needs the 'zstd' command on PATH (apt-get install zstd), or give a plain file name"
                )
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: zstd)
            p.arguments = ["-q", "-f", "-3", "-o", path]
            let pipe = Pipe()
            p.standardInput = pipe
            do {
                try p.run()
            } catch {
                throw ValidationError("--out \(path): cannot start zstd: \(error.localizedDescription)")
            }
            process = p
            handle = pipe.fileHandleForWriting
        } else {
            guard let h = openForWriting(path) else {
                throw ValidationError("--out \(path): cannot create the file")
            }
            process = nil
            handle = h
        }
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    mutating func write(line: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: line)
        buffer.append(0x0A)
        if buffer.count >= 1 << 20 { drain() }
    }

    private mutating func drain() {
        guard failure == nil, !buffer.isEmpty else {
            buffer.removeAll(keepingCapacity: true)
            return
        }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            failure = error.localizedDescription
        }
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        drain()
        try? handle.close()
        if let process {
            process.waitUntilExit()
            if process.terminationStatus != 0 && failure == nil {
                failure = "zstd exited with status \(process.terminationStatus)"
            }
        }
        if let failure {
            printError("sendwatch: writing \(path) failed: \(failure)")
            throw ExitCode(2)
        }
    }
}

/// Opens `path` for writing, created (0644) or truncated in place.
///
/// Not `FileManager.createFile`: it writes a temporary file and renames it over the target, which would
/// replace a device such as `/dev/null` or a FIFO with a regular file.
func openForWriting(_ path: String) -> FileHandle? {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return nil }
    return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
}
