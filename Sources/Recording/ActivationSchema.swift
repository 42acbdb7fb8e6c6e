/// Names and axis labels of the activation-file schema (docs/activation-file.md).
public enum ActivationSchema {
    /// The `schema` root attribute.
    public static let name = "latentlens.activations"
    /// The `schema_version` root attribute this code writes and reads.
    public static let version = 1
    /// Axis names of /tokens and /predictions.
    public static let tokenDims = ["sequence", "iteration", "position", "factor"]

    /// The dataset of recorded query positions [N, P] (`lens run --positions`).
    public static let queryPositionsPath = "query_positions"
    /// The `dims` name of a query-position axis.
    public static let queryAxis = "query"

    /// The dataset path of a hook's activations.
    public static func activationPath(_ hook: String) -> String { "activations/" + hook }

    /// Axis names of a hook's recorded dataset: sequence, iteration, then `axes`, the hook's axes
    /// after batch (`HookLayout.axes`).
    public static func dimensions(ofRowAxes axes: [String]) -> [String] { ["sequence", "iteration"] + axes }
}

/// Which recurrent iterations a recording keeps.
public enum IterationSelection {
    /// Parses `all`, `last`, `first`, or a list of indices and inclusive ranges (`0,2`, `1..3`,
    /// `-1` for the last) against a run of `runIterations`; returns sorted distinct indices.
    public static func parse(_ spec: String, runIterations: Int) throws -> [Int] {
        let text = spec.trimmingCharactersInSet()
        switch text {
        case "all": return Array(0..<runIterations)
        case "last": return [runIterations - 1]
        case "first": return [0]
        default: break
        }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(part).trimmingCharactersInSet()
            func index(_ s: Substring) throws -> Int {
                guard let i = Int(s) else { throw RecordingError.badIterations(spec: spec, reason: "\"\(item)\" is not an iteration index") }
                let resolved = i < 0 ? runIterations + i : i
                guard (0..<runIterations).contains(resolved) else {
                    throw RecordingError.badIterations(spec: spec, reason: "iteration \(i) does not exist; this probe runs \(runIterations) iteration\(runIterations == 1 ? "" : "s") (0…\(runIterations - 1))")
                }
                return resolved
            }
            if let dots = item.range(of: "..") {
                let a = try index(item[..<dots.lowerBound]), b = try index(item[dots.upperBound...])
                guard a <= b else { throw RecordingError.badIterations(spec: spec, reason: "the range \(item) is empty") }
                result.formUnion(a...b)
            } else {
                result.insert(try index(Substring(item)))
            }
        }
        return result.sorted()
    }
}

extension String {
    func trimmingCharactersInSet() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
