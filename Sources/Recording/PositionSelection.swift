import Probes

/// Which query positions a recording keeps (`lens run --positions`).
public enum PositionSelection: Sendable, Equatable {
    /// Every position: full tensors (docs/activation-file.md).
    case all
    /// The probe's query positions: `rhs_pos`, `equals_pos` and every `operand{i}_pos`.
    case probe
    /// The positions named by these metadata columns, in this order.
    case columns([String])

    /// Parses `all`, `probe`, or comma-separated metadata column names.
    public static func parse(_ spec: String) throws -> PositionSelection {
        let text = spec.trimmingCharactersInSet()
        switch text {
        case "all": return .all
        case "probe": return .probe
        default:
            let names = text.split(separator: ",").map { String($0).trimmingCharactersInSet() }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw RecordingError.badPositions(spec: spec, reason: "it names no column") }
            guard Set(names).count == names.count else { throw RecordingError.badPositions(spec: spec, reason: "a column is named twice") }
            return .columns(names)
        }
    }

    /// The query columns for a probe with metadata `metaKeys`, or nil for `.all`.
    /// `probe` picks rhs_pos, equals_pos, then operand0_pos, operand1_pos, … (those present).
    public func columns(metaKeys: [String]) throws -> [String]? {
        switch self {
        case .all:
            return nil
        case .probe:
            var names = ["rhs_pos", "equals_pos"].filter(metaKeys.contains)
            var i = 0
            while metaKeys.contains("operand\(i)_pos") {
                names.append("operand\(i)_pos")
                i += 1
            }
            guard !names.isEmpty else {
                throw RecordingError.badPositions(spec: "probe", reason: "this probe has no equation, so it has no query positions (use --positions all)")
            }
            return names
        case .columns(let names):
            for name in names where !metaKeys.contains(name) {
                let positions = metaKeys.filter { $0.hasSuffix("_pos") || $0 == "probe_start" }
                throw RecordingError.badPositions(spec: names.joined(separator: ","),
                                                  reason: "the probe has no metadata column \(name) (position columns: \(positions.joined(separator: ", ")))")
            }
            return names
        }
    }
}

/// How a hook's per-sequence tensor is cut down to query positions.
enum QueryCut {
    /// [L, rest…] → [P, rest…]: `inner` floats per position.
    case perPosition(inner: Int)
    /// [H, L(query), L(key)] → [H, P, L].
    case patternRows(heads: Int)

    /// The cut for a hook with axes (batch removed) `axes` and row shape `shape`.
    init(axes: [String], shape: [Int]) {
        if axes.count == 3, axes[0] == "head", axes[1] == "query" {
            self = .patternRows(heads: shape[0])
        } else {
            self = .perPosition(inner: shape.dropFirst().reduce(1, *))
        }
    }

    /// Cut row shape and axes for `p` query positions.
    func layout(shape: [Int], axes: [String], p: Int) -> (shape: [Int], axes: [String]) {
        switch self {
        case .perPosition: return ([p] + shape.dropFirst(), ["query"] + axes.dropFirst())
        case .patternRows: return ([shape[0], p, shape[2]], axes)
        }
    }

    /// Copies the rows at `positions` of one sequence's tensor (`source`, length `l`) to `target`.
    func gather(_ source: UnsafePointer<Float>, length l: Int, positions: [Int], into target: UnsafeMutablePointer<Float>) {
        let p = positions.count
        switch self {
        case .perPosition(let inner):
            for (k, q) in positions.enumerated() { (target + k * inner).update(from: source + q * inner, count: inner) }
        case .patternRows(let heads):
            for h in 0..<heads {
                for (k, q) in positions.enumerated() { (target + (h * p + k) * l).update(from: source + (h * l + q) * l, count: l) }
            }
        }
    }
}
