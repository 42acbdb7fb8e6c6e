import GraphTask

/// Hyper-parameters of the recurrent transformer (docs/model-spec.md, "Model").
public struct ModelConfig: Sendable, Equatable, Codable {
    public var layers: Int
    public var heads: Int
    public var modelWidth: Int
    public var headWidth: Int
    public var mlpWidth: Int
    public var relativeWindow: Int
    public var layerNormEpsilon: Float
    public var names: Int
    public var modulus: Int

    /// The paper's interpretability configuration: 2 layers, 16 heads of 16, d_model 256, MLP 1024.
    public static let paper = ModelConfig(layers: 2, heads: 16, modelWidth: 256, headWidth: 16,
                                          mlpWidth: 1024, relativeWindow: 64, layerNormEpsilon: 1e-5,
                                          names: 128, modulus: 23)

    /// The named sizes `lens train --config` and `lens init --config` choose from.
    public enum Preset: String, CaseIterable, Sendable {
        /// The paper's configuration (`ModelConfig.paper`).
        case paper
        /// Half the paper's width: 8 heads, d_model 128, MLP 512.
        case small
        /// A model for tests and quick trials: 4 heads of 8, d_model 32, MLP 64.
        case tiny

        public var config: ModelConfig {
            switch self {
            case .paper: return .paper
            case .small: return ModelConfig(layers: 2, heads: 8, modelWidth: 128, headWidth: 16, mlpWidth: 512, relativeWindow: 64, names: 128, modulus: 23)
            case .tiny: return ModelConfig(layers: 2, heads: 4, modelWidth: 32, headWidth: 8, mlpWidth: 64, relativeWindow: 16, names: 128, modulus: 23)
            }
        }
    }

    public init(layers: Int, heads: Int, modelWidth: Int, headWidth: Int, mlpWidth: Int,
                relativeWindow: Int, layerNormEpsilon: Float = 1e-5, names: Int, modulus: Int) {
        self.layers = layers
        self.heads = heads
        self.modelWidth = modelWidth
        self.headWidth = headWidth
        self.mlpWidth = mlpWidth
        self.relativeWindow = relativeWindow
        self.layerNormEpsilon = layerNormEpsilon
        self.names = names
        self.modulus = modulus
    }

    /// The token vocabulary this model reads and writes.
    public var vocabulary: Vocabulary { Vocabulary(names: names, modulus: modulus) }

    /// Sizes of the four factor vocabularies (syntax, variable, operation, value).
    public var factorSizes: [Int] { vocabulary.factorSizes }

    /// Throws when the sizes cannot form a model.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw ModelError.invalidConfig(message) }
        }
        // Each size on its own first: within these ranges no product below can overflow (this
        // module is built with -Ounchecked, where an overflowing product wraps silently).
        for (name, value, range) in [("n_layers", layers, ModelConfig.limits.layers), ("n_heads", heads, ModelConfig.limits.heads),
                                     ("d_model", modelWidth, ModelConfig.limits.width), ("d_head", headWidth, ModelConfig.limits.width),
                                     ("d_mlp", mlpWidth, ModelConfig.limits.width), ("rel_window", relativeWindow, ModelConfig.limits.width),
                                     ("names", names, ModelConfig.limits.vocabulary), ("modulus", modulus, ModelConfig.limits.vocabulary)] {
            try check(range.contains(value), "\(name) must lie in \(range.lowerBound)...\(range.upperBound), found \(value)")
        }
        try check(layerNormEpsilon.isFinite, "ln_eps must be a finite number, found \(layerNormEpsilon)")
        try check(layers >= 1, "n_layers must be at least 1, found \(layers)")
        try check(heads >= 1 && headWidth >= 1, "n_heads and d_head must be positive, found \(heads) and \(headWidth)")
        try check(heads * headWidth == modelWidth, "n_heads × d_head must equal d_model: \(heads) × \(headWidth) ≠ \(modelWidth)")
        try check(mlpWidth >= 1, "d_mlp must be positive, found \(mlpWidth)")
        try check(relativeWindow >= 1, "rel_window must be positive, found \(relativeWindow)")
        try check(names >= 1 && modulus >= 2, "names must be ≥ 1 and modulus ≥ 2, found \(names) and \(modulus)")
        try check(layerNormEpsilon > 0, "ln_eps must be positive, found \(layerNormEpsilon)")
    }

    /// The largest sizes a configuration may declare, each on its own; `parameterLimit` bounds
    /// the model as a whole. They are far beyond any model of the task (the paper's has
    /// 2 layers, d_model 256, 128 names) and keep every size product within `Int`.
    public static let limits = (layers: 1...256, heads: 1...4096, width: 1...65_536, vocabulary: 1...1_000_000)

    /// The most parameters a model may have (4 GiB of float32 weights).
    public static let parameterLimit = 1 << 30

    /// Number of scalar parameters.
    public var parameterCount: Int { ParameterLayout(config: self).totalCount }
}
