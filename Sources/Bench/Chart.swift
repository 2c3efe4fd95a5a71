import Glibc

/// A bar chart as SVG, one panel per measurement, bars on a log scale (the
/// runtimes differ by orders of magnitude), each labelled with its value.
public struct Chart: Sendable {
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        public init(_ label: String, _ value: Double) {
            self.label = label
            self.value = value
        }
    }

    public struct Panel: Sendable {
        public var title: String
        public var unit: String
        public var bars: [Bar]
        public init(title: String, unit: String, bars: [Bar]) {
            self.title = title
            self.unit = unit
            self.bars = bars
        }
    }

    public var title: String
    public var subtitle: String
    public var panels: [Panel]

    public init(title: String, subtitle: String, panels: [Panel]) {
        self.title = title
        self.subtitle = subtitle
        self.panels = panels
    }

    static let width = 820.0, labelWidth = 190.0, valueWidth = 110.0, barHeight = 22.0, gap = 6.0

    /// Where a value lands on a log axis spanning `low`...`high`, as a fraction.
    public static func logPosition(_ value: Double, low: Double, high: Double) -> Double {
        guard value > 0, high > low, low > 0 else { return 0 }
        let span = log10(high) - log10(low)
        return Swift.max(0, Swift.min(1, (log10(value) - log10(low)) / span))
    }

    public var svg: String {
        var y = 90.0
        var body = ""
        for panel in panels {
            body += text(x: 10, y: y, panel.title + " (" + panel.unit + ", log scale)", size: 15, weight: "bold")
            y += 10
            let values = panel.bars.map(\.value).filter { $0 > 0 }
            let high = pow10(ceilLog(values.max() ?? 1))
            let low = pow10(floorLog(values.min() ?? 1))
            let plot = Chart.width - Chart.labelWidth - Chart.valueWidth
            for bar in panel.bars {
                // Bars start one decade below the smallest value so that none is empty.
                let length = Swift.max(2, plot * Chart.logPosition(bar.value, low: low / 10, high: high))
                body += text(x: 10, y: y + 16, bar.label, size: 13)
                body +=
                    "<rect x=\"\(Chart.labelWidth)\" y=\"\(y)\" width=\"\(fixed(length, 1))\" height=\"\(Chart.barHeight)\" "
                    + "fill=\"\(bar.label.hasPrefix("moat") ? "#2a7ab0" : "#9aa5ad")\"/>\n"
                body += text(x: Chart.labelWidth + length + 6, y: y + 16, Chart.format(bar.value) + " " + panel.unit, size: 12)
                y += Chart.barHeight + Chart.gap
            }
            y += 30
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(Chart.width))\" height=\"\(Int(y))\" "
            + "viewBox=\"0 0 \(Int(Chart.width)) \(Int(y))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + text(x: 10, y: 28, title, size: 18, weight: "bold") + text(x: 10, y: 50, subtitle, size: 12)
            + body + "</svg>\n"
    }

    /// Three significant digits, no exponent.
    public static func format(_ value: Double) -> String {
        if value >= 100 { return fixed(value, 0) }
        if value >= 10 { return fixed(value, 1) }
        return fixed(value, 2)
    }

    private func text(x: Double, y: Double, _ content: String, size: Int, weight: String = "normal") -> String {
        let escaped = content.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
        return "<text x=\"\(fixed(x, 1))\" y=\"\(fixed(y, 1))\" font-size=\"\(size)\" font-weight=\"\(weight)\">\(escaped)</text>\n"
    }

    private func floorLog(_ v: Double) -> Int { Int(log10(v).rounded(.down)) }
    private func ceilLog(_ v: Double) -> Int { Int(log10(v).rounded(.up)) }
    private func pow10(_ e: Int) -> Double {
        var r = 1.0
        if e >= 0 { for _ in 0..<e { r *= 10 } } else { for _ in 0..<(-e) { r /= 10 } }
        return r
    }
}
