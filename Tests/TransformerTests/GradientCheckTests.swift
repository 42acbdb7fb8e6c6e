import Testing
import Foundation
@testable import GraphTask
@testable import Transformer

/// A tiny model whose relative window (4) is shorter than the sequences, so clamping is exercised.
func tinyConfig() -> ModelConfig {
    ModelConfig(layers: 2, heads: 2, modelWidth: 8, headWidth: 4, mlpWidth: 12, relativeWindow: 4,
                 names: 5, modulus: 7)
}

/// A model with non-degenerate random weights (larger than the training initialisation).
func randomModel(_ config: ModelConfig, seed: UInt64, scale: Float = 0.3) throws -> Model {
    let model = try Model(config: config)
    var rng = TaskRNG(seed: seed)
    var values = [Float](repeating: 0, count: model.layout.totalCount)
    for slot in model.layout.slots {
        let isNormWeight = slot.kind == .layerNorm && slot.role == .weight
        // MLP biases well above zero keep every ReLU on its linear side, so that finite
        // differences never straddle a kink.
        let offset: Float = slot.name.hasSuffix("mlp.fc.bias") ? 3 : 0
        for i in 0..<slot.count {
            let u = Float(rng.unitDouble()) * 2 - 1
            values[slot.offset + i] = isNormWeight ? 1 + 0.2 * u : offset + scale * u
        }
    }
    model.parameters = values
    return model
}

/// Random in-vocabulary token ids, flat [batch, length, 4].
func randomTokens(_ config: ModelConfig, batch: Int, length: Int, seed: UInt64) -> [Int32] {
    var rng = TaskRNG(seed: seed)
    let sizes = config.factorSizes
    return (0..<(batch * length * 4)).map { Int32(rng.next() % UInt64(sizes[$0 % 4])) }
}

@Suite struct GradientCheckTests {
    /// Central finite differences on single parameters: in every tensor, the entry with the
    /// largest gradient and two random entries. The forward pass runs in Float32, so the
    /// tolerance is 1e-2 relative plus 2e-4 absolute (documented in the README).
    @Test func everyParameterTensorMatchesFiniteDifferences() throws {
        try checkEveryParameterTensor(dropout: nil)
    }

    /// The same check with dropout: the masks are a function of the seed, so every loss of the
    /// finite differences sees the same mask and the loss is a smooth function of θ.
    @Test func everyParameterTensorMatchesFiniteDifferencesWithDropout() throws {
        try checkEveryParameterTensor(dropout: Dropout(rate: 0.3, seed: 11))
    }

    /// And with attention-weight dropout, alone and beside the output dropout.
    @Test func everyParameterTensorMatchesFiniteDifferencesWithAttentionDropout() throws {
        try checkEveryParameterTensor(dropout: Dropout(rate: 0, seed: 12, attentionRate: 0.3))
        try checkEveryParameterTensor(dropout: Dropout(rate: 0.2, seed: 13, attentionRate: 0.3))
    }

    /// And with an attention temperature τ ≠ 1 dividing every score, alone and with attention dropout.
    @Test func everyParameterTensorMatchesFiniteDifferencesWithAnAttentionTemperature() throws {
        try checkEveryParameterTensor(dropout: Dropout(rate: 0, seed: 14, attentionTemperature: 1.7))
        try checkEveryParameterTensor(dropout: Dropout(rate: 0, seed: 15, attentionRate: 0.3, attentionTemperature: 0.6))
    }

    /// And with the attention-entropy bonus −λ·H̄ in the loss, alone and beside both dropouts
    /// and a temperature.
    @Test func everyParameterTensorMatchesFiniteDifferencesWithAnEntropyBonus() throws {
        try checkEveryParameterTensor(dropout: Dropout(rate: 0, seed: 16, attentionEntropyBonus: 0.5))
        try checkEveryParameterTensor(dropout: Dropout(rate: 0.2, seed: 17, attentionRate: 0.3, attentionTemperature: 1.3,
                                                       attentionEntropyBonus: 0.5))
    }

