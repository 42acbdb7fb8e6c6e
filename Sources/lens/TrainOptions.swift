import Foundation
import GraphTask
import Training
import Transformer

extension ModelConfig.Preset: OptionChoice {}
extension Model.InitialisationScheme: OptionChoice {}

/// How `lens train` reads and explains an annealed setting's `V0:STEPS`.
protocol AnnealedOption: AnnealedSetting {
    /// The option's form, as its help writes it.
    static var form: String { get }
    /// An example value, for the refusal.
    static var example: String { get }
    /// What V0 and STEPS mean, for the refusal.
    static var meaning: String { get }
}

extension TemperatureSetting: AnnealedOption {
    static let form = "T0:STEPS"
    static let example = "3:15000"
    static let meaning = "a starting temperature and the steps to anneal to 1 over"
}

extension EntropyBonusSetting: AnnealedOption {
    static let form = "L0:STEPS"
    static let example = "0.01:15000"
    static let meaning = "a starting weight and the steps to anneal to 0 over"
}

/// `V0:STEPS`, an anneal beginning at step 0 (a resumed run moves it to the resume step).
extension LinearAnneal: OptionValue where Setting: AnnealedOption {
    static func read(_ text: String, for option: OptionReference) throws -> LinearAnneal {
        guard let anneal = LinearAnneal(text) else {
            throw option.refusal("expects \(Setting.form) like \(Setting.example) (\(Setting.meaning)), found \"\(text)\"")
        }
        return anneal
    }
    var shownAsDefault: String? { "\(initial):\(steps)" }
}

/// The recipe of a run given no options: where `lens train`'s defaults come from.
private let freshRecipe = TrainingRecipe()
private let paper = ModelConfig.Preset.paper.config

