import Glibc
import Platform
import Testing

@testable import Sentry

/// The table, the seccomp program built from it and the dispatch cannot disagree.
@Suite struct SyscallTableTests {
    let table = SyscallTable.shared

    @Test func everyDeclaredNameIsAKernelSyscall() {
        #expect(table.unresolved.isEmpty, "unknown names: \(table.unresolved)")
        let names = SyscallTable.declared.map(\.name)
        #expect(Set(names).count == names.count, "a syscall is declared twice")
    }

    @Test func everyKnownNumberHasAName() {
        for nr in Int32(0)...334 { #expect(SyscallTable.name(of: nr) != nil, "nr \(nr)") }
        for nr in Int32(424)...SyscallTable.maxNumber { #expect(SyscallTable.name(of: nr) != nil, "nr \(nr)") }
    }

    @Test func filterMatchesTheTableForEveryNumber() throws {
        let program = try table.program()
        for nr in Int32(0)...SyscallTable.maxNumber + 40 {
            let result = program.evaluate(number: nr)
            let action = result & SeccompReturn.actionMask
            let data = result & SeccompReturn.dataMask
            switch table.entry(nr)?.handling {
            case .emulate? where table.entry(nr)?.alwaysNotified == true:
                #expect(action == SeccompReturn.userNotif, "\(nr) donates an fd or may wait: it must come as a notification")
            case .emulate?:
                #expect(action == SeccompReturn.trace && data == UInt32(nr), "\(nr) must trap with its number")
            case .passthrough?, .passthroughUnless?, .passthroughExcept?:
                #expect(action == SeccompReturn.allow, "\(nr) must be allowed")
            case .deny(let errno)?:
                #expect(action == SeccompReturn.errno && data == UInt32(errno.rawValue), "\(nr) must fail with \(errno)")
            case .emulateWhen(let argument, _, let values, let otherwise, let unlessZero, _)?:
                var args = [UInt64](repeating: 0, count: 6)
                for value in values {
                    args[Int(argument)] = value
                    if let unlessZero {
                        args[Int(unlessZero)] = 0
                        #expect(program.evaluate(number: nr, args: args) == SeccompReturn.allow, "\(nr) op \(value) without a timeout runs")
                        args[Int(unlessZero)] = 0x7fff_0000_1000
                    }
                    #expect(program.evaluate(number: nr, args: args) == SeccompReturn.trace | UInt32(nr), "\(nr) op \(value) traps")
                }
                for value in otherwise {
                    args[Int(argument)] = value | 128  // FUTEX_PRIVATE_FLAG is masked away
                    #expect(program.evaluate(number: nr, args: args) == SeccompReturn.allow, "\(nr) op \(value) runs")
                }
            case .emulateUnlessZero(let argument, _)?:
                #expect(action == SeccompReturn.allow, "\(nr) with a zero argument \(argument) runs without a trap")
                var args = [UInt64](repeating: 0, count: 6)
                args[Int(argument)] = 0x7fff_0000_1000
                let expected = table.entry(nr)?.alwaysNotified == true ? SeccompReturn.userNotif : SeccompReturn.trace | UInt32(nr)
                #expect(program.evaluate(number: nr, args: args) == expected, "\(nr) with an address traps")
            case nil:
                #expect(action == SeccompReturn.errno && data == 38, "\(nr) not in the table must be ENOSYS")
            }
        }
    }

    @Test func withNotificationsOnlyCallsThatNeedAStoppedThreadTrap() throws {
        let program = try table.program(notify: true)
        #expect(program.implements(table.filterRules(notify: true), defaultErrno: 38))
        for nr in Int32(0)...SyscallTable.maxNumber {
            guard let entry = table.entry(nr), case .emulate = entry.handling else { continue }
            let action = program.evaluate(number: nr) & SeccompReturn.actionMask
            #expect(action == (entry.needsStop ? SeccompReturn.trace : SeccompReturn.userNotif), "\(entry.name)")
        }
        // A filter without a listener (no room left for one) traps the donating calls as stops.
        let withoutListener = try table.program(notify: false, listener: false)
        for nr in Int32(0)...SyscallTable.maxNumber where table.entry(nr)?.donatesFD == true {
            #expect(withoutListener.evaluate(number: nr) == SeccompReturn.trace | UInt32(nr))
        }
        let nanosleep = try #require(SyscallNames.number(of: "clock_nanosleep"))
        #expect(program.evaluate(number: nanosleep) == SeccompReturn.trace | UInt32(nanosleep))
    }

    /// --metadata=direct lets exactly the stat, access and readlink calls
    /// through; every other number keeps its action, and observing them
    /// (strace, --count-all) traps them again, served by the sentry.
    @Test func directMetadataAllowsOnlyTheMetadataCalls() throws {
        let direct = FileProfile(directMetadata: true)
        let plain = try table.program(notify: true)
        let program = try table.program(notify: true, profile: direct)
        #expect(program.implements(table.filterRules(notify: true, profile: direct), defaultErrno: 38))
        var allowed: [String] = []
        for nr in Int32(0)...SyscallTable.maxNumber + 40 {
            let before = plain.evaluate(number: nr)
            let after = program.evaluate(number: nr)
            if before != after {
                #expect(after == SeccompReturn.allow, "\(nr)")
                allowed.append(SyscallTable.name(of: nr) ?? "\(nr)")
            }
        }
        #expect(
            allowed.sorted() == [
                "access", "faccessat", "faccessat2", "lstat", "newfstatat", "readlink", "readlinkat",
                "stat", "statfs", "statx"
            ])
        var all = Observation()
        all.all = true
        let counted = try table.program(notify: true, observing: all, profile: direct)
        let stat = try #require(SyscallNames.number(of: "newfstatat"))
        #expect(counted.evaluate(number: stat) == (try table.program(notify: true, observing: all)).evaluate(number: stat))
        #expect(counted.evaluate(number: stat) != SeccompReturn.allow)
        // Nothing that opens, writes or changes a path is among them.
        for name in ["open", "openat", "openat2", "creat", "unlink", "rename", "chdir", "execve", "mkdir", "symlink", "chmod"] {
            let nr = try #require(SyscallNames.number(of: name))
            #expect(program.evaluate(number: nr) == plain.evaluate(number: nr), "\(name)")
        }
    }

    /// --files=direct lets the metadata calls and every call that opens or
    /// changes a file by path through, nothing else: mknod (devices), execve
    /// (the exec checks) and unix sockets' paths stay with the sentry.
    @Test func directFilesAllowsOnlyThePathCalls() throws {
        let direct = FileProfile(directFiles: true)
        #expect(direct.directMetadata)
        let plain = try table.program(notify: true)
        let program = try table.program(notify: true, profile: direct)
        #expect(program.implements(table.filterRules(notify: true, profile: direct), defaultErrno: 38))
        var allowed: [String] = []
        for nr in (Int32(0)...SyscallTable.maxNumber + 40).filter({ plain.evaluate(number: $0) != program.evaluate(number: $0) }) {
            #expect(program.evaluate(number: nr) == SeccompReturn.allow, "\(nr)")
            allowed.append(SyscallTable.name(of: nr) ?? "\(nr)")
        }
        #expect(
            allowed.sorted() == [
                "access", "chdir", "chmod", "chown", "creat", "faccessat", "faccessat2", "fchmodat", "fchmodat2", "fchownat",
                "futimesat", "getxattr", "inotify_add_watch", "lchown", "lgetxattr", "link", "linkat", "listxattr", "llistxattr",
                "lremovexattr", "lsetxattr", "lstat", "mkdir", "mkdirat", "newfstatat", "open", "openat", "openat2", "readlink",
                "readlinkat", "removexattr", "rename", "renameat", "renameat2", "rmdir", "setxattr", "stat", "statfs", "statx",
                "symlink", "symlinkat", "truncate", "unlink", "unlinkat", "utime", "utimensat", "utimes"
            ], "\(allowed.sorted())")
        for name in ["mknod", "mknodat", "execve", "execveat", "connect", "bind", "getpid", "mount"] {
            let nr = try #require(SyscallNames.number(of: name))
            #expect(program.evaluate(number: nr) == plain.evaluate(number: nr), "\(name)")
        }
        var all = Observation()
        all.all = true
        let openat = try #require(SyscallNames.number(of: "openat"))
        #expect(try table.program(notify: true, observing: all, profile: direct).evaluate(number: openat) != SeccompReturn.allow)
    }

