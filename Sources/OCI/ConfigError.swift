/// A bad bundle or config: one line that names the field or path.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A JSON value with the path that led to it, for errors that name the field.
struct Field {
    let path: String
    let value: JSON?

    subscript(key: String) -> Field {
        Field(path: path.isEmpty ? key : "\(path).\(key)", value: value?[key])
    }

    var isPresent: Bool {
        if case .null? = value { return false }
        return value != nil
    }

    func error(_ text: String) -> ConfigError { ConfigError("\(path): \(text)") }

    func string() throws(ConfigError) -> String {
        guard case .string(let s)? = value else { throw error(isPresent ? "must be a string" : "is required") }
        return s
    }

    func optionalString() throws(ConfigError) -> String? { isPresent ? try string() : nil }

    func bool(default fallback: Bool) throws(ConfigError) -> Bool {
        guard isPresent else { return fallback }
        guard case .bool(let b)? = value else { throw error("must be true or false") }
        return b
    }

    func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws(ConfigError) -> T {
        guard case .number(let text)? = value else { throw error(isPresent ? "must be a number" : "is required") }
        guard let n = T(text) else { throw error("must be a whole number from 0 to \(T.max)") }
        return n
    }

    func signed() throws(ConfigError) -> Int64 {
        guard case .number(let text)? = value, let n = Int64(text) else { throw error("must be a whole number") }
        return n
    }

    func items() throws(ConfigError) -> [Field] {
        guard isPresent else { return [] }
        guard case .array(let list)? = value else { throw error("must be an array") }
        return list.enumerated().map { Field(path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    func strings() throws(ConfigError) -> [String] {
        var out: [String] = []
        for item in try items() { out.append(try item.string()) }
        return out
    }

    func keys() throws(ConfigError) -> [String] {
        guard isPresent else { return [] }
        guard case .object(let members)? = value else { throw error("must be an object") }
        return members.map(\.0)
    }

    /// Refuses any key not in `known`: a field Moat would silently ignore is an error.
    func only(_ known: Set<String>, because why: String = "is not supported by Moat") throws(ConfigError) {
        for key in try keys() where !known.contains(key) {
            throw self[key].error(why)
        }
    }

    /// Present with a value that would change something: not null, 0, "" or empty.
    var changesSomething: Bool {
        if case .number(let text)? = value, Double(text) == 0 { return false }
        return isNonEmpty
    }

    /// Present and non-empty (a non-empty array, object or string, or any other value).
    var isNonEmpty: Bool {
        switch value {
        case nil, .null?: false
        case .array(let a)?: !a.isEmpty
        case .object(let o)?: !o.isEmpty
        case .string(let s)?: !s.isEmpty
        default: true
        }
    }
}