    /// The bonus is −λ times the mean entropy of the attention rows, weighted by the positions'
    /// loss weights: here computed again from the patterns `Model.run` records at
    /// `blocks.*.attn.hook_pattern`, another path to the same forward pass. The cross-entropy is
    /// the plain loss to the bit, and the gradient moves.
    @Test func theEntropyBonusIsTheWeightedMeanEntropyOfTheRecordedPatterns() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 18)
        let batch = 2, length = 9
        let inputs = randomTokens(config, batch: batch, length: length, seed: 19)
        let targets = randomTokens(config, batch: batch, length: length, seed: 20)
        let weights: [Float] = (0..<(batch * length)).map { [0, 1, 2.5][$0 % 3] }
        let bp = Backpropagation(model: model)
        func report(_ dropout: Dropout?) -> LossReport {
            bp.lossAndGradient(inputs: inputs, targets: targets, positionWeights: weights, batch: batch, length: length,
                               factorWeights: [0.5, 1, 0.25, 2], dropout: dropout)
        }
        let plain = report(nil)
        let plainGradient = bp.gradient
        let λ: Float = 0.25
        let bonus = report(Dropout(rate: 0, seed: 1, attentionEntropyBonus: λ))

        let hooks = Hooks(config: config)
        var patterns: [Int: Tensor] = [:]
        for l in 0..<config.layers {
            try hooks.observe("blocks.\(l).attn.hook_pattern") { _, t in patterns[l] = t }
        }
        _ = try model.run(tokens: inputs, batch: batch, length: length, iterations: 1, hooks: hooks)
        var weighted = 0.0, total = 0.0
        for b in 0..<batch {
            for n in 0..<length {
                let w = Double(weights[b * length + n])
                total += w
                for l in 0..<config.layers {
                    let p = try #require(patterns[l])
                    for h in 0..<config.heads {
                        var entropy = 0.0
                        for m in 0...n where p[b, h, n, m] > 0 { entropy -= Double(p[b, h, n, m]) * log(Double(p[b, h, n, m])) }
                        weighted += w * entropy
                    }
                }
            }
        }
        let expected = weighted / (total * Double(config.layers * config.heads))
        let measured = try #require(bonus.meanAttentionEntropy)
        #expect(abs(measured - expected) <= 1e-5 * expected && expected > 0.5, "H̄ \(measured) against \(expected)")
        #expect(abs(bonus.attentionEntropyTerm + Double(λ) * measured) <= 1e-12)
        #expect(bonus.crossEntropyLoss == plain.loss && bonus.loss < plain.loss)
        #expect(plain.meanAttentionEntropy == nil && plain.attentionEntropyTerm == 0)
        let scale = plainGradient.map { abs($0) }.max() ?? 0
        #expect(zip(plainGradient, bp.gradient).map { abs($0 - $1) }.max() ?? 0 > 1e-3 * scale)
    }

    /// Dividing the scores by τ = 2 is, exactly, halving the query map and the relative query
    /// table's map (s = (q·k + q·Rk + k·Rq) · scale, and halving is exact in floating point): the
    /// loss is the same bit for bit, the halved maps' gradients are twice the τ model's, and every
    /// other gradient is the same. This checks the temperature against a model built another way.
    @Test func aTemperatureOfTwoIsTheModelWithHalvedQueries() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 8)
        let halved = try randomModel(config, seed: 8)
        let blocks = halved.layout.blocks
        let queryMaps = Set(blocks.flatMap { [$0.qWeight, $0.qBias, $0.relQWeight, $0.relQBias] })
        var values = halved.parameters
        for slot in halved.layout.slots where queryMaps.contains(slot.offset) {
            for i in slot.offset..<(slot.offset + slot.count) { values[i] *= 0.5 }
        }
        halved.parameters = values
        let inputs = randomTokens(config, batch: 2, length: 9, seed: 9), targets = randomTokens(config, batch: 2, length: 9, seed: 10)
        let weights = [Float](repeating: 1, count: 18)
        func run(_ m: Model, _ dropout: Dropout?) -> (Double, [Float]) {
            let bp = Backpropagation(model: m)
            let loss = bp.lossAndGradient(inputs: inputs, targets: targets, positionWeights: weights, batch: 2, length: 9,
                                          factorWeights: [0.5, 1, 0.25, 2], dropout: dropout).loss
            return (loss, bp.gradient)
        }
        let (hot, hotGradient) = run(model, Dropout(rate: 0, seed: 1, attentionTemperature: 2))
        let (plain, plainGradient) = run(halved, nil)
        #expect(hot == plain)
        #expect(queryMaps.count == 4 * config.layers)
        for slot in model.layout.slots {
            let factor: Float = queryMaps.contains(slot.offset) ? 2 : 1
            let range = slot.offset..<(slot.offset + slot.count)
            #expect(range.allSatisfy { hotGradient[$0] * factor == plainGradient[$0] }, "\(slot.name)")
        }
        // And τ = 2 is not the plain model: the temperature reaches the kernels.
        #expect(run(model, nil).0 != hot)
    }

    /// Attention dropout changes the loss and gradient (the masks reach the kernel), and its
    /// rate 0 is exactly no dropout.
    @Test func attentionDropoutChangesTheGradient() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 1)
        let inputs = randomTokens(config, batch: 2, length: 9, seed: 2), targets = randomTokens(config, batch: 2, length: 9, seed: 3)
        let weights = [Float](repeating: 1, count: 18)
        func gradient(_ dropout: Dropout?) -> [Float] {
            let bp = Backpropagation(model: model)
            _ = bp.lossAndGradient(inputs: inputs, targets: targets, positionWeights: weights, batch: 2, length: 9,
                                   factorWeights: [0, 0, 0, 1], dropout: dropout)
            return bp.gradient
        }
        let plain = gradient(nil)
        #expect(gradient(Dropout(rate: 0, seed: 5, attentionRate: 0)) == plain)
        let dropped = gradient(Dropout(rate: 0, seed: 5, attentionRate: 0.3))
        let scale = plain.map { abs($0) }.max() ?? 0
        #expect(zip(plain, dropped).map { abs($0 - $1) }.max() ?? 0 > 1e-2 * scale)
    }

    func checkEveryParameterTensor(dropout: Dropout?) throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 1)
        let batch = 2, length = 9
        let inputs = randomTokens(config, batch: batch, length: length, seed: 2)
        let targets = randomTokens(config, batch: batch, length: length, seed: 3)
        var rng = TaskRNG(seed: 4)
        let weights = (0..<(batch * length)).map { _ in Float(rng.unitDouble()) < 0.8 ? 1 + Float(rng.unitDouble()) : 0 }
        let factorWeights: [Float] = [0.5, 1, 0.25, 2]
        let bp = Backpropagation(model: model)
        func loss() -> Double {
            bp.lossAndGradient(inputs: inputs, targets: targets, positionWeights: weights, batch: batch,
                               length: length, factorWeights: factorWeights, dropout: dropout).loss
        }
        _ = loss()
        let gradient = bp.gradient
        let theta = model.parameters
        var checked = 0
        for slot in model.layout.slots {
            let entries = slot.offset..<(slot.offset + slot.count)
            let largest = entries.max { abs(gradient[$0]) < abs(gradient[$1]) } ?? slot.offset
            for index in [largest, slot.offset + rng.below(slot.count), slot.offset + rng.below(slot.count)] {
                let epsilon: Float = 1e-3
                var shifted = theta
                shifted[index] = theta[index] + epsilon
                model.parameters = shifted
                let plus = loss()
                shifted[index] = theta[index] - epsilon
                model.parameters = shifted
                let minus = loss()
                model.parameters = theta
                let numeric = (plus - minus) / (2 * Double(epsilon))
                let analytic = Double(gradient[index])
                #expect(abs(numeric - analytic) <= 1e-2 * max(abs(numeric), abs(analytic)) + 2e-4,
                        "\(slot.name)[\(index - slot.offset)]: analytic \(analytic), numeric \(numeric)")
                checked += 1
            }
        }
        #expect(checked == 3 * model.layout.slots.count)
        // The largest entries must be far from zero, or the check would compare nothing.
        #expect(gradient.map { abs($0) }.max() ?? 0 > 1e-2)
    }

    /// The gradient of a padded position with weight 0 must not depend on its tokens.
    @Test func unsupervisedPaddingDoesNotChangeTheGradient() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 5)
        let length = 7
        var inputs = randomTokens(config, batch: 1, length: length, seed: 6)
        let targets = randomTokens(config, batch: 1, length: length, seed: 7)
        let weights: [Float] = [1, 1, 1, 1, 1, 0, 0]
        let bp = Backpropagation(model: model)
        _ = bp.lossAndGradient(inputs: inputs, targets: targets, positionWeights: weights, batch: 1, length: length, factorWeights: [0, 0, 0, 1])
        let first = bp.gradient
        for i in 20..<28 { inputs[i] = Int32(config.factorSizes[i % 4] - 1) }  // change the last two tokens
        _ = bp.lossAndGradient(inputs: inputs, targets: targets, positionWeights: weights, batch: 1, length: length, factorWeights: [0, 0, 0, 1])
        let second = bp.gradient
        let maxDifference = zip(first, second).map { abs($0 - $1) }.max() ?? 0
        #expect(maxDifference == 0)
    }
}
