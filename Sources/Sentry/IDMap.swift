/// A user namespace's id map, as /proc/<pid>/uid_map holds it: lines of
/// "first-inside first-outside count". The sentry sees host ids; the
/// sandbox's processes see and pass ids of their namespace.
struct IDMap: Equatable, Sendable {
    struct Range: Equatable, Sendable {
        var inside: UInt32, outside: UInt32, count: UInt32
    }
    var ranges: [Range]

    /// The id a process inside sees for an unmapped one (the kernel's default overflowuid).
    static let overflow: UInt32 = 65534

    init(_ text: String) {
        ranges = text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).compactMap { UInt32($0) }
            guard fields.count == 3, fields[2] > 0 else { return nil }
            return Range(inside: fields[0], outside: fields[1], count: fields[2])
        }
    }

    /// The id the sandbox sees for a host id.
    func inside(_ host: UInt32) -> UInt32 {
        for range in ranges where host >= range.outside && UInt64(host) - UInt64(range.outside) < UInt64(range.count) {
            return range.inside + (host - range.outside)
        }
        return IDMap.overflow
    }

    /// The host id for one the sandbox names; nil when its namespace does not map it.
    func host(_ inside: UInt32) -> UInt32? {
        for range in ranges where inside >= range.inside && UInt64(inside) - UInt64(range.inside) < UInt64(range.count) {
            return range.outside + (inside - range.inside)
        }
        return nil
    }
}
