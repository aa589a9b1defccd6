// swift-tools-version: 6.1
// imagebump: the GitOps image updater. Targets depend one way (docs/ARCHITECTURE.md draws it):
// C shims (CLibGit2, CCurl, COpenSSL, CSQLite, CLinux) → wrappers (Git, HTTPClient, HTTPServer,
// Crypto, Journal) over the Runtime pool → domain (ImageReference, Policy, Manifests, Events,
// Forge, Configuration) → Pipeline (one write-back) → Workers (lanes) → Promotion (chains) →
// Intake (routes) → the `imagebump` executable, which only wires things together.
import PackageDescription

let package = Package(
    name: "imagebump",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "imagebump", targets: ["imagebump"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // Start order, signals and graceful shutdown of serve's listeners, workers and pollers.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries, each wrapped once.
        .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .target(name: "Git", dependencies: ["CLibGit2", "Crypto"]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The one place blocking C calls run: a bounded pool of threads of its own.
        .target(name: "Runtime"),
        .target(name: "HTTPClient", dependencies: ["CCurl", "Runtime", .product(name: "Logging", package: "swift-log")]),
        .systemLibrary(name: "CLinux"),
        .target(name: "HTTPServer", dependencies: ["CLinux", .product(name: "Logging", package: "swift-log")]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // PostgreSQL for several replicas (issue 18): libpq, wrapped once.
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "Postgres", dependencies: ["CPostgres"]),
        .target(name: "Journal", dependencies: ["CSQLite", "Postgres", "Events", "ImageReference"]),
        .target(name: "Cluster", dependencies: ["Journal", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Intake",
            dependencies: [
                "Configuration", "HTTPServer", "HTTPClient", "Crypto", "Events", "Journal", "Pipeline", "Promotion", "Workers", "Git",
                "ImageReference", "Runtime",
                .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        .target(
            name: "Workers",
            dependencies: [
                "Configuration", "Events", "Forge", "Git", "HTTPClient", "ImageReference", "Journal", "Manifests", "Pipeline", "Policy",
                .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        // Domain: pure, no I/O.
        .target(name: "ImageReference"),
        .target(name: "Policy", dependencies: ["ImageReference"]),
        .target(
            name: "Manifests",
            dependencies: ["ImageReference", .product(name: "Yams", package: "Yams")]
        ),
        // I/O around the domain.
        .target(name: "Workspace", dependencies: ["Manifests", "ImageReference"]),
        .target(name: "Forge", dependencies: ["HTTPClient", "Crypto"]),
        .target(name: "Registry", dependencies: ["Configuration", "Crypto", "HTTPClient", "ImageReference"]),
        // Polling registries (the catch-up for lost webhooks) and checking webhooks against them.
        .target(
            name: "Catchup",
            dependencies: [
                "Configuration", "Events", "HTTPClient", "ImageReference", "Journal", "Policy", "Registry", "Workers",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "Events", dependencies: ["ImageReference", "Crypto"]),
        .target(
            name: "Promotion",
            dependencies: [
                "Configuration", "Events", "Forge", "HTTPClient", "ImageReference", "Journal", "Manifests", "Pipeline", "Workers",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Pipeline",
            dependencies: [
                "Configuration", "Crypto", "Git", "Forge", "HTTPClient", "Manifests", "Policy", "ImageReference", "Runtime",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Configuration",
            dependencies: ["Events", "ImageReference", "Manifests", "Policy", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "AppLogging", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // The command line: wiring only.
        .executableTarget(
            name: "imagebump",
            dependencies: [
                "ImageReference", "Manifests", "Policy", "Promotion", "Workspace", "Configuration", "AppLogging", "Pipeline", "Git", "Forge",
                "HTTPClient",
                "HTTPServer", "Intake", "Journal", "Events", "Workers", "Runtime", "Registry", "Catchup", "Cluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // Tests mirror Sources/.
        .testTarget(
            name: "PromotionTests",
            dependencies: [
                "Promotion", "Workers", "Journal", "Events", "Forge", "Git", "HTTPClient", "ImageReference", "Manifests", "Pipeline", "Policy", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "WorkersTests",
            dependencies: [
                "Workers", "Journal", "Events", "Forge", "Git", "HTTPClient", "ImageReference", "Manifests", "Pipeline", "Policy", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .testTarget(
            name: "PolicyTests", dependencies: ["Policy", .product(name: "PropertyBased", package: "swift-property-based")],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "ImageReferenceTests",
            dependencies: ["ImageReference", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "ManifestsTests",
            dependencies: [
                "Manifests", "ImageReference", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "WorkspaceTests",
            dependencies: ["Workspace", "Manifests", "ImageReference", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ConfigurationTests",
            dependencies: ["Configuration", "ImageReference", "Manifests", "Policy", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "AppLoggingTests",
            dependencies: ["AppLogging", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "GitTests", dependencies: ["Git", "Crypto", "TestSupport"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "Runtime", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
        .testTarget(
            name: "CatchupTests",
            dependencies: ["Catchup", "Configuration", "Events", "HTTPClient", "ImageReference", "Journal", "Registry", "Workers", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Journal", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Configuration", "HTTPClient", "ImageReference", "TestSupport"]),
        .testTarget(
            name: "IntakeTests",
            dependencies: [
                "Intake", "Workers", "HTTPServer", "HTTPClient", "Events", "Journal", "Pipeline", "Policy", "Promotion", "Manifests", "Crypto",
                "Forge", "ImageReference", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "JournalTests", dependencies: ["Journal", "Postgres", "Events", "ImageReference", "AppLogging", "TestSupport"]),
        .testTarget(
            name: "EventsTests", dependencies: ["Events", "ImageReference", "Crypto", "TestSupport"], exclude: ["Fixtures", "Fuzz"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTPClient", "TestSupport"], exclude: ["Fuzz", "Fixtures"]),
        .testTarget(name: "ForgeTests", dependencies: ["Forge", "HTTPClient", "Crypto", "TestSupport"]),
        .testTarget(
            name: "PipelineTests", dependencies: ["Pipeline", "Configuration", "Crypto", "Git", "Forge", "HTTPClient", "Manifests", "Policy", "ImageReference", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "imagebumpTests",
            dependencies: ["imagebump", "HTTPClient", "Journal", "Postgres", "TestSupport", "Workers", .product(name: "Yams", package: "Yams")],
            exclude: ["Fixtures"]
        ),
        // Helpers shared by tests only: golden-directory comparison, temp directories.
        .target(name: "TestSupport", dependencies: ["Catchup", "Cluster", "Events", "Journal", "Postgres", "Workers", "Promotion"], path: "Tests/TestSupport", exclude: ["ForgeContracts", "Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

// Every target: a member used from a module the file does not import fails to build (no
// transitive imports leaking through), on top of Swift 6's complete concurrency checking.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
