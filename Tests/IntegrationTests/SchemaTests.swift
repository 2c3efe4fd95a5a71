import Foundation
import Testing

/// config.json files the tests make and engines send, and `moat state`
/// output, checked against the runtime-spec's JSON schema (Debian's
/// golang-github-opencontainers-specs-dev, with python3-jsonschema).
@Suite struct SchemaTests {
    let fixture = Fixture.shared

    func validate(_ kind: String, _ files: [String]) -> Command.Result {
        Command.run(fixture.packageRoot.appendingPathComponent("scripts/validate-oci-json").path, [kind] + files)
    }

    @Test func configsTheTestsMakeAndEnginesSendAreValid() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        // The shapes the suite uses: the default spec, resources, devices,
        // namespaces by path, a user namespace with mappings, hooks, a terminal.
        let shapes: [(String, (inout [String: Any]) -> Void)] = [
            ("default", { _ in }),
            (
                "resources",
                { config in
                    var linux = config["linux"] as! [String: Any]
                    linux["resources"] = [
                        "memory": ["limit": 64 << 20, "swap": 128 << 20, "disableOOMKiller": false],
                        "pids": ["limit": 9], "cpu": ["shares": 512, "quota": 10000, "period": 100000, "cpus": "0"],
                        "blockIO": ["weight": 0]
                    ]
                    linux["cgroupsPath"] = "/moat-schema"
                    config["linux"] = linux
                    config.setProcess("oomScoreAdj", 0)
                }
            ),
            (
                "devices",
                { config in
                    var linux = config["linux"] as! [String: Any]
                    linux["devices"] = [["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666, "uid": 0, "gid": 0]]
                    config["linux"] = linux
                }
            ),
            (
                "namespaces",
                { config in
                    var linux = config["linux"] as! [String: Any]
                    linux["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "network", "path": "/proc/1/ns/net"], ["type": "user"]]
                    linux["uidMappings"] = [["containerID": 0, "hostID": 1000, "size": 2000]]
                    linux["gidMappings"] = [["containerID": 0, "hostID": 1000, "size": 3000]]
                    config["linux"] = linux
                }
            ),
            (
                "hooks-terminal",
                { config in
                    config["hooks"] = ["prestart": [["path": "/bin/true", "args": ["true"], "timeout": 5]]]
                    config.setProcess("terminal", true)
                    config.setProcess("consoleSize", ["height": 24, "width": 80])
                }
            )
        ]
        var files: [String] = []
        for (name, edit) in shapes {
            files.append(try fixture.bundle("schema-\(name)", args: ["true"], edit: edit).appendingPathComponent("config.json").path)
        }
        let engines = fixture.packageRoot.appendingPathComponent("Tests/OCITests/EngineConfigs")
        for name in try FileManager.default.contentsOfDirectory(atPath: engines.path).sorted() where name.hasSuffix(".json") {
            files.append(engines.appendingPathComponent(name).path)
        }
        let result = validate("config", files)
        #expect(
            result.status == 0 && result.lines.count == files.count && result.lines.allSatisfy { $0.hasPrefix("ok ") },
            "\(result.stdout) \(result.stderr)")
        // And the validator can say no.
        let broken = fixture.scratch("schema-broken").appendingPathComponent("config.json")
        try #"{"ociVersion": "1.0.2", "process": {"cwd": "/", "user": {"uid": "x", "gid": 0}}, "root": {"path": "rootfs"}}"#
            .write(to: broken, atomically: true, encoding: .utf8)
        #expect(validate("config", [broken.path]).status == 1)
    }

    @Test func stateOutputIsValidInEveryStatus() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("schema-state", args: ["sleep", "30"]) { config in
            config["annotations"] = ["org.example.key": "value"]
        }
        let root = bundle.appendingPathComponent("state").path
        func state(_ name: String) throws -> String {
            let result = Command.run(fixture.moat, ["--root", root, "state", "st"])
            let file = bundle.appendingPathComponent("state-\(name).json")
            try result.stdout.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
        #expect(Command.run("/bin/sh", ["-c", "'\(fixture.moat)' --root '\(root)' create --bundle '\(bundle.path)' st > /dev/null 2>&1"]).status == 0)
        defer { _ = Command.run(fixture.moat, ["--root", root, "delete", "--force", "st"]) }
        var files = [try state("created")]
        #expect(Command.run(fixture.moat, ["--root", root, "start", "st"]).status == 0)
        files.append(try state("running"))
        #expect(Command.run(fixture.moat, ["--root", root, "kill", "st", "KILL"]).status == 0)
        #expect(eventually { Command.run(fixture.moat, ["--root", root, "state", "st"]).stdout.contains("\"stopped\"") })
        files.append(try state("stopped"))
        let result = validate("state", files)
        #expect(result.status == 0 && result.lines.allSatisfy { $0.hasPrefix("ok ") }, "\(result.stdout) \(result.stderr)")
    }
}
