import Glibc

/// A subcommand's arguments, declared once: the parser, `--help` and the
/// error messages all come from this. (Moat's own parser: ArgumentParser cost
/// ~1.5 ms and ~1.4 MB RSS in every supervisor, measured on this machine.)
struct CommandSpec {
    struct Option {
        let long: String
        var short: Character? = nil
        var value: String? = nil  // the value's name; nil for a flag
        var defaultValue: String? = nil
        /// The value may be left out (`--strace` or `--strace=LIST`); it then reads "".
        var optionalValue = false
        let help: String
    }

    struct Positional {
        let name: String
        let help: String
        var optional = false
        /// Takes every remaining argument, options included (after an optional "--").
        var rest = false
    }

    let name: String
    let abstract: String
    var discussion: String? = nil
    var options: [Option] = []
    var positionals: [Positional] = []

    var usage: String {
        var parts = ["moat", name]
        if !options.isEmpty { parts.append("[<options>]") }
        for p in positionals {
            let shown = p.rest ? "[--] <\(p.name)>..." : "<\(p.name)>"
            parts.append(p.optional ? "[\(shown)]" : shown)
        }
        return parts.joined(separator: " ")
    }

    var help: String {
        var out = "\(abstract)\n\nUsage: \(usage)\n"
        if let discussion { out += "\n\(discussion)\n" }
        if !positionals.isEmpty {
            out += "\nArguments:\n"
            for p in positionals { out += Self.row("<\(p.name)>", p.help) }
        }
        out += "\nOptions:\n"
        for o in options {
            var names = o.short.map { "-\($0), " } ?? "    "
            names += "--\(o.long)" + (o.value.map { o.optionalValue ? "[=<\($0)>]" : " <\($0)>" } ?? "")
            out += Self.row(names, o.help + (o.defaultValue.map { " (default: \($0))" } ?? ""))
        }
        out += Self.row("    --help", "Show this help.")
        return out
    }

    static func row(_ left: String, _ right: String) -> String {
        "  " + left + String(repeating: " ", count: max(2, 28 - left.count)) + right + "\n"
    }

    /// Parses `args` (what follows the subcommand's name).
    func parse(_ args: [String]) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments(declared: Dictionary(options.map { ($0.long, $0) }, uniquingKeysWith: { first, _ in first }))
        for o in options { if let d = o.defaultValue { parsed.values[o.long] = d } }
        var rest = args[...]
        while let token = rest.popFirst() {
            if token == "--help" || token == "-h" { throw UsageError(help: help) }
            if let last = positionals.last, last.rest, parsed.positionals.count == positionals.count - 1,
                !token.hasPrefix("-") || token == "--"
            {
                parsed.positionals.append(contentsOf: token == "--" ? Array(rest) : [token] + rest)
                return try finish(parsed)
            }
            guard token.hasPrefix("-"), token != "-" else {
                parsed.positionals.append(token)
                continue
            }
            var name = token
            var inline: String?
            if token.hasPrefix("--"), let equals = token.firstIndex(of: "=") {
                name = String(token[..<equals])
                inline = String(token[token.index(after: equals)...])
            }
            let option = options.first { name == "--" + $0.long || ($0.short.map { name == "-\($0)" } ?? false) }
            guard let option else { throw UsageError("unknown option \(name)", command: self) }
            if option.value == nil {
                guard inline == nil else { throw UsageError("--\(option.long) takes no value", command: self) }
                parsed.flags.insert(option.long)
            } else if option.optionalValue {
                parsed.values[option.long] = inline ?? ""
            } else {
                guard let value = inline ?? rest.popFirst() else {
                    throw UsageError("--\(option.long) needs a value", command: self)
                }
                parsed.values[option.long] = value
                parsed.lists[option.long, default: []].append(value)
            }
        }
        return try finish(parsed)
    }

    private func finish(_ parsed: ParsedArguments) throws(UsageError) -> ParsedArguments {
        let required = positionals.filter { !$0.optional && !$0.rest }.count
        let fixed = positionals.filter { !$0.rest }.count
        if parsed.positionals.count < required {
            throw UsageError("missing <\(positionals[parsed.positionals.count].name)>", command: self)
        }
        if parsed.positionals.count > fixed && positionals.last?.rest != true {
            throw UsageError("unexpected argument \(parsed.positionals[fixed])", command: self)
        }
        return parsed
    }
}

/// What a command was given. Options are named by their long name; asking
/// for one the command does not declare (a typo) stops the program at once,
/// in the first test that takes that path, instead of reading as absent.
struct ParsedArguments {
    var declared: [String: CommandSpec.Option] = [:]
    var values: [String: String] = [:]
    /// Every value of options given more than once (--env A --env B).
    var lists: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    /// An option's value, nil when it was not given and has no default.
    func value(_ long: String) -> String? {
        guard let option = declared[long] else { preconditionFailure("--\(long) is not an option of this command") }
        precondition(option.value != nil, "--\(long) is a flag")
        return values[long]
    }

    /// The value of an option that has a default, so always one.
    func string(_ long: String) -> String {
        guard let option = declared[long], let fallback = option.defaultValue else {
            preconditionFailure("--\(long) is not an option of this command with a default")
        }
        return values[long] ?? fallback
    }

    /// Every value given for a repeatable option.
    func list(_ long: String) -> [String]? {
        _ = value(long)
        return lists[long]
    }

    func flag(_ long: String) -> Bool {
        guard let option = declared[long] else { preconditionFailure("--\(long) is not an option of this command") }
        precondition(option.value == nil, "--\(long) takes a value")
        return flags.contains(long)
    }
}

/// Bad command-line usage, or a request for help (printed to stdout, exit 0).
struct UsageError: Error {
    let message: String
    let isHelp: Bool

    init(_ message: String, command: CommandSpec) {
        self.message = "\(command.name): \(message) (see moat \(command.name) --help)"
        isHelp = false
    }

    init(help: String) {
        message = help
        isHelp = true
    }

    init(topLevel message: String) {
        self.message = message
        isHelp = false
    }
}
