import Testing
@testable import Transformer

@Suite struct InitialisationTests {
    /// Sample standard deviation and largest magnitude of a parameter tensor.
    func spread(_ model: Model, _ name: String) throws -> (std: Double, maxAbs: Double, mean: Double) {
        let values = try #require(model.tensor(named: name)).scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        return (variance.squareRoot(), values.map(abs).max() ?? 0, mean)
    }

    @Test func normalIsGPT2Style() throws {
        let model = try Model.randomlyInitialised(config: .paper, seed: 1)
        let fc = try spread(model, "transformer.blocks.layer_0.mlp.fc.weight")
        #expect(abs(fc.std - 0.02) < 0.001)
        #expect(try spread(model, "transformer.blocks.layer_0.mlp.fc.bias").maxAbs == 0)
        #expect(abs(try spread(model, "token_embedder.embeddings.1.weight").std - 0.02) < 0.002)
        // Every LayerNorm starts at weight 1, bias 0, the relative-position table's included.
        for name in ["transformer.pos_model.layer_norm", "transformer.blocks.layer_0.ln_1", "transformer.ln_final"] {
            #expect(try #require(model.tensor(named: name + ".weight")).scalars.allSatisfy { $0 == 1 }, "\(name)")
            #expect(try #require(model.tensor(named: name + ".bias")).scalars.allSatisfy { $0 == 0 }, "\(name)")
        }
    }

    /// torch.nn defaults: Embedding N(0, 1); Linear weight and bias U(±1/√in); LayerNorm 1, 0.
    @Test func pytorchMatchesTorchModuleDefaults() throws {
        let model = try Model.randomlyInitialised(config: .paper, seed: 1, scheme: .pytorch)
        let embedding = try spread(model, "token_embedder.embeddings.1.weight")
        #expect(abs(embedding.std - 1) < 0.03 && abs(embedding.mean) < 0.03)
        #expect(abs(try spread(model, "transformer.pos_model.relpos_embeddings.weight").std - 1) < 0.03)
        // fc maps 256 → 1024, proj 1024 → 256: bounds 1/16 and 1/32, std bound/√3.
        let fc = try spread(model, "transformer.blocks.layer_0.mlp.fc.weight")
        #expect(fc.maxAbs <= 1.0 / 16 && fc.maxAbs > 0.99 / 16)
        #expect(abs(fc.std - 1.0 / 16 / 3.0.squareRoot()) < 0.001)
        let projBias = try spread(model, "transformer.blocks.layer_0.mlp.proj.bias")
        #expect(projBias.maxAbs <= 1.0 / 32 && projBias.maxAbs > 0.9 / 32)
        let fcBias = try spread(model, "transformer.blocks.layer_0.mlp.fc.bias")
        #expect(fcBias.maxAbs <= 1.0 / 16 && fcBias.maxAbs > 0.9 / 16)
        let ln = try #require(model.tensor(named: "transformer.blocks.layer_1.ln_2.weight")).scalars
        let lnBias = try #require(model.tensor(named: "transformer.blocks.layer_1.ln_2.bias")).scalars
        #expect(ln.allSatisfy { $0 == 1 } && lnBias.allSatisfy { $0 == 0 })
        let positionNorm = try #require(model.tensor(named: "transformer.pos_model.layer_norm.weight")).scalars
        #expect(positionNorm.allSatisfy { $0 == 1 })
        #expect(try Model.randomlyInitialised(config: .paper, seed: 1, scheme: .pytorch).parameters == model.parameters)
    }
}
