import Platform
import Testing

/// The host settings that forbid rootless mode each give their own one-line reason.
@Suite struct RootlessObstacleTests {
    @Test func eachRefusingSettingIsNamed() {
        let cases: [([String: Int], String?)] = [
            ([:], nil),
            (["kernel/yama/ptrace_scope": 1, "user/max_user_namespaces": 1000], nil),
            (["kernel/yama/ptrace_scope": 2], "kernel.yama.ptrace_scope is 2"),
            (["kernel/yama/ptrace_scope": 3], "kernel.yama.ptrace_scope is 3"),
            (["user/max_user_namespaces": 0], "user.max_user_namespaces is 0"),
            (["kernel/unprivileged_userns_clone": 0], "kernel.unprivileged_userns_clone is 0")
        ]
        for (settings, expected) in cases {
            let reason = Rootless.obstacle { settings[$0] }
            if let expected {
                #expect(reason?.contains(expected) == true && reason?.contains("\n") == false, "\(settings): \(reason ?? "nil")")
            } else {
                #expect(reason == nil, "\(settings)")
            }
        }
    }
}
