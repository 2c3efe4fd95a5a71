import Foundation
import Testing

@testable import OCI

/// A hook gets the state on stdin and may exit without reading it. The
/// write then fails with EPIPE; this test process keeps SIGPIPE's default
/// action (it does not ignore it as moat does), so it would die of it.
@Suite struct HookStdinTests {
    @Test func aHookThatDoesNotReadItsStateKillsNothing() throws {
        // More than a pipe holds: the write waits until the hook has exited, then fails.
        let state = JSON.object([("status", .string("creating")), ("padding", .string(String(repeating: "x", count: 200_000)))])
        let hook = Hooks.Hook(path: "/bin/true", args: ["true"], env: [], timeout: 10)
        try Hooks.run([hook], kind: "poststop", state: state)
        let failing = Hooks.Hook(path: "/bin/false", args: ["false"], env: [], timeout: 10)
        #expect(throws: ConfigError.self) { try Hooks.run([failing], kind: "poststop", state: state) }
    }
}
