import Testing
@testable import GraphTask
@testable import Transformer

/// A block of `batch` random sequences with weights 0 (unsupervised), 1 and above 1 (heavy).
private struct Block {
    let inputs: [Int32], targets: [Int32], weights: [Float]
    let batch: Int, length: Int

    init(_ config: ModelConfig, batch: Int, length: Int, seed: UInt64) {
        self.batch = batch
        self.length = length
        inputs = randomTokens(config, batch: batch, length: length, seed: seed)
        targets = randomTokens(config, batch: batch, length: length, seed: seed + 1)
        var rng = TaskRNG(seed: seed + 2)
        weights = (0..<(batch * length)).map { _ in
            let u = rng.unitDouble()
            return u < 0.2 ? 0 : (u < 0.6 ? 1 : 3)
        }
    }

    /// The weights with sequence b cut to `lengths[b]` positions (weight 0 after), each
    /// ending on a weighted position.
    func weights(paddedTo lengths: [Int]) -> [Float] {
        var padded = weights
        for (b, real) in lengths.enumerated() {
            padded[b * length + real - 1] = 3
            for position in real..<length { padded[b * length + position] = 0 }
        }
        return padded
    }
}

/// How far sharded and single-block results may differ. Splitting a block's rows changes the
/// GEMM shapes, and OpenBLAS picks its micro-kernels and blocking by shape and by CPU (AVX-512
/// and AVX2 machines round differently), so the two agree to float32 rounding, not bit for bit.
/// Observed on an AVX2 kernel (`OPENBLAS_CORETYPE=Haswell`): losses 2e-9–2e-8 relative,
/// gradient elements up to 1.6e-5 relative (cancellation in sums over the batch); a real fault
/// (a padded row counted, a mask reused, a shard dropped) moves them by 1e-3 or more.
private enum Rounding {
    /// Losses are float32 cross-entropies summed in Double: a few float32 ulps of the total.
    static let loss = 1e-6
    /// Gradient elements, relative to the element, floored at 1e-3 of the largest one.
    static let gradient: Float = 1e-4
}

@Suite struct DataParallelTests {
    let factorWeights: [Float] = [0.5, 1, 0.25, 2]

