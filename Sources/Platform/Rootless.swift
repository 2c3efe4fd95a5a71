import Glibc

/// What a host must allow for Moat to run without root: user namespaces for
/// the sandbox, ptrace of its own children, and seccomp user notification.
public enum Rootless {
    /// Why this host cannot run an unprivileged sandbox, or nil; `sysctl`
    /// reads a /proc/sys key (tests give their own).
    public static func obstacle(sysctl: (String) -> Int? = Rootless.sysctl) -> String? {
        if let scope = sysctl("kernel/yama/ptrace_scope"), scope >= 2 {
            return "rootless mode needs to trace its own children, but kernel.yama.ptrace_scope is \(scope) (0 or 1 allow it)"
        }
        if sysctl("user/max_user_namespaces") == 0 {
            return "rootless mode needs user namespaces, but user.max_user_namespaces is 0"
        }
        if sysctl("kernel/unprivileged_userns_clone") == 0 {
            return "rootless mode needs user namespaces, but kernel.unprivileged_userns_clone is 0"
        }
        return nil
    }

    /// Why a rootless spawn failed with `errno`, as one line.
    public static func explain(_ error: Errno) -> String {
        let outer =
            HostFile.read("/proc/self/status").map { String(decoding: $0, as: UTF8.self) }?
            .split(separator: "\n").contains { $0.hasPrefix("Seccomp:") && $0.hasSuffix("2") } == true
        let why = "the host refused a user namespace or ptrace to an unprivileged process (\(error))"
        return outer ? why + "; this process already runs under a seccomp filter (an outer container's policy?)" : why
    }

    public static func sysctl(_ name: String) -> Int? {
        guard let bytes = HostFile.read("/proc/sys/" + name) else { return nil }
        return Int(String(decoding: bytes.filter { (48...57).contains($0) }, as: UTF8.self))
    }
}
