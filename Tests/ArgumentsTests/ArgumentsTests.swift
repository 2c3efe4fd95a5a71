import Testing

@testable import Arguments

/// The hand-written parser every subcommand uses: what it accepts, what it
/// refuses with one line, and what --help shows.
@Suite struct ArgumentsTests {
    static let spec = CommandSpec(
        name: "demo", abstract: "A demo command.",
        options: [
            .init(long: "bundle", short: "b", value: "dir", defaultValue: ".", help: "Bundle directory."),
            .init(long: "env", value: "pair", help: "Repeatable."),
            .init(long: "detach", short: "d", help: "A flag."),
            .init(long: "strace", value: "calls", optionalValue: true, help: "Optional value.")
        ],
        positionals: [.init(name: "id", help: "Container id."), .init(name: "command", help: "The rest.", optional: true, rest: true)])

    func parse(_ args: [String]) throws(UsageError) -> ParsedArguments { try ArgumentsTests.spec.parse(args) }

    @Test func valuesFlagsDefaultsAndLists() throws {
        let parsed = try parse(["-b", "/x", "--env", "A=1", "--env=B=2", "-d", "box"])
        #expect(parsed.string("bundle") == "/x" && parsed.given("bundle"))
        #expect(parsed.list("env") == ["A=1", "B=2"] && parsed.value("env") == "B=2")
        #expect(parsed.flag("detach") && parsed.given("detach"))
        #expect(parsed.value("strace") == nil && !parsed.given("strace"))
        #expect(parsed.positionals == ["box"])
        let defaults = try parse(["box"])
        #expect(defaults.string("bundle") == "." && !defaults.given("bundle") && !defaults.flag("detach"))
    }

    @Test func optionalValuesAndTheRest() throws {
        #expect(try parse(["--strace", "box"]).value("strace") == "")
        #expect(try parse(["--strace=openat,read", "box"]).value("strace") == "openat,read")
        // Everything after the fixed positionals is the command, its options included.
        let rest = try parse(["box", "sh", "-c", "--env", "x"])
        #expect(rest.positionals == ["box", "sh", "-c", "--env", "x"] && rest.list("env") == nil)
        #expect(try parse(["box", "--", "--help"]).positionals == ["box", "--help"])
    }

    @Test func badInputIsOneLineNamingTheCommand() {
        let cases: [([String], String)] = [
            ([], "missing <id>"), (["--nope", "box"], "unknown option --nope"), (["--bundle"], "--bundle needs a value"),
            (["--detach=yes", "box"], "--detach takes no value"), (["-x", "box"], "unknown option -x")
        ]
        for (args, message) in cases {
            do {
                _ = try parse(args)
                Issue.record("\(args) parsed")
            } catch {
                #expect(error.message == "demo: \(message) (see moat demo --help)" && !error.isHelp, "\(args): \(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
        let noRest = CommandSpec(name: "one", abstract: "", positionals: [.init(name: "id", help: "")])
        #expect(throws: UsageError.self) { try noRest.parse(["a", "b"]) }
    }

    @Test func helpIsDerivedFromTheDeclarations() {
        // Once the command has begun, --help is its own.
        #expect((try? parse(["box", "sh", "--help"]))?.positionals == ["box", "sh", "--help"])
        do {
            _ = try parse(["--help"])
            Issue.record("--help parsed")
        } catch {
            #expect(error.isHelp)
            #expect(error.message.contains("Usage: moat demo [<options>] <id> [[--] <command>...]"), "\(error.message)")
            #expect(error.message.contains("-b, --bundle <dir>") && error.message.contains("(default: .)"))
            #expect(error.message.contains("--strace[=<calls>]") && error.message.contains("-d, --detach"))
        }
    }
}
