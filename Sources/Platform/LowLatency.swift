import Glibc

/// A PM QoS request of zero wake-up latency (/dev/cpu_dma_latency), held
/// while the sandbox is busy making calls the sentry serves.
///
/// Handing an fd over (SECCOMP_IOCTL_NOTIF_ADDFD) wakes the caller with a
/// plain wake-up, which lands on an idle CPU: on a VM that CPU sits in HLT
/// and its wake-up costs tens of microseconds. With the request held, idle
/// CPUs poll instead (the haltpoll driver), and an open+read+close through
/// the sentry drops from 56 to 14 µs here. Polling burns the idle CPUs, so
/// the request is dropped once the sandbox has been quiet for a moment.
/// Needs root; MOAT_LOW_LATENCY=0 turns it off.
public final class LowLatency: @unchecked Sendable {
    private var fd: Int32 = -1
    /// Serving threads hold it, the one that finds the sandbox quiet releases it.
    private let lock = Lock()
    private let enabled: Bool

    public init() {
        enabled = geteuid() == 0 && getenv("MOAT_LOW_LATENCY").map { String(cString: $0) } != "0"
    }

    deinit { release() }

    public var isHeld: Bool { lock.withLock { fd >= 0 } }

    public func hold() {
        lock.withLock { holdLocked() }
    }

    private func holdLocked() {
        guard enabled, fd < 0 else { return }
        fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        var zero: Int32 = 0
        if write(fd, &zero, 4) != 4 { releaseLocked() }
    }

    public func release() {
        lock.withLock { releaseLocked() }
    }

    private func releaseLocked() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
