// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Moat",
    products: [
        .executable(name: "moat", targets: ["MoatCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C the Swift side cannot express: variadic ptrace, the fork-to-exec
        // child, libseccomp's macros, wait-status macros.
        .target(
            name: "CShims",
            path: "CShims",
            linkerSettings: [.linkedLibrary("seccomp")]
        ),
        .target(name: "Platform", dependencies: ["CShims"]),
        .target(name: "Sentry", dependencies: ["Platform", "CShims"]),
        .target(name: "OCI", dependencies: ["Sentry"]),
        .executableTarget(
            name: "MoatCLI",
            dependencies: [
                "OCI", "Sentry", "Platform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SentryTests", dependencies: ["Sentry", "Platform"]),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "IntegrationTests", exclude: ["Probes"]),
    ],
    swiftLanguageModes: [.v6]
)
