import Glibc
import Platform

/// process.terminal without a console socket (`moat run`, `moat exec -t`):
/// the workload gets a pty of the sandbox's own devpts, as runc and runsc
/// give it, never the caller's terminal (whose input TIOCSTI could fill, for
/// the caller's shell to run). The child sends the pty's master over a
/// console socket, as for any console socket; this end receives it and
/// relays it to the caller's terminal (raw mode, window size followed, the
/// terminal restored at the end).
public final class ConsoleRelay {
    /// `moat run`: a listening socket in the container's state directory.
    private let listening: ControlSocket?
    /// `moat exec`: this end of a socket pair whose other end goes to the supervisor.
    private let connected: Int32
    public var path: String? { listening?.path }

    public init(directory: String) throws(ConfigError) {
        listening = try ControlSocket(path: directory + "/" + ContainerState.consoleSocket)
        connected = -1
    }

    /// A relay and the socket to pass as the console (the caller closes it once passed).
    public static func pair() throws(ConfigError) -> (relay: ConsoleRelay, console: Int32) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw ConfigError("process.terminal: socketpair: \(Errno.current)")
        }
        return (ConsoleRelay(connected: ends[0]), ends[1])
    }

    private init(connected: Int32) {
        listening = nil
        self.connected = connected
    }

    deinit { if connected >= 0 { close(connected) } }

    /// Takes the master the child sent while setting up and starts relaying
    /// this process's stdin and stdout to it.
    public func start() throws(ConfigError) {
        var fds: [Int32]
        if let listening {
            guard ProcessCalls.readable([listening.descriptor], timeoutMs: 5000) & 1 != 0, let request = listening.accept() else {
                throw ConfigError("process.terminal: the workload's pty did not arrive")
            }
            request.finish()
            fds = request.fds
        } else {
            guard ProcessCalls.readable([connected], timeoutMs: 5000) & 1 != 0, let message = ProcessCalls.receive(connected, capacity: 64)
            else {
                throw ConfigError("process.terminal: the workload's pty did not arrive")
            }
            fds = message.fds
        }
        guard let master = fds.first else { throw ConfigError("process.terminal: no pty master was sent") }
        for fd in fds.dropFirst() { close(fd) }
        do { try ProcessCalls.startTerminalRelay(master: master, input: 0, output: 1) } catch {
            close(master)
            throw ConfigError("process.terminal: cannot relay the pty: \(error)")
        }
    }

    /// Drains the workload's last output and restores the caller's terminal.
    public func finish() { ProcessCalls.finishTerminalRelay() }
}