    /// Sharded and single-block gradients agree to float32 rounding, and so do the reports (the
    /// counts exactly), on a batch
    /// that splits unevenly (5 sequences into 2 and into 3 shards) and one with more shards
    /// than sequences.
    @Test(arguments: [2, 3, 8])
    func shardedGradientMatchesTheSingleBlock(shards: Int) throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 21)
        let block = Block(config, batch: 5, length: 9, seed: 22)
        let single = Backpropagation(model: model)
        let expected = single.lossAndGradient(inputs: block.inputs, targets: block.targets, positionWeights: block.weights,
                                              batch: block.batch, length: block.length, factorWeights: factorWeights)
        let sharded = ShardedBackpropagation(model: model, shards: shards)
        let report = sharded.lossAndGradient(inputs: block.inputs, targets: block.targets, positionWeights: block.weights,
                                             batch: block.batch, length: block.length, factorWeights: factorWeights)
        let a = single.gradient, b = sharded.gradient
        let scale = a.map { abs($0) }.max() ?? 0
        #expect(scale > 1e-2)
        let worst = zip(a, b).map { abs($0 - $1) / max(abs($0), abs($1), 1e-3 * scale) }.max() ?? 0
        #expect(worst <= Rounding.gradient, "largest relative difference \(worst)")

        #expect(abs(report.loss - expected.loss) <= Rounding.loss * abs(expected.loss))
        for f in 0..<4 {
            let (x, y) = (report.factorLoss[f] ?? .nan, expected.factorLoss[f] ?? .nan)
            #expect(abs(x - y) <= Rounding.loss * abs(y), "factor \(f): \(x) vs \(y)")
        }
        #expect(report.counted == expected.counted)
        #expect(report.correct == expected.correct)
        #expect(report.heavyCounted == expected.heavyCounted && report.heavyCounted > 0)
        #expect(report.heavyCorrect == expected.heavyCorrect)
        for row in 0..<(block.batch * block.length) {
            #expect(sharded.valueCorrect(at: row) == single.valueCorrect(at: row), "row \(row)")
        }
    }

    /// Shards run concurrently, but their sum has a fixed order: the gradient is the same bit
    /// for bit from call to call and from one instance to another (same shapes in the same
    /// order, so this holds for any OpenBLAS kernel).
    @Test func shardedGradientIsBitForBitRepeatable() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 23)
        let block = Block(config, batch: 7, length: 11, seed: 24)
        func run(_ bp: ShardedBackpropagation) -> ([Float], Double) {
            let report = bp.lossAndGradient(inputs: block.inputs, targets: block.targets, positionWeights: block.weights,
                                            batch: block.batch, length: block.length, factorWeights: factorWeights)
            return (bp.gradient, report.loss)
        }
        let first = ShardedBackpropagation(model: model, shards: 3)
        let (g1, l1) = run(first)
        let (g2, l2) = run(first)
        let (g3, l3) = run(ShardedBackpropagation(model: model, shards: 3))
        #expect(g1 == g2 && g1 == g3)
        #expect(l1 == l2 && l1 == l3)
    }

    /// A shorter block after a longer one reuses the shards' buffers and still matches.
    @Test func shardsFollowChangingBlockShapes() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 25)
        let sharded = ShardedBackpropagation(model: model, shards: 2)
        let single = Backpropagation(model: model)
        for (batch, length) in [(6, 12), (3, 7), (5, 10)] {
            let block = Block(config, batch: batch, length: length, seed: UInt64(batch * 100 + length))
            let expected = single.lossAndGradient(inputs: block.inputs, targets: block.targets, positionWeights: block.weights,
                                                  batch: batch, length: length, factorWeights: [0, 0, 0, 1])
            let report = sharded.lossAndGradient(inputs: block.inputs, targets: block.targets, positionWeights: block.weights,
                                                 batch: batch, length: length, factorWeights: [0, 0, 0, 1])
            #expect(abs(report.loss - expected.loss) <= Rounding.loss * abs(expected.loss))
            let worst = zip(single.gradient, sharded.gradient).map { abs($0 - $1) }.max() ?? 0
            let scale = single.gradient.map { abs($0) }.max() ?? 0
            #expect(worst <= Rounding.gradient * scale, "\(batch) × \(length): \(worst) of \(scale)")
        }
    }

    /// Sequences of different lengths padded into one block: shards sort them by length and cut
    /// the padding, and still give the single block's gradient and per-row accuracy.
    @Test(arguments: [2, 3])
    func paddingIsCutWithoutChangingTheResult(shards: Int) throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 27)
        let lengths = [12, 5, 9, 12, 3, 7, 8], length = 12
        let random = Block(config, batch: lengths.count, length: length, seed: 28)
        let weights = random.weights(paddedTo: lengths)
        let single = Backpropagation(model: model)
        let expected = single.lossAndGradient(inputs: random.inputs, targets: random.targets, positionWeights: weights,
                                              batch: lengths.count, length: length, factorWeights: factorWeights)
        let sharded = ShardedBackpropagation(model: model, shards: shards)
        let report = sharded.lossAndGradient(inputs: random.inputs, targets: random.targets, positionWeights: weights,
                                             batch: lengths.count, length: length, factorWeights: factorWeights)
        #expect(sharded.shardLengths.max() == 12 && sharded.shardLengths.min() ?? 12 < 12)
        let scale = single.gradient.map { abs($0) }.max() ?? 0
        let worst = zip(single.gradient, sharded.gradient).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= Rounding.gradient * scale, "\(worst) of \(scale)")
        #expect(abs(report.loss - expected.loss) <= Rounding.loss * abs(expected.loss))
        #expect(report.counted == expected.counted && report.correct == expected.correct)
        #expect(report.heavyCounted == expected.heavyCounted && report.heavyCorrect == expected.heavyCorrect)
        for row in 0..<weights.count where weights[row] > 0 {
            #expect(sharded.valueCorrect(at: row) == single.valueCorrect(at: row), "row \(row)")
        }
    }

    /// With dropout, sorted (non-contiguous) shards give every sequence the mask it has in the
    /// single block, so the sharded gradient still equals the single block's. With an
    /// attention-entropy bonus, each shard weighs its rows by the whole block's weight, so the
    /// bonus and its gradient are the single block's too.
    @Test(arguments: [Dropout(rate: 0.3, seed: 77), Dropout(rate: 0, seed: 78, attentionRate: 0.3),
                      Dropout(rate: 0, seed: 79, attentionEntropyBonus: 0.4),
                      Dropout(rate: 0.2, seed: 80, attentionRate: 0.3, attentionEntropyBonus: 0.4)])
    func shardsKeepEachSequencesDropoutMask(dropout: Dropout) throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 31)
        let lengths = [12, 5, 9, 12, 3, 7, 8], length = 12
        let random = Block(config, batch: lengths.count, length: length, seed: 32)
        let weights = random.weights(paddedTo: lengths)
        let single = Backpropagation(model: model)
        let expected = single.lossAndGradient(inputs: random.inputs, targets: random.targets, positionWeights: weights,
                                              batch: lengths.count, length: length, factorWeights: factorWeights, dropout: dropout)
        let singleGradient = single.gradient
        let sharded = ShardedBackpropagation(model: model, shards: 3)
        let report = sharded.lossAndGradient(inputs: random.inputs, targets: random.targets, positionWeights: weights,
                                             batch: lengths.count, length: length, factorWeights: factorWeights, dropout: dropout)
        let scale = singleGradient.map { abs($0) }.max() ?? 0
        let worst = zip(singleGradient, sharded.gradient).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= Rounding.gradient * scale, "\(worst) of \(scale)")
        #expect(abs(report.loss - expected.loss) <= Rounding.loss * abs(expected.loss))
        #expect((report.meanAttentionEntropy == nil) == (dropout.attentionEntropyBonus == 0))
        if let entropy = report.meanAttentionEntropy, let single = expected.meanAttentionEntropy {
            #expect(abs(entropy - single) <= Rounding.loss * single && entropy > 0.1, "H̄ \(entropy) vs \(single)")
        }
        // Without the masks' sequence map the shards would reuse masks: the result would differ.
        let withoutDropout = Backpropagation(model: model)
        _ = withoutDropout.lossAndGradient(inputs: random.inputs, targets: random.targets, positionWeights: weights,
                                           batch: lengths.count, length: length, factorWeights: factorWeights)
        #expect(zip(singleGradient, withoutDropout.gradient).map { abs($0 - $1) }.max() ?? 0 > 1e-3 * scale)
    }

    /// Shard boundaries over ascending lengths minimise the largest shard's rows.
    @Test func balancedSplitEvensOutRows() {
        // 4 short + 2 long: [4 × 3 = 12 | 2 × 10 = 20] beats [3 × 3 | 3 × 10] and [5 × 10 | 10].
        #expect(ShardedBackpropagation.balancedSplit([3, 3, 3, 3, 10, 10], into: 2) == [0, 4, 6])
        #expect(ShardedBackpropagation.balancedSplit([5, 5, 5, 5], into: 2) == [0, 2, 4])
        #expect(ShardedBackpropagation.balancedSplit([1, 2, 3], into: 3) == [0, 1, 2, 3])
        #expect(ShardedBackpropagation.balancedSplit([4, 4, 4], into: 1) == [0, 3])
        // Equal lengths split as evenly as they can: the largest shard has 3 of 7.
        let bounds = ShardedBackpropagation.balancedSplit([6, 6, 6, 6, 6, 6, 6], into: 3)
        #expect(zip(bounds.dropFirst(), bounds).map { $0 - $1 }.max() == 3)
    }

    /// The per-thread core limit applies inside `limited(to:)` only, and nests.
    @Test func coreLimitIsScopedToTheThread() {
        let all = ComputeThreads.count
        ComputeThreads.limited(to: 1) {
            #expect(ComputeThreads.count == 1)
            ComputeThreads.limited(to: 3) { #expect(ComputeThreads.count == 3) }
            #expect(ComputeThreads.count == 1)
        }
        #expect(ComputeThreads.count == all)
    }
}
