import Testing
@testable import GraphTask
@testable import Transformer

/// Tokens of real programs (so value slots exist), padded into one block.
func programBlock(_ config: ModelConfig, nodes: [Int], seed: UInt64) throws -> TokenBatch {
    let vocabulary = config.vocabulary
    let sequences = try nodes.enumerated().map { i, n in
        let program = try GraphGenerator(nodes: n, leaves: 3, names: config.names, modulus: config.modulus).generate(seed: seed + UInt64(i))
        let solution = try program.solve()
        return program.tokenize(vocabulary: vocabulary).iterationInput(1, solution: solution)
    }
    return TokenBatch(sequences: sequences, vocabulary: vocabulary)
}

func smallConfig() -> ModelConfig {
    ModelConfig(layers: 2, heads: 4, modelWidth: 16, headWidth: 4, mlpWidth: 24, relativeWindow: 6, names: 12, modulus: 23)
}

@Suite struct HookTests {
    @Test func everyHookFiresOncePerIterationWithTheDesignShape() throws {
        let config = smallConfig()
        let model = try randomModel(config, seed: 11)
        let block = try programBlock(config, nodes: [5, 7], seed: 1)
        let hooks = Hooks(config: config)
        var seen: [String: [Int]] = [:]
        var shapes: [String: [Int]] = [:]
        try hooks.observe("*") { event, tensor in
            seen[event.name, default: []].append(event.iteration)
            shapes[event.name] = tensor.shape
        }
        _ = try model.run(tokens: block.ids, batch: block.batch, length: block.length, iterations: 3, hooks: hooks)
        let B = block.batch, L = block.length
        #expect(Set(seen.keys) == Set(HookPoints(layers: 2).names))
        for (name, iterations) in seen { #expect(iterations == [0, 1, 2], "\(name)") }
        #expect(shapes["hook_embed"] == [B, L, 16])
        #expect(shapes["blocks.1.attn.hook_q"] == [B, L, 4, 4])
        #expect(shapes["blocks.0.attn.hook_attn_scores"] == [B, 4, L, L])
        #expect(shapes["blocks.0.attn.hook_pattern"] == [B, 4, L, L])
        #expect(shapes["blocks.1.attn.hook_result"] == [B, L, 4, 16])
        #expect(shapes["blocks.0.mlp.hook_post"] == [B, L, 24])
        #expect(shapes["hook_logits.value"] == [B, L, 25])
        #expect(shapes["hook_logits.variable"] == [B, L, 13])
        for name in HookPoints(layers: 2).names {
            #expect(shapes[name] == HookPoints.point(named: name)?.shape(config: config, batch: B, length: L), "\(name)")
        }
    }

    @Test func patternsAreCausalDistributionsAndScoresAreMasked() throws {
        let config = smallConfig()
        let model = try randomModel(config, seed: 12)
        let block = try programBlock(config, nodes: [6], seed: 2)
        let hooks = Hooks(config: config)
        var pattern: Tensor?, scores: Tensor?
        try hooks.observe("blocks.0.attn.hook_pattern") { _, t in pattern = t }
        try hooks.observe("blocks.0.attn.hook_attn_scores") { _, t in scores = t }
        _ = try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: 1, hooks: hooks)
        let p = try #require(pattern), s = try #require(scores)
        let L = block.length
        for h in 0..<4 {
            for n in 0..<L {
                var sum: Float = 0
                for m in 0..<L {
                    sum += p[0, h, n, m]
                    if m > n {
                        #expect(p[0, h, n, m] == 0)
                        #expect(s[0, h, n, m] == -.infinity)
                    }
                }
                #expect(abs(sum - 1) < 1e-5)
            }
        }
    }

