/// A map from a number to a colour, for heatmaps and their colour bars.
public struct ColorScale: Sendable {
    /// Colour stops as (r, g, b) in 0...1, evenly spaced over the domain.
    let stops: [(Double, Double, Double)]
    /// The values that map to the first and last stop.
    public var low: Double
    public var high: Double

    /// Perceptually ordered dark-blue → yellow (viridis-like), for non-negative quantities.
    public static func sequential(low: Double = 0, high: Double = 1) -> ColorScale {
        ColorScale(stops: [(0.267, 0.005, 0.329), (0.229, 0.322, 0.546), (0.128, 0.567, 0.551),
                           (0.369, 0.789, 0.383), (0.993, 0.906, 0.144)], low: low, high: high)
    }

    /// Blue → white → red around zero, for signed quantities; symmetric in `limit`.
    public static func diverging(limit: Double) -> ColorScale {
        let l = limit > 0 && limit.isFinite ? limit : 1
        return ColorScale(stops: [(0.129, 0.400, 0.675), (0.969, 0.969, 0.969), (0.698, 0.094, 0.169)],
                          low: -l, high: l)
    }

    /// The CSS colour of `value` (values outside the domain are clamped; NaN is grey).
    public func color(_ value: Double) -> String {
        guard value.isFinite else { return "#999999" }
        let span = high - low
        var t = span > 0 ? (value - low) / span : 0.5
        t = min(max(t, 0), 1)
        let scaled = t * Double(stops.count - 1)
        let i = min(Int(scaled), stops.count - 2)
        let f = scaled - Double(i)
        let a = stops[i], b = stops[i + 1]
        func channel(_ x: Double, _ y: Double) -> Int { Int(((x + (y - x) * f) * 255).rounded()) }
        let r = channel(a.0, b.0), g = channel(a.1, b.1), bl = channel(a.2, b.2)
        return "#" + [r, g, bl].map { hex2($0) }.joined()
    }
}

func hex2(_ v: Int) -> String {
    let digits = Array("0123456789abcdef")
    let c = min(max(v, 0), 255)
    return String([digits[c / 16], digits[c % 16]])
}
