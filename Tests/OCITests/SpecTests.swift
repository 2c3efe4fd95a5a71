import Platform
import Testing

@testable import OCI

@Suite struct JSONTests {
    @Test func parsesAndRendersRoundTrip() throws {
        let text = #"{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "x\"y\\z\n\u00e9\ud83d\ude00"}, "big": 18446744073709551615}"#
        let value = try JSON.parse(text)
        #expect(value["a"] == .array([.number("1"), .number("2.5"), .number("-3e2"), .bool(true), .bool(false), .null]))
        #expect(value["b"]?["c"] == .string("x\"y\\z\né😀"))
        #expect(value["big"] == .number("18446744073709551615"))
        #expect(try JSON.parse(value.rendered()) == value)
        #expect(try JSON.parse(value.rendered(pretty: false)) == value)
    }

    @Test(arguments: [
        "", "{", "{\"a\" 1}", "[1,]", "tru", "\"abc", "{} x", "[01x]",
        // RFC 8259 numbers only: no sign but minus, no leading zero, digits around the point.
        "+1", "01", "-01", "1.", ".5", "-", "1e", "1e+", "--1", "0x10", "1.5.2", "Infinity", "NaN",
        // Only the eight escapes and \u with four hex digits; surrogates only in pairs.
        #""\x""#, #""\a""#, #""\'""#, #""\u12""#, #""\u+123""#, #""\u-123""#, #""\ug000""#,
        #""\ud800\u0041""#, #""\ud800""#, #""\ud800x""#, #""\udc00""#, #""\ud800\ud800""#,
        #""\"#, "\"a\tb\""
    ])
    func rejectsMalformedInput(text: String) {
        #expect(throws: JSONError.self) { try JSON.parse(text) }
    }

    @Test func acceptsEveryRFC8259Form() throws {
        for number in ["0", "-0", "1", "-1", "10", "0.5", "-0.5", "1e5", "1E5", "1e+5", "1e-5", "1.25e-3", "18446744073709551616"] {
            #expect(try JSON.parse(number) == .number(number), "\(number)")
        }
        #expect(try JSON.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{c}\n\r\t"))
        #expect(try JSON.parse(#""\u0041\u00e9\uFFFF\ud83d\ude00\uDBFF\uDFFF""#) == .string("Aé\u{FFFF}😀\u{10FFFF}"))
        #expect(try JSON.parse(" \t\r\n[ 1 , {} ]\n") == .array([.number("1"), .object([])]))
    }

    /// The config that crashed `moat create` (an arithmetic-overflow trap)
    /// is a one-line error naming the byte.
    @Test func aHighSurrogateBeforeAnotherEscapeIsAnError() {
        #expect(throws: JSONError.self) { try JSON.parse(#"{"hostname": "\ud800\u0041"}"#) }
        do { _ = try JSON.parse(#"{"hostname": "\ud800\u0041"}"#) } catch {
            #expect(error.description == "unpaired surrogate in \\u escape at byte 14", "\(error)")
        }
    }
}

@Suite struct SpecTests {
    func spec(_ edit: (inout JSON) -> Void = { _ in }) throws(ConfigError) -> Spec { try decodeDefault(edit) }
    func message(_ edit: (inout JSON) -> Void) -> String? { decodeError(edit) }

    @Test func defaultSpecIsValid() throws {
        let s = try spec()
        #expect(s.process.args == ["sh"])
        #expect(s.rootReadonly)
        #expect(s.mounts.count == 7)
        #expect(s.process.rlimits == [Spec.Rlimit(type: "RLIMIT_NOFILE", resource: 7, soft: 1024, hard: 1024)])
        #expect(Bundle.mask(s.process.capabilities.bounding) == 0x2000_0420)
    }

