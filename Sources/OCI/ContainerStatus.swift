/// A container's status, as state.json records it and `moat state` prints
/// it, and what each one allows (runc's rules: start only what was
/// created, signal and update what lives, delete what stopped).
public enum ContainerStatus: String, Sendable, CaseIterable {
    case creating, created, running, paused, stopped
    /// A supervisor lives but state.json cannot be read.
    case unknown

    /// Read back from a state file; a value Moat never writes is unknown.
    public init(recorded text: String?) {
        self = text.flatMap(ContainerStatus.init(rawValue:)) ?? .unknown
    }

    public var mayStart: Bool { self == .created }
    /// kill, update: a workload exists.
    public var maySignal: Bool { self == .created || self == .running || self == .paused }
    public var mayExec: Bool { self == .running }
    public var mayPause: Bool { self == .running }
    public var mayResume: Bool { self == .paused }
    /// Without --force.
    public var mayDelete: Bool { self == .stopped }
}
