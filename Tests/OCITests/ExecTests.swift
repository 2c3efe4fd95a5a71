import Foundation
import Glibc
import Platform
import Testing

@testable import OCI

/// `moat exec`'s two ends: the reply lines, and the process the supervisor
/// makes from a request laid over the container's.
@Suite struct ExecTests {
    @Test func repliesRoundTripAsOneLineEach() {
        for reply: ControlReply in [.ok, .started(4242), .error("exec: no such file"), .exit(0), .exit(137)] {
            let line = reply.encoded
            #expect(line.hasSuffix("\n") && line.filter { $0 == "\n" }.count == 1)
            #expect(ControlReply.decode(String(line.dropLast())) == reply)
        }
        // An error that came with newlines still takes one line.
        #expect(ControlReply.error("a\nb").encoded == "error a b\n")
    }

    @Test func malformedRepliesAreNotReplies() {
        for line in ["", "ok ", "started", "started -3", "started 0", "started x", "exit", "exit 1.5", "bye 3", "STARTED 5"] {
            #expect(ControlReply.decode(line) == nil, "\(line)")
        }
    }

    @Test func requestsRoundTripAndAnythingElseIsRefused() throws {
        var exec = ExecRequest()
        exec.args = ["sh", "-c", "echo hi"]
        exec.uid = 0
        for request: ControlRequest in [.start, .exec(exec)] {
            #expect(try ControlRequest.decode(request.encoded) == request)
        }
        for text in ["", "start", "starting\n", "start now\n", "exec {}\n", "exec [1]\n", "stop\n"] {
            #expect(throws: ConfigError.self, "\(text)") { try ControlRequest.decode(text) }
        }
    }

    func container() -> ChildSpec {
        var child = ChildSpec(rootfs: "/rootfs")
        child.argv = ["/bin/sh"]
        child.env = ["PATH=/usr/bin:/bin", "HOME=/root", "TERM=xterm"]
        child.cwd = "/srv"
        child.uid = 1000
        child.gid = 1000
        child.groups = [10]
        child.umask = 0o022
        child.preservedFDs = 2
        child.consoleSocket = "/run/console.sock"
        return child
    }

    @Test func aBareRequestRunsItsArgsAsTheContainersProcess() throws {
        var request = ExecRequest()
        request.args = ["ls", "-l"]
        let child = try ExecService.process(request, in: container(), withConsole: false)
        #expect(child.argv == ["ls", "-l"] && child.cwd == "/srv" && child.uid == 1000 && child.gid == 1000 && child.groups == [10])
        #expect(child.env == container().env && child.umask == 0o022)
        #expect(child.executableCandidates == ["/usr/bin/ls", "/bin/ls"])
        // The container's own fds and console belong to its init, not to this process.
        #expect(child.preservedFDs == 0 && child.consoleSocket == nil && !child.terminal)
    }

    @Test func theRequestOverridesUserCwdAndEnvironment() throws {
        var request = ExecRequest()
        request.args = ["/usr/bin/id"]
        request.extraEnv = ["HOME=/home/x", "NEW=1"]
        request.cwd = "/tmp"
        request.uid = 0
        request.gid = 5
        request.additionalGids = []
        request.umask = 0o077
        let child = try ExecService.process(request, in: container(), withConsole: false)
        #expect(child.env == ["PATH=/usr/bin:/bin", "TERM=xterm", "HOME=/home/x", "NEW=1"])
        #expect(child.cwd == "/tmp" && child.uid == 0 && child.gid == 5 && child.groups.isEmpty && child.umask == 0o077)
        #expect(child.executableCandidates == ["/usr/bin/id"])
        // A whole environment replaces the container's; --env pairs still go over it.
        request.env = ["PATH=/sbin"]
        let replaced = try ExecService.process(request, in: container(), withConsole: false)
        #expect(replaced.env == ["PATH=/sbin", "HOME=/home/x", "NEW=1"])
    }

    @Test func aTerminalNeedsTheConsoleSocketToSendItsPtyTo() throws {
        var request = ExecRequest()
        request.args = ["sh"]
        request.terminal = true
        request.consoleSize = .init(rows: 40, columns: 120)
        #expect(try ExecService.process(request, in: container(), withConsole: true).terminal)
        #expect(try ExecService.process(request, in: container(), withConsole: true).consoleSize! == (40, 120))
        #expect(try !ExecService.process(request, in: container(), withConsole: false).terminal)
    }

    @Test func aRequestWithoutAProgramIsRefused() {
        var empty = container()
        empty.argv = []
        #expect(throws: ConfigError.self) { try ExecService.process(ExecRequest(), in: empty, withConsole: false) }
    }

    @Test func aContainerThatIsNotRunningRefusesExecBeforeAnyConnection() throws {
        let root = "/tmp/moat-exec-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let state = try ContainerState.claim(root: root, id: "idle", bundle: "/nonexistent")
        try state.created(supervisor: getpid(), initPid: getpid())
        var request = ExecRequest()
        request.args = ["true"]
        let info = try ContainerInfo.load(root: root, id: "idle")
        #expect(throws: ConfigError("container idle is created, not running")) { try info.exec(request, stdio: [0, 1, 2]) }
    }
}
