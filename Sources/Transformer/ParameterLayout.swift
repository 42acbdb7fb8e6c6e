import GraphTask

/// One named parameter tensor inside the flat parameter buffer.
public struct ParameterSlot: Sendable, Equatable {
    /// The authors' PyTorch state_dict key (`ParameterNames`).
    public let name: String
    /// PyTorch shape (Linear weight is [out, in]).
    public let shape: [Int]
    /// Offset of the first element in the flat buffer.
    public let offset: Int
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
        func add(_ name: String, _ shape: [Int]) -> Int {
            let slot = ParameterSlot(name: name, shape: shape, offset: offset)
            slots.append(slot)
            offset += slot.count
            return slot.offset
        }
        let d = config.modelWidth, f = config.mlpWidth
        let sizes = config.factorSizes
        embeddings = sizes.indices.map { add(ParameterNames.embedding(factor: $0), [sizes[$0], d]) }
        relEmbeddings = add(ParameterNames.relativeEmbeddings, [config.relativeWindow, d])
        relLNWeight = add(ParameterNames.relativeNormWeight, [d])
        relLNBias = add(ParameterNames.relativeNormBias, [d])
        var blocks: [Block] = []
        for l in 0..<config.layers {
            let p = "transformer.blocks.layer_\(l)."
            var b = Block()
            b.ln1Weight = add(p + "ln_1.weight", [d]); b.ln1Bias = add(p + "ln_1.bias", [d])
            b.qWeight = add(p + "attn.q_proj.weight", [d, d]); b.qBias = add(p + "attn.q_proj.bias", [d])
            b.kWeight = add(p + "attn.k_proj.weight", [d, d]); b.kBias = add(p + "attn.k_proj.bias", [d])
            b.vWeight = add(p + "attn.v_proj.weight", [d, d]); b.vBias = add(p + "attn.v_proj.bias", [d])
            b.oWeight = add(p + "attn.o_proj.weight", [d, d]); b.oBias = add(p + "attn.o_proj.bias", [d])
            b.relKWeight = add(p + "attn.relpos_k_proj.weight", [d, d]); b.relKBias = add(p + "attn.relpos_k_proj.bias", [d])
            b.relQWeight = add(p + "attn.relpos_q_proj.weight", [d, d]); b.relQBias = add(p + "attn.relpos_q_proj.bias", [d])
            b.ln2Weight = add(p + "ln_2.weight", [d]); b.ln2Bias = add(p + "ln_2.bias", [d])
            b.fcWeight = add(p + "mlp.fc.weight", [f, d]); b.fcBias = add(p + "mlp.fc.bias", [f])
            b.projWeight = add(p + "mlp.proj.weight", [d, f]); b.projBias = add(p + "mlp.proj.bias", [d])
            blocks.append(b)
        }
        self.blocks = blocks
        lnFinalWeight = add("transformer.ln_final.weight", [d])
        lnFinalBias = add("transformer.ln_final.bias", [d])
        var rw: [Int] = [], rb: [Int] = []
        for i in sizes.indices {
            rw.append(add(ParameterNames.readoutWeight(factor: i), [sizes[i], d]))
            rb.append(add(ParameterNames.readoutBias(factor: i), [sizes[i]]))
        }
        readoutWeights = rw
        readoutBiases = rb
        self.slots = slots
        self.totalCount = offset
        self.index = Dictionary(uniqueKeysWithValues: slots.enumerated().map { ($1.name, $0) })
    }

    /// The slot named `name`, if the model has one.
    public func slot(named name: String) -> ParameterSlot? {
        index[name].map { slots[$0] }
    }
}
