/// One named series of a bar or line chart.
public struct Series: Sendable {
    public var name: String
    public var values: [Double]
    public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
    }
}

/// The opening tag of a figure's SVG element.
func svgOpening(width: Double, height: Double) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"figure\" width=\"\(coordinate(width))\" height=\"\(coordinate(height))\" viewBox=\"0 0 \(coordinate(width)) \(coordinate(height))\">"
}

/// Categorical palette for series (colour-blind-safe Okabe–Ito).
let seriesColors = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]

/// Plot area geometry shared by bar and line charts: margins, y range and axes with ticks.
struct PlotFrame {
    let width: Double, height: Double
    let left = 52.0, right = 12.0, top = 12.0, bottom = 46.0
    let yLow: Double, yHigh: Double

    init(width: Double, height: Double, values: [Double], yRange: ClosedRange<Double>?) {
        self.width = width
        self.height = height
        let finite = values.filter { $0.isFinite }
        let low = yRange?.lowerBound ?? min(finite.min() ?? 0, 0)
        var high = yRange?.upperBound ?? (finite.max() ?? 1)
        if high <= low { high = low + 1 }
        yLow = low
        yHigh = high
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }
    func y(_ v: Double) -> Double { top + plotHeight * (1 - (min(max(v, yLow), yHigh) - yLow) / (yHigh - yLow)) }

    /// Axes, y ticks with grid lines, and both axis titles.
    func axes(xTitle: String, yTitle: String) -> String {
        var s = "<line x1=\"\(coordinate(left))\" y1=\"\(coordinate(top))\" x2=\"\(coordinate(left))\" y2=\"\(coordinate(top + plotHeight))\" stroke=\"#333\"/>"
        s += "<line x1=\"\(coordinate(left))\" y1=\"\(coordinate(top + plotHeight))\" x2=\"\(coordinate(left + plotWidth))\" y2=\"\(coordinate(top + plotHeight))\" stroke=\"#333\"/>"
        for i in 0...4 {
            let v = yLow + (yHigh - yLow) * Double(i) / 4
            let yy = y(v)
            s += "<line x1=\"\(coordinate(left))\" y1=\"\(coordinate(yy))\" x2=\"\(coordinate(left + plotWidth))\" y2=\"\(coordinate(yy))\" stroke=\"#ddd\" stroke-width=\"0.5\"/>"
            s += "<text x=\"\(coordinate(left - 4))\" y=\"\(coordinate(yy + 3))\" font-size=\"9\" text-anchor=\"end\">\(escapeHTML(shortNumber(v)))</text>"
        }
        let cy = top + plotHeight / 2
        s += "<text x=\"12\" y=\"\(coordinate(cy))\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(coordinate(cy)))\">\(escapeHTML(yTitle))</text>"
        s += "<text x=\"\(coordinate(left + plotWidth / 2))\" y=\"\(coordinate(height - 4))\" font-size=\"11\" text-anchor=\"middle\">\(escapeHTML(xTitle))</text>"
        return s
    }

    /// A legend in the top-right corner of the plot area (omitted for a single unnamed series).
    func legend(_ series: [Series]) -> String {
        guard series.count > 1 || !(series.first?.name.isEmpty ?? true) else { return "" }
        var s = ""
        let x = left + plotWidth - 120
        for (i, item) in series.enumerated() {
            let yy = top + 4 + Double(i) * 13
            s += "<rect x=\"\(coordinate(x))\" y=\"\(coordinate(yy))\" width=\"9\" height=\"9\" fill=\"\(seriesColors[i % seriesColors.count])\"/>"
            s += "<text x=\"\(coordinate(x + 13))\" y=\"\(coordinate(yy + 8))\" font-size=\"10\">\(escapeHTML(item.name))</text>"
        }
        return s
    }
}

/// Grouped vertical bars: one group per category, one bar per series.
public struct BarChart: Sendable {
    public var categories: [String]
    public var series: [Series]
    public var xTitle: String
    public var yTitle: String
    public var yRange: ClosedRange<Double>?
    public var width: Double = 560
    public var height: Double = 220

