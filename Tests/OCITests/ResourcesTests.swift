import Glibc
import Sentry
import Testing

@testable import OCI

/// linux.resources and process.oomScoreAdj as engines send them: Docker's
/// no-op values pass, what cgroups enforce is kept, nonsense is refused
/// with the field's name.
@Suite struct ResourcesTests {
    func resources(_ value: JSON) throws(ConfigError) -> Spec.Resources {
        try decodeDefault { $0 = $0.replacing(path: ["linux", "resources"], with: value) }.resources
    }
    func refusal(_ value: JSON) -> String? { decodeError { $0 = $0.replacing(path: ["linux", "resources"], with: value) } }
    static func parse(_ text: String) -> JSON { try! JSON.parse(text) }

    /// Systemd's cgroupsPath form, expanded as runc's systemd driver names
    /// the unit: Docker's and the kubelet's (a pod slice under its QoS slice).
    @Test func systemdCgroupPathsAreWhereSystemdPutsThem() {
        #expect(Spec.systemdCgroupPath("system.slice:docker:abc") == "/system.slice/docker-abc.scope")
        #expect(Spec.systemdCgroupPath(":docker:abc") == "/system.slice/docker-abc.scope")
        #expect(
            Spec.systemdCgroupPath("kubepods-besteffort-pod12.slice:cri-containerd:f00")
                == "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-f00.scope")
        #expect(Spec.systemdCgroupPath("-.slice:moat:x") == "/moat-x.scope")
        #expect(Spec.systemdCgroupPath("user.slice::machine.slice") == "/user.slice/machine.slice")
        for bad in ["a:b", "a:b:c:d", "system:docker:abc", "a--b.slice:x:y", "system.slice:x:", "system.slice:x:../y", "-a.slice:x:y"] {
            #expect(Spec.systemdCgroupPath(bad) == nil, "\(bad)")
        }
        let refused = decodeError { $0 = $0.replacing(path: ["linux", "cgroupsPath"], with: .string("system:docker:abc")) }
        #expect(refused == "linux.cgroupsPath: systemd's form is slice:prefix:name (a slice like a-b.slice)")
    }

    @Test func dockersDefaultsChangeNothing() throws {
        let docker = Self.parse(
            #"{"memory": {"disableOOMKiller": false}, "cpu": {"shares": 0}, "blockIO": {"weight": 0},"#
                + #""devices": [{"allow": false, "access": "rwm"}]}"#)
        var expected = Spec.Resources()
        expected.devices = [DeviceRule(allow: false, kind: .all, major: nil, minor: nil, access: "rwm")]
        #expect(try resources(docker) == expected)
    }

    /// linux.resources.devices as runc's device cgroup reads them: in order,
    /// then runc's defaults; the last rule that matches decides.
    @Test func deviceRules() throws {
        let rules = try resources(
            Self.parse(
                #"{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "b", "major": 7, "minor": -1, "access": "r"},"#
                    + #"{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}]}"#)
        ).devices
        #expect(rules.count == 3 && rules[1] == DeviceRule(allow: true, kind: .block, major: 7, minor: nil, access: "r"))
        func allows(_ mode: mode_t, _ major: UInt64, _ minor: UInt64, _ flags: Int32, _ rules: [DeviceRule] = rules) -> Bool {
            DeviceRule.allows(rules, mode: mode, device: dev_t(major << 8 | minor), flags: flags)
        }
        #expect(allows(S_IFBLK, 7, 3, O_RDONLY) && !allows(S_IFBLK, 7, 3, O_RDWR) && !allows(S_IFBLK, 8, 0, O_RDONLY))
        #expect(!allows(S_IFBLK, 7, 0, O_RDONLY | O_TRUNC), "O_TRUNC writes")
        // The defaults come last: a config cannot take /dev/null away, nor grant a console.
        #expect(allows(S_IFCHR, 1, 3, O_RDWR) && allows(S_IFCHR, 136, 4, O_RDWR) && !allows(S_IFCHR, 4, 1, O_RDONLY))
        #expect(!allows(S_IFBLK, 7, 0, O_RDONLY, []) && allows(S_IFREG, 7, 0, O_RDWR, []) && allows(S_IFDIR, 0, 0, O_RDONLY, []))
        // Large numbers: major 259 (NVMe), minor 300.
        #expect(!allows(S_IFBLK, 259, 0, O_RDONLY, []))
        let big = DeviceRule(allow: true, kind: .char, major: 300, minor: 70000, access: "rw")
        let device = dev_t(300 & 0xfff) << 8 | dev_t(70000 & 0xff) | dev_t(70000 & ~0xff) << 12
        #expect(DeviceRule.allows([big], mode: S_IFCHR, device: device, flags: O_RDWR))
        // Numbers as glibc's major() and minor() read them, whatever the bits (no overflow trap).
        for raw in [dev_t.max, dev_t(0xffff_f000_0000_0000), dev_t(0xfff) << 8 | dev_t(0xfff_ff) << 12] {
            #expect(!DeviceRule.allows([], mode: S_IFBLK, device: raw, flags: O_RDONLY))
        }
        let maximal = DeviceRule(allow: true, kind: .block, major: UInt32.max, minor: UInt32.max, access: "r")
        #expect(DeviceRule.allows([maximal], mode: S_IFBLK, device: .max, flags: O_RDONLY))
        for (json, error) in [
            (#"{"type": "x"}"#, "linux.resources.devices[0].type: must be a, c or b"),
            (#"{"major": -2}"#, "linux.resources.devices[0].major: must be -1 or a device number"),
            (#"{"access": "rx"}"#, "linux.resources.devices[0].access: must be made of r, w and m"),
            (#"{"allow": true, "path": "/dev/x"}"#, "linux.resources.devices[0].path: is not supported by Moat")
        ] {
            #expect(refusal(Self.parse(#"{"devices": ["# + json + "]}")) == error)
        }
    }

    @Test func memoryLimitsSwapAndReservation() throws {
        let limited = try resources(
            Self.parse(#"{"memory": {"limit": 67108864, "swap": 134217728, "reservation": 33554432, "disableOOMKiller": true}}"#))
        #expect(limited.memoryLimit == 67_108_864 && limited.memorySwap == 134_217_728)
        #expect(limited.memoryReservation == 33_554_432 && limited.disableOOMKiller)
        #expect(try resources(Self.parse(#"{"memory": {"limit": 1048576, "swap": -1}}"#)).memorySwap == -1)
        #expect(
            refusal(Self.parse(#"{"memory": {"limit": 1048576, "swap": 1000}}"#))
                == "linux.resources.memory.swap: must be at least memory.limit (it counts memory plus swap)")
        #expect(refusal(Self.parse(#"{"memory": {"swap": 1048576}}"#)) == "linux.resources.memory.swap: needs memory.limit")
        #expect(
            refusal(Self.parse(#"{"memory": {"limit": 1048576, "kernel": 1}}"#))
                == "linux.resources.memory.kernel: is not supported yet (only limit, reservation, swap and disableOOMKiller)")
        #expect(refusal(Self.parse(#"{"memory": {"disableOOMKiller": "no"}}"#)) == "linux.resources.memory.disableOOMKiller: must be true or false")
    }

    @Test func blockIOWeight() throws {
        #expect(try resources(Self.parse(#"{"blockIO": {"weight": 500}}"#)).blockIOWeight == 500)
        #expect(refusal(Self.parse(#"{"blockIO": {"weight": 5}}"#)) == "linux.resources.blockIO.weight: must be from 10 to 1000")
        #expect(
            refusal(Self.parse(#"{"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}]}}"#))
                == "linux.resources.blockIO.throttleReadBpsDevice: is not supported yet (only blockIO.weight)")
    }

    @Test func oomScoreAdj() throws {
        #expect(try decodeDefault { $0 = $0.replacing(path: ["process", "oomScoreAdj"], with: .int(0)) }.process.oomScoreAdj == 0)
        #expect(try decodeDefault { $0 = $0.replacing(path: ["process", "oomScoreAdj"], with: .number("-500")) }.process.oomScoreAdj == -500)
        #expect(
            decodeError { $0 = $0.replacing(path: ["process", "oomScoreAdj"], with: .int(1001)) }
                == "process.oomScoreAdj: must be from -1000 to 1000")
    }

    /// Configs captured from the engines themselves (Docker 20.10 through a
    /// runtime that saved its bundle): everything in them decodes.
    @Test(arguments: ["docker-20.10-default.json", "docker-20.10-memory-network-host.json"])
    func enginesConfigsDecode(file: String) throws {
        let path = String(#filePath.dropLast("ResourcesTests.swift".count)) + "EngineConfigs/" + file
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let n = read(fd, &buffer, buffer.count), n > 0 { bytes += buffer[..<n] }
        close(fd)
        let json = try JSON.parse(bytes)
        if file.contains("network-host") {
            // --network=host joins the host's network namespace by path.
            let spec = try Spec.decode(json)
            #expect(spec.namespaces.first { $0.type == "network" }?.path == "/var/run/docker/netns/default")
            #expect(spec.memoryLimit == 64 << 20 && spec.resources.memorySwap == 128 << 20 && spec.process.oomScoreAdj == 0)
        } else {
            let spec = try Spec.decode(json)
            var others = spec.resources
            others.devices = []
            #expect(spec.process.oomScoreAdj == 0 && others == Spec.Resources())
            // Docker's device rules: deny all, its defaults, and /dev/fuse (10:229) denied again.
            #expect(spec.resources.devices.count == 8 && spec.resources.devices.last?.major == 10 && spec.resources.devices.last?.allow == false)
            #expect(spec.cgroupsPath?.hasPrefix("/docker/") == true && spec.seccomp != nil)
        }
    }
}
