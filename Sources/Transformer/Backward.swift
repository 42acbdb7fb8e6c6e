import GraphTask

/// Loss and accuracy of one supervised forward/backward pass.
public struct LossReport: Sendable {
    /// Weighted mean cross-entropy per factor (nil where the factor was not supervised).
    public var factorLoss: [Double?]
    /// Total loss: Σ_f factorWeight[f] · factorLoss[f], plus `attentionEntropyTerm`.
    public var loss: Double
    /// Supervised positions and correct argmaxes per factor, indexed by `Factor.rawValue`.
    public var counted: [Int]
    public var correct: [Int]
    /// Positions weighted more than 1 (those the step must compute), and how many of them the
    /// value readout got right.
    public var heavyCounted = 0
    public var heavyCorrect = 0
    /// The attention-entropy bonus's part of `loss`, −λ·H̄ (0 without a bonus).
    public var attentionEntropyTerm = 0.0
    /// H̄: the mean entropy in nats of the attention rows of every head and layer at the
    /// supervised positions, weighted as the loss weights them (nil: not computed, no bonus).
    public var meanAttentionEntropy: Double?
    /// The cross-entropy alone: `loss` without the entropy bonus.
    public var crossEntropyLoss: Double { loss - attentionEntropyTerm }
    /// Σ_r w_r · CE_r and Σ_r w_r per factor, from which shards' reports combine into the block's.
    var factorWeightedLoss = [Double](repeating: 0, count: Factor.count)
    var factorWeight = [Double](repeating: 0, count: Factor.count)

    /// Supervised positions of `factor`.
    public func countedPositions(_ factor: Factor) -> Int { counted[factor.rawValue] }
    /// Positions where `factor`'s argmax was right.
    public func correctPositions(_ factor: Factor) -> Int { correct[factor.rawValue] }
}

/// Computes the gradient of the supervised loss of a token block (llm.c style: the forward
/// intermediates are kept in `Activations`, each layer's backward mirrors its forward).
public final class Backpropagation {
    public let model: Model
    /// dLoss/dParameter in the model's flat layout.
    let gradients: FloatStorage
    var acts: Activations?
    var scratch: Scratch?

    /// Gradient buffers of one block shape.
    final class Scratch {
        let batch: Int, length: Int
        let dResid, dResidMid, dNormed, dZ, dq, dk, dv, dFF: FloatStorage
        let dRelK, dRelQ, dRelLN, dRelScratch: FloatStorage
        let dLogits: [FloatStorage]
        let targets: Int32Storage
        let weights: FloatStorage
        let rowCorrect: UnsafeMutablePointer<Bool>
        init(config c: ModelConfig, batch: Int, length: Int) {
            self.batch = batch
            self.length = length
            let n = batch * length, d = c.modelWidth, w = c.relativeWindow
            dResid = FloatStorage(count: n * d); dResidMid = FloatStorage(count: n * d)
            dNormed = FloatStorage(count: n * d); dZ = FloatStorage(count: n * d)
            dq = FloatStorage(count: n * d); dk = FloatStorage(count: n * d); dv = FloatStorage(count: n * d)
            dFF = FloatStorage(count: n * c.mlpWidth)
            dRelK = FloatStorage(count: w * d); dRelQ = FloatStorage(count: w * d); dRelLN = FloatStorage(count: w * d)
            dRelScratch = FloatStorage(count: 2 * batch * w * d)
            dLogits = c.factorSizes.map { FloatStorage(count: n * $0) }
            targets = Int32Storage(count: n * Factor.count)
            weights = FloatStorage(count: n)
            rowCorrect = .allocate(capacity: n)
            rowCorrect.initialize(repeating: false, count: n)
        }
        deinit { rowCorrect.deallocate() }
    }

    public init(model: Model) {
        self.model = model
        gradients = FloatStorage(count: model.layout.totalCount)
    }

    /// Whether the value readout's argmax at flat row `row` matched the target in the last call.
    public func valueCorrect(at row: Int) -> Bool { scratch?.rowCorrect[row] ?? false }

