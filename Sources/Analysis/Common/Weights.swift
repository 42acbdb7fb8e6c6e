import GraphTask
import Transformer

/// The weights the analyses read from a model, by their state_dict names (docs/model-spec.md).
public struct ModelWeights {
    let model: Model

    /// Weights of `model` (for a checkpoint file, `Checkpoint.load(path)` first).
    public init(_ model: Model) { self.model = model }

    /// The model's configuration.
    public var config: ModelConfig { model.config }

    /// The tensor `name`, or an error naming it.
    public func tensor(_ name: String) throws -> Tensor {
        guard let tensor = model.tensor(named: name) else { throw AnalysisError.missingWeight(name: name) }
        return tensor
    }

    /// Output projection W_O of `layer`, [D, D] (Linear weight [out, in]).
    public func outputWeight(layer: Int) throws -> Tensor {
        try tensor("transformer.blocks.layer_\(layer).attn.o_proj.weight")
    }

    /// Value projection W_V of `layer`, [D, D] (Linear weight [out, in]).
    public func valueWeight(layer: Int) throws -> Tensor {
        try tensor("transformer.blocks.layer_\(layer).attn.v_proj.weight")
    }

    /// Embedding table of factor `factor` (syntax, variable, operation, value), [V_f, D], stored
    /// under the factor's index (`ParameterNames.embedding(factor:)`).
    public func embedding(_ factor: String) throws -> Tensor {
        guard let index = Vocabulary.factorNames.firstIndex(of: factor) else {
            throw AnalysisError.badParameter("the model has no embedding for the factor \"\(factor)\"; its factors are \(Vocabulary.factorNames.joined(separator: ", "))")
        }
        return try tensor(ParameterNames.embedding(factor: index))
    }
}
