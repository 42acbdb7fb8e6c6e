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

    @Test func aPaperCircuitWithAllItsSlotsIsComplete() {
        let verdict = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.9, layer1MassOnOperands: 0.02, layer0SlotCoverage: 1,
                                                               layer0SlotsWithoutGroup: [], patchFollowRate: 0.85))
        #expect(verdict.circuit == .paper)
        #expect(verdict.complete)
        #expect(verdict.missingSlots.isEmpty && verdict.gaps.isEmpty)
        #expect(verdict.headline == "paper circuit, complete")
    }

    @Test func aPaperCircuitWithoutAGroupForOneSlotIsPartial() throws {
        // The bundled model's evidence: groups for var_1 and var_2 only, 27 % of patched answers follow.
        let verdict = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.67, layer1MassOnOperands: 0.05, layer0SlotCoverage: 2.0 / 3,
                                                               layer0SlotsWithoutGroup: ["var_0"], patchFollowRate: 0.27))
        #expect(verdict.circuit == .paper)
        #expect(!verdict.complete)
        #expect(verdict.missingSlots == ["var_0"])
        #expect(verdict.headline == "paper circuit, partial: no layer-0 head group for var_0; patched answers follow 27 %")
        #expect(verdict.reasons.contains { $0.contains("none reads var_0") })
        // A missing slot alone makes it partial; a low follow rate alone does too.
        let slotOnly = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.67, layer0SlotCoverage: 2.0 / 3, layer0SlotsWithoutGroup: ["var_0"]))
        #expect(!slotOnly.complete && slotOnly.headline == "paper circuit, partial: no layer-0 head group for var_0")
        let followOnly = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.9, layer0SlotCoverage: 1, layer0SlotsWithoutGroup: [], patchFollowRate: 0.2))
        #expect(!followOnly.complete && followOnly.missingSlots.isEmpty)
        // Unmeasured layer-0 groups cannot make a complete call.
        #expect(!CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.9)).complete)

        // The JSON keeps its keys and adds `complete`, the missing slots and the gaps.
        let data = try JSONEncoder().encode(AnalysisSummary(circuit: verdict))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["circuit"] as? String == "paper")
        let section = try #require(json["circuit_evidence"] as? [String: Any])
        #expect(section["circuit"] as? String == "paper")
        #expect(section["complete"] as? Bool == false)
        #expect(section["missing_slots"] as? [String] == ["var_0"])
        #expect((section["headline"] as? String)?.hasPrefix("paper circuit, partial") == true)
        #expect((section["evidence"] as? [String: Any])?["layer0_slots_without_group"] as? [String] == ["var_0"])
        #expect(try JSONDecoder().decode(AnalysisSummary.self, from: data) == AnalysisSummary(circuit: verdict))
    }

    @Test func aVerdictWrittenBeforeCompleteExistedIsReadAsPartial() throws {
        let old = #"{"circuit":"paper","circuit_evidence":{"circuit":"paper","evidence":{"layer1_mass_on_values":0.67,"layer0_slot_coverage":0.6667},"reasons":["…"]}}"#
        let verdict = try #require(try JSONDecoder().decode(AnalysisSummary.self, from: Data(old.utf8)).circuit)
        #expect(verdict.circuit == .paper && !verdict.complete)
        #expect(verdict.gaps == ["33 % of the operand slots have no layer-0 head group"])
    }

    @Test func mirroredCircuitLooksUpInLayer0AndGathersByOffsetInLayer1() {
        let verdict = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.05, layer1MassOnOperands: 0.88,
                                                               layer0LookupMass: 0.9, layer0SlotCoverage: 0))
        #expect(verdict.circuit == .mirrored)
        #expect(verdict.complete && verdict.headline == "mirrored circuit, complete")
        let layer1Only = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.05, layer1MassOnOperands: 0.88))
        #expect(layer1Only.circuit == .mirrored && !layer1Only.complete)
        let noLookup = CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.05, layer1MassOnOperands: 0.88, layer0LookupMass: 0.2))
        #expect(noLookup.circuit == .unclear)
    }

    @Test func untrainedAndMissingEvidenceIsUnclear() throws {
        #expect(CircuitVerdict(evidence: CircuitEvidence(layer1MassOnValues: 0.1, layer1MassOnOperands: 0.1)).circuit == .unclear)
        let empty = CircuitVerdict(evidence: CircuitEvidence())
        #expect(empty.circuit == .unclear)
        #expect(!empty.complete && empty.headline.hasPrefix("unclear"))
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