    @Test func errorsNameTheField() {
        #expect(message { $0 = $0.replacing(path: ["process", "cwd"], with: .string("tmp")) } == "process.cwd: must be an absolute path")
        #expect(message { $0 = $0.replacing(path: ["root"], with: .object([])) } == "root.path: is required")
        #expect(message { $0 = $0.replacing(path: ["process", "args"], with: .array([])) } == "process.args: must name a program")
        #expect(
            message { $0 = $0.replacing(path: ["process", "consoleSize"], with: .object([("height", .int(-1)), ("width", .int(80))])) }?.hasPrefix(
                "process.consoleSize.height:") == true)
        #expect(
            message {
                $0 = $0.replacing(
                    path: ["process", "rlimits"], with: .array([.object([("type", .string("RLIMIT_X")), ("soft", .int(1)), ("hard", .int(1))])]))
            } == "process.rlimits[0].type: unknown rlimit RLIMIT_X")
        #expect(message { $0 = $0.replacing(path: ["process", "user", "uid"], with: .number("-1")) }?.hasPrefix("process.user.uid:") == true)
        #expect(message { $0 = $0.replacing(path: ["surprise"], with: .bool(true)) } == "surprise: is not supported by Moat")
        #expect(
            message { $0 = $0.replacing(path: ["linux", "namespaces"], with: .array([.object([("type", .string("user"))])])) }
                == "linux.uidMappings: a user namespace needs uidMappings and gidMappings")
        let mapping = JSON.array([.object([("containerID", .int(0)), ("hostID", .int(1000)), ("size", .int(1))])])
        #expect(
            message { $0 = $0.replacing(path: ["linux", "uidMappings"], with: mapping) }
                == "linux.uidMappings: needs a user namespace in linux.namespaces")
        #expect(
            message { $0 = $0.replacing(path: ["linux", "namespaces"], with: .array([.object([("type", .string("time"))])])) }
                == "linux.namespaces[0].type: time namespaces are not supported yet")
        #expect(
            message {
                $0 = $0.replacing(path: ["linux", "namespaces"], with: .array([.object([("type", .string("user"))])]))
                    .replacing(path: ["linux", "gidMappings"], with: mapping)
                    .replacing(
                        path: ["linux", "uidMappings"], with: .array([.object([("containerID", .int(0)), ("hostID", .int(0)), ("size", .int(0))])]))
            } == "linux.uidMappings[0].size: must be positive and keep the ids within 32 bits")
        #expect(message { $0 = $0.replacing(path: ["ociVersion"], with: .string("0.9")) }?.hasPrefix("ociVersion:") == true)
        #expect(
            message {
                $0 = $0.replacing(
                    path: ["linux", "resources"],
                    with: .object([("hugepageLimits", .array([.object([("pageSize", .string("2MB")), ("limit", .int(1))])]))]))
            } == "linux.resources.hugepageLimits: resource limits are not supported yet")
        #expect(
            message { $0 = $0.replacing(path: ["linux", "resources"], with: .object([("cpu", .object([("realtimeRuntime", .int(5))]))])) }
                == "linux.resources.cpu.realtimeRuntime: is not supported yet (only shares, quota, period, cpus and mems)")
        #expect(
            message { $0 = $0.replacing(path: ["linux", "resources"], with: .object([("cpu", .object([("cpus", .string("0;1"))]))])) }
                == "linux.resources.cpu.cpus: must be a list like 0-3,5")
        #expect(
            message {
                $0 = $0.replacing(
                    path: ["linux", "resources"], with: .object([("memory", .object([("limit", .int(1 << 26)), ("swappiness", .int(1))]))]))
            } == "linux.resources.memory.swappiness: is not supported yet (only limit, reservation, swap and disableOOMKiller)")
        #expect(
            message { $0 = $0.replacing(path: ["process", "capabilities", "bounding"], with: .array([.string("CAP_NOPE")])) }
                == "process.capabilities.bounding[0]: unknown capability CAP_NOPE")
    }

    /// Invalid configs, table-driven: each gives one line naming the field.
    @Test(
        arguments: [
            (["process", "args"], JSON.string("sh"), "process.args:"),
            (["process", "args"], JSON.array([.int(1)]), "process.args[0]:"),
            (["process", "env"], JSON.array([.string("NOEQUALS")]), "process.env[0]:"),
            (["process", "env"], JSON.array(Array(repeating: JSON.string("K=" + String(repeating: "v", count: 4096)), count: 1024)), "process.env:"),
            (["process", "cwd"], JSON.int(5), "process.cwd:"),
            (["process", "user"], JSON.string("root"), "process.user:"),
            (
                ["process", "rlimits"],
                JSON.array([
                    .object([("type", .string("RLIMIT_NOFILE")), ("soft", .int(1)), ("hard", .int(2))]),
                    .object([("type", .string("RLIMIT_NOFILE")), ("soft", .int(1)), ("hard", .int(2))])
                ]),
                "process.rlimits[1].type:"
            ),
            (
                ["process", "rlimits"], JSON.array([.object([("type", .string("RLIMIT_NOFILE")), ("soft", .int(5)), ("hard", .int(2))])]),
                "process.rlimits[0].soft:"
            ),
            (["hostname"], JSON.string(String(repeating: "h", count: 100)), "hostname:"),
            (
                ["mounts"], JSON.array([.object([("destination", .string("relative")), ("type", .string("tmpfs")), ("source", .string("tmpfs"))])]),
                "mounts[0].destination:"
            ),
            (["linux", "maskedPaths"], JSON.array([.string("proc/kcore")]), "linux.maskedPaths[0]:"),
            (["linux", "sysctl"], JSON.object([("kernel.panic", .string("1"))]), "linux.sysctl.kernel.panic:")
        ] as [([String], JSON, String)])
    func invalidConfigsGiveOneLineNamingTheField(path: [String], value: JSON, prefix: String) {
        let error = message { $0 = $0.replacing(path: path, with: value) }
        #expect(error?.hasPrefix(prefix) == true, "\(path): \(error ?? "accepted")")
        #expect(error.map { !$0.contains("\n") } ?? false)
    }

    @Test func nonUTF8IsRefused() {
        var bytes = Array(#"{"ociVersion": "1.0.2", "process": {"args": ["x"#.utf8)
        bytes += [0xff, 0xfe]
        bytes += Array(#""]}}"#.utf8)
        #expect(throws: JSONError.self) { try JSON.parse(bytes) }
    }

    @Test func terminalAndConsoleSize() throws {
        let s = try spec {
            $0 = $0.replacing(path: ["process", "terminal"], with: .bool(true))
            $0 = $0.replacing(path: ["process", "consoleSize"], with: .object([("height", .int(40)), ("width", .int(120))]))
        }
        #expect(s.process.terminal)
        #expect(s.process.consoleSize?.rows == 40 && s.process.consoleSize?.columns == 120)
    }

    @Test func mountOptionsBecomeFlags() throws {
        let proc = Spec.Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"])
        let m = try MountOptions.childMount(proc, index: 0, bundle: "/")
        #expect(m.flags == 2 | 8 | 4)
        let tmpfs = Spec.Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["ro", "rw", "mode=1777", "size=1m"])
        let t = try MountOptions.childMount(tmpfs, index: 1, bundle: "/")
        #expect(t.flags == 0)
        #expect(t.data == "mode=1777,size=1m")
        let bind = Spec.Mount(destination: "/data", type: "bind", source: "/tmp", options: ["rbind", "ro", "nosuid"])
        let b = try MountOptions.childMount(bind, index: 2, bundle: "/")
        #expect(b.kind == .bind && b.flags == MountOptions.rec && b.remountFlags == 1 | 2)
        #expect(throws: ConfigError.self) {
            try MountOptions.childMount(Spec.Mount(destination: "/x", type: "tmpfs", source: "t", options: ["bogus"]), index: 3, bundle: "/")
        }
    }

    @Test func timestamps() {
        #expect(Timestamp.parse("2000-01-01T00:00:00Z") == 946_684_800)
        #expect(Timestamp.parse("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parse("2024-02-29T12:34:56Z") == 1_709_210_096)
        #expect(Timestamp.parse("123") == 123)
        #expect(Timestamp.parse("2000-13-01T00:00:00Z") == nil)
        #expect(Timestamp.parse("yesterday") == nil)
        for seconds: Int64 in [0, 946_684_800, 1_709_210_096, 1_795_799_736] {
            #expect(Timestamp.parse(Timestamp.format(seconds)) == seconds)
        }
        #expect(Timestamp.format(1_709_210_096) == "2024-02-29T12:34:56Z")
    }

    @Test func pathSearchLikeAShell() {
        #expect(Bundle.executableCandidates("/bin/sh", env: []) == ["/bin/sh"])
        #expect(Bundle.executableCandidates("sh", env: ["PATH=/a:/b"]) == ["/a/sh", "/b/sh"])
        #expect(Bundle.executableCandidates("sh", env: []).first == "/usr/local/sbin/sh")
    }

    @Test func containerIds() {
        #expect(throws: Never.self) { try ContainerState.validate(id: "web-1.a_b") }
        for bad in ["", ".hidden", "a/b", "a b", "../x"] {
            #expect(throws: ConfigError.self) { try ContainerState.validate(id: bad) }
        }
    }
}

