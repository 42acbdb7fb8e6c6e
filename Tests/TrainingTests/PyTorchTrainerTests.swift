import Foundation
import GraphTask
import LensTestSupport
import Testing
@testable import Training
import Transformer

/// scripts/train_pytorch.py, the PyTorch trainer of `lens train`'s recipe (issue 27's GPU path),
/// against the Swift trainer on the same initial weights and data stream. Runs where a python
/// with torch, numpy and h5py is found (`make .venv/bin/python`), skipped otherwise.
@Suite(.serialized) struct PyTorchTrainerTests {
    static let script = repositoryRoot.appendingPathComponent("scripts/train_pytorch.py").path

    /// The fresh lineage's recipe (research/training-history.md, run fb) on small graphs and a
    /// small model, with the loss weight 3 on computable positions, a cosine tail, clipping and a
    /// stage that ends after three steps so that the curriculum moves on mid-run; dropout off.
    static func recipe() -> TrainingRecipe {
        var r = freshLineageRecipe(["6:8-10", "6:8-12"], seed: 5)
        (r.maxStageSteps, r.computableWeight, r.initialisation) = (3, 3, .pytorch)
        (r.learningRate, r.warmupSteps, r.finalLearningRateFraction, r.gradientClip) = (1e-3, 3, 0.5, 1)
        (r.batchSize, r.steps) = (6, 8)
        return r
    }

