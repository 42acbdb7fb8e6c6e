import Testing
import GraphTask
import Transformer

/// The worked examples of docs/hooks.md, on a small random model (names up to x_63, 4 heads per
/// layer, so the ablated head is 3 instead of 13): they compile, run and do what the page says.
@Suite struct HookDocExamplesTests {
    let model: Model
    let vocabulary: Vocabulary
    let block: TokenBatch
    let iterations: Int
    let rhs: Int

    init() throws {
        let config = ModelConfig(layers: 2, heads: 4, modelWidth: 16, headWidth: 4, mlpWidth: 24, relativeWindow: 16, names: 64, modulus: 23)
        model = try Model.randomlyInitialised(config: config, seed: 5)
        vocabulary = model.config.vocabulary
        let program = try Program.parse("17 = x_42; 3 = x_5; x_42 + x_5 = x_12", vocabulary: vocabulary)
        let solution = try program.solve()
        let tokenized = program.tokenize(vocabulary: vocabulary)
        block = TokenBatch(sequences: [tokenized.iterationInput(0, solution: solution)], vocabulary: vocabulary)
        iterations = solution.maxDepth + 1
        rhs = tokenized.layout[2].targetPosition
    }

    @Test func zeroAblatingAHeadZeroesItsSliceOfHookZ() throws {
        let ablated = Hooks(config: model.config)
        try ablated.zeroAblate(layer: 1, heads: [3])
        var z: Tensor?
        try ablated.observe("blocks.1.attn.hook_z", iterations: .last) { _, t in z = t }
        let plain = try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: iterations)
        let without = try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: iterations, hooks: ablated)
        #expect(plain.predictions.count == iterations && without.predictions.count == iterations)
        let t = try #require(z)
        for n in 0..<block.length { for i in 0..<4 { #expect(t[0, n, 3, i] == 0) } }
        #expect((0..<block.length).contains { n in (0..<4).contains { t[0, n, 2, $0] != 0 } })
    }

    @Test func patchingTheRightHandSideFromAnotherRunCarriesItsResidualThere() throws {
        let source = try Program.parse("9 = x_42; 3 = x_5; x_42 + x_5 = x_12", vocabulary: vocabulary)
        let sourceBlock = TokenBatch(sequences: [source.tokenize(vocabulary: vocabulary)
                                         .iterationInput(0, solution: try source.solve())], vocabulary: vocabulary)
        var saved: [Int: Tensor] = [:]
        let recorder = Hooks(config: model.config)
        try recorder.observe("blocks.0.hook_resid_post") { event, t in saved[event.iteration] = t }
        _ = try model.run(tokens: sourceBlock.ids, batch: 1, length: sourceBlock.length, iterations: iterations, hooks: recorder)

        let patcher = Hooks(config: model.config)
        try patcher.intervene("blocks.0.hook_resid_post") { event, t in
            guard let s = saved[event.iteration] else { return }
            let d = t.shape[2]
            for i in 0..<d { t.scalars[rhs * d + i] = s.scalars[rhs * d + i] }
        }
        var after: [Int: Tensor] = [:]
        try patcher.observe("blocks.0.hook_resid_post") { event, t in after[event.iteration] = t }
        _ = try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: iterations, hooks: patcher)
        let d = model.config.modelWidth
        for t in 0..<iterations {
            let patched = try #require(after[t]), from = try #require(saved[t])
            #expect(Array(patched.scalars[(rhs * d)..<((rhs + 1) * d)]) == Array(from.scalars[(rhs * d)..<((rhs + 1) * d)]))
            // The literal differs at position 0, so the unpatched positions differ from the source.
            #expect(Array(patched.scalars[0..<d]) != Array(from.scalars[0..<d]))
        }
    }

    @Test func recordingOnlyTheLastIteration() throws {
        var calls: [Int] = []
        var lastPatterns: Tensor?
        let hooks = Hooks(config: model.config)
        try hooks.observe("blocks.1.attn.hook_pattern", iterations: .last) { event, t in calls.append(event.iteration); lastPatterns = t }
        _ = try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: iterations, hooks: hooks)
        #expect(calls == [iterations - 1])
        #expect(lastPatterns?.shape == [1, 4, block.length, block.length])
    }
}