    /// Bars of `series` over `categories`.
    public init(categories: [String], series: [Series], xTitle: String, yTitle: String, yRange: ClosedRange<Double>? = nil) {
        self.categories = categories
        self.series = series
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.yRange = yRange
    }

    /// The figure as an SVG element.
    public var svg: String {
        let frame = PlotFrame(width: width, height: height, values: series.flatMap(\.values), yRange: yRange)
        var s = svgOpening(width: width, height: height)
        s += frame.axes(xTitle: xTitle, yTitle: yTitle)
        let groupWidth = frame.plotWidth / Double(max(categories.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        let zero = frame.y(max(frame.yLow, 0))
        for (c, category) in categories.enumerated() {
            let gx = frame.left + Double(c) * groupWidth + groupWidth * 0.1
            for (i, item) in series.enumerated() where c < item.values.count && item.values[c].isFinite {
                let v = item.values[c]
                let yy = frame.y(v)
                s += "<rect x=\"\(coordinate(gx + Double(i) * barWidth))\" y=\"\(coordinate(min(yy, zero)))\" width=\"\(coordinate(max(barWidth - 1, 1)))\" height=\"\(coordinate(abs(zero - yy)))\" fill=\"\(seriesColors[i % seriesColors.count])\"><title>\(escapeHTML("\(item.name) \(category): \(shortNumber(v))"))</title></rect>"
            }
            if categories.count <= 40 || c % (categories.count / 20 + 1) == 0 {
                s += "<text x=\"\(coordinate(gx + groupWidth * 0.4))\" y=\"\(coordinate(frame.top + frame.plotHeight + 12))\" font-size=\"9\" text-anchor=\"middle\">\(escapeHTML(category))</text>"
            }
        }
        s += frame.legend(series)
        return s + "</svg>"
    }
}

/// Lines over a shared numeric x axis, one per series, with point markers.
public struct LineChart: Sendable {
    public var x: [Double]
    public var series: [Series]
    public var xTitle: String
    public var yTitle: String
    public var yRange: ClosedRange<Double>?
    public var width: Double = 560
    public var height: Double = 220

    /// Lines of `series` over `x`.
    public init(x: [Double], series: [Series], xTitle: String, yTitle: String, yRange: ClosedRange<Double>? = nil) {
        self.x = x
        self.series = series
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.yRange = yRange
    }

    /// The figure as an SVG element.
    public var svg: String {
        let frame = PlotFrame(width: width, height: height, values: series.flatMap(\.values), yRange: yRange)
        var s = svgOpening(width: width, height: height)
        s += frame.axes(xTitle: xTitle, yTitle: yTitle)
        let xLow = x.min() ?? 0, xHigh = max(x.max() ?? 1, xLow + 1e-9)
        func px(_ v: Double) -> Double { frame.left + frame.plotWidth * (v - xLow) / (xHigh - xLow) }
        let tickStride = max(1, x.count / 12)
        for (i, v) in x.enumerated() where i % tickStride == 0 {
            s += "<text x=\"\(coordinate(px(v)))\" y=\"\(coordinate(frame.top + frame.plotHeight + 12))\" font-size=\"9\" text-anchor=\"middle\">\(escapeHTML(shortNumber(v)))</text>"
        }
        for (i, item) in series.enumerated() {
            let color = seriesColors[i % seriesColors.count]
            let points = zip(x, item.values).filter { $0.1.isFinite }
            let path = points.map { "\(coordinate(px($0.0))),\(coordinate(frame.y($0.1)))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
            for (xv, yv) in points {
                s += "<circle cx=\"\(coordinate(px(xv)))\" cy=\"\(coordinate(frame.y(yv)))\" r=\"2.2\" fill=\"\(color)\"><title>\(escapeHTML("\(item.name) at \(shortNumber(xv)): \(shortNumber(yv))"))</title></circle>"
            }
        }
        s += frame.legend(series)
        return s + "</svg>"
    }
}
