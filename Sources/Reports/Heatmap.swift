/// A matrix drawn as coloured cells with row and column labels, axis titles and a colour bar.
public struct Heatmap: Sendable {
    public var values: [[Double]]
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var rowTitle: String
    public var columnTitle: String
    public var colorTitle: String
    public var scale: ColorScale
    /// Side of one cell in pixels.
    public var cell: Double = 16
    /// Write each value inside its cell (for small matrices).
    public var annotate = false

    /// A heatmap of `values` (rows × columns); the colour domain defaults to the data's range.
    public init(values: [[Double]], rowLabels: [String], columnLabels: [String], rowTitle: String,
                columnTitle: String, colorTitle: String, scale: ColorScale? = nil) {
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.colorTitle = colorTitle
        let finite = values.joined().filter { $0.isFinite }
        self.scale = scale ?? .sequential(low: min(finite.min() ?? 0, 0), high: max(finite.max() ?? 1, 1e-12))
    }

    /// The figure as an SVG element.
    public var svg: String {
        let rows = values.count, columns = values.map(\.count).max() ?? 0
        let labelWidth = Double((rowLabels.map(\.count).max() ?? 1) * 7 + 8)
        let left = 22 + labelWidth, top = 14.0
        let gridW = Double(columns) * cell, gridH = Double(rows) * cell
        let columnLabelHeight = Double((columnLabels.map(\.count).max() ?? 1) * 6 + 8)
        let barX = left + gridW + 16
        let width = barX + 70, height = top + gridH + columnLabelHeight + 22
        var s = svgOpening(width: width, height: height)
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() {
                let tip = "\(label(rowLabels, r)) · \(label(columnLabels, c)): \(shortNumber(v))"
                s += "<rect x=\"\(coordinate(left + Double(c) * cell))\" y=\"\(coordinate(top + Double(r) * cell))\" width=\"\(coordinate(cell))\" height=\"\(coordinate(cell))\" fill=\"\(scale.color(v))\"><title>\(escapeHTML(tip))</title></rect>"
                if annotate {
                    let t = (v - scale.low) / max(scale.high - scale.low, 1e-12)
                    let ink = t > 0.6 ? "#000" : "#fff"
                    s += "<text x=\"\(coordinate(left + (Double(c) + 0.5) * cell))\" y=\"\(coordinate(top + (Double(r) + 0.68) * cell))\" font-size=\"\(coordinate(min(cell * 0.36, 10)))\" text-anchor=\"middle\" fill=\"\(ink)\" pointer-events=\"none\">\(cellText(v))</text>"
                }
            }
        }
        let rowStride = max(1, Int((10 / cell).rounded(.up)))
        for r in stride(from: 0, to: rows, by: rowStride) {
            s += "<text x=\"\(coordinate(left - 4))\" y=\"\(coordinate(top + (Double(r) + 0.7) * cell))\" font-size=\"10\" text-anchor=\"end\">\(escapeHTML(label(rowLabels, r)))</text>"
        }
        // Dense matrices label every k-th column and row so that the labels stay legible.
        let columnStride = max(1, Int((10 / cell).rounded(.up)))
        for c in stride(from: 0, to: columns, by: columnStride) {
            let x = left + (Double(c) + 0.6) * cell, y = top + gridH + 4
            s += "<text x=\"\(coordinate(x))\" y=\"\(coordinate(y))\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-60 \(coordinate(x)) \(coordinate(y)))\">\(escapeHTML(label(columnLabels, c)))</text>"
        }
        s += "<text x=\"10\" y=\"\(coordinate(top + gridH / 2))\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 10 \(coordinate(top + gridH / 2)))\">\(escapeHTML(rowTitle))</text>"
        s += "<text x=\"\(coordinate(left + gridW / 2))\" y=\"\(coordinate(height - 4))\" font-size=\"11\" text-anchor=\"middle\">\(escapeHTML(columnTitle))</text>"
        s += colorBar(scale: scale, x: barX, y: top, height: max(gridH, 60), title: colorTitle)
        return s + "</svg>"
    }

    /// Two decimals without the leading zero, so it fits a small cell: ".15", "1.00", "-.30".
    func cellText(_ v: Double) -> String {
        guard v.isFinite else { return "" }
        var s = String(format: "%.2f", v)
        if s.hasPrefix("0.") { s.removeFirst() } else if s.hasPrefix("-0.") { s = "-" + s.dropFirst(2) }
        return s == ".00" ? "0" : s
    }

    func label(_ labels: [String], _ i: Int) -> String { i < labels.count ? labels[i] : String(i) }
}

/// A vertical colour bar with its low, middle and high values and a title.
func colorBar(scale: ColorScale, x: Double, y: Double, height: Double, title: String) -> String {
    let steps = 32
    var s = ""
    for i in 0..<steps {
        let v = scale.high - (scale.high - scale.low) * (Double(i) + 0.5) / Double(steps)
        s += "<rect x=\"\(coordinate(x))\" y=\"\(coordinate(y + height * Double(i) / Double(steps)))\" width=\"10\" height=\"\(coordinate(height / Double(steps) + 0.5))\" fill=\"\(scale.color(v))\"/>"
    }
    for (f, v) in [(0.0, scale.high), (0.5, (scale.low + scale.high) / 2), (1.0, scale.low)] {
        s += "<text x=\"\(coordinate(x + 13))\" y=\"\(coordinate(y + height * f + 3))\" font-size=\"9\">\(escapeHTML(shortNumber(v)))</text>"
    }
    let cx = x + 52, cy = y + height / 2
    s += "<text x=\"\(coordinate(cx))\" y=\"\(coordinate(cy))\" font-size=\"10\" text-anchor=\"middle\" transform=\"rotate(90 \(coordinate(cx)) \(coordinate(cy)))\">\(escapeHTML(title))</text>"
    return s
}
