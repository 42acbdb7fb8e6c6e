/// Text made safe for HTML and SVG element content and attribute values.
func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for ch in text {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}

/// A number printed compactly for SVG coordinates (two decimals, no trailing zeros).
func coordinate(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    var s = String(format: "%.2f", x)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s == "-0" ? "0" : s
}

/// A value for a tick label or tooltip: three significant digits.
func shortNumber(_ x: Double) -> String {
    guard x.isFinite else { return x.isNaN ? "NaN" : (x > 0 ? "∞" : "−∞") }
    if x == 0 { return "0" }
    if x == x.rounded(), abs(x) < 1e6 { return String(Int(x)) }
    let magnitude = abs(x)
    if magnitude >= 1000 || magnitude < 0.001 { return String(format: "%.2e", x) }
    if magnitude >= 100 { return String(format: "%.0f", x) }
    if magnitude >= 10 { return String(format: "%.1f", x) }
    if magnitude >= 1 { return String(format: "%.2f", x) }
    return String(format: "%.3f", x)
}
