import Foundation
import LensTestSupport
import Testing
import Probes
import Recording
@testable import Analysis
import Training
import Transformer

/// Small probes shaped like the shipped ones, on literal contexts (fast on a tiny model).
enum TinyProbes {
    static let context = """
    context program 1 = x_1; 2 = x_2; 3 = x_3; x_1 + x_2 = x_4; x_4 + x_3 = x_5; x_5 + x_1 = x_6
    context program 5 = x_7; 6 = x_8; 7 = x_9; x_7 + x_8 = x_10; x_10 + x_9 = x_11; x_11 + x_7 = x_12
    """
    static let texts: [String: String] = [
        "slot_var0": context + "\nequation v0 + v1 + v2 = rhs\nsweep v0 over defined\nfix v1 = defined[1]\nfix v2 = defined[2]\nfix rhs = free[0]",
        "slot_var1": context + "\nequation v0 + v1 + v2 = rhs\nfix v0 = defined[0]\nsweep v1 over defined\nfix v2 = defined[2]\nfix rhs = free[0]",
        "slot_var2": context + "\nequation v0 + v1 + v2 = rhs\nfix v0 = defined[0]\nfix v1 = defined[1]\nsweep v2 over defined\nfix rhs = free[0]",
        "slot_rhs": context + "\nequation v0 + v1 + v2 = rhs\nfix v0 = defined[0]\nfix v1 = defined[1]\nfix v2 = defined[2]\nsweep rhs over free[0], free[1], free[2]",
        "retrieval_distance": context + "\nequation v0 + v1 = rhs\nsweep v0 over defined\nfix v1 = defined[0]\nfix rhs = free[0]",
        "value_grid": "context program 1 = x_1; 2 = x_2; x_1 + x_2 = x_3\nequation v0 + v1 = rhs\nfix v0 = x_1\nfix v1 = x_2\nfix rhs = free[0]\nsweep v0.value over values\nsweep v1.value over values",
    ]

    static func config() -> ModelConfig {
        ModelConfig(layers: 2, heads: 4, modelWidth: 16, headWidth: 4, mlpWidth: 24, relativeWindow: 8, names: 16, modulus: 23)
    }

    /// Records `name` into `dir/name.h5` with `hooks` at the probe's query positions.
    static func record(_ name: String, model: Model, modelPath: String, hooks: [String], dir: String,
                       positions: PositionSelection = .probe) throws -> String {
        let probe = try ProbeParser.parse(texts[name] ?? "", file: name + ".probe", defaultName: name)
        let expansion = try probe.expand(vocabulary: model.config.vocabulary)
        let recorder = try Recorder(model: model, expansion: expansion, hookGlobs: hooks, iterations: [expansion.iterations - 1],
                                    batchSize: 64, positions: positions)
        let path = dir + "/" + name + ".h5"
        let config = "{\"model\": " + String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self) + "}"
        let provenance = ActivationFileProvenance(command: "test", modelPath: modelPath, modelSHA256: try SHA256.hex(ofFile: modelPath),
                                        probe: name, probeText: texts[name] ?? "", configJSON: config)
        _ = try recorder.record(into: recorder.makeWriter(path: path, overwrite: true, provenance: provenance, compression: nil))
        return path
    }
}

func inUnit(_ x: Double) -> Bool { x.isFinite && x >= -1e-9 && x <= 1 + 1e-9 }

@Suite struct ActivationFileAnalysisTests {
    @Test func recorderToActivationFilesToAnalysesEndToEnd() throws {
        try withTemporaryDirectory { dir in
            // A tiny model trained for a few hundred steps (a trained one, so the statistics see
            // structured, not random, attention).
            let model = try Model.randomlyInitialised(config: TinyProbes.config(), seed: 11)
            var recipe = TrainingRecipe()
            (recipe.steps, recipe.batchSize, recipe.warmupSteps, recipe.learningRate) = (300, 16, 20, 3e-3)
            (recipe.minNodes, recipe.maxNodes, recipe.curriculumStartNodes, recipe.leaves) = (4, 6, 4, 3)
            (recipe.names, recipe.maxDepth) = (16, 3)
            let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: recipe, layout: model.layout))
            var losses: [Double] = []
            trainer.reportEvery = 100
            trainer.onReport = { _, window in losses.append(window.meanLoss) }
            try trainer.run()
            #expect((losses.last ?? 1) < (losses.first ?? 0))
            let modelPath = dir + "/tiny.h5"
            try Checkpoint.save(model, to: modelPath)
            let slotHooks = ["blocks.*.attn.hook_z", "blocks.*.attn.hook_pattern"]
            var paths = try ["slot_var0", "slot_var1", "slot_var2", "slot_rhs", "retrieval_distance"].map {
                try TinyProbes.record($0, model: model, modelPath: modelPath, hooks: slotHooks, dir: dir)
            }
            paths.append(try TinyProbes.record("value_grid", model: model, modelPath: modelPath,
                                               hooks: ["blocks.1.mlp.hook_post", "hook_logits.value"], dir: dir))
            let outcome = try AnalysisRunner(causalSequences: 32).run(paths: paths.reversed())
            let summary = outcome.summary

