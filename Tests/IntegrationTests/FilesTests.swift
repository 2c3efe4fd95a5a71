import Foundation
import Testing

/// The workload's file system: read-only roots and the overlay leave the
/// bundle byte-for-byte as it was.
@Suite struct FilesTests {
    let fixture = Fixture.shared

    /// Every path under the rootfs with its type, mode and content hash.
    func fingerprint(_ rootfs: String) -> String {
        Command.run("/bin/sh", ["-c", "cd \(rootfs) && find . -printf '%p %y %m %s %l\\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum"]).stdout
    }

    static let writer = "echo new > /etc/newfile; echo more >> /etc/passwd; mv /etc/group /etc/group2; "
        + "rm -r /usr; mkdir /usr; touch /usr/only; ls /etc; cat /etc/newfile; ls /usr"

    @Test func readOnlyRootGivesEROFSAndLeavesTheBundleAlone() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let before = fingerprint(fixture.rootfs)
        let bundle = try fixture.bundle("ro", args: ["sh", "-c", "touch /x 2>&1; rm /bin/ls 2>&1; mkdir /d 2>&1; echo done"])
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.components(separatedBy: "Read-only file system").count == 4, "\(result.stdout)")
        #expect(fingerprint(fixture.rootfs) == before)
    }

    @Test func memoryOverlayTakesWritesRenamesAndDeletes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let before = fingerprint(fixture.rootfs)
        let bundle = try fixture.bundle("overlay", args: ["sh", "-c", FilesTests.writer]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
        }
        let result = fixture.run(bundle, extra: ["--overlay"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.contains("newfile") && result.lines.contains("group2") && !result.lines.contains("group"),
                "the workload sees its changes: \(result.lines)")
        #expect(result.lines.suffix(2) == ["new", "only"], "\(result.lines)")
        #expect(fingerprint(fixture.rootfs) == before, "the bundle is unchanged")
        // The state directory held only the (sandbox-private) tmpfs mount point.
        let state = bundle.appendingPathComponent("state").path
        #expect((try? FileManager.default.contentsOfDirectory(atPath: state))?.filter { !$0.hasPrefix("filter-") } == [])

        // A second run starts from the bundle again.
        let again = try fixture.bundle("overlay2", args: ["sh", "-c", "ls /etc/newfile 2>&1; ls /usr | wc -l"]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
            config["annotations"] = ["dev.moat.overlay": "memory"]
        }
        let second = fixture.run(again)
        #expect(second.stdout.contains("No such file"), "\(second.stdout)")
        #expect(second.lines.last != "0", "\(second.stdout)")
    }

    @Test func directoryOverlayKeepsTheUpperLayer() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let before = fingerprint(fixture.rootfs)
        let upper = fixture.scratch("upper")
        let bundle = try fixture.bundle("overlay-dir", args: ["sh", "-c", FilesTests.writer]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
        }
        let result = fixture.run(bundle, extra: ["--overlay=\(upper.path)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fingerprint(fixture.rootfs) == before)
        let newfile = try String(contentsOf: upper.appendingPathComponent("upper/etc/newfile"), encoding: .utf8)
        #expect(newfile == "new\n")
        // The delete and the rename are whiteouts (character devices 0:0) in the upper layer.
        let whiteout = Command.run("/usr/bin/stat", ["-c", "%F %t:%T", upper.appendingPathComponent("upper/etc/group").path])
        #expect(whiteout.stdout == "character special file 0:0\n", "\(whiteout.stdout)")
    }

    @Test func badOverlayChoicesAreOneLineErrors() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("overlay-bad", args: ["true"])
        let relative = fixture.run(bundle, extra: ["--overlay=relative"])
        #expect(relative.status == 2 && relative.stderr.contains("--overlay: give memory, none or an absolute directory"))
        let missing = fixture.run(bundle, extra: ["--overlay=/nonexistent/dir"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/dir is not a directory"), "\(missing.stderr)")
        let state = bundle.appendingPathComponent("state").path
        #expect((try? FileManager.default.contentsOfDirectory(atPath: state))?.filter { !$0.hasPrefix("filter-") } ?? [] == [],
                "no half-made container")
    }
}
