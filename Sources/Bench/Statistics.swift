/// Samples of one measurement and what the report shows of them.
public struct Samples: Sendable, Equatable {
    public var values: [Double]

    public init(_ values: [Double] = []) { self.values = values }

    public var median: Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    public var min: Double { values.min() ?? .nan }
    public var max: Double { values.max() ?? .nan }
}

/// The order in which runs happen: each round runs every runtime once, and
/// the order rotates between rounds, so that drift (a warming cache, another
/// process on the machine) hits every runtime alike. Warm-up rounds come first
/// and are not kept.
public struct Schedule: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var round: Int
        public var runtime: Int
        public var isWarmup: Bool
    }

    public static func interleaved(runtimes: Int, runs: Int, warmup: Int) -> [Slot] {
        var slots: [Slot] = []
        for round in 0..<(warmup + runs) {
            for position in 0..<runtimes {
                slots.append(Slot(round: round, runtime: (position + round) % runtimes, isWarmup: round < warmup))
            }
        }
        return slots
    }
}

/// "x12.3" or "x0.85": how many times a value is of the baseline.
public func ratio(_ value: Double, to baseline: Double) -> String {
    guard baseline > 0, value.isFinite else { return "-" }
    let r = value / baseline
    return "x" + fixed(r, r >= 10 ? 0 : (r >= 1 ? 1 : 2))
}

/// A number with `digits` decimals (no Foundation formatting in moat).
public func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded.truncatingRemainder(dividingBy: scale))
    var text = String(whole)
    if digits > 0 {
        let f = String(fraction)
        text += "." + String(repeating: "0", count: digits - f.count) + f
    }
    return (value < 0 && rounded != 0 ? "-" : "") + text
}
