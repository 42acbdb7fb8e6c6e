import Testing
@testable import GraphTask
@testable import Transformer

/// The mask of one site for a [batch, length, width] block.
func dropoutMaskValues(_ dropout: Dropout, batch: Int, length: Int, width: Int, layer: Int = 0,
                       site: DropoutSite = .attentionOutput) -> [Float] {
    var mask = [Float](repeating: -1, count: batch * length * width)
    mask.withUnsafeMutableBufferPointer { buffer in
        if let base = buffer.baseAddress {
            fillDropoutMask(base, dropout, batch: batch, length: length, width: width, layer: layer, site: site)
        }
    }
    return mask
}

@Suite struct DropoutTests {
    @Test func theDroppedFractionIsTheRateAndKeptUnitsAreScaled() {
        for rate: Float in [0.1, 0.5, 0.9] {
            let mask = dropoutMaskValues(Dropout(rate: rate, seed: 3), batch: 8, length: 50, width: 255)
            let dropped = Double(mask.filter { $0 == 0 }.count) / Double(mask.count)
            // 102,000 units: the binomial standard deviation is below 0.0016.
            #expect(abs(dropped - Double(rate)) < 0.01, "rate \(rate): dropped \(dropped)")
            #expect(mask.allSatisfy { $0 == 0 || $0 == 1 / (1 - rate) })
        }
    }

    @Test func masksRepeatForTheSameSeedAndDifferAcrossStepsLayersAndSites() {
        let step3 = Dropout(rate: 0.2, seed: Dropout.stepSeed(runSeed: 1, step: 3))
        let step4 = Dropout(rate: 0.2, seed: Dropout.stepSeed(runSeed: 1, step: 4))
        let first = dropoutMaskValues(step3, batch: 4, length: 20, width: 32)
        #expect(first == dropoutMaskValues(step3, batch: 4, length: 20, width: 32))
        // Independent masks of rate p disagree on a fraction 2p(1 − p) = 0.32 of the units.
        func disagreement(_ a: [Float], _ b: [Float]) -> Double {
            Double(zip(a, b).filter { $0 != $1 }.count) / Double(a.count)
        }
        #expect(abs(disagreement(first, dropoutMaskValues(step4, batch: 4, length: 20, width: 32)) - 0.32) < 0.04)
        #expect(abs(disagreement(first, dropoutMaskValues(step3, batch: 4, length: 20, width: 32, layer: 1)) - 0.32) < 0.04)
        #expect(abs(disagreement(first, dropoutMaskValues(step3, batch: 4, length: 20, width: 32, site: .mlpOutput)) - 0.32) < 0.04)
        let otherRun = Dropout(rate: 0.2, seed: Dropout.stepSeed(runSeed: 2, step: 3))
        #expect(abs(disagreement(first, dropoutMaskValues(otherRun, batch: 4, length: 20, width: 32)) - 0.32) < 0.04)
    }

    /// The masks are the documented hash stream, unit j of a row from bits 32·(j mod 2) of
    /// splitMix64(key + ⌊j/2⌋·φ) against rate · 2³² (written out plainly here, so that a faster
    /// fill cannot change which units a run drops).
    @Test func masksAreTheHashStreamOfTheirKey() {
        func reference(_ count: Int, key: UInt64, rate: Float) -> [Float] {
            let threshold = UInt64(Double(rate) * 4_294_967_296.0)
            return (0..<count).map { j in
                let bits = splitMix64(key &+ UInt64(j / 2) &* 0x9E37_79B9_7F4A_7C15) >> (32 * UInt64(j % 2)) & 0xFFFF_FFFF
                return bits < threshold ? 0 : 1 / (1 - rate)
            }
        }
        let dropout = Dropout(rate: 0.3, seed: 77, sequences: [5, 2], attentionRate: 0.2)
        // The sublayer mask of the block's sequence 1 (2 in the whole batch), position 3, layer 1's
        // MLP site, over an odd width.
        let width = 33, length = 4
        let mask = dropoutMaskValues(dropout, batch: 2, length: length, width: width, layer: 1, site: .mlpOutput)
        let siteIndex = UInt64(1 * DropoutSite.allCases.count + DropoutSite.mlpOutput.rawValue)
        let key = splitMix64(dropout.seed ^ splitMix64(UInt64(2) << 36 | UInt64(3) << 16 | siteIndex))
        #expect(Array(mask[((1 * length + 3) * width)..<((1 * length + 4) * width)]) == reference(width, key: key, rate: 0.3))
        for query in [0, 1, 6, 7, 190] {
            var row = [Float](repeating: -1, count: query + 1)
            row.withUnsafeMutableBufferPointer { fillAttentionDropoutRow($0.baseAddress!, dropout, sequence: 0, layer: 1, head: 9, query: query) }
            let attentionKey = splitMix64(dropout.seed ^ splitMix64(UInt64(5) << 36 | UInt64(query) << 16 | UInt64(1 << 15 | 1 << 8 | 9)))
            #expect(row == reference(query + 1, key: attentionKey, rate: 0.2), "query \(query)")
            // The forward pass's one-pass product (applyAttentionDropoutRow) is that mask times x.
            let x = (0...query).map { Float($0) * 0.37 - 5 }
            var dropped = [Float](repeating: .nan, count: query + 1)
            dropped.withUnsafeMutableBufferPointer {
                applyAttentionDropoutRow($0.baseAddress!, x, dropout, sequence: 0, layer: 1, head: 9, query: query)
            }
            #expect(dropped == zip(row, x).map { $0 * $1 }, "query \(query), applied")
        }
    }