    /// Heads of width 16 take the causal kernels, and a pass nobody hooks leaves the pattern's
    /// upper triangle unwritten (Kernels/RelativeAttention.swift). A hooked pass on the same
    /// reused buffers must still hand out zeros there, and both passes predict the same tokens.
    @Test func patternHookSeesZerosAfterAnUnhookedPassOnTheCausalKernels() throws {
        let config = ModelConfig(layers: 2, heads: 2, modelWidth: 32, headWidth: 16, mlpWidth: 24, relativeWindow: 6,
                                 names: 12, modulus: 23)
        let model = try randomModel(config, seed: 13)
        let block = try programBlock(config, nodes: [7], seed: 3)
        let L = block.length
        let unhooked = try model.run(tokens: block.ids, batch: 1, length: L, iterations: 2)
        let hooks = Hooks(config: config)
        var pattern: Tensor?
        try hooks.observe("blocks.1.attn.hook_pattern", iterations: .last) { _, t in pattern = t }
        let hooked = try model.run(tokens: block.ids, batch: 1, length: L, iterations: 2, hooks: hooks)
        #expect(hooked.predictions == unhooked.predictions)
        let p = try #require(pattern)
        for h in 0..<2 {
            for n in 0..<L {
                var sum: Float = 0
                for m in 0...n { sum += p[0, h, n, m] }
                #expect(abs(sum - 1) < 1e-5)
                for m in (n + 1)..<L { #expect(p[0, h, n, m] == 0, "pattern[\(h), \(n), \(m)]") }
            }
        }
    }

    @Test func zeroAblationRefusesHeadsOutsideTheLayer() throws {
        let hooks = Hooks(config: smallConfig())
        for head in [4, -1] {
            let error = #expect(throws: ModelError.self) { try hooks.zeroAblate(layer: 1, heads: [0, head]) }
            #expect(error?.description == "head \(head) does not exist among the 4 heads of layer 1")
        }
        let error = #expect(throws: ModelError.self) { try hooks.zeroAblate(layer: 2, heads: [0]) }
        #expect(error?.description == "layer 2 does not exist in a model of 2 layers")
        try hooks.zeroAblate(layer: 1, heads: [0, 3])
    }

    @Test func zeroAblatingEveryHeadEqualsRemovingTheAttentionOutput() throws {
        let config = smallConfig()
        let model = try randomModel(config, seed: 13)
        let block = try programBlock(config, nodes: [6, 4], seed: 3)
        // Ablate all heads of layer 1 through hook_z ...
        let ablated = Hooks(config: config)
        try ablated.intervene("blocks.1.attn.hook_z") { _, t in t = Tensor(shape: t.shape) }
        var viaZ: Tensor?
        try ablated.observe("hook_logits.value") { _, t in viaZ = t }
        _ = try model.run(tokens: block.ids, batch: block.batch, length: block.length, iterations: 1, hooks: ablated)
        // ... equals replacing the layer's attention output by its bias alone.
        let removed = Hooks(config: config)
        let bias = try #require(model.tensor(named: "transformer.blocks.layer_1.attn.o_proj.bias"))
        try removed.intervene("blocks.1.hook_attn_out") { _, t in
            for r in 0..<(t.count / 16) { for i in 0..<16 { t.scalars[r * 16 + i] = bias.scalars[i] } }
        }
        var viaOut: Tensor?
        try removed.observe("hook_logits.value") { _, t in viaOut = t }
        _ = try model.run(tokens: block.ids, batch: block.batch, length: block.length, iterations: 1, hooks: removed)
        let a = try #require(viaZ), b = try #require(viaOut)
        #expect(a.maxAbsDifference(b) < 1e-5)
        // And zeroing every per-head result does the same.
        let viaResult = Hooks(config: config)
        try viaResult.intervene("blocks.1.attn.hook_result") { _, t in t = Tensor(shape: t.shape) }
        var c: Tensor?
        try viaResult.observe("hook_logits.value") { _, t in c = t }
        _ = try model.run(tokens: block.ids, batch: block.batch, length: block.length, iterations: 1, hooks: viaResult)
        #expect(try #require(c).maxAbsDifference(a) < 1e-5)
    }

    @Test func readersSeeTheTensorInPlaceAfterEarlierInterventions() throws {
        let config = smallConfig()
        let model = try randomModel(config, seed: 15)
        let block = try programBlock(config, nodes: [6, 4], seed: 5)
        let hooks = Hooks(config: config)
        var observed: [Int: Tensor] = [:], read: [Int: Tensor] = [:], afterIntervention: Tensor?
        try hooks.observe("blocks.0.attn.hook_pattern") { event, t in observed[event.iteration] = t }
        try hooks.read("blocks.0.attn.hook_pattern") { event, view in
            read[event.iteration] = Tensor(shape: view.shape, scalars: Array(view.scalars))
        }
        try hooks.intervene("blocks.1.mlp.hook_post") { _, t in t = Tensor(shape: t.shape, repeating: 0.5) }
        try hooks.read("blocks.1.mlp.hook_post", iterations: .last) { _, view in
            afterIntervention = Tensor(shape: view.shape, scalars: Array(view.scalars))
        }
        _ = try model.run(tokens: block.ids, batch: block.batch, length: block.length, iterations: 2, hooks: hooks)
        #expect(read.keys.sorted() == [0, 1])
        for t in [0, 1] { #expect(read[t] == observed[t]) }
        let after = try #require(afterIntervention)
        #expect(after.shape == [block.batch, block.length, 24] && after.scalars.allSatisfy { $0 == 0.5 })
    }

    @Test func headResultsSumToTheAttentionOutput() throws {
        let config = smallConfig()
        let model = try randomModel(config, seed: 14)
        let block = try programBlock(config, nodes: [7], seed: 4)
        let hooks = Hooks(config: config)
        var result: Tensor?, out: Tensor?
        try hooks.observe("blocks.0.attn.hook_result") { _, t in result = t }
        try hooks.observe("blocks.0.hook_attn_out") { _, t in out = t }
        _ = try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: 1, hooks: hooks)
        let r = try #require(result), o = try #require(out)
        let bias = try #require(model.tensor(named: "transformer.blocks.layer_0.attn.o_proj.bias"))
        for n in 0..<block.length {
            for i in 0..<16 {
                var sum = bias.scalars[i]
                for h in 0..<4 { sum += r[0, n, h, i] }
                #expect(abs(sum - o[0, n, i]) < 1e-5)
            }
        }
    }

    @Test func paddingDoesNotChangeRealTokens() throws {
        let config = smallConfig()
        let model = try randomModel(config, seed: 15)
        let block = try programBlock(config, nodes: [9, 4, 6], seed: 5)
        let together = try model.run(tokens: block.ids, batch: block.batch, length: block.length, iterations: 3)
        for b in 0..<block.batch {
            let alone = TokenBatch(sequences: [block.sequence(b)], vocabulary: config.vocabulary)
            let run = try model.run(tokens: alone.ids, batch: 1, length: alone.length, iterations: 3)
            for t in 0..<3 {
                for n in 0..<alone.length {
                    for f in Factor.allCases {
                        #expect(run.prediction(iteration: t, sequence: 0, position: n, factor: f)
                                == together.prediction(iteration: t, sequence: b, position: n, factor: f))
                    }
                }
            }
        }
    }

