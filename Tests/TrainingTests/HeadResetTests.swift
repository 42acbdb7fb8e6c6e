import Testing
@testable import GraphTask
@testable import Training
@testable import Transformer

@Suite struct HeadResetTests {
    /// Flat indices of one head's parameters: its rows of the five input projections and their
    /// biases, and its columns of the output projection.
    func headIndices(_ model: Model, layer: Int, head: Int, part: HeadReset.Part = .whole) throws -> Set<Int> {
        let dh = model.config.headWidth, d = model.config.modelWidth
        let prefix = "transformer.blocks.layer_\(layer).attn."
        var indices = Set<Int>()
        for name in ["q_proj", "k_proj", "v_proj", "relpos_k_proj", "relpos_q_proj"] where part == .whole || name != "v_proj" {
            let weight = try #require(model.layout.slot(named: prefix + name + ".weight"))
            let bias = try #require(model.layout.slot(named: prefix + name + ".bias"))
            indices.formUnion((weight.offset + head * dh * d)..<(weight.offset + (head + 1) * dh * d))
            indices.formUnion((bias.offset + head * dh)..<(bias.offset + (head + 1) * dh))
        }
        guard part == .whole else { return indices }
        let output = try #require(model.layout.slot(named: prefix + "o_proj.weight"))
        for row in 0..<d { indices.formUnion((output.offset + row * d + head * dh)..<(output.offset + row * d + (head + 1) * dh)) }
        return indices
    }

    /// The largest attention weight of layer 0's `head` over all query rows, relative to a uniform row.
    func peakOverUniform(_ model: Model, head: Int) throws -> Float {
        let config = model.config
        let program = try GraphGenerator(nodes: 6, leaves: 3, names: config.names, modulus: config.modulus).generate(seed: 3)
        let input = program.tokenize(vocabulary: config.vocabulary).iterationInput(1, solution: try program.solve())
        let block = TokenBatch(sequences: [input], vocabulary: config.vocabulary)
        let hooks = Hooks(config: config)
        var pattern: Tensor?
        try hooks.observe("blocks.0.attn.hook_pattern") { _, t in pattern = t }
        _ = try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: 1, hooks: hooks)
        let p = try #require(pattern)
        var peak: Float = 0
        for n in 0..<block.length {
            for m in 0...n { peak = max(peak, p[0, head, n, m] * Float(n + 1)) }
        }
        return peak
    }

    @Test func resetRedrawsOnlyTheListedHeadAndClearsItsMoments() throws {
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 5)
        // Sharpen layer 0's attention, as training does, so the reset has something to undo.
        for name in ["q_proj", "k_proj"] {
            let slot = try #require(model.layout.slot(named: "transformer.blocks.layer_0.attn.\(name).weight"))
            for i in slot.offset..<(slot.offset + slot.count) { model.parameterPointer[i] *= 40 }
        }
        #expect(try peakOverUniform(model, head: 2) > 2)
        var optimizer = AdamW(layout: model.layout)
        optimizer.firstMoment = [Float](repeating: 1, count: model.layout.totalCount)
        optimizer.secondMoment = [Float](repeating: 2, count: model.layout.totalCount)
        let before = model.parameters

        try HeadReset.reset([0: [2]], in: model, optimizer: &optimizer, seed: 9)

        let after = model.parameters
        let reset = try headIndices(model, layer: 0, head: 2)
        #expect(reset.count == 5 * (8 * 32 + 8) + 32 * 8)
        var changed = 0, sumSquares: Float = 0, drawn = 0
        for i in 0..<after.count {
            if reset.contains(i) {
                if after[i] != before[i] { changed += 1 }
                if after[i] != 0 { sumSquares += after[i] * after[i]; drawn += 1 }
                #expect(optimizer.firstMoment[i] == 0 && optimizer.secondMoment[i] == 0)
            } else {
                #expect(after[i] == before[i], "parameter \(i) outside the head changed")
                #expect(optimizer.firstMoment[i] == 1 && optimizer.secondMoment[i] == 2)
            }
        }
        // Every weight is re-drawn (the biases were already 0), at the initial scale 0.02.
        #expect(drawn == 5 * 8 * 32 + 32 * 8 && changed == drawn)
        let std = (sumSquares / Float(drawn)).squareRoot()
        #expect(std > 0.018 && std < 0.022, "std \(std)")
        // The re-drawn head attends almost evenly again; its unreset neighbours stay sharp.
        #expect(try peakOverUniform(model, head: 2) < 1.2)
        #expect(try peakOverUniform(model, head: 1) > 2)
    }

    @Test func attentionResetKeepsWhatTheHeadWrites() throws {
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 6)
        var optimizer = AdamW(layout: model.layout)
        let before = model.parameters
        try HeadReset.reset([1: [0, 3]], in: model, optimizer: &optimizer, seed: 2, part: .attention)
        let after = model.parameters
        let reset = try headIndices(model, layer: 1, head: 0, part: .attention).union(headIndices(model, layer: 1, head: 3, part: .attention))
        #expect(reset.count == 2 * 4 * (8 * 32 + 8))
        let changed = Set((0..<after.count).filter { after[$0] != before[$0] })
        // Weights are re-drawn (all change); biases were 0 and stay 0; value rows and output columns stay.
        #expect(changed.isSubset(of: reset) && changed.count == 2 * 4 * 8 * 32)
    }

    @Test func resetRefusesHeadsTheModelDoesNotHave() throws {
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 5)
        var optimizer = AdamW(layout: model.layout)
        #expect(throws: TrainingError.self) { try HeadReset.reset([0: [4]], in: model, optimizer: &optimizer, seed: 1) }
        #expect(throws: TrainingError.self) { try HeadReset.reset([2: [0]], in: model, optimizer: &optimizer, seed: 1) }
        #expect(model.parameters == (try Model.randomlyInitialised(config: tinyModelConfig(), seed: 5)).parameters)
    }
}