extension TrainCommand {
    /// `lens train`'s options. Defaults of the recipe come from `TrainingRecipe` itself;
    /// `.fixedOnResume()` marks those the resume state fixes.
    struct Options: CommandOptions {
        let out = Option<String?>("--out", "MODEL.h5", help: "where to write the model").namesTheRun()
        let resume = Option<String?>("--resume", "STATE.h5", help: "continue the run saved in STATE.h5 (a .resume.h5 file)").namesTheRun()
        let config = Option("--config", "paper|small|tiny", default: ModelConfig.Preset.paper,
                            help: "model size ({default}: \(paper.layers) layers, \(paper.heads) heads, d \(paper.modelWidth), MLP \(paper.mlpWidth))").fixedOnResume()
        let seed = Option("--seed", "S", default: freshRecipe.seed, help: "seed of initialisation and data ({default})").fixedOnResume()
        let steps = Option("--steps", "N", default: freshRecipe.steps, help: "total optimizer steps ({default})")
        let stopAfter = Option<Int?>("--stop-after", "N", help: "stop this invocation after N steps (the schedule still spans --steps)")
        let batch = Option("--batch", "B", default: freshRecipe.batchSize,
                           help: "graphs per step, one sequence each ({default}; with --every-iteration, each graph gives a sequence per iteration)").fixedOnResume()
        let lr = Option("--lr", "X", default: freshRecipe.learningRate, help: "peak learning rate ({default}; may be changed on --resume)")
        let warmup = Option("--warmup", "N", default: freshRecipe.warmupSteps, help: "linear warm-up steps ({default})").fixedOnResume()
        let finalLRFraction = Option("--final-lr-fraction", "X", default: freshRecipe.finalLearningRateFraction,
                                     help: "the cosine decays to X × the peak rate at the last step ({default}; 1 keeps the rate constant after the warm-up, as the authors trained; may be changed on --resume)")
        let weightDecay = Option("--weight-decay", "X", default: freshRecipe.weightDecay, help: "AdamW decoupled weight decay ({default}; may be changed on --resume)")
        let clip = Option("--clip", "X", default: freshRecipe.gradientClip, help: "gradient-norm clipping ({default})").fixedOnResume()
        let minNodes = Option("--min-nodes", "N", default: freshRecipe.minNodes, help: "smallest training graph ({default})").fixedOnResume()
        let maxNodes = Option("--max-nodes", "N", default: freshRecipe.maxNodes, help: "largest training graph ({default})").fixedOnResume()
        let maxDepth = Option("--max-depth", "N", default: freshRecipe.maxDepth, help: "graphs deeper than this are redrawn ({default})").fixedOnResume()
        let leaves = Option("--leaves", "N", default: freshRecipe.leaves, help: "leaves per graph ({default})").fixedOnResume()
        let curriculumStart = Option<Int?>("--curriculum-start", "N", help: "largest graph at step 0 (default --min-nodes)").fixedOnResume()
        let curriculumSteps = Option("--curriculum-steps", "N", default: freshRecipe.curriculumSteps,
                                     help: "steps over which the largest graph grows to --max-nodes ({default})").fixedOnResume()
        let curriculum = Option("--curriculum", "auto|none|STAGES", default: "none",
                                help: "stages L:MIN-MAX[/FANIN|/MIN-MAX][@NAMES][~DECAY],… (leaves, nodes, fan-in within 1-3, default 1-3, names drawn from the first NAMES, leaf values drawn with P(v) ∝ DECAY^v instead of uniformly) advanced by competence ({default}; auto: "
                                    + TrainingRecipe.defaultStages.map(\.text).joined(separator: ",")
                                    + "); with --resume, STAGES replace the stages not yet reached and the first starts at once")
        let advanceAccuracy = Option("--advance-accuracy", "X", default: freshRecipe.advanceAccuracy, help: "computed-node accuracy that ends a stage ({default})")
        let advanceWindow = Option("--advance-window", "N", default: freshRecipe.advanceWindow, help: "steps that accuracy is averaged over ({default})").fixedOnResume()
        let maxStageSteps = Option<Int?>("--max-stage-steps", "N", help: "steps after which a stage ends anyway (default: no limit; may be changed on --resume)")
        let frontier = Option("--frontier", "P", default: freshRecipe.frontierFraction, help: "fraction of examples in random closed states ({default})").fixedOnResume()
        let computableWeight = Option("--computable-weight", "X", default: freshRecipe.computableWeight,
                                      help: "loss weight of positions computable now ({default})").fixedOnResume()
        let errorCorrection = Option("--error-correction", "P", default: freshRecipe.errorCorrection,
                                     help: "fraction of input values corrupted, to be repaired ({default})").fixedOnResume()
        let initialisation = Option("--init", "normal|pytorch", default: freshRecipe.initialisation ?? .normal,
                                    help: "initial weights: normal N(0, 0.02) like GPT-2 ({default}) or PyTorch's module defaults (embeddings N(0, 1))").fixedOnResume()
        let dropout = Option("--dropout", "P", default: freshRecipe.dropoutRate,
                             help: "drop units of attention and MLP outputs with probability P in training ({default}; the paper: 0.1)").fixedOnResume()
        let operandLookup = Option(flag: "--operand-lookup",
                                   help: "also supervise operand occurrences with their values (grows the mirrored circuit; contrast models only)").fixedOnResume()
        let allFactors = Option(flag: "--all-factors", help: "also supervise the syntax, variable and operation factors").fixedOnResume()
        let attentionDropout = Option("--attention-dropout", "P", default: freshRecipe.attentionDropoutRate,
                                      help: "drop attention weights with probability P in training ({default}; the authors: 0.1, with --dropout 0.1)").fixedOnResume()
        let attentionTemperature = Option<AttentionTemperature?>(TemperatureSetting.option, TemperatureSetting.form,
                                                                 help: "divide every attention score by a temperature annealed linearly from T0 to 1 over STEPS steps, in training only (default: none, τ = 1; a generic remedy for heads that harden early, research/training-history.md); on --resume the anneal starts at the resume step")
        let attentionEntropyBonus = Option<AttentionEntropyBonus?>(EntropyBonusSetting.option, EntropyBonusSetting.form,
                                                                   help: "add −λ·H̄ to the loss, H̄ the mean entropy of every head's attention rows at the supervised positions, λ annealed linearly from L0 to 0 over STEPS steps, in training only (default: none; a generic remedy for heads that harden early that rescaled weights cannot undo, research/training-history.md); on --resume the anneal starts at the resume step")
        let depthByParents = Option(flag: "--depth-by-parents",
                                    help: "keep graphs within --max-depth as the authors' generator does, by drawing operands only among nodes shallower than it, instead of redrawing deeper graphs (which favours shallow ones)").fixedOnResume()
        let everyIteration = Option(flag: "--every-iteration",
                                    help: "supervise every iteration of each graph in one step (exact teacher-forced states t = 0 … depth, no frontier states), as the authors' trainer does; a step then holds --batch graphs and about (depth + 1) × as many sequences").fixedOnResume()
        let checkpointEvery = Option("--checkpoint-every", "N", default: 500, bounds: .positive, help: "steps between checkpoints ({default})")
        let snapshotEvery = Option<Int?>("--snapshot-every", "N", bounds: .positive,
                                         help: "also keep the model of the first checkpoint past every N steps as MODEL.stepS.h5, for studying how mechanisms emerge (default: none)")
        let keepResumeEvery = Option<Int?>("--keep-resume-every", "N", bounds: .positive,
                                           help: "also keep the resume state of the first checkpoint past every N steps as MODEL.stepS.resume.h5, to branch the run from there later (default: none; each is 3× the model)")
        let resetHeads = Option<String?>("--reset-heads", "L.H,…",
                                         help: "with --resume: re-draw these attention heads (layer.head) as a fresh model has them and clear their optimizer moments, so hardened heads attend evenly again (default: none)")
        let resetHeadAttention = Option<String?>("--reset-head-attention", "L.H,…",
                                                 help: "with --resume: like --reset-heads for the query, key and relative-position weights only; the heads keep what they write")
        let trackEvery = Option<Int?>("--track-every", "N", bounds: .positive,
                                      help: "measure the three mechanisms every N steps (lens timeline's measures, about 6 s each for the paper model on 2 idle cores; docs/timeline.md) into the log and the checkpoints' mechanisms attribute (default: never)")
        let probes = Option<String?>("--probes", "DIR", help: "folder of the probe files --track-every reads (default: the shipped probes/)")
        let evalEvery = Option("--eval-every", "N", default: 2000, help: "steps between recurrent evaluations ({default}, 0 = never)")
        let logEvery = Option("--log-every", "N", default: 50, bounds: .positive, help: "steps between progress lines ({default})")
        let force = Option(flag: "--force", help: "replace --out and its .resume.h5 if they exist (each once its new file is complete)")
    }