    /// Observing makes calls trap, never pass: every number is either handled
    /// as unobserved or trapped (where the sentry applies the same policy).
    @Test func observingNeverLoosensTheFilter() throws {
        var refused = Observation()
        var all = Observation()
        var straced = Observation()
        refused.refused = true
        all.all = true
        straced.straceFD = 2
        straced.straceOnly = [0, 1]
        let plain = try table.program()
        for observation in [refused, all, straced] {
            let program = try table.program(observing: observation)
            #expect(program.implements(table.filterRules(observing: observation), defaultErrno: 38))
            for nr in Int32(0)...SyscallTable.maxNumber + 40 {
                let observed = program.evaluate(number: nr)
                let unobserved = plain.evaluate(number: nr)
                #expect(observed == unobserved || observed == SeccompReturn.trace | UInt32(nr), "\(nr)")
                if observation.refused, unobserved & SeccompReturn.actionMask == SeccompReturn.errno, nr <= SyscallTable.maxNumber {
                    #expect(observed == SeccompReturn.trace | UInt32(nr), "refused \(nr) is recorded")
                }
            }
            for arch in [SeccompProgram.auditArchI386] {
                #expect(program.evaluate(arch: arch, number: 20) == SeccompReturn.killProcess)
            }
        }
    }

    @Test func otherArchitecturesAndX32KillTheProcess() throws {
        let program = try table.program()
        #expect(program.evaluate(arch: SeccompProgram.auditArchI386, number: 20) == SeccompReturn.killProcess)
        #expect(program.evaluate(number: 0x4000_0000 | 39) == SeccompReturn.killProcess)
        #expect(program.evaluate(number: 0x4000_0000 | 1) == SeccompReturn.killProcess)
        // nr -1 is a tracer's "skip": it must pass.
        #expect(program.evaluate(number: -1) & SeccompReturn.actionMask != SeccompReturn.killProcess)
    }

