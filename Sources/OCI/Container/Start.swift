extension ContainerInfo {
    /// `start`: asks the supervisor of a created container to let its program run.
    public func start() throws(ConfigError) {
        guard status.mayStart else { throw ConfigError("container \(id) is \(status), not created") }
        try ControlSocket.requestStart(directory: directory)
    }
}
