import Testing

@testable import Arguments

/// The hand-written parser every subcommand uses: what it accepts, what it
/// refuses with one line, and what --help shows.
@Suite struct ArgumentsTests {
    static let bundle = OptionKey("bundle", short: "b", value: "dir", default: ".", help: "Bundle directory.")
    static let env = OptionKey("env", repeatedValue: "pair", help: "Repeatable.")
    static let detach = OptionKey(flag: "detach", short: "d", help: "A flag.")
    static let strace = OptionKey("strace", optionalValue: "calls", help: "Optional value.")
    static let pidFile = OptionKey("pid-file", value: "file", help: "A plain value.")
    static let spec = CommandSpec(
        name: "demo", abstract: "A demo command.", options: [bundle, env, detach, strace, pidFile],
        positionals: [.init(name: "id", help: "Container id."), .init(name: "command", help: "The rest.", optional: true, rest: true)])

    func parse(_ args: [String]) throws(UsageError) -> ParsedArguments { try ArgumentsTests.spec.parse(args) }

    @Test func valuesFlagsDefaultsAndLists() throws {
        let parsed = try parse(["-b", "/x", "--env", "A=1", "--env=B=2", "-d", "--pid-file", "/a", "--pid-file=/b", "box"])
        #expect(parsed[Self.bundle] == "/x" && parsed.given(Self.bundle))
        #expect(parsed[Self.env] == ["A=1", "B=2"] && parsed.given(Self.env))
        #expect(parsed[Self.detach] && parsed.given(Self.detach))
        #expect(parsed[Self.strace] == nil && !parsed.given(Self.strace))
        #expect(parsed[Self.pidFile] == "/b", "the last one given")
        #expect(parsed.positionals == ["box"])
        let defaults = try parse(["box"])
        #expect(defaults[Self.bundle] == "." && !defaults.given(Self.bundle) && !defaults[Self.detach])
        #expect(defaults[Self.env].isEmpty && !defaults.given(Self.env) && defaults[Self.pidFile] == nil)
    }

    @Test func optionalValuesAndTheRest() throws {
        #expect(try parse(["--strace", "box"])[Self.strace] == "")
        #expect(try parse(["--strace", "box"]).given(Self.strace))
        #expect(try parse(["--strace=openat,read", "box"])[Self.strace] == "openat,read")
        // Everything after the fixed positionals is the command, its options included.
        let rest = try parse(["box", "sh", "-c", "--env", "x"])
        #expect(rest.positionals == ["box", "sh", "-c", "--env", "x"] && rest[Self.env].isEmpty)
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
