import Foundation
import Testing
@testable import Analysis
@testable import GraphTask
@testable import Transformer

/// A config small enough to build weights by hand: 2 heads of 2, d 4, names 3, modulus 5.
func handConfig() -> ModelConfig {
    ModelConfig(layers: 2, heads: 2, modelWidth: 4, headWidth: 2, mlpWidth: 4, relativeWindow: 4, names: 3, modulus: 5)
}

@Suite struct RetrievalTests {
    @Test func attentionPlacedExactlyOnOperandsHasMassOne() throws {
        // Heads 0–2 each look at one operand's value position; head 3 at the query itself.
        let keys = [[1, 3, 5], [0, 2, 4]], queries = [7, 6]
        let patterns = onehotPatterns(n: 2, heads: 4, length: 8, queries: queries) { i, h in h < 3 ? keys[i][h] : queries[i] }
        let layer = try RetrievalLayer(layer: 1, attention: QueryPatterns(patterns: patterns, queries: queries), keys: keys)
        #expect(layer.headMass == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
        #expect(layer.operandMass == 1)
        #expect(layer.bestHeads == [0, 1, 2])
        #expect(layer.totalMass == [1, 1, 1, 0])
        #expect(layer.retrievalHeads() == [0, 1, 2])
        #expect(layer.otherHeads(count: 3, excluding: [0, 1, 2]) == [3])
        #expect(throws: AnalysisError.self) {
            try RetrievalLayer(layer: 1, attention: QueryPatterns(patterns: patterns, queries: queries), keys: [[1, 9, 5], [0, 2, 4]])
        }
    }

    @Test func splitAttentionAveragesOverSequences() throws {
        // One head: sequence 0 on operand 0, sequence 1 on operand 1.
        let keys = [[0, 1], [0, 1]], queries = [2, 2]
        let patterns = onehotPatterns(n: 2, heads: 1, length: 3, queries: queries) { i, _ in i }
        let layer = try RetrievalLayer(layer: 1, attention: QueryPatterns(patterns: patterns, queries: queries), keys: keys)
        #expect(layer.headMass == [[0.5, 0.5]])
        #expect(layer.operandMass == 0.5)
    }

    @Test func valueGainComparesValueAndVariableEmbeddingsThroughWVWO() throws {
        let config = handConfig()
        let model = try Model(config: config)
        // W_V = W_O = identity (head 0 owns dims 0–1, head 1 dims 2–3).
        var identity = Tensor(shape: [4, 4])
        for i in 0..<4 { identity.scalars[i * 5] = 1 }
        try model.setTensor(named: "transformer.blocks.layer_1.attn.v_proj.weight", identity)
        try model.setTensor(named: "transformer.blocks.layer_1.attn.o_proj.weight", identity)
        // Values v = 0…4 → (v, 0, 0, 0), centred |v − 2|: mean 6/5. Rows 5, 6 (N/A, EMPTY) are ignored.
        var values = Tensor(shape: [7, 4])
        for v in 0..<5 { values.scalars[v * 4] = Float(v) }
        values.scalars[5 * 4] = 100
        // Names x = 0…2 → (0, x, 2x, 0): head 0 sees |x − 1| (mean 2/3), head 1 sees 2|x − 1| (mean 4/3).
        var names = Tensor(shape: [4, 4])
        for x in 0..<3 { names.scalars[x * 4 + 1] = Float(x); names.scalars[x * 4 + 2] = Float(2 * x) }
        try model.setTensor(named: "token_embedder.embeddings.3.weight", values)
        try model.setTensor(named: "token_embedder.embeddings.1.weight", names)
        let gain = try Retrieval.valueGain(ModelWeights(model), layer: 1)
        #expect(close(gain[0], (6.0 / 5) / (2.0 / 3), 1e-6))
        #expect(close(gain[1], 0, 1e-9))
        #expect(throws: AnalysisError.self) { try Retrieval.valueGain(ModelWeights(model), layer: 2) }
    }

    @Test func retrievalSectionWritesTheIssueKeys() throws {
        let keys = [[1, 3]], queries = [4]
        let patterns = onehotPatterns(n: 1, heads: 2, length: 5, queries: queries) { i, h in keys[i][h] }
        let layer = try RetrievalLayer(layer: 1, attention: QueryPatterns(patterns: patterns, queries: queries), keys: keys,
                                       valueGain: [2, 0.5])
        let section = try RetrievalSection(
            layers: [layer], patch: PatchResult(followRate: 0.97, baselineAccuracy: 1, cases: 10),
            ablationRetrieval: AblationResult(layer: 1, heads: [0, 1], baselineAccuracy: 1, ablatedAccuracy: 0.1, drop: 0.9),
            ablationOther: AblationResult(layer: 1, heads: [], baselineAccuracy: 1, ablatedAccuracy: 1, drop: 0))
        let data = try JSONEncoder().encode(section)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["operand_mass"] as? Double == 1)
        #expect(json["head_mass"] as? [[Double]] == [[1, 0], [0, 1]])
        #expect(json["patch_follow_rate"] as? Double == 0.97)
        #expect(json["ablation_drop_retrieval"] as? Double == 0.9)
        #expect(json["ablation_drop_other"] as? Double == 0)
        #expect(json["value_gain"] as? [Double] == [2, 0.5])
        #expect(try JSONDecoder().decode(RetrievalSection.self, from: data) == section)
    }
}

