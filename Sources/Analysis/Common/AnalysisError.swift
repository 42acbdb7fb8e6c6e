import Transformer

/// Failures of the analyses, with messages that read like sentences.
public enum AnalysisError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An input tensor does not have the shape an analysis needs.
    case wrongShape(what: String, expected: String, found: [Int])
    /// An input holds nothing to analyse.
    case empty(what: String)
    /// A parameter is outside its meaningful range.
    case badParameter(String)
    /// A model lacks a weight an analysis reads.
    case missingWeight(name: String)
    /// An activation file lacks a hook an analysis needs.
    case missingHook(hook: String, analysis: String)
    /// A position or value in the probe metadata makes no sense for the tokens.
    case badProbe(String)
    /// An activation file lacks a hook an analysis needs; `hooks` is the `--hooks` value to
    /// record it with.
    case fileLacksHook(path: String, probe: String, hook: String, analysis: String, hooks: String)
    /// An analysis needs a model (weights or the runtime) and none could be loaded.
    case needsModel(analysis: String, reason: String)
    /// An analysis has none of the activation files it reads.
    case missingActivationFiles(analysis: String, needed: String)

    public var description: String {
        switch self {
        case .wrongShape(let what, let expected, let found):
            return "\(what) has shape \(found), but the analysis needs \(expected)"
        case .empty(let what):
            return "\(what) is empty, so there is nothing to analyse"
        case .badParameter(let message):
            return message
        case .missingWeight(let name):
            return "the model has no weight named \(name)"
        case .missingHook(let hook, let analysis):
            return "the \(analysis) analysis needs the hook \(hook), which the activation file lacks; record it with `lens run --hooks '\(hook)'`"
        case .badProbe(let message):
            return message
        case .fileLacksHook(let path, let probe, let hook, let analysis, let hooks):
            return "\(path) has no activations for \(hook), which the \(analysis) analysis needs; re-record it with lens run \(probe.isEmpty ? "PROBE" : probe) --hooks '\(hooks)' --positions probe …"
        case .needsModel(let analysis, let reason):
            return "the \(analysis) analysis needs the model: \(reason); pass --model M"
        case .missingActivationFiles(let analysis, let needed):
            return "the \(analysis) analysis has no activation file to read: it needs \(needed) (record them with lens run, see docs/analysis.md)"
        }
    }
}

/// Throws unless `tensor` has rank `rank`.
func requireRank(_ tensor: Tensor, _ rank: Int, _ what: String, _ axes: String) throws {
    guard tensor.shape.count == rank, tensor.shape.allSatisfy({ $0 > 0 }) else {
        throw AnalysisError.wrongShape(what: what, expected: axes, found: tensor.shape)
    }
}

/// Throws unless `tensor` has exactly `shape`.
func requireShape(_ tensor: Tensor, _ shape: [Int], _ what: String) throws {
    guard tensor.shape == shape else {
        throw AnalysisError.wrongShape(what: what, expected: "\(shape)", found: tensor.shape)
    }
}
