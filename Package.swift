// swift-tools-version: 6.1
import PackageDescription

/// Upcoming features every target builds with (house style, section 6: strict Swift 6 concurrency and imports).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "SendWatch",
    products: [
        .executable(name: "sendwatch", targets: ["sendwatch"]),
        .library(name: "SendWatchCore", targets: ["SendWatchCore"]),
        .library(name: "SendWatchIngest", targets: ["SendWatchIngest"]),
        .library(name: "SendWatchFormats", targets: ["SendWatchFormats"]),
        .library(name: "SendWatchWindows", targets: ["SendWatchWindows"]),
        .library(name: "SendWatchTemplates", targets: ["SendWatchTemplates"]),
        .library(name: "SendWatchSimulation", targets: ["SendWatchSimulation"]),
        .library(name: "SendWatchDetect", targets: ["SendWatchDetect"]),
        .library(name: "SendWatchAlerts", targets: ["SendWatchAlerts"]),
        .library(name: "SendWatchPipeline", targets: ["SendWatchPipeline"]),
        .library(name: "SendWatchMetrics", targets: ["SendWatchMetrics"]),
        .library(name: "SendWatchPolicy", targets: ["SendWatchPolicy"]),
        .library(name: "SendWatchEval", targets: ["SendWatchEval"]),
        .library(name: "SendWatchReport", targets: ["SendWatchReport"]),
        .library(name: "SendWatchFleet", targets: ["SendWatchFleet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The metrics endpoint and the policy service (modules SendWatchMetrics and SendWatchPolicy only): HTTP on SwiftNIO, the exposition by swift-prometheus
        // (which brings swift-metrics' CoreMetrics and swift-atomics).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CLzma",
            pkgConfig: "liblzma",
            providers: [.apt(["liblzma-dev"])]
        ),
        // Debian's libbz2-dev has no pkg-config file; its header and library are on the default paths.
        .systemLibrary(
            name: "CBzip2",
            providers: [.apt(["libbz2-dev"])]
        ),
        .systemLibrary(
            name: "CLz4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // The official NATS C client (JetStream), for the fleet (module SendWatchFleet only).
        .systemLibrary(
            name: "CNATS",
            pkgConfig: "libnats",
            providers: [.apt(["libnats-dev"])]
        ),
        .target(name: "SendWatchCore", swiftSettings: strictSettings),
        .target(
            name: "SendWatchIngest",
            dependencies: ["SendWatchCore", "CZstd", "CZlib", "CLzma", "CBzip2", "CLz4"],
            swiftSettings: strictSettings
        ),
        .target(name: "SendWatchFormats", dependencies: ["SendWatchCore"], swiftSettings: strictSettings),
        .target(name: "SendWatchWindows", dependencies: ["SendWatchCore"], swiftSettings: strictSettings),
        .target(name: "SendWatchTemplates", dependencies: ["SendWatchCore"], swiftSettings: strictSettings),
        .target(name: "SendWatchSimulation", dependencies: ["SendWatchCore"], swiftSettings: strictSettings),
        .target(name: "SendWatchEval", dependencies: ["SendWatchCore"], swiftSettings: strictSettings),
        // The HTML report: pure (no I/O); reads alert records with SendWatchEval's JSON reader.
        .target(
            name: "SendWatchReport", dependencies: ["SendWatchCore", "SendWatchEval"], swiftSettings: strictSettings),
        // Helpers shared by test targets (saved-state coding); in no product.
        .target(name: "SendWatchTesting", dependencies: ["SendWatchCore"], swiftSettings: strictSettings),
        .target(
            name: "SendWatchDetect",
            dependencies: ["SendWatchCore", "SendWatchWindows", "SendWatchTemplates"],
            swiftSettings: strictSettings
        ),
        // Alert encoders (schema v1, OCSF), sinks (standard output, file) and exactly-once delivery. Depends on
        // SendWatchIngest only for its write loop and errno text.
        .target(
            name: "SendWatchAlerts",
            dependencies: ["SendWatchCore", "SendWatchIngest"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SendWatchPipeline",
            dependencies: [
                "SendWatchCore", "SendWatchIngest", "SendWatchFormats", "SendWatchDetect", "SendWatchTemplates",
                "SendWatchAlerts",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The Prometheus endpoint of `tail`. Apart from SendWatchPipeline so that the library, and the fuzz targets
        // linked from its objects, do not build SwiftNIO.
        .target(
            name: "SendWatchMetrics",
            dependencies: [
                "SendWatchPipeline",
                "SendWatchDetect",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // The Postfix policy service of `tail`. Uses SendWatchMetrics' address parser (one set of rules for
        // both listening flags); apart from SendWatchPipeline for the same reason as SendWatchMetrics.
        .target(
            name: "SendWatchPolicy",
            dependencies: [
                "SendWatchPipeline", "SendWatchMetrics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The fleet on NATS JetStream: a poll-style client (connect, streams, publish with a message id, pull
        // consumers), event partitioning by account, and `ship`'s publisher. Apart from SendWatchPipeline so that
        // the library and the fuzz targets linked from its objects do not link libnats.
        .target(
            name: "SendWatchFleet",
            dependencies: ["SendWatchCore", "SendWatchPipeline", "CNATS"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "sendwatch",
            dependencies: [
                "SendWatchPipeline", "SendWatchMetrics", "SendWatchPolicy", "SendWatchCore", "SendWatchIngest",
                "SendWatchFormats",
                "SendWatchSimulation",
                "SendWatchDetect", "SendWatchTemplates", "SendWatchEval", "SendWatchAlerts", "SendWatchReport",
                "SendWatchFleet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings,
            plugins: ["BuildInfo"]
        ),
        // Writes the version (from VERSION) and the commit into the sendwatch target at build time.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .testTarget(name: "SendWatchCoreTests", dependencies: ["SendWatchCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "SendWatchIngestTests",
            dependencies: ["SendWatchIngest", "SendWatchCore", "SendWatchTesting"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchFormatsTests",
            dependencies: ["SendWatchFormats", "SendWatchCore", "SendWatchTesting"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchWindowsTests", dependencies: ["SendWatchWindows", "SendWatchCore", "SendWatchTesting"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SendWatchTemplatesTests", dependencies: ["SendWatchTemplates", "SendWatchCore", "SendWatchTesting"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SendWatchDetectTests",
            dependencies: [
                "SendWatchDetect", "SendWatchCore", "SendWatchWindows", "SendWatchTemplates", "SendWatchTesting",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchSimulationTests",
            dependencies: ["SendWatchSimulation", "SendWatchCore", "SendWatchFormats", "SendWatchPipeline"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchEvalTests",
            dependencies: ["SendWatchEval", "SendWatchCore", "SendWatchSimulation"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchReportTests",
            dependencies: [
                "SendWatchReport", "SendWatchCore", "SendWatchEval", "SendWatchPipeline", "SendWatchTesting",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchMetricsTests",
            dependencies: ["SendWatchMetrics", "SendWatchPipeline", "SendWatchDetect", "SendWatchTesting"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchPolicyTests",
            dependencies: [
                "SendWatchPolicy", "SendWatchMetrics", "SendWatchPipeline", "SendWatchCore", "SendWatchSimulation",
                "SendWatchTesting",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchFleetTests",
            dependencies: [
                "SendWatchFleet", "SendWatchPipeline", "SendWatchCore", "SendWatchDetect", "SendWatchTesting",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SendWatchPipelineTests",
            dependencies: [
                "SendWatchPipeline", "SendWatchCore", "SendWatchIngest", "SendWatchFormats", "SendWatchDetect",
                "SendWatchSimulation", "SendWatchEval", "SendWatchAlerts", "SendWatchTesting",
            ],
            // Read from the source tree by path (TestPaths), so that SENDWATCH_UPDATE_GOLDENS can rewrite them; the
            // fixtures by path too (#filePath).
            exclude: ["Goldens", "Fixtures"],
            swiftSettings: strictSettings
        ),
    ]
)
