import Foundation
import Recording
import Transformer

/// What an activation file is for, from its probe name or its metadata columns.
public enum ActivationFileRole: Sendable, Equatable, CustomStringConvertible {
    /// A slot sweep of the controlled experiment: "var_0", "var_1", "var_2" or "rhs".
    case slotSweep(String)
    /// The (a, b) value grid of the Fourier analysis.
    case valueGrid
    /// The retrieval-distance probe.
    case retrieval
    /// Nothing the analyses read.
    case other

    public var description: String {
        switch self {
        case .slotSweep(let slot): return "slot sweep \(slot)"
        case .valueGrid: return "value grid"
        case .retrieval: return "retrieval"
        case .other: return "unused"
        }
    }
}

/// An opened activation file with what the analyses need to know about it.
public final class ActivationFileInput {
    public let path: String
    public let reader: ActivationReader
    /// The probe's name (root attribute `probe`).
    public let probe: String
    public let role: ActivationFileRole
    /// The model configuration recorded in the activation file's `config` attribute, when readable.
    public let config: ModelConfig?

    /// Opens `path` (schema and version are checked) and classifies it. A file whose recording
    /// did not finish (complete = 0) is refused, naming how many sequences it holds: its
    /// missing sequences would otherwise surface as some analysis's missing grid cell.
    public init(path: String) throws {
        self.path = path
        reader = try ActivationReader(path: path, requireComplete: true)
        probe = reader.attribute("probe") ?? ""
        role = ActivationFileInput.classify(probe: probe, reader: reader)
        struct Recording: Decodable { let model: ModelConfig }
        config = reader.attribute("config").flatMap { try? JSONDecoder().decode(Recording.self, from: Data($0.utf8)).model }
    }

    /// The last recorded run iteration.
    public var lastIteration: Int { reader.iterations.last ?? 0 }

    /// Number of operands of the probe equation (operand{i}_pos columns).
    public var operandCount: Int {
        var i = 0
        while reader.metaKeys.contains("operand\(i)_pos") { i += 1 }
        return i
    }

    /// A metadata column as Ints.
    public func meta(_ key: String) throws -> [Int] { try reader.meta(key).map { Int($0) } }

    /// Per sequence, the positions named by columns `operand{i}_<suffix>`: [n][operand].
    public func operandColumns(_ suffix: String) throws -> [[Int]] {
        let columns = try (0..<operandCount).map { try meta("operand\($0)_\(suffix)") }
        return (0..<reader.count).map { n in columns.map { $0[n] } }
    }

    /// The predicted value at `column`'s position at the last recorded iteration, per sequence.
    public func predictedValues(at column: String) throws -> [Int] {
        let positions = try meta(column)
        let predictions = try reader.predictedTokens()
        let last = reader.iterations.count - 1
        return positions.enumerated().map { i, q in Int(predictions.value(sequence: i, recorded: last, position: q)) }
    }

    /// Throws `AnalysisError.fileLacksHook` unless `hook` was recorded.
    func require(_ hook: String, for analysis: String, record globs: String) throws {
        guard reader.hooks.contains(hook) else {
            throw AnalysisError.fileLacksHook(path: path, probe: probe, hook: hook, analysis: analysis, hooks: globs)
        }
    }

    /// Which analysis a file feeds: slot_var{i} / slot_rhs, value_grid*, *retrieval*, or by
    /// its metadata (one swept slot whose variable column equals an operand's or the rhs').
    static func classify(probe: String, reader: ActivationReader) -> ActivationFileRole {
        if probe.hasPrefix("slot_var"), let i = Int(probe.dropFirst(8)) { return .slotSweep("var_\(i)") }
        if probe == "slot_rhs" { return .slotSweep("rhs") }
        if probe.hasPrefix("value_grid") { return .valueGrid }
        if probe.contains("retrieval") { return .retrieval }
        let sweeps = reader.metaKeys.filter { $0.hasPrefix("sweep_") }
        let valueSweeps = sweeps.filter { $0.hasSuffix("_value") }
        if valueSweeps.count == 2, sweeps.count == 2 { return .valueGrid }
        guard sweeps.count == 1, valueSweeps.isEmpty, let swept = try? reader.meta(sweeps[0]) else { return .other }
        var i = 0
        while reader.metaKeys.contains("operand\(i)_var") {
            if let column = try? reader.meta("operand\(i)_var"), column == swept { return .slotSweep("var_\(i)") }
            i += 1
        }
        if let column = try? reader.meta("rhs_var"), column == swept { return .slotSweep("rhs") }
        return .other
    }
}