    @Test func cloneWithNamespaceFlagsIsRefused() throws {
        let program = try table.program()
        let clone = try #require(SyscallNames.number(of: "clone"))
        let plainFork: UInt64 = 17  // SIGCHLD
        let thread: UInt64 = 0x3D0F00  // glibc's pthread_create flags
        #expect(program.evaluate(number: clone, args: [plainFork]) == SeccompReturn.allow)
        #expect(program.evaluate(number: clone, args: [thread]) == SeccompReturn.allow)
        for flag in [Linux.cloneNewUser, Linux.cloneNewPID, Linux.cloneNewNS, Linux.cloneNewNet, Linux.cloneNewTime] {
            #expect(program.evaluate(number: clone, args: [plainFork | UInt64(flag)]) == SeccompReturn.errno | 1)
        }
    }

    @Test func privilegedCallsAreDenied() {
        for name in [
            "mount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv", "bpf",
            "perf_event_open", "kexec_load", "init_module", "finit_module", "delete_module",
            "keyctl", "add_key", "request_key", "setns", "reboot", "swapon",
            "acct", "settimeofday", "clock_settime", "adjtimex", "userfaultfd", "io_uring_setup",
            "open_by_handle_at"
        ] {
            let nr = SyscallNames.number(of: name)!
            guard case .deny(let errno)? = table.entry(nr)?.handling else {
                Issue.record("\(name) must be denied")
                continue
            }
            #expect(errno == .notPermitted || errno == .notImplemented, "\(name)")
        }
    }

    /// unshare: only what needs no new namespace runs (the sentry checks the flags register).
    @Test func unshareMakesNoNamespace() {
        #expect(table.handler(SyscallNames.number(of: "unshare")!) != nil, "unshare is served by the sentry")
        #expect(Namespaces.unshareFlags & UInt64(Linux.allNamespaceFlags) == UInt64(Linux.allNamespaceFlags))
        #expect(Namespaces.unshareFlags & 0x0000_0200 != 0 && Namespaces.unshareFlags & 0x0000_0400 != 0)  // CLONE_FS, CLONE_FILES
    }

    @Test func pidsAndTimeAreServedBySentry() {
        for name in [
            "getpgid", "getsid", "rt_sigqueueinfo", "wait4", "clock_gettime",
            "gettimeofday", "time", "clock_nanosleep", "uname", "sethostname"
        ] {
            guard case .emulate? = table.entry(SyscallNames.number(of: name)!)?.handling else {
                Issue.record("\(name) must be emulated")
                continue
            }
        }
    }

    /// The sandbox always has a pid namespace (its own or a pod's) and the
    /// sentry's numbers are the kernel's there: asking, or signalling,
    /// costs no round trip.
    @Test func ownIdsComeFromTheKernel() {
        for name in ["getpid", "gettid", "getppid", "kill", "tkill", "tgkill"] {
            guard case .passthrough? = table.entry(SyscallNames.number(of: name)!)?.handling else {
                Issue.record("\(name) must run on the host")
                continue
            }
        }
    }
}

@Suite struct FilterCacheTests {
    @Test func aCachedProgramIsUsedOnlyIfItImplementsTheTable() throws {
        let directory = "/tmp/moat-filter-cache-\(getpid())"
        mkdir(directory, 0o700)
        defer { _ = try? FileManager.removeTree(directory) }
        let table = SyscallTable.shared
        let built = try table.program(cacheDirectory: directory)
        #expect(built.implements(table.filterRules(), defaultErrno: 38))
        let cached = try table.program(cacheDirectory: directory)
        #expect(cached.instructions == built.instructions)

        // A program for other rules does not pass as this table's.
        let other = try SeccompProgram.build(defaultErrno: 38, rules: [(39, .allow)])
        #expect(!other.implements(table.filterRules(), defaultErrno: 38))
        // A tampered cache file is rebuilt, not trusted.
        let files = try FileManager.list(directory).filter { $0.hasSuffix(".bpf") }
        #expect(files.count == 1)
        let path = directory + "/" + files[0]
        let fd = open(path, O_WRONLY | O_TRUNC)
        _ = other.instructions.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(try table.program(cacheDirectory: directory).instructions == built.instructions)
    }
}

/// Tiny directory helpers without Foundation.
enum FileManager {
    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
    static func removeTree(_ path: String) throws {
        for name in try list(path) { unlink(path + "/" + name) }
        rmdir(path)
    }
}
