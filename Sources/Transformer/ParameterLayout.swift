import GraphTask

/// What a parameter tensor is part of: initialisation and the optimiser choose by it, never by
/// the tensor's name.
public enum ParameterKind: Sendable, Equatable {
    /// A factor's embedding table, or the relative-position table E_rel: rows looked up, not multiplied.
    case embedding
    /// A LayerNorm's gain or shift (the blocks' ln_1 and ln_2, ln_final, and E_rel's).
    case layerNorm
    /// A projection of an attention layer (q, k, v, o, and the relative-position k and q).
    case attention
    /// A projection of an MLP (fc, proj).
    case mlp
    /// A factor's readout.
    case readout
}

/// Which tensor of its module a parameter is.
public enum ParameterRole: Sendable, Equatable {
    case weight, bias
}

/// One named parameter tensor inside the flat parameter buffer.
public struct ParameterSlot: Sendable, Equatable {
    /// The authors' PyTorch state_dict key (`ParameterNames`).
    public let name: String
    /// What the tensor is part of.
    public let kind: ParameterKind
    /// Weight or bias.
    public let role: ParameterRole
    /// PyTorch shape (Linear weight is [out, in]).
    public let shape: [Int]
    /// Offset of the first element in the flat buffer.
    public let offset: Int
    /// The input width of the Linear map the tensor belongs to (PyTorch's fan_in, for its weight
    /// and its bias alike); nil for embeddings and LayerNorms.
    public let fanIn: Int?
    public var count: Int { shape.reduce(1, *) }
}

/// Where every parameter lives in one flat Float buffer, in state_dict order.
///
/// Parameters, gradients and AdamW moments all share this layout, so the optimizer is one loop.
public struct ParameterLayout: Sendable {
    public let slots: [ParameterSlot]
    public let totalCount: Int
    let index: [String: Int]

    /// Offsets of one block's tensors.
    struct Block {
        var ln1Weight = 0, ln1Bias = 0
        var qWeight = 0, qBias = 0, kWeight = 0, kBias = 0, vWeight = 0, vBias = 0, oWeight = 0, oBias = 0
        var relKWeight = 0, relKBias = 0, relQWeight = 0, relQBias = 0
        var ln2Weight = 0, ln2Bias = 0
        var fcWeight = 0, fcBias = 0, projWeight = 0, projBias = 0
    }

    /// Offsets of the embedding tables, one per factor.
    let embeddings: [Int]
    let relEmbeddings: Int, relLNWeight: Int, relLNBias: Int
    let blocks: [Block]
    let lnFinalWeight: Int, lnFinalBias: Int
    /// Offsets of the readout weights and biases, one per factor.
    let readoutWeights: [Int], readoutBiases: [Int]

    public init(config: ModelConfig) {
        var slots: [ParameterSlot] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], _ kind: ParameterKind, _ role: ParameterRole, fanIn: Int? = nil) -> Int {
            let slot = ParameterSlot(name: name, kind: kind, role: role, shape: shape, offset: offset, fanIn: fanIn)
            slots.append(slot)
            offset += slot.count
            return slot.offset
        }
        let d = config.modelWidth, f = config.mlpWidth
        // A LayerNorm's gain and shift, [d] each.
        func layerNorm(_ prefix: String) -> (weight: Int, bias: Int) {
            (add(prefix + ".weight", [d], .layerNorm, .weight), add(prefix + ".bias", [d], .layerNorm, .bias))
        }
        // A Linear map's weight [out, in] and bias [out], named `weight` and `bias`.
        func linear(_ weight: String, _ bias: String, out: Int, in inputs: Int, _ kind: ParameterKind) -> (weight: Int, bias: Int) {
            (add(weight, [out, inputs], kind, .weight, fanIn: inputs), add(bias, [out], kind, .bias, fanIn: inputs))
        }
        func linear(_ prefix: String, out: Int, in inputs: Int, _ kind: ParameterKind) -> (weight: Int, bias: Int) {
            linear(prefix + ".weight", prefix + ".bias", out: out, in: inputs, kind)
        }
        let sizes = config.factorSizes
        embeddings = sizes.indices.map { add(ParameterNames.embedding(factor: $0), [sizes[$0], d], .embedding, .weight) }
        relEmbeddings = add(ParameterNames.relativeEmbeddings, [config.relativeWindow, d], .embedding, .weight)
        relLNWeight = add(ParameterNames.relativeNormWeight, [d], .layerNorm, .weight)
        relLNBias = add(ParameterNames.relativeNormBias, [d], .layerNorm, .bias)
        var blocks: [Block] = []
        for l in 0..<config.layers {
            let p = "transformer.blocks.layer_\(l)."
            var b = Block()
            (b.ln1Weight, b.ln1Bias) = layerNorm(p + "ln_1")
            (b.qWeight, b.qBias) = linear(p + "attn.q_proj", out: d, in: d, .attention)
            (b.kWeight, b.kBias) = linear(p + "attn.k_proj", out: d, in: d, .attention)
            (b.vWeight, b.vBias) = linear(p + "attn.v_proj", out: d, in: d, .attention)
            (b.oWeight, b.oBias) = linear(p + "attn.o_proj", out: d, in: d, .attention)
            (b.relKWeight, b.relKBias) = linear(p + "attn.relpos_k_proj", out: d, in: d, .attention)
            (b.relQWeight, b.relQBias) = linear(p + "attn.relpos_q_proj", out: d, in: d, .attention)
            (b.ln2Weight, b.ln2Bias) = layerNorm(p + "ln_2")
            (b.fcWeight, b.fcBias) = linear(p + "mlp.fc", out: f, in: d, .mlp)
            (b.projWeight, b.projBias) = linear(p + "mlp.proj", out: d, in: f, .mlp)
            blocks.append(b)
        }
        self.blocks = blocks
        (lnFinalWeight, lnFinalBias) = layerNorm("transformer.ln_final")
        let readouts = sizes.indices.map {
            linear(ParameterNames.readoutWeight(factor: $0), ParameterNames.readoutBias(factor: $0), out: sizes[$0], in: d, .readout)
        }
        readoutWeights = readouts.map(\.weight)
        readoutBiases = readouts.map(\.bias)
        self.slots = slots
        self.totalCount = offset
        self.index = Dictionary(uniqueKeysWithValues: slots.enumerated().map { ($1.name, $0) })
    }

    /// The slot named `name`, if the model has one.
    public func slot(named name: String) -> ParameterSlot? {
        index[name].map { slots[$0] }
    }
}
