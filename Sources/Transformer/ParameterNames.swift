import GraphTask
import HDF5

/// The names of the parameter tensors: the authors' PyTorch state_dict keys (docs/model-spec.md
/// "Parameter names"), and the names LatentLens checkpoints used before it adopted them.
///
/// The authors' token embedder and readouts are `torch.nn.ModuleList`s indexed in their
/// tokenizer's factor order (0 syntax, 1 variable, 2 operation, 3 value; their checkpoints add
/// 4 regret and 5 modification, which LatentLens folds away on import), so those names carry
/// the factor's index, not its name.
public enum ParameterNames {
    /// The embedding table of factor `factor` (an index into `Vocabulary.factorNames`).
    public static func embedding(factor: Int) -> String { "token_embedder.embeddings.\(factor).weight" }

    /// The readout weight of factor `factor`.
    public static func readoutWeight(factor: Int) -> String { "output_layers.\(factor).weight" }

    /// The readout bias of factor `factor`.
    public static func readoutBias(factor: Int) -> String { "output_layers.\(factor).bias" }

    /// The shared relative-position table E_rel [W, D].
    public static let relativeEmbeddings = "transformer.pos_model.relpos_embeddings.weight"
    /// The weight of the LayerNorm applied to E_rel.
    public static let relativeNormWeight = "transformer.pos_model.layer_norm.weight"
    /// The bias of the LayerNorm applied to E_rel.
    public static let relativeNormBias = "transformer.pos_model.layer_norm.bias"

    /// The name checkpoints written before LatentLens adopted the authors' names (schema_version 1)
    /// gave the tensor `name`, or nil when the name did not change.
    public static func legacyName(of name: String) -> String? {
        switch name {
        case relativeEmbeddings: return "transformer.pos_model.rel_embeddings.weight"
        case relativeNormWeight: return "transformer.pos_model.ln.weight"
        case relativeNormBias: return "transformer.pos_model.ln.bias"
        default: break
        }
        for (prefix, suffixes) in [("token_embedder.embeddings.", [".weight"]), ("output_layers.", [".weight", ".bias"])] {
            guard name.hasPrefix(prefix) else { continue }
            for suffix in suffixes where name.hasSuffix(suffix) {
                let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
                if let index = Int(middle), Vocabulary.factorNames.indices.contains(index) {
                    return prefix + Vocabulary.factorNames[index] + suffix
                }
            }
        }
        return nil
    }

    /// The name under which `group` stores the tensor `name`: the name itself, else its legacy
    /// name, else nil (the tensor is missing).
    static func storedName(of name: String, in group: H5Group) -> String? {
        if group.contains(name) { return name }
        if let legacy = legacyName(of: name), group.contains(legacy) { return legacy }
        return nil
    }
}
