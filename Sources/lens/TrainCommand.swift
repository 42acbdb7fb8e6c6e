import Foundation
import Outputs
import Timeline
import GraphTask
import HDF5
import Recording
import Training
import Transformer

/// `lens train`: trains a model from scratch or resumes a run.
enum TrainCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "train", synopsis: "--out MODEL.h5 [options]",
        summary: """
        Trains the recurrent transformer on random computation graphs generated on the fly, with
        teacher-forced iteration states and algorithmic supervision. Writes MODEL.h5 (weights and
        training metadata) and MODEL.h5.resume.h5 (adds optimizer and data state) every
        --checkpoint-every steps, atomically. Ctrl-C or kill stops after the current step with a
        checkpoint; --resume continues bit for bit.
        """)

    /// `runs/m.h5` at step 9000 → `runs/m.step9000.h5`: the model as it was then, weights and metadata.
    static func snapshotPath(_ out: String, step: Int) -> String {
        (out.hasSuffix(".h5") ? String(out.dropLast(3)) : out) + ".step\(step).h5"
    }

    /// Checks, before the first step, that the model and its resume state can be written where
    /// the run will write them (snapshots go to the same folder). Continuing a run replaces its
    /// own files; a fresh run, or a branch to another `--out`, replaces existing ones only with
    /// `--force`; `--out` may not be the resume state it starts from.
    static func checkOutputs(_ out: String, resuming: String?, force: Bool) throws {
        let resumePath = out + ".resume.h5"
        let continuing = resuming.map { OutputFile.sameFile($0, resumePath) } ?? false
        let inputs = [resuming].compactMap { $0 }
        _ = try OutputFile(out, what: "--out", force: force || continuing, inputs: inputs)
        if !continuing {
            _ = try OutputFile(resumePath, what: "the resume state of --out", force: force, inputs: inputs)
        }
    }

    /// `runs/m.h5` at step 9000 → `runs/m.step9000.resume.h5`: a resume state kept for branching the run later.
    static func keptResumePath(_ out: String, step: Int) -> String {
        String(snapshotPath(out, step: step).dropLast(3)) + ".resume.h5"
    }

    /// Whether a checkpoint has passed the next multiple of N steps (checkpoints need not divide N).
    struct Milestones {
        let every: Int?
        var passed: Int

        init(every: Int?, from step: Int) {
            self.every = every
            passed = every.map { step / $0 } ?? 0
        }

        /// True once for each multiple of N that `step` is the first checkpoint past.
        mutating func reached(_ step: Int) -> Bool {
            guard let every, step / every > passed else { return false }
            passed = step / every
            return true
        }
    }

    /// Refuses a recipe whose one step could not fit in this machine's memory (a step cannot be
    /// interrupted, so a step that swaps for hours would also ignore Ctrl-C), saying how much it needs.
    static func checkStepMemory(recipe: TrainingRecipe, config: ModelConfig) throws {
        let needed = TrainingRecipe.estimatedStepBytes(recipe: recipe, config: config)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed <= available else {
            throw UsageError("lens train: one step of --batch \(recipe.batchSize) needs about \(gigabytes(needed)) of activations, more than this machine's \(gigabytes(available)) of memory; use a smaller --batch")
        }
    }

    /// `  τ 2.50` on a progress line while an attention temperature is annealing, nothing at τ = 1.
    static func temperatureNote(_ τ: Float) -> String { τ == 1 ? "" : String(format: "  τ %.2f", τ) }

    /// The entropy bonus's weight λ and the window's mean attention entropy H̄ (nats), when it has one.
    static func entropyNote(_ λ: Float, _ entropy: Double?) -> String {
        guard λ > 0, let entropy else { return "" }
        return String(format: "  λ %.2g H̄ %.2f", λ, entropy)
    }

    static func gigabytes(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }

    /// Checks the outputs, starts or resumes the run, then trains until its last step, the
    /// `--stop-after` count or a signal, checkpointing as it goes.
    static func run(_ a: ParsedArguments<Options>) throws {
        let out = try a.require(\.out)
        let snapshotEvery = try a[\.snapshotEvery]
        let keepResumeEvery = try a[\.keepResumeEvery]
        try checkOutputs(out, resuming: a[\.resume], force: a[\.force])
        let (model, state, earlierCommands) = try a[\.resume].map { try resume($0, a) } ?? (try start(a))
        let history = earlierCommands + [a.commandLine]
        let trainer = try Trainer(model: model, state: state)
        trainer.reportEvery = try a[\.logEvery]
        trainer.checkpointEvery = try a[\.checkpointEvery]
        trainer.evaluateEvery = try a[\.evalEvery]
        showProgress(of: trainer)
        let mechanisms = try trackMechanisms(trainer, a)
        let resumePath = out + ".resume.h5"
        var snapshots = Milestones(every: snapshotEvery, from: state.step)
        var keptResumeStates = Milestones(every: keepResumeEvery, from: state.step)
        trainer.onCheckpoint = { model, state in
            func save(to path: String, includeOptimizer: Bool) throws {
                try TrainingStateFile.save(model: model, state: state, history: history, to: path, includeOptimizer: includeOptimizer,
                                           extraAttributes: mechanisms.attributes)
            }
            try save(to: resumePath, includeOptimizer: true)
            try save(to: out, includeOptimizer: false)
            if snapshots.reached(state.step) { try save(to: snapshotPath(out, step: state.step), includeOptimizer: false) }
            if keptResumeStates.reached(state.step) { try save(to: keptResumePath(out, step: state.step), includeOptimizer: true) }
            return resumePath
        }
        let stop = StopSignal(.quiet)
        try trainer.run(stopAfter: try a[\.stopAfter], shouldStop: { stop.requested })
        if stdoutIsTerminal { print("") }
        print(String(format: "stopped at step %d of %d after %@ of training in all; model: %@; resume state: %@",
                     trainer.state.step, trainer.state.recipe.steps, formatDuration(trainer.state.elapsedSeconds), out, resumePath))
        if stop.requested {
            // Interrupted: the checkpoint is complete, but the run is not; scripts must not go on.
            printError("interrupted; continue with: lens train --resume \(resumePath)")
            exit(130)
        }
    }

    /// A fresh run: the recipe from the options, a model initialised from its seed.
    static func start(_ a: ParsedArguments<Options>) throws -> (Model, TrainingState, [String]) {
        if let option = [\Options.resetHeads, \.resetHeadAttention].first(where: { a.isGiven($0) }) {
            throw UsageError("lens train: \(Options.name(of: option)) re-initialises heads of a trained run, so it needs --resume")
        }
        let recipe = try recipe(from: a)
        try recipe.validate()
        var config = try a[\.config].config
        config.names = recipe.names
        config.modulus = recipe.modulus
        try checkStepMemory(recipe: recipe, config: config)
        let model = try Model.randomlyInitialised(config: config, seed: recipe.seed, scheme: recipe.initialisation ?? .normal)
        return (model, Trainer.freshState(recipe: recipe, layout: model.layout), [])
    }

    /// A run continued from the resume state at `resumePath`, changed by the options that may
    /// change on resume, with the heads `--reset-heads` names re-drawn.
    static func resume(_ resumePath: String, _ a: ParsedArguments<Options>) throws -> (Model, TrainingState, [String]) {
        if let fixed = Options.all.first(where: { $0.onResume == .fixed && a.isGiven($0) }) {
            throw UsageError("lens train: \(fixed.name) cannot change on --resume (the run continues with the recipe saved in \(resumePath)); on resume only " + changeableOnResume.joined(separator: ", ") + " may be given")
        }
        var (model, state, history) = try TrainingStateFile.load(resumePath)
        try changeOnResume(&state, a)
        try state.recipe.validate()
        try checkStepMemory(recipe: state.recipe, config: model.config)
        guard state.step < state.recipe.steps else {
            throw UsageError("lens train: the run in \(resumePath) already reached its last step (\(state.step) of \(state.recipe.steps)), so there is nothing to train and nothing would be written; pass a larger --steps to extend it")
        }
        for (key, part) in [(\Options.resetHeads, HeadReset.Part.whole), (\.resetHeadAttention, .attention)] {
            guard let text = a[key] else { continue }
            guard let heads = try? HeadAblation.parse(text) else {
                throw UsageError("lens train: \(Options.name(of: key)) expects LAYER.HEAD pairs like 0.3,0.11, found \"\(text)\"")
            }
            try HeadReset.reset(heads, in: model, optimizer: &state.optimizer, seed: state.recipe.seed &+ UInt64(state.step), part: part)
            let what = part == .whole ? "heads" : "the attention (query, key, relative-position weights) of heads"
            print("re-initialised \(what) \(HeadAblation.text(heads)) at step \(state.step) (fresh weights, optimizer moments cleared)")
        }
        print("resuming \(resumePath) at step \(state.step) of \(state.recipe.steps)")
        return (model, state, history)
    }

    /// Prints a progress line every `reportEvery` steps (redrawn in place on a terminal), the
    /// evaluations and the curriculum's stages.
    static func showProgress(of trainer: Trainer) {
        let total = trainer.state.recipe.steps
        let runStart = Date()
        let startStep = trainer.state.step
        trainer.onReport = { step, w in
            let elapsed = Date().timeIntervalSince(runStart)
            let rate = Double(step - startStep) / max(elapsed, 1e-9)
            let eta = rate > 0 ? Double(total - step) / rate : 0
            let line = String(format: "step %d/%d  loss %.4f  value acc %.3f  computable acc %.3f  computed-node acc %.3f  |g| %.2f  lr %.2e  %.0f seq/s  %.0f tok/s  ETA %@",
                              step, total, w.meanLoss, w.valueAccuracy, w.computableAccuracy, w.computedAccuracy, w.gradientNorm / Double(max(w.steps, 1)),
                              Double(trainer.learningRate), w.sequencesPerSecond, w.tokensPerSecond, formatDuration(eta))
                + temperatureNote(trainer.attentionTemperature(at: step))
                + entropyNote(trainer.attentionEntropyBonus(at: step), w.meanAttentionEntropy)
            if stdoutIsTerminal {
                FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
            } else {
                print(line)
                fflush(stdout)
            }
        }
        let stages = trainer.state.recipe.effectiveStages
        trainer.onEvaluate = { step, model in
            var parts: [String] = []
            let current = stages[min(trainer.state.stage, stages.count - 1)]
            let evaluator = Evaluator(leaves: current.leaves, batchSize: 16, maxFanIn: current.maxFanIn)
            for nodes in [current.maxNodes, min(current.maxNodes * 2, model.config.names)] {
                let result = try evaluator.evaluate(model: model, nodes: nodes, samples: 64)
                parts.append(String(format: "%d nodes: node %.3f graph %.3f", nodes, result.nodeAccuracy, result.graphAccuracy))
            }
            if stdoutIsTerminal { print("") }
            print("eval at step \(step): " + parts.joined(separator: "; "))
            fflush(stdout)
        }
        trainer.onStage = { step, stage, description in
            if stdoutIsTerminal { print("") }
            print("curriculum: stage \(stage) (\(description)) from step \(step)")
            fflush(stdout)
        }
    }

    /// The latest mechanism measures, written into every checkpoint's attributes.
    final class MechanismsAttribute {
        var attributes: [String: String] = [:]
    }

    /// With `--track-every N`, measures the mechanisms every N steps into the log and the
    /// attributes returned.
    static func trackMechanisms(_ trainer: Trainer, _ a: ParsedArguments<Options>) throws -> MechanismsAttribute {
        let mechanisms = MechanismsAttribute()
        guard let every = try a[\.trackEvery] else { return mechanisms }
        let tracker = MechanismTracker(probeDirectory: a[\.probes] ?? TimelineCommand.shippedProbeDirectory())
        try tracker.checkProbes()
        trainer.trackEvery = every
        trainer.onTrack = { step, model in
            let measures = try tracker.measure(model: model, step: step)
            mechanisms.attributes["mechanisms"] = try jsonText(measures)
            if stdoutIsTerminal { print("") }
            print(measures.logLine)
            fflush(stdout)
        }
        return mechanisms
    }
}
