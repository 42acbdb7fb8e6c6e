import Foundation
import Testing
@testable import Analysis
@testable import Transformer

@Suite struct CircuitTests {
    @Test func paperCircuitNeedsLayer1OnValuesAndLayer0SlotGroups() {
        let verdict = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.93, layer1MassOnOperands: 0.02,
                                                               layer0LookupMass: 0.1, layer0SlotCoverage: 1))
        #expect(verdict.circuit == .paper)
        #expect(verdict.reasons.contains { $0.contains("93 %") })
        let noGroups = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.93, layer0SlotCoverage: 1.0 / 3))
        #expect(noGroups.circuit == .unclear)
    }

    @Test func mirroredCircuitLooksUpInLayer0AndGathersByOffsetInLayer1() {
        let verdict = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.05, layer1MassOnOperands: 0.88,
                                                               layer0LookupMass: 0.9, layer0SlotCoverage: 0))
        #expect(verdict.circuit == .mirrored)
        let noLookup = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.05, layer1MassOnOperands: 0.88, layer0LookupMass: 0.2))
        #expect(noLookup.circuit == .unclear)
    }

    @Test func untrainedAndMissingEvidenceIsUnclear() throws {
        #expect(CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.1, layer1MassOnOperands: 0.1)).circuit == .unclear)
        let empty = CircuitVerdict(evidence: CircuitEvidence())
        #expect(empty.circuit == .unclear)
        #expect(empty.reasons.contains { $0.contains("not measured") })
    }

    @Test func summaryWritesTheCircuitAndItsEvidence() throws {
        let verdict = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.05, layer1MassOnOperands: 0.88, layer0LookupMass: 0.9))
        let data = try JSONEncoder().encode(AnalysisSummary(circuit: verdict))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["circuit"] as? String == "mirrored")
        let evidence = try #require(json["circuit_evidence"] as? [String: Any])
        #expect((evidence["evidence"] as? [String: Double])?["layer0_lookup_mass"] == 0.9)
        #expect(try JSONDecoder().decode(AnalysisSummary.self, from: data) == AnalysisSummary(circuit: verdict))
    }

    @Test func weightsComeFromASavedCheckpoint() throws {
        let config = handConfig()
        let model = try Model.randomlyInitialised(config: config, seed: 3)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("analysis-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(model, to: path)
        let weights = ModelWeights(try Checkpoint.load(path))
        #expect(try weights.outputWeight(layer: 1) == model.tensor(named: "transformer.blocks.layer_1.attn.o_proj.weight"))
        #expect(try Retrieval.valueGain(weights, layer: 0) == Retrieval.valueGain(ModelWeights(model), layer: 0))
        #expect(try Fourier.valueEmbeddingSpectrum(weights).frequencies == [1, 2])
        #expect(throws: AnalysisError.badParameter("the model has no embedding for the factor \"regret\"; its factors are syntax, variable, operation, value")) {
            try weights.embedding("regret")
        }
        #expect(try weights.embedding("value") == model.tensor(named: "token_embedder.embeddings.3.weight"))
        #expect(AnalysisError.missingHook(hook: "blocks.0.attn.hook_z", analysis: "heads").description.contains("--hooks"))
    }
}
