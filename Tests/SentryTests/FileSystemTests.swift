import Glibc
import Platform
import Testing

@testable import Sentry

/// The sentry's path resolution over a real directory tree standing in for
/// a sandbox root: symlinks, `..`, loops, trailing slashes, and a fuzzed
/// walk that must never leave the root.
@Suite struct FileSystemTests {
    let top: String
    let files: FileSystem
    let caller = FileSystem.Caller(hostTid: getpid(), vpid: 7, vtid: 7) { _ in nil }

    init() {
        var template = Array("/tmp/moat-fs-XXXXXX".utf8CString)
        top = String(cString: mkdtemp(&template))
        for directory in ["root", "root/etc", "root/a", "root/a/b", "root/a/b/c", "root/proc", "root/proc/7", "root/tmp"] {
            mkdir("\(top)/\(directory)", 0o755)
        }
        FileSystemTests.write("inside\n", to: "\(top)/root/etc/passwd")
        FileSystemTests.write("seven\n", to: "\(top)/root/proc/7/status")
        FileSystemTests.write("OUTSIDE\n", to: "\(top)/outside")
        let links: [(String, String)] = [
            ("a/abs", "/etc"), ("a/rel", "../etc/passwd"), ("a/out", "\(top)/outside"), ("a/up", "../../../../outside"),
            ("loop1", "loop2"), ("loop2", "loop1"), ("a/b/c/deep", "../../../etc"), ("tmp/dir", "/a/b"),
            // As procfs's self looks to the supervisor: a link that leads nowhere.
            ("proc/self", "/nowhere")
        ]
        for (link, target) in links { symlink(target, "\(top)/root/\(link)") }
        let root = open("\(top)/root", OpenFlags.path | O_DIRECTORY | O_CLOEXEC)
        files = FileSystem(root: root, procMounts: ["/proc"])
    }

    static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    func read(_ path: String, follow: Bool = true) -> String {
        do {
            let lookup = FileSystem.Lookup(dirfd: AT_FDCWD, path: Array(path.utf8), followFinal: follow)
            let fd = try files.open(lookup, caller: caller, flags: O_RDONLY, mode: 0)
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = Glibc.read(fd, &buffer, buffer.count)
            return String(decoding: buffer[..<max(n, 0)], as: UTF8.self)
        } catch {
            return "errno \(error.rawValue)"
        }
    }

    @Test func symlinksResolveInsideTheRoot() {
        #expect(read("/a/abs/passwd") == "inside\n")
        #expect(read("/a/rel") == "inside\n")
        #expect(read("/a/b/c/deep/passwd") == "inside\n")
        #expect(read("/tmp/dir/c/deep/passwd") == "inside\n")
        #expect(read("/../../../etc/passwd") == "inside\n")
        #expect(read("/a/out") == "errno \(ENOENT)", "an absolute host path names nothing inside")
        #expect(read("/a/up") == "errno \(ENOENT)")
    }

    @Test func loopsTrailingSlashesAndNoFollow() {
        #expect(read("/loop1") == "errno \(ELOOP)")
        #expect(read("/etc/passwd/") == "errno \(ENOTDIR)")
        #expect(read("/a/rel", follow: false) == "errno \(ELOOP)")
        #expect(read("/nope/passwd") == "errno \(ENOENT)")
    }

    @Test func procSelfNamesTheCaller() {
        #expect(read("/proc/self/status") == "seven\n")
        #expect(read("/proc/thread-self/../status") == "errno \(ENOENT)", "7/task/7/.. is 7/task, which this tree lacks")
    }

    /// Random walks over `..`, `.`, symlinks in and out and loops: whatever
    /// opens is a file under the root, never the one outside it.
    @Test func fuzzedPathsNeverLeaveTheRoot() {
        let parts = [
            "..", ".", "a", "b", "c", "etc", "passwd", "abs", "rel", "out", "up", "deep", "loop1", "tmp", "dir",
            "proc", "self", "thread-self", "", "outside", String(top.dropFirst())
        ]
        var generator = SystemRandomNumberGenerator()
        var opened = 0
        for _ in 0..<3000 {
            let count = Int.random(in: 1...8, using: &generator)
            let path =
                (Bool.random(using: &generator) ? "/" : "/")
                + (0..<count).map { _ in parts.randomElement(using: &generator)! }
                .joined(separator: "/")
            let lookup = FileSystem.Lookup(dirfd: AT_FDCWD, path: Array(path.utf8), followFinal: Bool.random(using: &generator))
            guard let fd = try? files.open(lookup, caller: caller, flags: O_RDONLY, mode: 0) else { continue }
            opened += 1
            let shown = HostProcfs.readLink("self/fd/\(fd)").map { String(decoding: $0, as: UTF8.self) } ?? "?"
            close(fd)
            #expect(shown.hasPrefix(top + "/root"), "\(path) opened \(shown)")
        }
        #expect(opened > 100, "the walk opened things: \(opened)")
    }

    @Test func parentSplitsTheLastComponent() throws {
        let (fd, name) = try files.parent(.init(dirfd: AT_FDCWD, path: Array("/a/abs/newfile/".utf8), followFinal: false), caller: caller)
        defer { close(fd) }
        #expect(String(decoding: name, as: UTF8.self) == "newfile/")
        #expect(HostProcfs.readLink("self/fd/\(fd)").map { String(decoding: $0, as: UTF8.self) } == top + "/root/etc")
    }

    @Test func credentialsParseFromStatus() {
        let status =
            "Name:\tsh\nUmask:\t0027\nUid:\t1000\t1001\t1002\t1003\nGid:\t50\t51\t52\t53\nGroups:\t4 24 \nCapPrm:\t00000000a80425fb\nCapEff:\t0000000000000420\n"
        let credentials = Credentials(status: Array(status.utf8))
        #expect(credentials?.realUID == 1000 && credentials?.fsUID == 1003 && credentials?.fsGID == 53)
        #expect(credentials?.groups == [4, 24] && credentials?.umask == 0o027 && credentials?.effective == 0x420)
        #expect(credentials?.forAccessCheck.fsUID == 1000 && credentials?.forAccessCheck.effective == 0)
        #expect(Credentials(status: Array("Name:\tsh\n".utf8)) == nil)
    }

    @Test func meminfoShowsTheLimit() {
        let text = Kernel.meminfo(limitKiB: 65536, usedKiB: 1000)
        #expect(text.hasPrefix("MemTotal:          65536 kB\nMemFree:           64536 kB\nMemAvailable:      64536 kB\n"))
    }
}
