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
    static let spec = CommandSpec(
        name: "train", synopsis: "--out MODEL.h5 [options]",
        summary: """
        Trains the recurrent transformer on random computation graphs generated on the fly, with
        teacher-forced iteration states and algorithmic supervision. Writes MODEL.h5 (weights and
        training metadata) and MODEL.h5.resume.h5 (adds optimizer and data state) every
        --checkpoint-every steps, atomically. Ctrl-C or kill stops after the current step with a
        checkpoint; --resume continues bit for bit.
        """,
        options: [
            OptionSpec(name: "--out", value: "MODEL.h5", help: "where to write the model"),
            OptionSpec(name: "--resume", value: "STATE.h5", help: "continue the run saved in STATE.h5 (a .resume.h5 file)"),
            OptionSpec(name: "--config", value: "paper|small|tiny", help: "model size (default paper: 2 layers, 16 heads, d 256, MLP 1024)"),
            OptionSpec(name: "--seed", value: "S", help: "seed of initialisation and data (default 1)"),
            OptionSpec(name: "--steps", value: "N", help: "total optimizer steps (default 100000)"),
            OptionSpec(name: "--stop-after", value: "N", help: "stop this invocation after N steps (the schedule still spans --steps)"),
            OptionSpec(name: "--batch", value: "B", help: "graphs per step, one sequence each (default 32; with --every-iteration, each graph gives a sequence per iteration)"),
            OptionSpec(name: "--lr", value: "X", help: "peak learning rate (default 1e-3; may be changed on --resume)"),
            OptionSpec(name: "--warmup", value: "N", help: "linear warm-up steps (default 1000)"),
            OptionSpec(name: "--final-lr-fraction", value: "X", help: "the cosine decays to X × the peak rate at the last step (default 0.1; 1 keeps the rate constant after the warm-up, as the authors trained; may be changed on --resume)"),
            OptionSpec(name: "--weight-decay", value: "X", help: "AdamW decoupled weight decay (default 0.01; may be changed on --resume)"),
            OptionSpec(name: "--clip", value: "X", help: "gradient-norm clipping (default 1.0)"),
            OptionSpec(name: "--min-nodes", value: "N", help: "smallest training graph (default 8)"),
            OptionSpec(name: "--max-nodes", value: "N", help: "largest training graph (default 32)"),
            OptionSpec(name: "--max-depth", value: "N", help: "graphs deeper than this are redrawn (default 6)"),
            OptionSpec(name: "--leaves", value: "N", help: "leaves per graph (default 6)"),
            OptionSpec(name: "--curriculum-start", value: "N", help: "largest graph at step 0 (default --min-nodes)"),
            OptionSpec(name: "--curriculum-steps", value: "N", help: "steps over which the largest graph grows to --max-nodes (default 0)"),
            OptionSpec(name: "--curriculum", value: "auto|none|STAGES", help: "stages L:MIN-MAX[/FANIN|/MIN-MAX][@NAMES][~DECAY],… (leaves, nodes, fan-in within 1-3, default 1-3, names drawn from the first NAMES, leaf values drawn with P(v) ∝ DECAY^v instead of uniformly) advanced by competence (auto: 2:3-5,3:4-8,4:5-12,6:7-16,6:8-24,6:8-32); with --resume, STAGES replace the stages not yet reached and the first starts at once"),
            OptionSpec(name: "--advance-accuracy", value: "X", help: "computed-node accuracy that ends a stage (default 0.9)"),
            OptionSpec(name: "--advance-window", value: "N", help: "steps that accuracy is averaged over (default 200)"),
            OptionSpec(name: "--max-stage-steps", value: "N", help: "steps after which a stage ends anyway (default: no limit; may be changed on --resume)"),
            OptionSpec(name: "--frontier", value: "P", help: "fraction of examples in random closed states (default 0.5)"),
            OptionSpec(name: "--computable-weight", value: "X", help: "loss weight of positions computable now (default 3)"),
            OptionSpec(name: "--error-correction", value: "P", help: "fraction of input values corrupted, to be repaired (default 0)"),
            OptionSpec(name: "--init", value: "normal|pytorch", help: "initial weights: normal N(0, 0.02) like GPT-2 (default) or PyTorch's module defaults (embeddings N(0, 1))"),
            OptionSpec(name: "--dropout", value: "P", help: "drop units of attention and MLP outputs with probability P in training (default 0; the paper: 0.1)"),
            OptionSpec(name: "--operand-lookup", value: nil, help: "also supervise operand occurrences with their values (grows the mirrored circuit; contrast models only)"),
            OptionSpec(name: "--all-factors", value: nil, help: "also supervise the syntax, variable and operation factors"),
            OptionSpec(name: "--attention-dropout", value: "P", help: "drop attention weights with probability P in training (default 0; the authors: 0.1, with --dropout 0.1)"),
            OptionSpec(name: "--attention-temperature", value: "T0:STEPS", help: "divide every attention score by a temperature annealed linearly from T0 to 1 over STEPS steps, in training only (default: none, τ = 1; a generic remedy for heads that harden early, research/training-history.md); on --resume the anneal starts at the resume step"),
            OptionSpec(name: "--depth-by-parents", value: nil, help: "keep graphs within --max-depth as the authors' generator does, by drawing operands only among nodes shallower than it, instead of redrawing deeper graphs (which favours shallow ones)"),
            OptionSpec(name: "--every-iteration", value: nil, help: "supervise every iteration of each graph in one step (exact teacher-forced states t = 0 … depth, no frontier states), as the authors' trainer does; a step then holds --batch graphs and about (depth + 1) × as many sequences"),
            OptionSpec(name: "--checkpoint-every", value: "N", help: "steps between checkpoints (default 500)"),
            OptionSpec(name: "--snapshot-every", value: "N", help: "also keep the model of the first checkpoint past every N steps as MODEL.stepS.h5, for studying how mechanisms emerge (default: none)"),
            OptionSpec(name: "--keep-resume-every", value: "N", help: "also keep the resume state of the first checkpoint past every N steps as MODEL.stepS.resume.h5, to branch the run from there later (default: none; each is 3× the model)"),
            OptionSpec(name: "--reset-heads", value: "L.H,…", help: "with --resume: re-draw these attention heads (layer.head) as a fresh model has them and clear their optimizer moments, so hardened heads attend evenly again (default: none)"),
            OptionSpec(name: "--reset-head-attention", value: "L.H,…", help: "with --resume: like --reset-heads for the query, key and relative-position weights only; the heads keep what they write"),
            OptionSpec(name: "--track-every", value: "N", help: "measure the three mechanisms every N steps (lens timeline's measures, about 6 s each for the paper model on 2 idle cores; docs/timeline.md) into the log and the checkpoints' mechanisms attribute (default: never)"),
            OptionSpec(name: "--probes", value: "DIR", help: "folder of the probe files --track-every reads (default: the shipped probes/)"),
            OptionSpec(name: "--eval-every", value: "N", help: "steps between recurrent evaluations (default 2000, 0 = never)"),
            OptionSpec(name: "--log-every", value: "N", help: "steps between progress lines (default 50)"),
            OptionSpec(name: "--force", value: nil, help: "replace --out and its .resume.h5 if they exist (each once its new file is complete)"),
        ])

    /// Options that shape a fresh run and are refused on --resume rather than silently ignored.
    static let fixedOnResume = ["--config", "--seed", "--batch", "--warmup", "--clip", "--min-nodes", "--max-nodes",
                                "--max-depth", "--leaves", "--curriculum-start", "--curriculum-steps", "--advance-window",
                                "--frontier", "--computable-weight", "--error-correction", "--init", "--dropout",
                                "--operand-lookup", "--all-factors", "--attention-dropout", "--every-iteration", "--depth-by-parents"]
    /// Options a resumed run honours (the command history records them): all the others.
    static var changeableOnResume: [String] {
        spec.options.map(\.name).filter { !fixedOnResume.contains($0) && $0 != "--resume" && $0 != "--out" }
    }

    static func recipe(from a: ParsedArguments) throws -> TrainingRecipe {
        var r = TrainingRecipe()
        r.seed = try a.seed(default: 1)
        r.steps = try a.int("--steps", default: r.steps)
        r.batchSize = try a.int("--batch", default: r.batchSize)
        r.learningRate = Float(try a.double("--lr") ?? Double(r.learningRate))
        r.warmupSteps = try a.int("--warmup", default: r.warmupSteps)
        r.weightDecay = Float(try a.double("--weight-decay") ?? Double(r.weightDecay))
        r.gradientClip = Float(try a.double("--clip") ?? Double(r.gradientClip))
        r.minNodes = try a.int("--min-nodes", default: r.minNodes)
        r.maxNodes = try a.int("--max-nodes", default: r.maxNodes)
        r.maxDepth = try a.int("--max-depth", default: r.maxDepth)
        r.leaves = try a.int("--leaves", default: r.leaves)
        r.curriculumSteps = try a.int("--curriculum-steps", default: 0)
        r.frontierFraction = Float(try a.double("--frontier") ?? Double(r.frontierFraction))
        r.computableWeight = Float(try a.double("--computable-weight") ?? Double(r.computableWeight))
        r.errorCorrection = Float(try a.double("--error-correction") ?? 0)
        if let rate = try a.double("--dropout") { r.dropout = Float(rate) }
        if let rate = try a.double("--attention-dropout") { r.attentionDropout = Float(rate) }
        if let fraction = try a.double("--final-lr-fraction") { r.finalLearningRateFraction = Float(fraction) }
        r.attentionTemperature = try attentionTemperature(a, fromStep: 0)
        if a.has("--every-iteration") { r.everyIteration = true }
        if a.has("--depth-by-parents") { r.depthCappedByParents = true }
        if let scheme = a.string("--init") {
            guard let parsed = Model.InitialisationScheme(rawValue: scheme) else {
                throw UsageError("lens train: --init must be normal or pytorch, found \"\(scheme)\"")
            }
            r.initialisation = parsed == .normal ? nil : parsed
        }
        if a.has("--all-factors") { r.factorWeights = [1, 1, 1, 1] }
        switch a.string("--curriculum", default: "none") {
        case "none": break
        case "auto":
            r.follow(TrainingRecipe.defaultStages)
        case let text:
            r.follow(try stages(text))
        }
        r.curriculumStartNodes = try a.int("--curriculum-start") ?? r.minNodes
        r.advanceAccuracy = try a.double("--advance-accuracy") ?? r.advanceAccuracy
        r.advanceWindow = try a.int("--advance-window", default: r.advanceWindow)
        r.maxStageSteps = try a.int("--max-stage-steps") ?? r.maxStageSteps
        if a.has("--operand-lookup") { r.operandLookup = true }
        return r
    }

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

    /// Parses comma-separated curriculum stages (`2:3-5,6:8-32/2-3@16`).
    static func stages(_ text: String) throws -> [CurriculumStage] {
        try text.split(separator: ",").map { part in
            guard let stage = CurriculumStage.parse(String(part)) else {
                throw UsageError("lens train: --curriculum expects auto, none or stages like 2:3-5,6:8-32; \"\(part)\" is not LEAVES:MIN-MAX[/FAN-IN][@NAMES][~DECAY]")
            }
            return stage
        }
    }

    /// The anneal `--attention-temperature T0:STEPS` asks for, beginning at `fromStep` (nil: none given).
    static func attentionTemperature(_ a: ParsedArguments, fromStep: Int) throws -> AttentionTemperature? {
        guard let text = a.string("--attention-temperature") else { return nil }
        guard let anneal = AttentionTemperature(text, fromStep: fromStep) else {
            throw UsageError("lens train: --attention-temperature expects T0:STEPS like 3:15000 (a starting temperature and the steps to anneal to 1 over), found \"\(text)\"")
        }
        return anneal
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

    static func gigabytes(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }

    static func modelConfig(_ name: String) throws -> ModelConfig {
        switch name {
        case "paper": return .paper
        case "small": return ModelConfig(layers: 2, heads: 8, modelWidth: 128, headWidth: 16, mlpWidth: 512, relativeWindow: 64, names: 128, modulus: 23)
        case "tiny": return ModelConfig(layers: 2, heads: 4, modelWidth: 32, headWidth: 8, mlpWidth: 64, relativeWindow: 16, names: 128, modulus: 23)
        default: throw UsageError("lens train: --config must be paper, small or tiny, found \"\(name)\"")
        }
    }

    static func run(_ a: ParsedArguments) throws {
        let out = try a.require("--out")
        let snapshotEvery = try a.positiveInt("--snapshot-every")
        let keepResumeEvery = try a.positiveInt("--keep-resume-every")
        let model: Model
        var state: TrainingState
        let commandLine = (["lens"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        var history: [String] = []
        try checkOutputs(out, resuming: a.string("--resume"), force: a.has("--force"))
        if let resumePath = a.string("--resume") {
            if let fixed = fixedOnResume.first(where: { a.has($0) || a.string($0) != nil }) {
                throw UsageError("lens train: \(fixed) cannot change on --resume (the run continues with the recipe saved in \(resumePath)); on resume only " + changeableOnResume.joined(separator: ", ") + " may be given")
            }
            (model, state, history) = try TrainingStateFile.load(resumePath)
            if let stop = try a.int("--steps"), stop != state.recipe.steps {
                // Extending a finished run is allowed: the schedule is recomputed for the new length.
                state.recipe.steps = stop
            }
            // The curriculum's pacing may be changed on resume (recorded in the command history);
            // everything else continues exactly as saved.
            if let limit = try a.int("--max-stage-steps") { state.recipe.maxStageSteps = limit }
            if let accuracy = try a.double("--advance-accuracy") { state.recipe.advanceAccuracy = accuracy }
            // The optimiser's peak rate and weight decay may change too (the schedule keeps its
            // shape and position; the command history records the change).
            if let rate = try a.double("--lr") { state.recipe.learningRate = Float(rate) }
            if let fraction = try a.double("--final-lr-fraction") { state.recipe.finalLearningRateFraction = Float(fraction) }
            // A temperature anneal may start on resume (to soften a run's hardened heads); it
            // begins at the resume step, so the steps already trained keep the τ they had.
            if let anneal = try attentionTemperature(a, fromStep: state.step) { state.recipe.attentionTemperature = anneal }
            if let decay = try a.double("--weight-decay") {
                state.recipe.weightDecay = Float(decay)
                state.optimizer.weightDecay = Float(decay)
            }
            if let text = a.string("--curriculum") {
                // New stages replace those not yet reached: the stages already run stay in the
                // recipe (they describe the model's history) and the first new one starts now.
                let next = try stages(text)
                guard !next.isEmpty else { throw UsageError("lens train: --curriculum on --resume needs at least one stage") }
                state.recipe.follow(Array(state.recipe.effectiveStages.prefix(state.stage + 1)) + next)
                state.stage += 1
                state.stageStarts.append(state.step)
                state.stageWindow = []
                print("curriculum from step \(state.step): " + next.map(\.description).joined(separator: "; "))
            }
            try state.recipe.validate()
            try checkStepMemory(recipe: state.recipe, config: model.config)
            guard state.step < state.recipe.steps else {
                throw UsageError("lens train: the run in \(resumePath) already reached its last step (\(state.step) of \(state.recipe.steps)), so there is nothing to train and nothing would be written; pass a larger --steps to extend it")
            }
            for (option, part) in [("--reset-heads", HeadReset.Part.whole), ("--reset-head-attention", .attention)] {
                guard let text = a.string(option) else { continue }
                guard let heads = try? HeadAblation.parse(text) else {
                    throw UsageError("lens train: \(option) expects LAYER.HEAD pairs like 0.3,0.11, found \"\(text)\"")
                }
                try HeadReset.reset(heads, in: model, optimizer: &state.optimizer, seed: state.recipe.seed &+ UInt64(state.step), part: part)
                let what = part == .whole ? "heads" : "the attention (query, key, relative-position weights) of heads"
                print("re-initialised \(what) \(HeadAblation.text(heads)) at step \(state.step) (fresh weights, optimizer moments cleared)")
            }
            print("resuming \(resumePath) at step \(state.step) of \(state.recipe.steps)")
        } else {
            if let option = ["--reset-heads", "--reset-head-attention"].first(where: { a.string($0) != nil }) {
                throw UsageError("lens train: \(option) re-initialises heads of a trained run, so it needs --resume")
            }
            let recipe = try recipe(from: a)
            try recipe.validate()
            var config = try modelConfig(a.string("--config", default: "paper"))
            config.names = recipe.names
            config.modulus = recipe.modulus
            try checkStepMemory(recipe: recipe, config: config)
            model = try Model.randomlyInitialised(config: config, seed: recipe.seed, scheme: recipe.initialisation ?? .normal)
            state = Trainer.freshState(recipe: recipe, layout: model.layout)
        }
        history.append(commandLine)
        let trainer = try Trainer(model: model, state: state)
        trainer.reportEvery = try a.positiveInt("--log-every", default: 50)
        trainer.checkpointEvery = try a.positiveInt("--checkpoint-every", default: 500)
        trainer.evaluateEvery = try a.int("--eval-every", default: 2000)
        let resumePath = out + ".resume.h5"
        let total = state.recipe.steps
        let runStart = Date()
        let startStep = state.step
        trainer.onReport = { step, w in
            let elapsed = Date().timeIntervalSince(runStart)
            let rate = Double(step - startStep) / max(elapsed, 1e-9)
            let eta = rate > 0 ? Double(total - step) / rate : 0
            let line = String(format: "step %d/%d  loss %.4f  value acc %.3f  computable acc %.3f  computed-node acc %.3f  |g| %.2f  lr %.2e  %.0f seq/s  %.0f tok/s  ETA %@",
                              step, total, w.meanLoss, w.valueAccuracy, w.computableAccuracy, w.computedAccuracy, w.gradientNorm / Double(max(w.steps, 1)),
                              Double(trainer.learningRate), w.sequencesPerSecond, w.tokensPerSecond, formatDuration(eta))
                + temperatureNote(trainer.attentionTemperature(at: step))
            if stdoutIsTerminal {
                FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
            } else {
                print(line)
                fflush(stdout)
            }
        }
        trainer.onEvaluate = { step, model in
            var parts: [String] = []
            let stages = state.recipe.effectiveStages
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
        var mechanisms: [String: String] = [:]
        if let every = try a.positiveInt("--track-every") {
            let tracker = MechanismTracker(probeDirectory: a.string("--probes") ?? TimelineCommand.shippedProbeDirectory())
            try tracker.checkProbes()
            trainer.trackEvery = every
            trainer.onTrack = { step, model in
                let measures = try tracker.measure(model: model, step: step)
                mechanisms["mechanisms"] = try jsonText(measures)
                if stdoutIsTerminal { print("") }
                print(measures.logLine)
                fflush(stdout)
            }
        }
        var snapshots = Milestones(every: snapshotEvery, from: startStep)
        var keptResumeStates = Milestones(every: keepResumeEvery, from: startStep)
        trainer.onCheckpoint = { model, state in
            try TrainingStateFile.save(model: model, state: state, history: history, to: resumePath, includeOptimizer: true,
                                       extraAttributes: mechanisms)
            try TrainingStateFile.save(model: model, state: state, history: history, to: out, includeOptimizer: false,
                                       extraAttributes: mechanisms)
            if snapshots.reached(state.step) {
                try TrainingStateFile.save(model: model, state: state, history: history, to: snapshotPath(out, step: state.step),
                                           includeOptimizer: false, extraAttributes: mechanisms)
            }
            if keptResumeStates.reached(state.step) {
                try TrainingStateFile.save(model: model, state: state, history: history, to: keptResumePath(out, step: state.step),
                                           includeOptimizer: true, extraAttributes: mechanisms)
            }
            return resumePath
        }
        installStopHandlers()
        let stopAfter = try a.int("--stop-after")
        try trainer.run(stopAfter: stopAfter)
        if stdoutIsTerminal { print("") }
        print(String(format: "stopped at step %d of %d after %@ of training in all; model: %@; resume state: %@",
                     trainer.state.step, total, formatDuration(trainer.state.elapsedSeconds), out, resumePath))
        if stopWasRequested {
            // Interrupted: the checkpoint is complete, but the run is not; scripts must not go on.
            printError("interrupted; continue with: lens train --resume \(resumePath)")
            exit(130)
        }
    }
}