    /// The gradient from the last `lossAndGradient` call, flat in layout order.
    public var gradient: [Float] { gradients.array }
    /// Pointer access to the gradient, for the optimizer.
    public var gradientPointer: UnsafeMutablePointer<Float> { gradients.pointer }

    /// Runs forward and backward on one block and leaves dLoss/dθ in `gradient`.
    ///
    /// - Parameters:
    ///   - inputs, targets: flat [batch, length, `Factor.count`] token ids.
    ///   - positionWeights: [batch · length] loss weight of each position (0 = unsupervised).
    ///   - factorWeights: loss weight of each factor; factors with weight 0 get no readout.
    ///   - dropout: the step's dropout (nil or rate 0: none, exactly as without it), attention
    ///     temperature and attention-entropy bonus λ.
    /// The loss of factor f is Σ_r w_r · CE_r / Σ_r w_r over the block. With a bonus λ > 0 the loss
    /// also holds −λ·H̄, H̄ = Σ_r w_r · Σ_{l,h} H(p[l,h,r]) / (Σ_r w_r · layers · heads): the mean
    /// entropy of the attention rows where the loss looks, so heads stay soft there.
    public func lossAndGradient(inputs: [Int32], targets: [Int32], positionWeights: [Float],
                                batch: Int, length: Int, factorWeights: [Float], dropout: Dropout? = nil) -> LossReport {
        lossAndGradient(inputs: inputs, targets: targets, positionWeights: positionWeights, batch: batch,
                        length: length, factorWeights: factorWeights, dropout: dropout, blockWeight: nil)
    }

    /// `lossAndGradient` on one shard of a larger block: the gradient is scaled by `blockWeight`,
    /// Σ_r w_r over the whole block (nil: this shard is the block), so that the shards' gradients
    /// add up to the block's. The report's means are the shard's own.
    func lossAndGradient(inputs: [Int32], targets: [Int32], positionWeights: [Float],
                         batch: Int, length: Int, factorWeights: [Float], dropout: Dropout?, blockWeight: Double?) -> LossReport {
        let c = model.config
        if acts?.fits(batch: batch, length: length) != true {
            // Grow with headroom so that slightly longer batches later reuse the buffers.
            let roomy = length + length / 4 + 8
            acts = Activations(config: c, batch: batch, length: roomy)
            scratch = Scratch(config: c, batch: batch, length: roomy)
        }
        acts?.reshape(batch: batch, length: length)
        guard let acts, let s = scratch else { fatalError("unreachable: buffers were just allocated") }
        let n = batch * length
        precondition(inputs.count == n * Factor.count && targets.count == n * Factor.count && positionWeights.count == n,
                     "token block of \(batch) × \(length) needs \(n * Factor.count) ids and \(n) weights")
        copy(inputs, to: acts.tokens.pointer)
        copy(targets, to: s.targets.pointer)
        copy(positionWeights, to: s.weights.pointer)
        let readouts = factorWeights.map { $0 != 0 }
        let phase = Profiler.enter(.forward)
        defer { Profiler.enter(phase) }
        model.forward(acts, hooks: nil, readouts: readouts, dropout: dropout)

        var report = LossReport(factorLoss: [Double?](repeating: nil, count: Factor.count), loss: 0,
                                counted: [Int](repeating: 0, count: Factor.count), correct: [Int](repeating: 0, count: Factor.count))
        var totalWeight: Double = 0
        for r in 0..<n { totalWeight += Double(s.weights.pointer[r]) }
        if let blockWeight { totalWeight = blockWeight }
        let sizes = c.factorSizes
        for f in 0..<Factor.count where readouts[f] {
            let scale = totalWeight > 0 ? factorWeights[f] / Float(totalWeight) : 0
            let totals = crossEntropyForwardBackward(dLogits: s.dLogits[f].pointer, logits: acts.logits[f].pointer,
                                                     targets: s.targets.pointer + f, targetStride: Factor.count,
                                                     weights: s.weights.pointer, rows: n, classes: sizes[f],
                                                     gradientScale: scale, rowCorrect: f == Factor.value.rawValue ? s.rowCorrect : nil)
            let mean = totals.weight > 0 ? totals.weightedLoss / totals.weight : 0
            report.factorLoss[f] = mean
            report.loss += Double(factorWeights[f]) * mean
            report.counted[f] = totals.counted
            report.correct[f] = totals.correct
            report.factorWeightedLoss[f] = totals.weightedLoss
            report.factorWeight[f] = totals.weight
        }
        if readouts[Factor.value.rawValue] {
            for r in 0..<n where s.weights.pointer[r] > 1 {
                report.heavyCounted += 1
                if s.rowCorrect[r] { report.heavyCorrect += 1 }
            }
        }
        Profiler.enter(.backward)
        let bonus = dropout?.attentionEntropyBonus ?? 0
        let entropyBonus = bonus > 0 && totalWeight > 0
            ? EntropyBonusWeights(rowWeights: s.weights.pointer, scale: bonus / Float(totalWeight * Double(c.layers * c.heads)))
            : nil
        let weightedEntropy = backward(acts, s, readouts: readouts, entropyBonus: entropyBonus)
        if entropyBonus != nil {
            report.attentionEntropyTerm = -weightedEntropy
            report.meanAttentionEntropy = weightedEntropy / Double(bonus)
            report.loss -= weightedEntropy
        }
        return report
    }