            let heads = try #require(summary.heads)
            #expect(heads.layers.map(\.layer) == [0, 1])
            #expect(heads.primary.slots == ["var_0", "var_1", "var_2", "rhs"])
            for slot in heads.primary.slots {
                #expect(heads.primary.r[slot]?.count == 4)
                #expect(heads.primary.r[slot]?.allSatisfy(inUnit) == true)
                #expect(heads.primary.sweepAccuracy[slot].map(inUnit) == true)
            }
            #expect(heads.primary.cosineSimilarity?.count == 4)

            let retrieval = try #require(summary.retrieval)
            #expect(retrieval.primary.layer == 1)
            #expect(retrieval.primary.headMass.count == 4 && retrieval.primary.headMass.allSatisfy { $0.count == 3 })
            #expect(inUnit(retrieval.primary.operandMass))
            #expect(retrieval.primary.valueGain?.allSatisfy { $0.isFinite && $0 >= 0 } == true)
            #expect(retrieval.patch.map { inUnit($0.followRate) } == true)
            #expect(retrieval.ablationRetrieval.map { $0.drop.isFinite && abs($0.drop) <= 1 } == true)
            #expect(retrieval.ablationOther.map { $0.drop.isFinite && abs($0.drop) <= 1 } == true)

            let fourier = try #require(summary.fourier)
            #expect(fourier.neuronCount == 24)
            for x in [fourier.weightedTopFrequencyFraction, fourier.medianTopFrequencyFraction, fourier.varianceExplainedByKey, fourier.aPlusBShare] {
                #expect(inUnit(x))
            }
            #expect(fourier.readout?.logitByDifference.count == 23)
            #expect(fourier.embeddingSpectrum?.power.count == 11)

            let verdict = try #require(summary.circuit)
            #expect(verdict.evidence.layer1MassOnValues != nil && verdict.evidence.layer0LookupMass != nil)
            #expect(verdict.evidence.layer1MassOnOperands.map(inUnit) == true)

            // The JSON carries the top-level keys docs/analysis.md defines.
            let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any])
            let h = try #require(json["heads"] as? [String: Any])
            #expect(Set((h["groups"] as? [String: Any])?.keys.map { $0 } ?? []) == ["var_0", "var_1", "var_2", "rhs"])
            #expect((h["r"] as? [String: [Double]])?["var_1"]?.count == 4)
            #expect(h["sweep_accuracy"] is [String: Double])
            let r = try #require(json["retrieval"] as? [String: Any])
            for key in ["operand_mass", "head_mass", "patch_follow_rate", "ablation_drop_retrieval", "ablation_drop_other"] {
                #expect(r[key] != nil, "retrieval.\(key)")
            }
            let f = try #require(json["fourier"] as? [String: Any])
            for key in ["key_frequencies", "weighted_top_frequency_fraction", "median_top_frequency_fraction", "variance_explained_by_key", "a_plus_b_share"] {
                #expect(f[key] != nil, "fourier.\(key)")
            }
            #expect(["paper", "mirrored", "unclear"].contains(json["circuit"] as? String ?? ""))
            #expect(json["circuit_evidence"] != nil)
        }
    }

    @Test func aMissingHookNamesTheHooksToRecord() throws {
        try withTemporaryDirectory { dir in
            let model = try Model.randomlyInitialised(config: TinyProbes.config(), seed: 5)
            let modelPath = dir + "/tiny.h5"
            try Checkpoint.save(model, to: modelPath)
            let grid = try TinyProbes.record("value_grid", model: model, modelPath: modelPath, hooks: ["hook_logits.value"], dir: dir)
            do {
                _ = try AnalysisRunner(analyses: [.fourier], strict: true).run(paths: [grid])
                Issue.record("an activation file without the MLP hook was analysed")
            } catch let error as AnalysisError {
                #expect(error.description.contains("--hooks '\(AnalysisHooks.valueGrid)'"), "\(error)")
                #expect(error.description.contains("blocks.1.mlp.hook_post"))
            }
            // Not strict (lens analyze all): a warning saying the same, and an error only when nothing ran.
            let slot = try TinyProbes.record("slot_var0", model: model, modelPath: modelPath, hooks: ["blocks.0.attn.hook_pattern"], dir: dir)
            #expect(throws: AnalysisError.self) { try AnalysisRunner().run(paths: [grid, slot]) }
            let full = try TinyProbes.record("slot_var1", model: model, modelPath: modelPath,
                                             hooks: ["blocks.*.attn.hook_z", "blocks.*.attn.hook_pattern"], dir: dir, positions: .all)
            let outcome = try AnalysisRunner(causalSequences: 0).run(paths: [grid, full])
            #expect(outcome.summary.heads != nil && outcome.summary.fourier == nil)
            #expect(outcome.warnings.contains { $0.contains("--hooks '\(AnalysisHooks.valueGrid)'") })
            #expect(outcome.warnings.contains { $0.contains("slot_var2") })
        }
    }
}
