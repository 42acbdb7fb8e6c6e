/// The `retrieval` section of the analysis JSON: the paper's layer (1) at the top level with
/// the causal checks, and every analysed layer under `layers` (docs/analysis.md).
public struct RetrievalSection: Codable, Sendable, Equatable {
    /// Measures of every analysed layer, the primary (layer 1) first.
    public var layers: [RetrievalLayer]
    /// Patching an operand's value (nil when not run).
    public var patch: PatchResult?
    /// Ablating the primary layer's retrieval heads, and as many other heads of that layer.
    public var ablationRetrieval: AblationResult?
    public var ablationOther: AblationResult?

    public init(layers: [RetrievalLayer], patch: PatchResult? = nil,
                ablationRetrieval: AblationResult? = nil, ablationOther: AblationResult? = nil) throws {
        guard !layers.isEmpty else { throw AnalysisError.empty(what: "the list of retrieval measures") }
        self.layers = layers
        self.patch = patch
        self.ablationRetrieval = ablationRetrieval
        self.ablationOther = ablationOther
    }

    /// The primary layer's measures.
    public var primary: RetrievalLayer { layers[0] }

    /// The measures of `layer`, if analysed.
    public func layer(_ layer: Int) -> RetrievalLayer? { layers.first { $0.layer == layer } }

    enum CodingKeys: String, CodingKey {
        case layers, patch
        case ablationRetrieval = "ablation_retrieval"
        case ablationOther = "ablation_other"
        case patchFollowRate = "patch_follow_rate"
        case ablationDropRetrieval = "ablation_drop_retrieval"
        case ablationDropOther = "ablation_drop_other"
    }

    public func encode(to encoder: Encoder) throws {
        try primary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(layers, forKey: .layers)
        try container.encodeIfPresent(patch, forKey: .patch)
        try container.encodeIfPresent(ablationRetrieval, forKey: .ablationRetrieval)
        try container.encodeIfPresent(ablationOther, forKey: .ablationOther)
        try container.encodeIfPresent(patch?.followRate, forKey: .patchFollowRate)
        try container.encodeIfPresent(ablationRetrieval?.drop, forKey: .ablationDropRetrieval)
        try container.encodeIfPresent(ablationOther?.drop, forKey: .ablationDropOther)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        layers = try container.decode([RetrievalLayer].self, forKey: .layers)
        guard !layers.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .layers, in: container, debugDescription: "the retrieval section lists no layer")
        }
        patch = try container.decodeIfPresent(PatchResult.self, forKey: .patch)
        ablationRetrieval = try container.decodeIfPresent(AblationResult.self, forKey: .ablationRetrieval)
        ablationOther = try container.decodeIfPresent(AblationResult.self, forKey: .ablationOther)
    }
}
