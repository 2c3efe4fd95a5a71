import Glibc
import Platform
import Testing

@testable import Sentry

/// The sentry's reading of `#!` lines must be the kernel's (binfmt_script):
/// it predicts which file the kernel will run, and the exec stop checks it.
@Suite struct ScriptHeaderTests {
    func parse(_ text: String) -> (String, String?)? {
        ScriptHeader.parse(Array(text.utf8)).map {
            (
                String(decoding: $0.interpreter, as: UTF8.self),
                $0.argument.map { String(decoding: $0, as: UTF8.self) }
            )
        }
    }

    @Test func interpreterAndOneArgument() {
        #expect(parse("#!/bin/sh\necho") ?? ("", nil) == ("/bin/sh", nil))
        #expect(parse("#! /bin/sh -e\n") ?? ("", nil) == ("/bin/sh", "-e"))
        // Everything after the name is one argument, inner spaces kept, outer ones trimmed.
        #expect(parse("#!/usr/bin/env  python3 -u  \t\nprint()") ?? ("", nil) == ("/usr/bin/env", "python3 -u"))
        #expect(parse("#!\t/bin/sh\t-x") ?? ("", nil) == ("/bin/sh", "-x"))
        #expect(parse("#!/bin/sh") ?? ("", nil) == ("/bin/sh", nil))
        #expect(parse("#!relative/interp arg\n") ?? ("", nil) == ("relative/interp", "arg"))
    }

    @Test func notScripts() {
        #expect(parse("\u{7f}ELF") == nil)
        #expect(parse("#!\n/bin/sh") == nil)
        #expect(parse("#!   \n") == nil)
        #expect(parse("# !/bin/sh\n") == nil)
        #expect(parse("") == nil)
        #expect(ScriptHeader.parse([UInt8(ascii: "#")]) == nil)
    }

    @Test func longLinesAsTheKernelCutsThem() {
        // No newline within 256 bytes and no end to the name: cut off, ENOEXEC.
        #expect(parse("#!/" + String(repeating: "a", count: 300)) == nil)
        // The name ends inside the buffer: the argument may be cut.
        let long = parse("#!/bin/sh " + String(repeating: "b", count: 300))
        #expect(long?.0 == "/bin/sh")
        #expect(long?.1 == String(repeating: "b", count: 256 - 1 - 10))
        // A NUL ends the name and drops what follows.
        #expect(ScriptHeader.parse(Array("#!/bin/sh\0junk\n".utf8))?.argument == nil)
    }

    @Test func kernelFilenames() {
        func name(_ dirfd: Int32, _ path: String) -> String {
            String(decoding: Exec.kernelFilename(dirfd: dirfd, path: Array(path.utf8)), as: UTF8.self)
        }
        #expect(name(AT_FDCWD, "./run.sh") == "./run.sh")
        #expect(name(5, "/bin/ls") == "/bin/ls")
        #expect(name(5, "ls") == "/dev/fd/5/ls")
        #expect(name(7, "") == "/dev/fd/7")
    }

    @Test func auxiliaryVector() {
        let words: [UInt64] = [6, 4096, 31, 0x7fff_1234, 0, 0]
        let bytes = words.withUnsafeBytes { Array($0) }
        #expect(Exec.auxiliaryValue(bytes, type: 31) == 0x7fff_1234)
        #expect(Exec.auxiliaryValue(bytes, type: 9) == nil)
    }
}

/// SCM_CREDENTIALS a caller may claim, as the kernel's scm_check_creds decides.
@Suite struct ControlMessageCredentialTests {
    func caller(uids: [UInt32], gids: [UInt32], caps: UInt64 = 0) -> Credentials {
        var c = Credentials()
        c.uids = uids + [uids.last ?? 0]
        c.gids = gids + [gids.last ?? 0]
        c.effective = caps
        return c
    }

    @Test func ownPidAndAnyOfItsIds() throws {
        let c = caller(uids: [1000, 1001, 1002], gids: [50, 51, 52])
        for uid: UInt32 in [1000, 1001, 1002] {
            #expect(throws: Never.self) { try ControlMessages.check((pid: 7, uid: uid, gid: 51), vpid: 7, c) }
        }
        #expect(throws: Errno.notPermitted) { try ControlMessages.check((pid: 8, uid: 1000, gid: 50), vpid: 7, c) }
        #expect(throws: Errno.notPermitted) { try ControlMessages.check((pid: 7, uid: 0, gid: 50), vpid: 7, c) }
        #expect(throws: Errno.notPermitted) { try ControlMessages.check((pid: 7, uid: 1000, gid: 0), vpid: 7, c) }
    }

    @Test func capabilitiesWidenEachCheck() throws {
        let all = caller(
            uids: [1000, 1000, 1000], gids: [50, 50, 50],
            caps: ControlMessages.capSysAdmin | ControlMessages.capSetUID | ControlMessages.capSetGID)
        #expect(throws: Never.self) { try ControlMessages.check((pid: 99, uid: 0, gid: 0), vpid: 7, all) }
        let onlySetUID = caller(uids: [1000, 1000, 1000], gids: [50, 50, 50], caps: ControlMessages.capSetUID)
        #expect(throws: Never.self) { try ControlMessages.check((pid: 7, uid: 0, gid: 50), vpid: 7, onlySetUID) }
        #expect(throws: Errno.notPermitted) { try ControlMessages.check((pid: 7, uid: 0, gid: 0), vpid: 7, onlySetUID) }
    }
}