    /// Options a resumed run honours (the command history records them).
    static var changeableOnResume: [String] {
        Options.all.filter { $0.onResume == .mayChange }.map(\.name)
    }

    /// The recipe of a fresh run: the recipe's defaults, changed by the options given.
    static func recipe(from a: ParsedArguments<Options>) throws -> TrainingRecipe {
        var r = TrainingRecipe()
        r.seed = try a[\.seed]
        r.steps = try a[\.steps]
        r.batchSize = try a[\.batch]
        r.learningRate = try a[\.lr]
        r.warmupSteps = try a[\.warmup]
        r.weightDecay = try a[\.weightDecay]
        r.gradientClip = try a[\.clip]
        r.minNodes = try a[\.minNodes]
        r.maxNodes = try a[\.maxNodes]
        r.maxDepth = try a[\.maxDepth]
        r.leaves = try a[\.leaves]
        r.curriculumSteps = try a[\.curriculumSteps]
        r.frontierFraction = try a[\.frontier]
        r.computableWeight = try a[\.computableWeight]
        r.errorCorrection = try a[\.errorCorrection]
        // Optional recipe fields stay nil unless given, so that the saved recipe reads as before.
        if let rate = try a.given(\.dropout) { r.dropout = rate }
        if let rate = try a.given(\.attentionDropout) { r.attentionDropout = rate }
        r.finalLearningRateFraction = try a[\.finalLRFraction]
        r.attentionTemperature = try a[\.attentionTemperature]
        r.attentionEntropyBonus = try a[\.attentionEntropyBonus]
        if a[\.everyIteration] { r.everyIteration = true }
        if a[\.depthByParents] { r.depthCappedByParents = true }
        if let scheme = try a.given(\.initialisation) { r.initialisation = scheme == .normal ? nil : scheme }
        if a[\.allFactors] { r.factorWeights = Factor.lossWeights(counting: Set(Factor.allCases)) }
        switch a[\.curriculum] {
        case "none": break
        case "auto":
            r.follow(TrainingRecipe.defaultStages)
        case let text:
            r.follow(try stages(text))
        }
        r.curriculumStartNodes = try a[\.curriculumStart] ?? r.minNodes
        r.advanceAccuracy = try a[\.advanceAccuracy]
        r.advanceWindow = try a[\.advanceWindow]
        r.maxStageSteps = try a[\.maxStageSteps] ?? r.maxStageSteps
        if a[\.operandLookup] { r.operandLookup = true }
        return r
    }

    /// Changes a resumed run's recipe by the options given that may change on resume; the
    /// rest of the run continues exactly as saved.
    static func changeOnResume(_ state: inout TrainingState, _ a: ParsedArguments<Options>) throws {
        if let stop = try a.given(\.steps), stop != state.recipe.steps {
            // Extending a finished run is allowed: the schedule is recomputed for the new length.
            state.recipe.steps = stop
        }
        // The curriculum's pacing may be changed on resume (recorded in the command history).
        if let limit = try a[\.maxStageSteps] { state.recipe.maxStageSteps = limit }
        if let accuracy = try a.given(\.advanceAccuracy) { state.recipe.advanceAccuracy = accuracy }
        // The optimiser's peak rate and weight decay may change too (the schedule keeps its
        // shape and position; the command history records the change).
        if let rate = try a.given(\.lr) { state.recipe.learningRate = rate }
        if let fraction = try a.given(\.finalLRFraction) { state.recipe.finalLearningRateFraction = fraction }
        // A temperature or entropy-bonus anneal may start on resume (to soften a run's hardened
        // heads); it begins at the resume step, so the steps already trained keep what they had.
        if var anneal = try a[\.attentionTemperature] {
            anneal.fromStep = state.step
            state.recipe.attentionTemperature = anneal
        }
        if var anneal = try a[\.attentionEntropyBonus] {
            anneal.fromStep = state.step
            state.recipe.attentionEntropyBonus = anneal
        }
        if let decay = try a.given(\.weightDecay) {
            state.recipe.weightDecay = decay
            state.optimizer.weightDecay = decay
        }
        if let text = try a.given(\.curriculum) {
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
    }

    /// Parses comma-separated curriculum stages (`2:3-5,6:8-32/2@16`).
    static func stages(_ text: String) throws -> [CurriculumStage] {
        try text.split(separator: ",").map { part in
            guard let stage = CurriculumStage.parse(String(part)) else {
                throw UsageError("lens train: --curriculum expects auto, none or stages like 2:3-5,6:8-32; \"\(part)\" is not LEAVES:MIN-MAX[/FAN-IN][@NAMES][~DECAY]")
            }
            return stage
        }
    }
}
