import Glibc
import Testing

@testable import OCI

/// Every input scripts/fuzz was seeded with or ever crashed on, replayed
/// through the same entry point (a crash here is a regression).
@Suite struct FuzzRegressionTests {
    static let directory = String(#filePath.dropLast("UntrustedInputTests.swift".count)) + "FuzzRegressions"

    static func files(_ target: UntrustedInput) -> [String] {
        guard let dir = opendir(directory + "/" + target.rawValue) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    @Test(arguments: UntrustedInput.allCases) func everyKeptInputIsHandled(target: UntrustedInput) throws {
        let names = Self.files(target)
        #expect(!names.isEmpty, "seeds for \(target.rawValue) in \(Self.directory)")
        for name in names {
            let path = Self.directory + "/" + target.rawValue + "/" + name
            let fd = open(path, O_RDONLY)
            try #require(fd >= 0, "\(path)")
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                bytes += buffer[..<n]
            }
            close(fd)
            target.consume(bytes)
        }
    }
}

/// The exec request is the one encoding of both ends of `moat exec`: what
/// the CLI encodes the supervisor decodes, and nothing wrongly typed passes.
@Suite struct ExecRequestTests {
    @Test func roundTrips() throws {
        var request = ExecRequest()
        request.args = ["sh", "-c", "echo \"hi\"\n"]
        request.env = ["PATH=/bin"]
        request.extraEnv = ["A=1"]
        request.cwd = "/tmp"
        request.uid = 1000
        request.gid = 4_294_967_295
        request.terminal = true
        request.consoleSize = .init(rows: 24, columns: 80)
        #expect(request.encoded.hasPrefix("exec {") && request.encoded.hasSuffix("}\n"))
        #expect(try ExecRequest.decode(request.encoded) == request)
        #expect(
            try ExecRequest.decode(#"exec {"args":["true"]}"#)
                == {
                    var r = ExecRequest()
                    r.args = ["true"]
                    return r
                }())
    }

    @Test(arguments: [
        (#"start"#, "not an exec request"),
        (#"exec {"#, "exec request: malformed JSON: expected a key at byte 1"),
        (#"exec []"#, "exec request: must be an object"),
        (#"exec {"args":"sh"}"#, "exec request.args: must be an array"),
        (#"exec {"args":[1]}"#, "exec request.args[0]: must be a string"),
        (#"exec {}"#, "exec request: args must name a program"),
        (#"exec {"args":[]}"#, "exec request: args must name a program"),
        (#"exec {"args":["x"],"user":{"uid":"0"}}"#, "exec request.user.uid: must be a number"),
        (#"exec {"args":["x"],"user":{"uid":-1}}"#, "exec request.user.uid: must be a whole number from 0 to 4294967295"),
        (#"exec {"args":["x"],"user":7}"#, "exec request.user: must be an object"),
        (#"exec {"args":["x"],"cwd":"tmp"}"#, "exec request.cwd: must be an absolute path"),
        (#"exec {"args":["x"],"env":["=x"]}"#, "exec request.env[0]: must be KEY=VALUE"),
        (#"exec {"args":["x"],"extraEnv":["NOEQUALS"]}"#, "exec request.extraEnv[0]: must be KEY=VALUE"),
        (#"exec {"args":["x"],"terminal":1}"#, "exec request.terminal: must be true or false"),
        (
            #"exec {"args":["x"],"consoleSize":{"height":70000,"width":1}}"#,
            "exec request.consoleSize.height: must be a whole number from 0 to 65535"
        ),
        (#"exec {"args":["x"],"capabilities":{}}"#, "exec request.capabilities: is not supported by Moat")
    ])
    func refusesWhatIsWronglyTyped(line: String, message: String) {
        #expect(throws: ConfigError(message)) { try ExecRequest.decode(line) }
    }

    @Test func takesARuntimeSpecProcess() throws {
        var request = ExecRequest()
        try request.merge(
            process: try JSON.parse(#"{"args":["id"],"env":["A=b"],"cwd":"/","user":{"uid":5,"gid":6},"terminal":false}"#),
            path: "p.json")
        #expect(request.args == ["id"] && request.env == ["A=b"] && request.cwd == "/" && request.uid == 5 && request.gid == 6)
        var wrong = ExecRequest()
        #expect(throws: ConfigError("p.json.user.uid: must be a number")) {
            try wrong.merge(process: try JSON.parse(#"{"args":["id"],"user":{"uid":"1000"}}"#), path: "p.json")
        }
        // What Docker's exec sends: groups and umask apply, the container-wide fields are ignored.
        var docker = ExecRequest()
        try docker.merge(
            process: try JSON.parse(
                #"{"args":["id"],"user":{"uid":1,"gid":2,"additionalGids":[5,6],"umask":18},"capabilities":{"bounding":[]},"noNewPrivileges":false}"#),
            path: "p.json")
        #expect(docker.additionalGids == [5, 6] && docker.umask == 0o22)
        #expect(try ExecRequest.decode(docker.encoded) == docker)
        #expect(throws: ConfigError("p.json.user.umask: must be at most 0777")) {
            try wrong.merge(process: try JSON.parse(#"{"args":["id"],"user":{"umask":512}}"#), path: "p.json")
        }
        #expect(throws: ConfigError("p.json.user.additionalGids[0]: must be a number")) {
            try wrong.merge(process: try JSON.parse(#"{"args":["id"],"user":{"additionalGids":["5"]}}"#), path: "p.json")
        }
    }
}

@Suite struct StateRecordTests {
    @Test func readsWhatTheSupervisorWritesAndIgnoresWrongTypes() throws {
        let record = try StateRecord.decode(
            Array(#"{"status":"running","pid":42,"initPid":"43","bundle":7,"exitCode":99999999999,"annotations":{"a":"b","n":1}}"#.utf8))
        #expect(record.status == "running" && record.pid == 42)
        #expect(record.initPid == nil && record.bundle == nil && record.exitCode == nil)
        #expect(record.annotations.count == 1 && record.annotations[0] == ("a", "b"))
        #expect(throws: JSONError.self) { try StateRecord.decode(Array("{\"status\":".utf8)) }
    }
}
