import Platform

/// Every kind of input Moat reads from a source it does not trust, by
/// name: config.json (an engine or a user wrote it), state.json (anyone
/// with access to --root) and requests on a running supervisor's control
/// socket (start, exec). scripts/fuzz drives these with libFuzzer; the unit tests
/// replay every input it ever found (Tests/OCITests/FuzzRegressions).
public enum UntrustedInput: String, CaseIterable, Sendable {
    case json, config, state
    case execRequest = "exec-request"

    /// Reads `bytes` as this input. A refusal is an answer; only a crash is a bug.
    public func consume(_ bytes: [UInt8]) {
        switch self {
        case .json:
            // What parses must render to text that parses to the same value.
            guard let value = try? JSON.parse(bytes) else { return }
            precondition((try? JSON.parse(value.rendered())) == value, "JSON does not round-trip")
        case .config:
            guard let json = try? JSON.parse(bytes) else { return }
            _ = try? Spec.decode(json)
        case .state:
            _ = try? StateRecord.decode(bytes)
        case .execRequest:
            // What reaches a supervisor's control socket, as it serves it.
            let line = String(decoding: bytes, as: UTF8.self)
            // What decodes must encode to a line that decodes to the same request.
            guard let request = try? ControlRequest.decode(line) else { return }
            precondition((try? ControlRequest.decode(request.encoded)) == request, "control request does not round-trip")
            if case .exec(let exec) = request {
                var container = ChildSpec(rootfs: "/")
                container.argv = ["sh"]
                _ = try? ExecService.process(exec, in: container, withConsole: true)
            }
        }
    }
}
