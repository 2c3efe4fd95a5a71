/// A small JSON value with a parser and a printer: enough for config.json and
/// state files, without pulling Foundation into the supervisor.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)  // kept as written: uids and rlimits need all 64 bits
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    public static func int(_ value: some BinaryInteger) -> JSON { .number(String(value)) }
}

public struct JSONError: Error, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "\(reason) at byte \(offset)" }
}

extension JSON {
    public static func parse(_ text: [UInt8]) throws(JSONError) -> JSON {
        var parser = Parser(bytes: text)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == text.count else { throw JSONError(offset: parser.at, reason: "unexpected trailing data") }
        return value
    }

    public static func parse(_ text: String) throws(JSONError) -> JSON { try parse(Array(text.utf8)) }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func skipSpace() {
            while at < bytes.count, [9, 10, 13, 32].contains(bytes[at]) { at += 1 }
        }

        func fail(_ reason: String) -> JSONError { JSONError(offset: at, reason: reason) }

        mutating func expect(_ literal: String, _ value: JSON) throws(JSONError) -> JSON {
            let utf8 = Array(literal.utf8)
            guard at + utf8.count <= bytes.count, Array(bytes[at..<at + utf8.count]) == utf8 else {
                throw fail("invalid literal")
            }
            at += utf8.count
            return value
        }

        mutating func value(depth: Int) throws(JSONError) -> JSON {
            guard depth < 256 else { throw fail("nesting too deep") }
            guard at < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            default: return try number()
            }
        }

        mutating func object(depth: Int) throws(JSONError) -> JSON {
            at += 1
            var members: [(String, JSON)] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
                at += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                at += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard at < bytes.count else { throw fail("unterminated object") }
                if bytes[at] == UInt8(ascii: ",") {
                    at += 1
                    continue
                }
                if bytes[at] == UInt8(ascii: "}") {
                    at += 1
                    return .object(members)
                }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(JSONError) -> JSON {
            at += 1
            var items: [JSON] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
                at += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard at < bytes.count else { throw fail("unterminated array") }
                if bytes[at] == UInt8(ascii: ",") {
                    at += 1
                    continue
                }
                if bytes[at] == UInt8(ascii: "]") {
                    at += 1
                    return .array(items)
                }
                throw fail("expected ',' or ']'")
            }
        }

        /// RFC 8259's number: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
        mutating func number() throws(JSONError) -> JSON {
            let start = at
            func isDigit(_ index: Int) -> Bool { index < bytes.count && (48...57).contains(bytes[index]) }
            func digits() throws(JSONError) {
                guard isDigit(at) else { throw JSONError(offset: start, reason: "invalid number") }
                while isDigit(at) { at += 1 }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard isDigit(at) else {
                throw at == start ? fail("unexpected character") : JSONError(offset: start, reason: "invalid number")
            }
            if bytes[at] == UInt8(ascii: "0") {
                at += 1
                if isDigit(at) { throw JSONError(offset: start, reason: "invalid number (leading zero)") }
            } else {
                try digits()
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                try digits()
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                try digits()
            }
            return .number(String(decoding: bytes[start..<at], as: UTF8.self))
        }

        /// Four hex digits of a \u escape, exactly.
        mutating func hex4() throws(JSONError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard at < bytes.count else { throw fail("invalid \\u escape") }
                let byte = bytes[at]
                let digit: UInt8
                switch byte {
                case 48...57: digit = byte - 48
                case 65...70: digit = byte - 55
                case 97...102: digit = byte - 87
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                at += 1
            }
            return value
        }

        /// A \u escape after its "\u": one scalar, or a surrogate pair as two escapes.
        mutating func unicodeEscape() throws(JSONError) -> Unicode.Scalar {
            let escape = at - 2
            let unpaired = JSONError(offset: escape, reason: "unpaired surrogate in \\u escape")
            let first = try hex4()
            if (0xDC00..<0xE000).contains(first) { throw unpaired }
            guard (0xD800..<0xDC00).contains(first) else { return Unicode.Scalar(first)! }
            guard at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                throw unpaired
            }
            at += 2
            let second = try hex4()
            guard (0xDC00..<0xE000).contains(second) else { throw unpaired }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
        }

        mutating func string() throws(JSONError) -> String {
            at += 1
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    // JSON text is UTF-8: anything else is refused, not repaired.
                    guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                    return text
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { throw fail("unterminated string") }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "u"): out += Array(String(Character(try unicodeEscape())).utf8)
                    default:
                        at -= 1
                        throw fail("invalid escape")
                    }
                case 0..<32:
                    throw fail("control character in string")
                default:
                    out.append(byte)
                }
            }
            throw fail("unterminated string")
        }
    }
}

extension JSON {
    /// Pretty-printed with two-space indents, keys in insertion order.
    public func rendered(indent: Int = 0, pretty: Bool = true) -> String {
        let pad = pretty ? String(repeating: "  ", count: indent + 1) : ""
        let close = pretty ? String(repeating: "  ", count: indent) : ""
        let newline = pretty ? "\n" : ""
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return JSON.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[" + newline
                + items.map { pad + $0.rendered(indent: indent + 1, pretty: pretty) }
                .joined(separator: "," + newline) + newline + close + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let colon = pretty ? ": " : ":"
            return "{" + newline
                + members.map { pad + JSON.quote($0.0) + colon + $0.1.rendered(indent: indent + 1, pretty: pretty) }
                .joined(separator: "," + newline) + newline + close + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSON {
    /// A copy with the value at `path` (object keys) replaced.
    public func replacing(path: [String], with value: JSON) -> JSON {
        guard let key = path.first, case .object(var members) = self else { return path.isEmpty ? value : self }
        if let index = members.lastIndex(where: { $0.0 == key }) {
            members[index].1 = members[index].1.replacing(path: Array(path.dropFirst()), with: value)
        } else {
            members.append((key, JSON.object([]).replacing(path: Array(path.dropFirst()), with: value)))
        }
        return .object(members)
    }
}