    /// JSON lines of `--log-json`: the value of `key` per line.
    static func column(_ key: String, in path: String) throws -> [Double] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(row?[key] as? Double, "no \(key) in \(line)")
        }
    }

    static func train(_ python: String, _ arguments: [String]) throws -> String {
        let (status, output) = try runProcess(python, [script, "--device", "cpu", "--threads", "1"] + arguments)
        #expect(status == 0, "\(output)")
        return output
    }

    /// (a) the loss of step 0 equals the Swift trainer's to float32 rounding; (b) every later step
    /// stays close, through warm-up, clipping, the cosine and a curriculum stage change (and, when
    /// `softened`, an attention temperature and entropy bonus annealing); the parameters after
    /// the last step agree; and the torch run's `lens train` resume state loads.
    @Test(.enabled(if: pythonWithTorch != nil, "no python with torch; skipping the PyTorch trainer (make .venv/bin/python installs one)"),
          arguments: [false, true])
    func followsTheSwiftTrainerStepForStep(softened: Bool) throws {
        let python = try #require(pythonWithTorch)
        try withTemporaryDirectory { directory in
            var recipe = Self.recipe()
            if softened {
                recipe.attentionTemperature = AttentionTemperature(initial: 3, steps: 6)
                recipe.attentionEntropyBonus = AttentionEntropyBonus(initial: 0.5, steps: 6)
            }
            let config = ModelConfig(layers: 2, heads: 4, modelWidth: 32, headWidth: 8, mlpWidth: 64, relativeWindow: 16,
                                     names: recipe.names, modulus: recipe.modulus)
            let model = try Model.randomlyInitialised(config: config, seed: recipe.seed, scheme: .pytorch)
            let start = directory + "/start.resume.h5"
            try TrainingStateFile.save(model: model, state: Trainer.freshState(recipe: recipe, layout: model.layout),
                                       history: ["test"], to: start, includeOptimizer: true)

            let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: recipe, layout: model.layout))
            trainer.reportEvery = 1
            var swiftLoss: [Double] = [], swiftStage: [Int] = []
            trainer.onReport = { _, window in
                swiftLoss.append(window.meanLoss)
                swiftStage.append(trainer.state.stage)
            }
            try trainer.run()

            let out = directory + "/torch.h5", log = directory + "/log.jsonl"
            _ = try Self.train(python, ["--from-lens-resume", start, "--out", out, "--log-every", "1", "--log-json", log,
                                        "--lens-resume"])
            let torchLoss = try Self.column("loss", in: log)
            let torchStage = try Self.column("stage", in: log).map { Int($0) }
            try #require(torchLoss.count == swiftLoss.count, "\(torchLoss.count) torch steps, \(swiftLoss.count) Swift steps")
            #expect(swiftStage == [0, 0, 1, 1, 1, 1, 1, 1] && torchStage == swiftStage, "stages \(swiftStage) / \(torchStage)")
            let relative = zip(torchLoss, swiftLoss).map { abs($0 - $1) / $1 }
            print("PyTorch trainer vs lens train\(softened ? " (temperature, entropy bonus)" : ""), relative loss difference by step: "
                  + relative.map { String(format: "%.1e", $0) }.joined(separator: " "))
            #expect(relative[0] < 1e-6, "step 0: torch \(torchLoss[0]), Swift \(swiftLoss[0])")
            #expect(relative.allSatisfy { $0 < 1e-5 }, "torch \(torchLoss), Swift \(swiftLoss)")

            let exported = try Checkpoint.load(out)
            let scale = model.parameters.map(abs).max() ?? 1
            let drift = zip(exported.parameters, model.parameters).map { abs($0 - $1) }.max() ?? 0
            print(String(format: "parameters after %d steps differ by at most %.1e (largest parameter %.2f)", recipe.steps, drift, scale))
            #expect(drift < 1e-4 * scale)
            let (resumed, state, _) = try TrainingStateFile.load(out + ".resume.h5")
            #expect(state.step == recipe.steps && state.stage == 1 && state.rngState == trainer.state.rngState)
            #expect(resumed.parameters == exported.parameters)
            let moments = zip(state.optimizer.firstMoment, trainer.state.optimizer.firstMoment).map { abs($0 - $1) }.max() ?? 0
            #expect(moments < 1e-3 * (trainer.state.optimizer.firstMoment.map(abs).max() ?? 1))
        }
    }

    /// (c) with the authors' dropout the loss falls, and a run stopped and resumed from its
    /// torch state ends with exactly the parameters of an uninterrupted one.
    @Test(.enabled(if: pythonWithTorch != nil, "no python with torch; skipping the PyTorch trainer (make .venv/bin/python installs one)"))
    func trainsWithDropoutAndResumesExactly() throws {
        let python = try #require(pythonWithTorch)
        try withTemporaryDirectory { directory in
            let recipe = ["--config", "tiny", "--curriculum", "6:8-12", "--every-iteration", "--depth-by-parents", "--all-factors",
                          "--computable-weight", "1", "--frontier", "0", "--dropout", "0.1", "--attention-dropout", "0.1",
                          "--init", "pytorch", "--lr", "3e-3", "--warmup", "5", "--final-lr-fraction", "1", "--batch", "8",
                          "--steps", "30", "--seed", "2", "--log-every", "1"]
            let whole = directory + "/whole.h5", log = directory + "/whole.jsonl"
            _ = try Self.train(python, recipe + ["--out", whole, "--log-json", log])
            let loss = try Self.column("loss", in: log)
            let first = loss.prefix(5).reduce(0, +) / 5, last = loss.suffix(5).reduce(0, +) / 5
            print(String(format: "PyTorch trainer with dropout 0.1: mean loss of steps 1–5 %.3f, of steps 26–30 %.3f", first, last))
            #expect(last < 0.8 * first, "\(loss)")

            let parts = directory + "/parts.h5"
            _ = try Self.train(python, recipe + ["--out", parts, "--stop-after", "13"])
            let resumed = try Self.train(python, ["--resume", parts + ".torch.pt", "--out", parts, "--log-every", "1"])
            #expect(resumed.contains("resuming") && resumed.contains("stopped at step 30"), "\(resumed)")
            #expect(try Checkpoint.load(parts).parameters == (try Checkpoint.load(whole).parameters))
            // Recipe options are fixed on resume, as lens train's are.
            let (status, refusal) = try runProcess(python, [Self.script, "--resume", parts + ".torch.pt", "--out", parts,
                                                            "--batch", "4", "--device", "cpu"])
            #expect(status != 0 && refusal.contains("--batch cannot change"), "\(refusal)")
        }
    }
}
