// swift-tools-version: 6.1
import PackageDescription

// SendWatch's benchmarks: a package of its own so that the library's users never build ordo-one/benchmark.
// Run from this folder: `swift package benchmark` (all suites) or `swift package benchmark --target Parsing`.
let package = Package(
    name: "SendWatchBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "SendWatch", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Parsing",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SendWatchCore", package: "SendWatch"),
                .product(name: "SendWatchIngest", package: "SendWatch"),
                .product(name: "SendWatchFormats", package: "SendWatch"),
                .product(name: "SendWatchDetect", package: "SendWatch"),
                .product(name: "SendWatchPipeline", package: "SendWatch"),
                .product(name: "SendWatchAlerts", package: "SendWatch"),
            ],
            path: "Benchmarks/Parsing",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Detection",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SendWatchCore", package: "SendWatch"),
                .product(name: "SendWatchWindows", package: "SendWatch"),
                .product(name: "SendWatchTemplates", package: "SendWatch"),
                .product(name: "SendWatchDetect", package: "SendWatch"),
                .product(name: "SendWatchSimulation", package: "SendWatch"),
                .product(name: "SendWatchFormats", package: "SendWatch"),
                .product(name: "SendWatchPipeline", package: "SendWatch"),
            ],
            path: "Benchmarks/Detection",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
