import Arguments
import Glibc
import OCI
import Platform

enum Features: Subcommand {
    static let spec = CommandSpec(name: "features", abstract: "Print what this runtime supports (runtime-spec features JSON).")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        func strings(_ list: [String]) -> JSON { .array(list.map { .string($0) }) }
        let json = JSON.object([
            ("ociVersionMin", .string("1.0.0")),
            ("ociVersionMax", .string("1.2.0")),
            ("hooks", strings(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])),
            // Each list is the parser's own table, so it cannot drift from what a config may say.
            ("mountOptions", strings(MountOptions.names)),
            (
                "linux",
                .object([
                    // Each may also be joined by path.
                    ("namespaces", strings(Spec.supportedNamespaces.sorted())),
                    ("capabilities", strings(Spec.capabilityNames)),
                    (
                        "cgroup",
                        .object([
                            ("v1", .bool(true)), ("v2", .bool(true)), ("systemd", .bool(false)),
                            ("systemdUser", .bool(false))
                        ])
                    ),
                    (
                        "seccomp",
                        .object([
                            ("enabled", .bool(true)),
                            ("actions", strings(SeccompProfile.actionNames)),
                            ("operators", strings(SeccompProfile.operatorNames)),
                            ("archs", strings(["SCMP_ARCH_X86_64"]))
                        ])
                    ),
                    ("apparmor", .object([("enabled", .bool(false))])),
                    ("selinux", .object([("enabled", .bool(false))]))
                ])
            ),
            (
                "annotations",
                .object([
                    (Bundle.realtimeStartAnnotation, .string("RFC 3339 UTC or epoch seconds: fixed REALTIME at start")),
                    (Bundle.overlayAnnotation, .string("memory, none or a directory: an overlay over the root, as --overlay")),
                    (Bundle.metadataAnnotation, .string("sentry or direct: who resolves stat, access and readlink paths, as --metadata")),
                    (Bundle.filesAnnotation, .string("sentry or direct: who opens and changes files by path, as --files"))
                ])
            )
        ])
        writeOut(json.rendered() + "\n")
        return 0
    }
}