@Suite struct LinuxSectionTests {
    func decode(_ edit: (inout JSON) -> Void) throws(ConfigError) -> Spec { try decodeDefault(edit) }
    func message(_ edit: (inout JSON) -> Void) -> String? { decodeError(edit) }

    @Test func sysctlsMustBelongToTheSandboxesNamespaces() throws {
        let spec = try decode {
            $0 = $0.replacing(path: ["linux", "sysctl"], with: .object([("net.ipv4.ip_forward", .string("1")), ("kernel.shmmax", .string("4096"))]))
        }
        #expect(spec.sysctls.map(\.0) == ["net.ipv4.ip_forward", "kernel.shmmax"])
        #expect(
            message { $0 = $0.replacing(path: ["linux", "sysctl"], with: .object([("vm.swappiness", .string("1"))])) }
                == "linux.sysctl.vm.swappiness: only sysctls of the sandbox's own namespaces can be set")
        #expect(
            message {
                $0 = $0.replacing(path: ["linux", "namespaces"], with: .array([.object([("type", .string("pid"))])]))
                $0 = $0.replacing(path: ["linux", "sysctl"], with: .object([("net.ipv4.ip_forward", .string("1"))]))
            }?.contains("needs a network namespace") == true)
    }

    @Test func pidsLimitAndCgroupsPath() throws {
        let spec = try decode {
            $0 = $0.replacing(path: ["linux", "resources"], with: .object([("pids", .object([("limit", .int(64))]))]))
            $0 = $0.replacing(path: ["linux", "cgroupsPath"], with: .string("/a/b"))
        }
        #expect(spec.pidsLimit == 64)
        #expect(spec.cgroupsPath == "/a/b")
        let unlimited = try decode { $0 = $0.replacing(path: ["linux", "resources"], with: .object([("pids", .object([("limit", .number("-1"))]))])) }
        #expect(unlimited.pidsLimit == nil)
    }

    @Test func seccompProfiles() throws {
        let profile = JSON.object([
            ("defaultAction", .string("SCMP_ACT_ERRNO")), ("defaultErrnoRet", .int(38)),
            ("architectures", .array([.string("SCMP_ARCH_X86_64")])),
            (
                "syscalls",
                .array([
                    .object([("names", .array([.string("read"), .string("write"), .string("_llseek")])), ("action", .string("SCMP_ACT_ALLOW"))]),
                    .object([
                        ("names", .array([.string("personality")])), ("action", .string("SCMP_ACT_ALLOW")),
                        ("args", .array([.object([("index", .int(0)), ("value", .int(0)), ("op", .string("SCMP_CMP_EQ"))])]))
                    ]),
                    .object([("names", .array([.string("mkdir")])), ("action", .string("SCMP_ACT_ERRNO"))])
                ])
            )
        ])
        let spec = try decode { $0 = $0.replacing(path: ["linux", "seccomp"], with: profile) }
        let decoded = try #require(spec.seccomp)
        #expect(decoded.defaultAction == 0x0005_0000 | 38)
        #expect(decoded.rules.count == 3)
        #expect(decoded.rules[2].action == 0x0005_0000 | 1, "a rule's ERRNO defaults to EPERM")
        let program = try decoded.program()
        #expect(program.evaluate(number: 0) == 0x7FFF_0000)  // read
        #expect(program.evaluate(number: 83) == 0x0005_0001)  // mkdir
        #expect(program.evaluate(number: 135, args: [0]) == 0x7FFF_0000)  // personality(0)
        #expect(program.evaluate(number: 135, args: [8]) == 0x0005_0000 | 38)
        #expect(program.evaluate(number: 39) == 0x0005_0000 | 38)  // getpid: default

        #expect(
            message { $0 = $0.replacing(path: ["linux", "seccomp"], with: .object([("defaultAction", .string("SCMP_ACT_NOTIFY"))])) }?
                .hasPrefix("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported") == true)
        #expect(
            message {
                $0 = $0.replacing(
                    path: ["linux", "seccomp"], with: .object([("defaultAction", .string("SCMP_ACT_ALLOW")), ("listenerPath", .string("/x"))]))
            }
                == "linux.seccomp.listenerPath: is not supported in linux.seccomp")
    }

    /// What `moat features` lists comes from the parser's tables: each is accepted.
    @Test func everyListedFeatureIsAccepted() throws {
        for name in SeccompProfile.actionNames + SeccompProfile.operatorNames {
            let profile = JSON.object([
                ("defaultAction", .string(name.hasPrefix("SCMP_ACT") ? name : "SCMP_ACT_ALLOW")),
                (
                    "syscalls",
                    .array(
                        name.hasPrefix("SCMP_CMP")
                            ? [
                                .object([
                                    ("names", .array([.string("personality")])), ("action", .string("SCMP_ACT_ERRNO")),
                                    (
                                        "args",
                                        .array([.object([("index", .int(0)), ("value", .int(8)), ("valueTwo", .int(8)), ("op", .string(name))])])
                                    )
                                ])
                            ] : [])
                )
            ])
            #expect(message { $0 = $0.replacing(path: ["linux", "seccomp"], with: profile) } == nil, "\(name)")
        }
        for option in MountOptions.names {
            let mount = Spec.Mount(destination: "/m", type: "tmpfs", source: "tmpfs", options: [option])
            #expect(throws: Never.self, "\(option)") { _ = try MountOptions.childMount(mount, index: 0, bundle: "/") }
        }
        #expect(Spec.supportedNamespaces.isSuperset(of: ["pid", "mount", "ipc", "uts", "network", "cgroup", "user"]))
    }
}

/// `moat spec`'s default config, changed by `edit`, decoded.
func decodeDefault(_ edit: (inout JSON) -> Void) throws(ConfigError) -> Spec {
    var json = DefaultSpec.json()
    edit(&json)
    return try Spec.decode(json)
}

/// The error decoding it gives, if any.
func decodeError(_ edit: (inout JSON) -> Void) -> String? {
    do {
        _ = try decodeDefault(edit)
        return nil
    } catch { return error.message }
}