    /// Attention-weight factors: rate p of the causal row dropped, the rest scaled by 1/(1 − p),
    /// independent across heads and layers, and the same for a sequence in a shard.
    @Test func attentionRowsDropTheRateAndFollowTheirSequence() {
        func row(_ dropout: Dropout, sequence: Int = 0, layer: Int = 0, head: Int = 0, query: Int = 999) -> [Float] {
            var values = [Float](repeating: -1, count: query + 1)
            values.withUnsafeMutableBufferPointer { buffer in
                if let base = buffer.baseAddress {
                    fillAttentionDropoutRow(base, dropout, sequence: sequence, layer: layer, head: head, query: query)
                }
            }
            return values
        }
        let dropout = Dropout(rate: 0, seed: 21, attentionRate: 0.25)
        let first = row(dropout)
        // 1,000 weights: the binomial standard deviation is 0.014.
        #expect(abs(Double(first.filter { $0 == 0 }.count) / 1000 - 0.25) < 0.05)
        #expect(first.allSatisfy { $0 == 0 || $0 == 1 / 0.75 })
        #expect(row(dropout) == first)
        func disagreement(_ a: [Float], _ b: [Float]) -> Double { Double(zip(a, b).filter { $0 != $1 }.count) / Double(a.count) }
        // Independent rows of rate p disagree on 2p(1 − p) = 0.375 of the weights.
        #expect(abs(disagreement(first, row(dropout, head: 1)) - 0.375) < 0.06)
        #expect(abs(disagreement(first, row(dropout, layer: 1)) - 0.375) < 0.06)
        #expect(abs(disagreement(first, row(dropout, sequence: 1)) - 0.375) < 0.06)
        #expect(row(dropout.shard(sequences: [3, 1]), sequence: 1) == row(dropout, sequence: 1))
        // An odd-length row fills its last weight too.
        #expect(!row(dropout, query: 6).contains(-1))
    }

    /// Each sequence's mask depends on its index in the whole batch, not on the block it is
    /// computed in, so a batch split into shards (one per core) gets the same masks.
    @Test func aShardOfABatchGetsTheMasksOfItsSequences() {
        let dropout = Dropout(rate: 0.25, seed: 99)
        let whole = dropoutMaskValues(dropout, batch: 5, length: 7, width: 9, layer: 1, site: .mlpOutput)
        let head = dropoutMaskValues(dropout.shard(sequences: [0, 1]), batch: 2, length: 7, width: 9, layer: 1, site: .mlpOutput)
        let tail = dropoutMaskValues(dropout.shard(sequences: [2, 3, 4]), batch: 3, length: 7, width: 9, layer: 1, site: .mlpOutput)
        #expect(whole == head + tail)
        // The data-parallel step sorts sequences by length, so a shard's members need not be
        // contiguous; a shard of a shard maps through both.
        let rows = 7 * 9
        let picked = dropoutMaskValues(dropout.shard(sequences: [4, 1]), batch: 2, length: 7, width: 9, layer: 1, site: .mlpOutput)
        #expect(picked == Array(whole[(4 * rows)..<(5 * rows)] + whole[(1 * rows)..<(2 * rows)]))
        let nested = dropoutMaskValues(dropout.shard(sequences: [3, 4]).shard(sequences: [1]), batch: 1, length: 7, width: 9, layer: 1, site: .mlpOutput)
        #expect(nested == Array(whole[(4 * rows)..<(5 * rows)]))
        // Rows differ from one another (a mask keyed by row in the block alone would repeat).
        #expect(Array(whole[0..<63]) != Array(whole[63..<126]))
    }

    @Test func rateZeroGivesExactlyTheGradientWithoutDropout() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 21)
        let batch = 3, length = 6
        let inputs = randomTokens(config, batch: batch, length: length, seed: 22)
        let targets = randomTokens(config, batch: batch, length: length, seed: 23)
        let weights = [Float](repeating: 1, count: batch * length)
        let bp = Backpropagation(model: model)
        func pass(_ dropout: Dropout?) -> (Double, [Float]) {
            let report = bp.lossAndGradient(inputs: inputs, targets: targets, positionWeights: weights, batch: batch,
                                            length: length, factorWeights: [1, 1, 1, 1], dropout: dropout)
            return (report.loss, bp.gradient)
        }
        let plain = pass(nil)
        let zero = pass(Dropout(rate: 0, seed: 5))
        #expect(zero.0 == plain.0)
        #expect(zero.1 == plain.1)
        // And dropout above 0 does change them; after it, a pass without dropout is plain again.
        let dropped = pass(Dropout(rate: 0.5, seed: 5))
        #expect(dropped.0 != plain.0)
        #expect(dropped.1 != plain.1)
        let again = pass(nil)
        #expect(again.0 == plain.0 && again.1 == plain.1)
    }

    /// Evaluation and analyses run `Model.run`, which never drops anything: it gives the same
    /// predictions before and after training passes with dropout.
    @Test func runIsUnaffectedByDropoutInTraining() throws {
        let config = tinyConfig()
        let model = try randomModel(config, seed: 31)
        let inputs = randomTokens(config, batch: 2, length: 8, seed: 32)
        let before = try model.run(tokens: inputs, batch: 2, length: 8, iterations: 2)
        let bp = Backpropagation(model: model)
        _ = bp.lossAndGradient(inputs: inputs, targets: inputs, positionWeights: [Float](repeating: 1, count: 16),
                               batch: 2, length: 8, factorWeights: [0, 0, 0, 1], dropout: Dropout(rate: 0.5, seed: 1))
        let after = try model.run(tokens: inputs, batch: 2, length: 8, iterations: 2)
        #expect(before.predictions == after.predictions)
    }
}