    /// Backward pass through the whole model, from dLogits to every parameter. Returns the
    /// entropy bonus's Σ c_r·H over every layer (relativeAttentionBackward), 0 without a bonus.
    @discardableResult
    func backward(_ acts: Activations, _ s: Scratch, readouts: [Bool], entropyBonus: EntropyBonusWeights? = nil) -> Double {
        let m = model, c = m.config, layout = m.layout
        let B = acts.batch, L = acts.length, N = acts.rows
        let D = c.modelWidth, F = c.mlpWidth, W = c.relativeWindow
        let g = gradients.pointer
        gradients.zero()
        let shape = AttentionShape(batch: B, length: L, heads: c.heads, headWidth: c.headWidth, window: W)

        // Readouts and final LayerNorm.
        let sizes = c.factorSizes
        var first = true
        for f in 0..<Factor.count where readouts[f] {
            linearBackward(s.dNormed.pointer, g + layout.readoutWeights[f], g + layout.readoutBiases[f],
                           s.dLogits[f].pointer, acts.lnFinal.pointer, m.parameter(layout.readoutWeights[f]),
                           rows: N, inWidth: D, outWidth: sizes[f], accumulateInput: !first)
            first = false
        }
        s.dResid.zero()
        layerNormBackward(s.dResid.pointer, g + layout.lnFinalWeight, g + layout.lnFinalBias, s.dNormed.pointer,
                          acts.resid[c.layers].pointer, m.parameter(layout.lnFinalWeight),
                          acts.lnFinalMean.pointer, acts.lnFinalRstd.pointer, rows: N, width: D)
        s.dRelLN.zero()
        var weightedEntropy = 0.0

        for l in stride(from: c.layers - 1, through: 0, by: -1) {
            let p = layout.blocks[l], a = acts.blocks[l]
            // MLP: resid[l+1] = residMid + dropout(proj(relu(fc(LN2(residMid))))). dNormed is
            // free until fc's backward overwrites it, so it holds d(mlp_out before dropout).
            var dMLPOut = UnsafePointer(s.dResid.pointer)
            if let mask = acts.dropoutMask(layer: l, site: .mlpOutput) {
                dropoutBackward(s.dNormed.pointer, s.dResid.pointer, mask: mask, count: N * D)
                dMLPOut = UnsafePointer(s.dNormed.pointer)
            }
            linearBackward(s.dFF.pointer, g + p.projWeight, g + p.projBias, dMLPOut, a.mlpPost.pointer,
                           m.parameter(p.projWeight), rows: N, inWidth: F, outWidth: D)
            reluBackward(s.dFF.pointer, s.dFF.pointer, a.mlpPre.pointer, count: N * F)
            linearBackward(s.dNormed.pointer, g + p.fcWeight, g + p.fcBias, s.dFF.pointer, a.ln2.pointer,
                           m.parameter(p.fcWeight), rows: N, inWidth: D, outWidth: F)
            s.dResidMid.pointer.update(from: s.dResid.pointer, count: N * D)
            layerNormBackward(s.dResidMid.pointer, g + p.ln2Weight, g + p.ln2Bias, s.dNormed.pointer, a.residMid.pointer,
                              m.parameter(p.ln2Weight), a.ln2Mean.pointer, a.ln2Rstd.pointer, rows: N, width: D)
            // Attention: residMid = resid[l] + dropout(o_proj(attention(LN1(resid[l])))). LN2's
            // backward has consumed dNormed, and q/k/v's overwrite it later.
            var dAttnOut = UnsafePointer(s.dResidMid.pointer)
            if let mask = acts.dropoutMask(layer: l, site: .attentionOutput) {
                dropoutBackward(s.dNormed.pointer, s.dResidMid.pointer, mask: mask, count: N * D)
                dAttnOut = UnsafePointer(s.dNormed.pointer)
            }
            linearBackward(s.dZ.pointer, g + p.oWeight, g + p.oBias, dAttnOut, a.z.pointer,
                           m.parameter(p.oWeight), rows: N, inWidth: D, outWidth: D)
            s.dRelK.zero(); s.dRelQ.zero()
            weightedEntropy += relativeAttentionBackward(dq: s.dq.pointer, dk: s.dk.pointer, dv: s.dv.pointer,
                                      dRelK: s.dRelK.pointer, dRelQ: s.dRelQ.pointer, dz: s.dZ.pointer,
                                      pattern: a.pattern.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
                                      relK: a.relK.pointer, relQ: a.relQ.pointer, shape: shape,
                                      dRelScratch: s.dRelScratch.pointer, dropout: acts.dropout, layer: l,
                                      entropyBonus: entropyBonus)
            linearBackward(s.dRelLN.pointer, g + p.relKWeight, g + p.relKBias, s.dRelK.pointer, acts.relLN.pointer,
                           m.parameter(p.relKWeight), rows: W, inWidth: D, outWidth: D, accumulateInput: true)
            linearBackward(s.dRelLN.pointer, g + p.relQWeight, g + p.relQBias, s.dRelQ.pointer, acts.relLN.pointer,
                           m.parameter(p.relQWeight), rows: W, inWidth: D, outWidth: D, accumulateInput: true)
            linearBackward(s.dNormed.pointer, g + p.qWeight, g + p.qBias, s.dq.pointer, a.ln1.pointer,
                           m.parameter(p.qWeight), rows: N, inWidth: D, outWidth: D)
            linearBackward(s.dNormed.pointer, g + p.kWeight, g + p.kBias, s.dk.pointer, a.ln1.pointer,
                           m.parameter(p.kWeight), rows: N, inWidth: D, outWidth: D, accumulateInput: true)
            linearBackward(s.dNormed.pointer, g + p.vWeight, g + p.vBias, s.dv.pointer, a.ln1.pointer,
                           m.parameter(p.vWeight), rows: N, inWidth: D, outWidth: D, accumulateInput: true)
            s.dResid.pointer.update(from: s.dResidMid.pointer, count: N * D)
            layerNormBackward(s.dResid.pointer, g + p.ln1Weight, g + p.ln1Bias, s.dNormed.pointer, acts.resid[l].pointer,
                              m.parameter(p.ln1Weight), a.ln1Mean.pointer, a.ln1Rstd.pointer, rows: N, width: D)
        }
        embeddingBackward(dTables: layout.embeddings.map { g + $0 }, dOut: s.dResid.pointer,
                          tokens: acts.tokens.pointer, rows: N, width: D)
        layerNormBackward(g + layout.relEmbeddings, g + layout.relLNWeight, g + layout.relLNBias, s.dRelLN.pointer,
                          m.parameter(layout.relEmbeddings), m.parameter(layout.relLNWeight),
                          acts.relMean.pointer, acts.relRstd.pointer, rows: W, width: D)
        return weightedEntropy
    }
}
