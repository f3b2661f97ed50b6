// swift-tools-version:6.1
import PackageDescription

// Dependency direction (arrows point at dependencies, no cycles):
//   TugAPIMachinery ← TugAuth ← TugRegistry
//   TugAPIMachinery ← TugAPI ← TugStorage ← TugStorageSQLite ← TugRegistry ← TugAPIServer ← TugCLI ← tug
//   TugAPIMachinery ← TugClient ← TugCLI
// See ../shared/design/architecture.md and style.md.

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "tugboat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tug", targets: ["tug"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // X.509 generation for the cluster CA and serving certificate (in-process, no openssl shell-out).
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // WebSocket upgrade and framing for pods/exec and pods/attach (v5/v4.channel.k8s.io), server and client side.
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .target(
            name: "TugAPIMachinery",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "TugAPI",
            dependencies: ["TugAPIMachinery"],
            swiftSettings: strict
        ),
        // Authorization (the privileged group, RBAC, access reviews' rule resolution) and the identities it works on.
        .target(
            name: "TugAuth",
            dependencies: ["TugAPIMachinery"],
            swiftSettings: strict
        ),
        .target(name: "CTugShim"),
        // jemalloc as the process's allocator: glibc's malloc took an eighth of the server's CPU at 5,000 nodes and
        // 150,000 pods (most of it consolidating and unlinking free chunks); see docs/benchmarks.md.
        .systemLibrary(name: "CJemalloc", providers: [.apt(["libjemalloc-dev"])]),
        .target(
            name: "TugOS",
            dependencies: ["CTugShim", "TugAPIMachinery"],
            swiftSettings: strict
        ),
        .target(
            name: "TugRuntime",
            dependencies: [
                "CTugShim", "TugOS", "TugCNI", "TugAPIMachinery", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugNodeAgent",
            dependencies: [
                "TugAPIMachinery", "TugClient", "TugRuntime", "TugOS",
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugControllerRuntime",
            dependencies: [
                "TugAPIMachinery", "TugClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugSim",
            dependencies: [
                "TugAPIMachinery", "TugClient", "TugControllerRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugControllers",
            dependencies: [
                "TugAPI", "TugAPIMachinery", "TugAuth", "TugClient", "TugControllerRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugScheduler",
            dependencies: [
                "TugAPI", "TugAPIMachinery", "TugClient", "TugControllerRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugProxy",
            dependencies: [
                "TugAPIMachinery", "TugControllerRuntime", "TugOS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The DNS wire format alone, so it is fuzzed without the server around it.
        .target(name: "TugDNSWire", swiftSettings: strict),
        .target(
            name: "TugDNS",
            dependencies: [
                "TugAPIMachinery", "TugControllerRuntime", "TugDNSWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugIngress",
            dependencies: [
                "TugAPIMachinery", "TugControllerRuntime", "TugClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugCNI",
            dependencies: ["TugOS", "TugAPIMachinery"],
            swiftSettings: strict
        ),
        .target(
            name: "TugStorage",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Audit logging (kube-apiserver's audit.k8s.io/v1 Policy and Event, the log backend with rotation).
        .target(name: "TugAudit", dependencies: ["TugAuth", "TugAPIMachinery"], swiftSettings: strict),
        // Encryption at rest (kube-apiserver's EncryptionConfiguration: aescbc, aesgcm, identity).
        .target(
            name: "TugEncryption",
            dependencies: [
                "TugStorage", "TugAPIMachinery",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugStorageSQLite",
            dependencies: [
                "TugStorage", "TugAPIMachinery",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugRegistry",
            dependencies: [
                "TugAPIMachinery", "TugAPI", "TugAuth", "TugStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Admission plugins that sit above the registry (Pod Security Admission; quota and others to come).
        .target(
            name: "TugAdmission",
            dependencies: [
                "TugAPIMachinery", "TugAPI", "TugAuth", "TugRegistry", "TugStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugAPIServer",
            dependencies: [
                "TugAPIMachinery", "TugAPI", "TugAuth", "TugAudit", "TugRegistry", "TugClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugClient",
            dependencies: [
                "TugAPIMachinery",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TugCLI",
            dependencies: [
                "TugAPIMachinery", "TugAPI", "TugAuth", "TugAudit", "TugAdmission", "TugEncryption", "TugStorage", "TugStorageSQLite", "TugRegistry", "TugAPIServer", "TugClient", "TugOS", "TugRuntime", "TugNodeAgent", "TugScheduler", "TugControllers", "TugControllerRuntime", "TugSim", "TugProxy", "TugDNS", "TugDNSWire", "TugIngress", "CJemalloc",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "tug", dependencies: ["CTugShim", "TugCLI", "TugOS", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: strict),

        .testTarget(name: "TugAPIMachineryTests", dependencies: ["TugAPIMachinery"]),
        .testTarget(name: "TugAPITests", dependencies: ["TugAPI", "TugAPIMachinery"]),
        .testTarget(name: "TugAuthTests", dependencies: ["TugAuth", "TugAPIMachinery"]),
        .testTarget(name: "TugAdmissionTests", dependencies: ["TugAdmission", "TugAPIMachinery"]),
        .testTarget(name: "TugNodeAgentTests", dependencies: ["TugNodeAgent", "TugRuntime", "TugAPIMachinery", "TugOS",
                                                             .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "TugCNITests", dependencies: ["TugCNI", "TugOS", "TugAPIMachinery"]),
        // What several test targets share (awaiting a condition with a deadline); not part of `tug`.
        .target(name: "TugTestSupport", path: "Tests/TugTestSupport", swiftSettings: strict),
        .testTarget(name: "TugControllersTests", dependencies: ["TugControllers", "TugControllerRuntime", "TugAPIMachinery", "TugAPI", "TugAPIServer", "TugAuth",
                                                              "TugRegistry", "TugStorage", "TugClient", "TugTestSupport",
                                                              .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "TugControllerRuntimeTests", dependencies: ["TugControllerRuntime", "TugAPIMachinery", "TugClient"]),
        .testTarget(name: "TugDNSTests", dependencies: ["TugDNS", "TugDNSWire", "TugAPIMachinery", .product(name: "NIOCore", package: "swift-nio"),
                                                      .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]),
        // One entry point per parser, shared by the libFuzzer driver (see `fuzzDriver` below) and the replay of kept
        // inputs in `swift test`.
        .target(name: "TugFuzzTargets", dependencies: ["TugAPIMachinery", "TugAPI", "TugDNSWire"], swiftSettings: strict),
        .testTarget(name: "TugFuzzTargetsTests", dependencies: ["TugFuzzTargets"], resources: [.copy("Inputs")]),
        .testTarget(name: "TugIngressTests", dependencies: ["TugIngress", "TugAPIMachinery"]),
        .testTarget(name: "TugProxyTests", dependencies: ["TugProxy", "TugAPIMachinery"]),
        .testTarget(name: "TugSchedulerTests", dependencies: ["TugScheduler", "TugAPIMachinery"]),
        .testTarget(name: "TugStorageTests", dependencies: ["TugStorage", "TugStorageSQLite", "TugEncryption", "TugAPIMachinery", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TugClientTests", dependencies: ["TugClient"]),
        .testTarget(name: "TugAuditTests", dependencies: ["TugAudit", "TugAuth", "TugAPIMachinery"]),
        .testTarget(name: "TugCLITests", dependencies: ["TugCLI"]),
        .testTarget(name: "TugOSTests", dependencies: ["TugOS"]),
        .testTarget(name: "TugRuntimeTests", dependencies: ["TugRuntime", "TugOS", "TugAPIMachinery", .product(name: "Hummingbird", package: "hummingbird")]),
        .testTarget(name: "TugRegistryTests", dependencies: ["TugRegistry", "TugStorage", "TugAPI", "TugAPIMachinery", "TugAuth", "TugTestSupport"]),
        .testTarget(
            name: "TugSimTests",
            dependencies: ["TugSim", "TugClient", "TugControllerRuntime", "TugAPIMachinery"]
        ),
        .testTarget(
            name: "TugAPIServerTests",
            dependencies: [
                "TugAPIServer", "TugRegistry", "TugStorage", "TugAPI", "TugAPIMachinery", "TugAuth", "TugClient", "TugTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer driver exists only when TUG_FUZZ is set: it must be built with `-sanitize=fuzzer` (libFuzzer brings
// `main`), which the other products must not be. `make test-fuzz` and `make fuzz` build it in .build-fuzz.
if Context.environment["TUG_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "tug-fuzz", dependencies: ["TugFuzzTargets"], path: "Fuzz/Driver",
                                             swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]))
}
