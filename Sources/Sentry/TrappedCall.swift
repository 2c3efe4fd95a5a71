import Glibc
import Platform

/// A call the sentry serves, however it arrived: as a seccomp user
/// notification (answered by a serving thread, the caller blocked in the
/// kernel) or as a ptrace stop (answered by the tracing thread through the
/// caller's registers). `Kernel.serve` runs the handler and switches on its
/// outcome once; what each outcome means for each arrival is here.
protocol TrappedCall {
    var tid: HostTid { get }
    var args: SyscallArgs { get }
    /// Straced calls' inputs are read before the handler runs (a notified
    /// caller runs on as soon as it is answered).
    var readsInputsFirst: Bool { get }
    /// No handler, or the task cannot be known.
    func unserved(_ k: Kernel)
    /// A host call the handler made failed with EINTR: whether that was the
    /// serving pool's own interrupt (serve again) rather than the caller's.
    func isStillWaiting() -> Bool
    /// The call returns `value` (-errno for an error).
    func answer(_ k: Kernel, _ task: Task, value: Int, inputs: [String?]?)
    /// The host runs the call as it is.
    func runOnHost(_ k: Kernel, _ task: Task)
    /// The host runs it and the sentry checks its result at the exit stop.
    func runOnHostToExit(_ k: Kernel, _ task: Task)
    /// The sentry's `fd` becomes the caller's result. nil when the call is
    /// done with; else -errno to answer.
    func donate(_ k: Kernel, _ task: Task, fd: Int32, cloexec: Bool, inputs: [String?]?) -> Int?
}

/// A call that came as a user notification.
struct NotifiedCall: TrappedCall {
    let notification: Notification
    let listener: NotificationListener

    var tid: HostTid { notification.tid }
    var args: SyscallArgs { notification.args }
    var readsInputsFirst: Bool { true }

    func unserved(_ k: Kernel) { listener.complete(notification, value: -Int(ENOSYS)) }

    func isStillWaiting() -> Bool { listener.stillWaits(notification) }

    func answer(_ k: Kernel, _ task: Task, value: Int, inputs: [String?]?) {
        if inputs != nil { k.observe { $0.printFinished(tid, vtid: task.vtid, args, result: value, inputs: inputs) } }
        listener.complete(notification, value: value)
    }

    func runOnHost(_ k: Kernel, _ task: Task) { listener.runOnHost(notification) }

    // Only ptrace stops have an exit stop: notified, the host simply runs it.
    func runOnHostToExit(_ k: Kernel, _ task: Task) { listener.runOnHost(notification) }

    func donate(_ k: Kernel, _ task: Task, fd: Int32, cloexec: Bool, inputs: [String?]?) -> Int? {
        k.donate(fd, cloexec: cloexec, answering: notification, on: listener, task: task, inputs: inputs)
    }
}

/// A call that came as a ptrace stop (seccomp RET_TRACE).
struct StoppedCall: TrappedCall {
    let tid: HostTid
    let args: SyscallArgs

    var readsInputsFirst: Bool { false }

    func unserved(_ k: Kernel) {
        if let observer = k.observer {
            k.stateLock.withLock { k.observeTrapped(tid, args, observer) }
        } else {
            // A workload's own nested filter may trap calls we let through: run them.
            k.tracer.resume(tid)
        }
    }

    // The tracing thread is never interrupted by the pool.
    func isStillWaiting() -> Bool { false }

    func answer(_ k: Kernel, _ task: Task, value: Int, inputs: [String?]?) {
        k.tracer.complete(tid, value: value)
        k.observe { $0.printFinished(tid, vtid: task.vtid, args, result: value) }
        k.tracer.resume(tid)
    }

    func runOnHost(_ k: Kernel, _ task: Task) {
        // strace prints a call the host runs at its exit stop.
        if let observer = k.observer, observer.observation.straces(args.number) {
            runOnHostToExit(k, task)
        } else {
            k.tracer.resume(tid)
        }
    }

    func runOnHostToExit(_ k: Kernel, _ task: Task) {
        if let observer = k.observer, observer.observation.straces(args.number) { k.observe { $0.begin(tid, vtid: task.vtid, args) } }
        k.tracer.resumeToExit(tid)
    }

    func donate(_ k: Kernel, _ task: Task, fd: Int32, cloexec: Bool, inputs: [String?]?) -> Int? {
        // A ptrace stop cannot take an fd (a `moat exec` process beyond the
        // loop's room for listeners): the kernel repeats the open inside the
        // pivoted root, the second wall.
        close(fd)
        runOnHost(k, task)
        return nil
    }
}