/// A probe block: sequences `v0 = x_0; v1 = x_1; x_0 + x_1 = x_2` with the leaves filled.
func sumProbe(_ config: ModelConfig, pairs: [(Int, Int)]) -> CausalProbe {
    let vocabulary = config.vocabulary
    let sequences = pairs.map { a, b in
        [vocabulary.literalToken(a), vocabulary.equalsToken, vocabulary.variableToken(0, value: Int32(a)), vocabulary.separatorToken,
         vocabulary.literalToken(b), vocabulary.equalsToken, vocabulary.variableToken(1, value: Int32(b)), vocabulary.separatorToken,
         vocabulary.variableToken(0), vocabulary.plusToken, vocabulary.variableToken(1), vocabulary.equalsToken, vocabulary.variableToken(2)]
    }
    return CausalProbe(tokens: TokenBatch(sequences: sequences, vocabulary: vocabulary), queries: pairs.map { _ in 12 },
                       operandValuePositions: pairs.map { _ in [2, 6] })
}

@Suite struct CausalCheckTests {
    /// A model that always answers `answer`: zero weights, a value readout bias on that class.
    func constantModel(answer: Int) throws -> Model {
        let config = handConfig()
        let model = try Model(config: config)
        var bias = Tensor(shape: [config.modulus + 2])
        bias.scalars[answer] = 1
        try model.setTensor(named: "output_layers.3.bias", bias)
        return model
    }

    @Test func patchingCountsAnswersThatFollowTheNewSum() throws {
        let model = try constantModel(answer: 3)
        // Sums mod 5: 3, 0, 3. Shifts 1 + (b + j) mod 4: b0 → 1, 2; b1 → 2, 3; b2 → 3, 4.
        // New sums: b0 → 4, 0; b1 → 2, 3 (follows); b2 → 1, 2. One of six follows.
        let probe = sumProbe(model.config, pairs: [(1, 2), (4, 1), (0, 3)])
        let result = try CausalChecks.patch(model: model, probe: probe)
        #expect(result.cases == 6)
        #expect(close(result.baselineAccuracy, 2.0 / 3))
        #expect(close(result.followRate, 1.0 / 6))
    }

    @Test func ablationMeasuresTheAccuracyLostAndChecksItsInput() throws {
        let model = try constantModel(answer: 3)
        let probe = sumProbe(model.config, pairs: [(1, 2), (4, 1)])
        let none = try CausalChecks.ablate(model: model, probe: probe, layer: 1, heads: [1, 0])
        #expect(none.baselineAccuracy == 0.5 && none.drop == 0 && none.heads == [0, 1])
        #expect(throws: AnalysisError.self) { try CausalChecks.ablate(model: model, probe: probe, layer: 2, heads: [0]) }
        #expect(throws: AnalysisError.self) { try CausalChecks.ablate(model: model, probe: probe, layer: 1, heads: [2]) }
        var broken = probe
        broken.operandValuePositions[0] = [1, 6]  // "=" holds no value
        #expect(throws: AnalysisError.self) { try CausalChecks.patch(model: model, probe: broken) }
    }

    @Test func zeroAblatingHeadsThroughHookZEqualsZeroingTheirOutputColumns() throws {
        // A random model: ablating head 1 of layer 1 must give the answers of a copy whose
        // o_proj columns of head 1 are zero.
        let config = handConfig()
        let model = try Model.randomlyInitialised(config: config, seed: 5)
        var values = model.parameters
        for i in values.indices { values[i] *= 20 }
        model.parameters = values
        let probe = sumProbe(config, pairs: (0..<25).map { ($0 / 5, $0 % 5) })
        let copy = try Model(config: config)
        copy.parameters = model.parameters
        var wo = try #require(copy.tensor(named: "transformer.blocks.layer_1.attn.o_proj.weight"))
        for row in 0..<4 { wo.scalars[row * 4 + 2] = 0; wo.scalars[row * 4 + 3] = 0 }
        try copy.setTensor(named: "transformer.blocks.layer_1.attn.o_proj.weight", wo)
        func logits(_ m: Model, ablate: Bool) throws -> Tensor? {
            let hooks = ablate ? try CausalChecks.zeroAblation(config: config, layer: 1, heads: [1]) : Hooks(config: config)
            var seen: Tensor?
            try hooks.observe("hook_logits.value") { _, t in seen = t }
            _ = try m.run(tokens: probe.tokens.ids, batch: probe.tokens.batch, length: probe.tokens.length, iterations: 1, hooks: hooks)
            return seen
        }
        let ablated = try #require(try logits(model, ablate: true))
        let direct = try #require(try logits(copy, ablate: false))
        let intact = try #require(try logits(model, ablate: false))
        #expect(ablated.maxAbsDifference(direct) < 1e-5)
        #expect(ablated.maxAbsDifference(intact) > 1e-3, "the ablation should change this random model's logits")
        let answers = try CausalChecks.answers(model: copy, probe: probe, ids: probe.tokens.ids, hooks: nil)
        let expected = (0..<25).map { ($0 / 5 + $0 % 5) % 5 }
        let result = try CausalChecks.ablate(model: model, probe: probe, layer: 1, heads: [1])
        #expect(close(result.ablatedAccuracy, try Statistics.accuracy(predicted: answers, expected: expected)))
    }
}
