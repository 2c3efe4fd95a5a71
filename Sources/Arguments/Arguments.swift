import Glibc

/// A subcommand's arguments, declared once: the parser, `--help` and the
/// error messages all come from this. (Moat's own parser: ArgumentParser cost
/// ~1.5 ms and ~1.4 MB RSS in every supervisor, measured on this machine.)
public struct CommandSpec: Sendable {
    public struct Option: Sendable {
        public let long: String
        public var short: Character? = nil
        public var value: String? = nil  // the value's name; nil for a flag
        public var defaultValue: String? = nil
        /// The value may be left out (`--strace` or `--strace=LIST`); it then reads "".
        public var optionalValue = false
        public let help: String

        // Its memberwise initializer is internal: an option is made only
        // through `OptionKey`, which fixes the type the value reads as.
    }

    public struct Positional: Sendable {
        public let name: String
        public let help: String
        public var optional = false
        /// Takes every remaining argument, options included (after an optional "--").
        public var rest = false

        public init(name: String, help: String, optional: Bool = false, rest: Bool = false) {
            self.name = name
            self.help = help
            self.optional = optional
            self.rest = rest
        }
    }

    public let name: String
    public let abstract: String
    public var discussion: String? = nil
    public var options: [Option] = []
    public var positionals: [Positional] = []

    public init(
        name: String, abstract: String, discussion: String? = nil, options: [any DeclaredOption] = [], positionals: [Positional] = []
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options.map(\.declaration)
        self.positionals = positionals
    }

    public var usage: String {
        var parts = ["moat", name]
        if !options.isEmpty { parts.append("[<options>]") }
        for p in positionals {
            let shown = p.rest ? "[--] <\(p.name)>..." : "<\(p.name)>"
            parts.append(p.optional ? "[\(shown)]" : shown)
        }
        return parts.joined(separator: " ")
    }

    public var help: String {
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

    public static func row(_ left: String, _ right: String) -> String {
        "  " + left + String(repeating: " ", count: max(2, 28 - left.count)) + right + "\n"
    }

    /// Parses `args` (what follows the subcommand's name).
    public func parse(_ args: [String]) throws(UsageError) -> ParsedArguments {
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

/// An option declared with the type it reads as, so a command asks for
/// `arguments[Run.detach]` (a Bool) or `arguments[Run.bundle]` (a String:
/// it has a default), never for a string key or a force-unwrapped value.
public struct OptionKey<Value>: DeclaredOption, Sendable {
    public let declaration: CommandSpec.Option
}

/// What `CommandSpec` lists: any typed option.
public protocol DeclaredOption: Sendable {
    var declaration: CommandSpec.Option { get }
}

extension OptionKey where Value == Bool {
    /// `--long`: present or not.
    public init(flag long: String, short: Character? = nil, help: String) {
        declaration = .init(long: long, short: short, help: help)
    }
}

extension OptionKey where Value == String? {
    /// `--long VALUE`: nil when not given (the last one when given twice).
    public init(_ long: String, short: Character? = nil, value name: String, help: String) {
        declaration = .init(long: long, short: short, value: name, help: help)
    }

    /// `--long` or `--long=VALUE`: "" when given bare, nil when not given.
    public init(_ long: String, optionalValue name: String, help: String) {
        declaration = .init(long: long, value: name, optionalValue: true, help: help)
    }
}

extension OptionKey where Value == String {
    /// `--long VALUE` with a default, so always a value.
    public init(_ long: String, short: Character? = nil, value name: String, default: String, help: String) {
        declaration = .init(long: long, short: short, value: name, defaultValue: `default`, help: help)
    }
}

extension OptionKey where Value == [String] {
    /// `--long VALUE`, repeatable: every value in order, [] when not given.
    public init(_ long: String, short: Character? = nil, repeatedValue name: String, help: String) {
        declaration = .init(long: long, short: short, value: name, help: help)
    }
}

/// What a command was given. Asking for an option the command does not
/// declare (another command's key) stops the program at once, in the first
/// test that takes that path, instead of reading as absent.
public struct ParsedArguments: Sendable {
    var declared: [String: CommandSpec.Option] = [:]
    var values: [String: String] = [:]
    /// Every value of options given more than once (--env A --env B).
    var lists: [String: [String]] = [:]
    var flags: Set<String> = []
    public var positionals: [String] = []

    public subscript(key: OptionKey<Bool>) -> Bool { flags.contains(declared(key).long) }

    public subscript(key: OptionKey<String?>) -> String? { values[declared(key).long] }

    public subscript(key: OptionKey<String>) -> String {
        let option = declared(key)
        return values[option.long] ?? option.defaultValue ?? ""  // a String key is only made with a default
    }

    public subscript(key: OptionKey<[String]>) -> [String] { lists[declared(key).long] ?? [] }

    /// Whether the option was on the command line (not only its default).
    public func given<Value>(_ key: OptionKey<Value>) -> Bool {
        let long = declared(key).long
        return lists[long] != nil || flags.contains(long) || (key.declaration.optionalValue && values[long] != nil)
    }

    private func declared<Value>(_ key: OptionKey<Value>) -> CommandSpec.Option {
        guard let option = declared[key.declaration.long], option.value == key.declaration.value else {
            preconditionFailure("--\(key.declaration.long) is not an option of this command")
        }
        return option
    }
}

/// Bad command-line usage, or a request for help (printed to stdout, exit 0).
public struct UsageError: Error, Sendable {
    public let message: String
    public let isHelp: Bool

    public init(_ message: String, command: CommandSpec) {
        self.message = "\(command.name): \(message) (see moat \(command.name) --help)"
        isHelp = false
    }

    public init(help: String) {
        message = help
        isHelp = true
    }

    public init(topLevel message: String) {
        self.message = message
        isHelp = false
    }
}
