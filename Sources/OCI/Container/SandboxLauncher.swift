import Glibc

/// What runs a container's sandbox for the lifecycle code: the sentry's
/// kernel (MoatCLI's `KernelLauncher`) or, in the tests, a fake that plays
/// a workload without root, namespaces or processes.
public protocol SandboxLauncher {
    /// Runs the sandbox to its end. `whileCreating` (if given) runs once its
    /// namespaces and mounts exist, before pivot_root (false: it is killed);
    /// `beforeStart` once it waits to exec (false: it is killed, its program
    /// never runs); `afterStart` once it runs. Returns the workload's exit
    /// code (128+N when killed by signal N).
    func run(whileCreating: ((pid_t) -> Bool)?, beforeStart: (pid_t) -> Bool, afterStart: (pid_t) -> Void) throws(LaunchFailure)
        -> Int32
}

extension SandboxLauncher {
    /// Runs the sandbox straight through: no hooks, nothing between set-up and start (`moat do`).
    public func run() throws(LaunchFailure) -> Int32 {
        try run(whileCreating: nil, beforeStart: { _ in true }, afterStart: { _ in })
    }
}

/// Why a sandbox could not be run: one line, and the exit code it gives.
public struct LaunchFailure: Error, Equatable, Sendable {
    public let message: String
    public let code: Int32
    public init(_ message: String, code: Int32 = 125) {
        self.message = message
        self.code = code
    }
}
