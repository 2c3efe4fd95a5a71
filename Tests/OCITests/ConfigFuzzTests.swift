import Testing

@testable import OCI

/// A property-based fuzzer for what reads untrusted input: config.json's
/// parser and validator. From the default config and random byte strings it
/// makes many mutants (a seeded generator, so a failure repeats); each must
/// be accepted or refused with one line naming where, never crash.
@Suite struct ConfigFuzzTests {
    /// xorshift64*: small, fast, seeded.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    static let awkward: [JSON] = [
        .null, .bool(true), .number("-1"), .number("0"), .number("1e400"), .number("18446744073709551616"),
        .number("-9223372036854775809"), .number("3.5"), .string(""), .string("/"), .string("../../etc"),
        .string(String(repeating: "a", count: 5000)), .string("a\u{0}b"), .string("RLIMIT_NOFILE"), .string("CAP_SYS_ADMIN"),
        .array([]), .array([.null]), .array([.string("x"), .number("2")]), .object([]), .object([("type", .string("bind"))])
    ]

    /// Every path (list of keys; array indexes as numbers) in `json`.
    static func paths(_ json: JSON, _ prefix: [String] = []) -> [[String]] {
        switch json {
        case .object(let members): return [prefix] + members.flatMap { paths($0.1, prefix + [$0.0]) }
        case .array(let items): return [prefix] + items.indices.flatMap { paths(items[$0], prefix + [String($0)]) }
        default: return [prefix]
        }
    }

    static func replacing(_ json: JSON, at path: ArraySlice<String>, with value: JSON) -> JSON {
        guard let key = path.first else { return value }
        switch json {
        case .object(var members):
            guard let index = members.firstIndex(where: { $0.0 == key }) else { return json }
            members[index].1 = replacing(members[index].1, at: path.dropFirst(), with: value)
            return .object(members)
        case .array(var items):
            guard let index = Int(key), items.indices.contains(index) else { return json }
            items[index] = replacing(items[index], at: path.dropFirst(), with: value)
            return .array(items)
        default: return json
        }
    }

    @Test func mutatedConfigsAreAcceptedOrRefusedInOneLine() {
        var random = Generator(state: 0x9e37_79b9_7f4a_7c15)
        let base = DefaultSpec.json()
        let allPaths = ConfigFuzzTests.paths(base)
        var refused = 0
        for _ in 0..<20_000 {
            var json = base
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let path = allPaths.randomElement(using: &random)!
                json = ConfigFuzzTests.replacing(json, at: path[...], with: ConfigFuzzTests.awkward.randomElement(using: &random)!)
            }
            do { _ = try Spec.decode(json) } catch {
                refused += 1
                #expect(!error.message.contains("\n") && error.message.contains(":"), "\(error.message)")
            }
        }
        #expect(refused > 10_000, "most mutants are refused: \(refused)")
    }

    @Test func randomAndMutatedBytesNeverCrashTheParser() {
        var random = Generator(state: 0xdead_beef_cafe_f00d)
        let valid = Array(DefaultSpec.json().rendered().utf8)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = valid
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(Array("{}[]\",:\\0-e".utf8).randomElement(using: &random)!, at: at)
                    }
                }
            } else {
                bytes = (0..<Int.random(in: 0...64, using: &random)).map { _ in
                    Array("{}[]\",:\\0123456789.-+eEtrufalsn ".utf8).randomElement(using: &random)!
                }
            }
            do {
                let json = try JSON.parse(bytes)
                _ = try? Spec.decode(json)
            } catch {
                #expect(error.description.contains("byte"), "\(error)")
            }
        }
        // Deep nesting is refused, not a stack overflow.
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: JSONError.self) { try JSON.parse(deep) }
    }
}