    @Test func unknownHookNamesSuggestTheNearest() throws {
        let hooks = Hooks(config: smallConfig())
        do {
            try hooks.observe("blocks.0.attn.hook_patern") { _, _ in }
            Issue.record("expected an error")
        } catch let error as ModelError {
            #expect(error.description.contains("blocks.0.attn.hook_pattern"))
        }
        #expect(throws: ModelError.self) { try hooks.observe("blocks.7.*") { _, _ in } }
        #expect(try hooks.resolve("blocks.*.attn.hook_pattern") == ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"])
    }

    @Test func tokensOutsideTheVocabularyAreRejected() throws {
        let config = smallConfig()
        let model = try randomModel(config, seed: 16)
        var block = try programBlock(config, nodes: [5], seed: 6)
        block.ids[4 * 2 + 1] = 99  // variable id beyond 12 names
        #expect(throws: ModelError.self) { try model.run(tokens: block.ids, batch: 1, length: block.length, iterations: 1) }
    }

    @Test func sequencesLongerThanTheRuntimeSupportsAreRejected() throws {
        let model = try Model.randomlyInitialised(config: smallConfig(), seed: 3)
        let length = Model.maximumLength + 1
        let ids = [Int32](repeating: 0, count: length * 4)
        #expect { try model.run(tokens: ids, batch: 1, length: length, iterations: 1) } throws: { error in
            "\(error)" == "sequences of \(length) tokens are longer than this runtime supports (\(Model.maximumLength))"
        }
    }
}
