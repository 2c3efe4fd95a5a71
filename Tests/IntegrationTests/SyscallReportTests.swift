import Foundation
import Testing

/// `moat syscalls`: the report in every format agrees with itself, and
/// `--verify` sees what the table declares.
@Suite struct SyscallReportTests {
    let fixture = Fixture.shared

    func report(_ args: [String]) throws -> (rows: [[String: Any]], totals: [String: Int]) {
        let result = Command.run(fixture.moat, ["syscalls", "--format", "json"] + args)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["syscalls"] as? [[String: Any]])
        let totals = try #require(json["totals"] as? [String: Int])
        return (rows, totals)
    }

    @Test func everyFormatCountsTheSameCalls() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let (rows, totals) = try report([])
        #expect(rows.count == totals["total"] && rows.count > 370)
        #expect(totals["full"]! + totals["partial"]! + totals["unimplemented"]! == rows.count)
        #expect(totals["emulated"]! + totals["passthrough (host surface)"]! + totals["denied"]! == rows.count)
        #expect(rows.filter { $0["level"] as? String == "full" }.count == totals["full"])
        #expect(rows.contains { $0["name"] as? String == "getpgid" && $0["handling"] as? String == "emulated" && $0["number"] as? Int == 121 })
        #expect(
            rows.contains {
                $0["name"] as? String == "getpid" && $0["handling"] as? String == "passthrough" && $0["number"] as? Int == 39
            })
        #expect(rows.contains { $0["name"] as? String == "mount" && $0["handling"] as? String == "denied (EPERM)" })
        let csv = Command.run(fixture.moat, ["syscalls", "--format", "csv"]).stdout.split(separator: "\n")
        #expect(csv.first == "number,name,handling,level,note" && csv.count == rows.count + 1)
        let markdown = Command.run(fixture.moat, ["syscalls", "--format", "markdown"]).stdout
        #expect(markdown.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| nr") }.count == rows.count)
        #expect(markdown.contains("- passthrough (host surface): \(totals["passthrough (host surface)"]!)"))
        let table = Command.run(fixture.moat, ["syscalls"]).stdout
        #expect(table.contains("\ntotal: \(rows.count)\n") && table.contains("denied: \(totals["denied"]!)"))
    }

    @Test func filtersAndNames() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let all = try report([]).totals
        for (kind, key) in [
            ("emulated", "emulated"), ("passthrough", "passthrough (host surface)"), ("denied", "denied"),
            ("unimplemented", "unimplemented"), ("full", "full")
        ] {
            let (rows, totals) = try report(["--filter", kind])
            #expect(rows.count == all[key], "\(kind)")
            #expect(totals["total"] == rows.count)
        }
        let named = try report(["getpid", "openat", "mount"]).rows.compactMap { $0["name"] as? String }
        #expect(named == ["getpid", "mount", "openat"], "in number order: \(named)")
        let unknown = Command.run(fixture.moat, ["syscalls", "nosuchcall"])
        #expect(unknown.status == 2 && unknown.stderr == "moat: no syscall is named nosuchcall\n")
        let badFilter = Command.run(fixture.moat, ["syscalls", "--filter", "sometimes"])
        #expect(badFilter.status == 2)
    }

    /// The probe checks every declared call inside a sandbox: at least 280 full
    /// or partial calls verified (gVisor declares 268), every refused one seen
    /// failing with its errno, and none failing.
    @Test func verifySeesWhatTheTableDeclares() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let (rows, totals) = try report(["--verify", "--root", fixture.scratch("verify").path])
        let failed = rows.filter { $0["seen"] as? String == "failed" }.map { "\($0["name"]!): \($0["note"]!)" }
        #expect(failed.isEmpty, "\(failed)")
        #expect(totals["verified full"] == totals["full"], "every declared-full call verified")
        #expect(totals["verified partial"] == totals["partial"])
        #expect(totals["verified refused"] == totals["denied"])
        #expect(totals["verified full"]! + totals["verified partial"]! >= 280)
        #expect(rows.allSatisfy { $0["seen"] != nil })
    }
}
