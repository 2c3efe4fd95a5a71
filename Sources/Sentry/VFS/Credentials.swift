import Glibc
import Platform

/// The ids and capabilities a workload thread acts with on files, as the
/// kernel holds them (read from the host's /proc/<tid>/status).
struct Credentials: Equatable {
    var realUID: UInt32 = 0, realGID: UInt32 = 0
    var fsUID: UInt32 = 0, fsGID: UInt32 = 0
    var groups: [UInt32] = []
    var effective: UInt64 = 0
    var permitted: UInt64 = 0
    var umask: mode_t = 0o022
    /// Real, effective, saved and fs ids: what ptrace access compares.
    var uids: [UInt32] = [], gids: [UInt32] = []

    /// Parses the Uid/Gid/Groups/CapEff/CapPrm/Umask lines of a status file.
    init?(status bytes: [UInt8]) {
        var seen = 0
        HostProc.forEachField(bytes) { key, values in
            switch key {
            case "Uid" where values.count == 4:
                uids = values.compactMap { UInt32($0) }
                realUID = UInt32(values[0]) ?? 0
                fsUID = UInt32(values[3]) ?? 0
                seen |= 1
            case "Gid" where values.count == 4:
                gids = values.compactMap { UInt32($0) }
                realGID = UInt32(values[0]) ?? 0
                fsGID = UInt32(values[3]) ?? 0
                seen |= 2
            case "Groups": groups = values.compactMap { UInt32($0) }
            case "CapEff":
                effective = UInt64(values.first ?? "", radix: 16) ?? 0
                seen |= 4
            case "CapPrm": permitted = UInt64(values.first ?? "", radix: 16) ?? 0
            case "Umask": umask = mode_t(values.first ?? "", radix: 8) ?? 0o022
            default: break
            }
        }
        guard seen == 7 else { return nil }
    }

    init() {}

    static func of(_ tid: HostTid) throws(Errno) -> Credentials {
        guard let bytes = HostProcfs.read("\(tid)/status"), let credentials = Credentials(status: bytes) else {
            throw .noSuchProcess
        }
        return credentials
    }

    /// What access(2) checks with: the real ids, and no capabilities unless the real uid is 0.
    var forAccessCheck: Credentials {
        var copy = self
        copy.fsUID = realUID
        copy.fsGID = realGID
        copy.effective = realUID == 0 ? permitted : 0
        return copy
    }

    /// Makes this thread act on files with these fs ids, groups and file
    /// capabilities (the supervisor keeps its others), until `restore`. The
    /// kernel then makes every DAC check as it would for the workload thread.
    func enter() throws(Errno) {
        let rc = ThreadCalls.enterCredentials(fsUID: fsUID, fsGID: fsGID, groups: groups, effective: effective)
        if rc < 0 { throw Errno(-rc) }
    }

    /// Back to the supervisor's own credentials.
    static func restore() {
        ThreadCalls.leaveCredentials()
    }
}
