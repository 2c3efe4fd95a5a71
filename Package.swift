// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Moat",
    products: [
        .executable(name: "moat", targets: ["MoatCLI"])
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
        .target(name: "Sentry", dependencies: ["Platform"]),
        .target(name: "OCI", dependencies: ["Sentry", "Platform"]),
        // The command line: options declared once, parsed, --help and errors from them.
        .target(name: "Arguments"),
        // moat bench's pure parts: statistics, schedules, /proc parsing, the SVG chart.
        .target(name: "Bench"),
        .executableTarget(
            name: "MoatCLI",
            dependencies: ["OCI", "Sentry", "Platform", "Bench", "Arguments"],
            // The C programs `syscalls --verify` and `bench` build inside their sandboxes,
            // and the application workloads of `bench --workloads`.
            resources: [.embedInCode("Probes/verify.c"), .embedInCode("Probes/bench.c"), .embedInCode("Probes/workloads.sh")]
        ),
        .testTarget(name: "SentryTests", dependencies: ["Sentry", "Platform"]),
        .testTarget(name: "OCITests", dependencies: ["OCI", "Platform", "Sentry"], exclude: ["FuzzRegressions", "EngineConfigs"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench"]),
        .testTarget(name: "ArgumentsTests", dependencies: ["Arguments"]),
        // The sources themselves: the embedded probes compile, the Swift is as swift-format says.
        .testTarget(name: "SourceTests"),
        .testTarget(name: "IntegrationTests", exclude: ["Probes"])
    ],
    swiftLanguageModes: [.v6]
)
