import GraphTask
import Transformer

/// Everything that defines a training run; stored as JSON in every checkpoint it writes.
public struct TrainingRecipe: Codable, Sendable, Equatable {
    public var seed: UInt64 = 1
    public var steps: Int = 100_000
    public var batchSize: Int = 32
    public var learningRate: Float = 1e-3
    public var warmupSteps: Int = 1_000
    public var finalLearningRateFraction: Float = 0.1
    public var weightDecay: Float = 0.01
    public var gradientClip: Float = 1.0
    /// Graph sizes drawn uniformly in minNodes...maxNodes (after the curriculum).
    public var minNodes: Int = 8
    public var maxNodes: Int = 32
    /// Largest graph size at step 0; it grows linearly to maxNodes over `curriculumSteps`.
    public var curriculumStartNodes: Int = 8
    public var curriculumSteps: Int = 0
    /// Graphs deeper than this are redrawn (the paper trains on depth ≤ 6).
    public var maxDepth: Int = 6
    public var leaves: Int = 6
    public var names: Int = 128
    public var modulus: Int = 23
    /// Fraction of examples whose input is a random closed "frontier" state instead of an exact
    /// iteration state.
    public var frontierFraction: Float = 0.5
    /// Loss weight of positions whose value the step must compute (changes from input to target).
    public var computableWeight: Float = 3
    /// Fraction of filled input values replaced by a wrong value (the paper's error correction).
    public var errorCorrection: Float = 0
    /// Loss weight of the syntax, variable, operation and value factors.
    public var factorWeights: [Float] = Factor.lossWeights(counting: [.value])
    /// Graph-size stages, easiest first; empty means one stage from the fields above. The run
    /// moves to the next stage once the value accuracy at computed nodes, over the last
    /// `advanceWindow` steps, reaches `advanceAccuracy`.
    public var stages: [CurriculumStage] = []
    public var advanceAccuracy: Double = 0.9
    public var advanceWindow: Int = 200
    /// Steps after which a stage ends even if its accuracy was not reached (nil: no limit).
    /// Small graphs can be mostly solved by copying from the previous equation; a model stuck on
    /// that shortcut only learns to match names once larger graphs stop rewarding it.
    public var maxStageSteps: Int?
    /// Also supervise each operand occurrence with its operand's value wherever that value is in
    /// the input (a one-hop lookup loss). It learns in minutes but grows the *mirrored* circuit
    /// (docs/models.md, the contrast model), so it is for contrast models only, never the default model.
    public var operandLookup: Bool?
    /// Inverted dropout on each block's attention and MLP outputs (the paper trained with 0.1).
    /// Optional so that recipes saved before it existed still decode; nil means 0.
    public var dropout: Float?
    /// Inverted dropout on the attention weights (the authors' attn_pdrop, 0.1). nil means 0.
    public var attentionDropout: Float?
    /// Supervise every iteration of each graph in the same step (t = 0 … its depth, exact
    /// teacher-forced states), as the authors' trainer does, instead of one random state per
    /// graph: a step then has `batchSize` graphs and about (depth + 1) × as many sequences.
    /// nil means false.
    public var everyIteration: Bool?
    /// Cap the depth as the authors' generator does, by drawing operands only among nodes of
    /// depth below `maxDepth`, instead of redrawing graphs deeper than it (nil means false).
    public var depthCappedByParents: Bool?
    /// Attention scores divided by an annealed temperature during training (nil: τ = 1 always).
    public var attentionTemperature: AttentionTemperature?
    /// A bonus −λ·H̄ on the loss for soft attention, λ annealed to 0 (nil: none).
    public var attentionEntropyBonus: AttentionEntropyBonus?

    public init() {}

    /// How the weights were first drawn (nil: GPT-2 style N(0, 0.02), the default).
    public var initialisation: Model.InitialisationScheme?

    /// The dropout probability actually used (0 when the recipe has none).
    public var dropoutRate: Float { dropout ?? 0 }
    /// The attention-weight dropout probability actually used (0 when the recipe has none).
    public var attentionDropoutRate: Float { attentionDropout ?? 0 }

    /// Trains through `stages`: the recorded sizes (`max_nodes`, …) become the last stage's, and
    /// the linear size ramp, unused with stages, starts at its smallest graph.
    public mutating func follow(_ stages: [CurriculumStage]) {
        self.stages = stages
        guard let last = stages.last else { return }
        (leaves, minNodes, maxNodes) = (last.leaves, last.minNodes, last.maxNodes)
        curriculumStartNodes = minNodes
    }

    /// The largest graph the stages up to and including `stage` draw: what a model at that
    /// stage has been trained on, where `maxNodes` is where the plan ends.
    public func largestTrainedNodes(throughStage stage: Int) -> Int {
        effectiveStages.prefix(max(stage, 0) + 1).map(\.maxNodes).max() ?? maxNodes
    }

    /// The stages actually used (a single stage when `stages` is empty).
    public var effectiveStages: [CurriculumStage] {
        stages.isEmpty ? [CurriculumStage(leaves: leaves, minNodes: minNodes, maxNodes: maxNodes)] : stages
    }

    /// The default size curriculum: tiny graphs with two leaves first (where the lookup circuit
    /// forms within minutes), growing to the paper's training distribution (6 leaves, ≤ 32 nodes).
    public static let defaultStages: [CurriculumStage] = [
        CurriculumStage(leaves: 2, minNodes: 3, maxNodes: 5),
        CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 8),
        CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 12),
        CurriculumStage(leaves: 6, minNodes: 7, maxNodes: 16),
        CurriculumStage(leaves: 6, minNodes: 8, maxNodes: 24),
        CurriculumStage(leaves: 6, minNodes: 8, maxNodes: 32),
    ]

    /// The most graphs one step may hold: a step cannot be interrupted, so it must stay short.
    public static let maximumBatch = 65_536

    /// The most steps a run may plan (far beyond any run of the task, and small enough that
    /// step arithmetic never overflows).
    public static let maximumSteps = 1 << 40

    /// An estimate of the bytes one training step holds (the forward pass's activations, which
    /// the backward pass keeps) for a model of `config`: a graph of `maxNodes` nodes tokenises
    /// to about 6 tokens a node (181 for 32 nodes), and `--every-iteration` adds a sequence per
    /// iteration up to `maxDepth`. Computed in Double, so it cannot overflow.
    public static func estimatedStepBytes(recipe: TrainingRecipe, config: ModelConfig) -> Double {
        let largest = Double(max(recipe.maxNodes, recipe.effectiveStages.map(\.maxNodes).max() ?? 0))
        let length = 6 * largest + 4
        let sequences = Double(recipe.batchSize) * (recipe.everyIteration == true ? Double(recipe.maxDepth + 1) : 1)
        let d = Double(config.modelWidth), f = Double(config.mlpWidth), h = Double(config.heads)
        let perToken = Double(config.layers) * (12 * d + 2 * f + h * length) + 4 * d + Double(config.factorSizes.reduce(0, +))
        return 4 * sequences * length * perToken
    }

    /// Throws with a sentence naming the first setting that cannot work.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidSetting(message) }
        }
        try check(steps > 0 && steps <= TrainingRecipe.maximumSteps, "--steps must lie in 1...\(TrainingRecipe.maximumSteps), found \(steps)")
        try check(weightDecay.isFinite && weightDecay >= 0, "--weight-decay must be a non-negative number, found \(weightDecay)")
        try check(gradientClip.isFinite && gradientClip > 0, "--clip must be a positive number, found \(gradientClip)")
        try check(names >= 1 && names <= ModelConfig.limits.vocabulary.upperBound && modulus >= 2 && modulus <= ModelConfig.limits.vocabulary.upperBound,
                  "the recipe's names (\(names)) and modulus (\(modulus)) must lie in 1...\(ModelConfig.limits.vocabulary.upperBound) and 2...\(ModelConfig.limits.vocabulary.upperBound)")
        try check(maxDepth <= 100_000 && leaves <= 100_000 && warmupSteps <= TrainingRecipe.maximumSteps && curriculumSteps <= TrainingRecipe.maximumSteps,
                  "--max-depth, --leaves, --warmup and --curriculum-steps must be at most 100000, 100000, \(TrainingRecipe.maximumSteps) and \(TrainingRecipe.maximumSteps)")
        try check(advanceAccuracy.isFinite, "--advance-accuracy must be a number")
        try check(batchSize > 0 && batchSize <= TrainingRecipe.maximumBatch,
                  "--batch must lie in 1...\(TrainingRecipe.maximumBatch) graphs, found \(batchSize)")
        try check(learningRate.isFinite && learningRate > 0, "--lr must be a positive number, found \(learningRate)")
        try check(warmupSteps >= 0, "--warmup must not be negative, found \(warmupSteps)")
        try check(minNodes >= leaves + 1, "--min-nodes must exceed --leaves (\(leaves)), found \(minNodes)")
        try check(maxNodes >= minNodes, "--max-nodes (\(maxNodes)) must be at least --min-nodes (\(minNodes))")
        try check(maxNodes <= names, "--max-nodes (\(maxNodes)) cannot exceed the number of names (\(names))")
        try check(curriculumStartNodes >= minNodes && curriculumStartNodes <= maxNodes,
                  "--curriculum-start must lie in --min-nodes...--max-nodes, found \(curriculumStartNodes)")
        try check(curriculumSteps >= 0, "--curriculum-steps must not be negative")
        try check(maxDepth >= 1, "--max-depth must be at least 1, found \(maxDepth)")
        try check(leaves >= 1, "--leaves must be at least 1")
        try check((0...1).contains(frontierFraction), "--frontier must lie in 0...1, found \(frontierFraction)")
        try check((0...1).contains(errorCorrection), "--error-correction must lie in 0...1, found \(errorCorrection)")
        try check(computableWeight > 0, "--computable-weight must be positive")
        // A dropout rate of 1 would drop everything and scale by 1/0.
        func checkDropout(_ rate: Float, _ flag: String, _ what: String) throws {
            try check(rate.isFinite && rate >= 0 && rate < 1, "\(flag) must lie in [0, 1) (the probability of dropping \(what)), found \(rate)")
        }
        try checkDropout(dropoutRate, "--dropout", "a unit")
        try checkDropout(attentionDropoutRate, "--attention-dropout", "an attention weight")
        if let problem = attentionTemperature?.problem { throw TrainingError.invalidSetting(problem) }
        if let problem = attentionEntropyBonus?.problem { throw TrainingError.invalidSetting(problem) }
        for stage in stages {
            try check(stage.leaves >= 1 && stage.minNodes > stage.leaves && stage.maxNodes >= stage.minNodes && stage.maxNodes <= names,
                      "curriculum stage \"\(stage)\" needs 1 ≤ leaves < min-nodes ≤ max-nodes ≤ names")
            try check((stage.names ?? names) <= names && stage.maxNodes <= (stage.names ?? names),
                      "curriculum stage \"\(stage)\" needs max-nodes ≤ its names ≤ the model's \(names) names")
            try check((1...3).contains(stage.maxFanIn), "curriculum stage \"\(stage)\" needs a fan-in of 1, 2 or 3, found \(stage.maxFanIn)")
            try check((1...stage.maxFanIn).contains(stage.minFanIn) && stage.leaves >= stage.minFanIn,
                      "curriculum stage \"\(stage)\" needs 1 ≤ min fan-in ≤ max fan-in and at least min fan-in leaves")
            try check(stage.leafValueDecay.map { $0 > 0 && $0 <= 1 } ?? true,
                      "curriculum stage \"\(stage)\" needs a leaf value decay (after ~) in (0, 1]")
        }
        try check(finalLearningRateFraction.isFinite && finalLearningRateFraction >= 0 && finalLearningRateFraction <= 1,
                  "--final-lr-fraction must lie in 0...1 (1 keeps the rate constant after the warm-up), found \(finalLearningRateFraction)")
        try check(advanceAccuracy > 0 && advanceAccuracy <= 1, "--advance-accuracy must lie in (0, 1]")
        try check(advanceWindow > 0 && advanceWindow <= 1_000_000, "--advance-window must lie in 1...1000000, found \(advanceWindow)")
        try check((maxStageSteps ?? 1) > 0, "--max-stage-steps must be positive")
        try check(factorWeights.count == Factor.count && factorWeights.allSatisfy { $0 >= 0 } && factorWeights.contains { $0 > 0 },
                  "factor weights must be four non-negative numbers, not all zero")
    }

    /// Largest graph size drawn at `step`.
    public func maxNodes(at step: Int) -> Int {
        guard curriculumSteps > 0, step < curriculumSteps else { return maxNodes }
        return curriculumStartNodes + (maxNodes - curriculumStartNodes) * step / curriculumSteps
    }
}

/// One stage of the curriculum: leaves, graph sizes and the largest fan-in.
public struct CurriculumStage: Codable, Sendable, Equatable, CustomStringConvertible {
    public var leaves: Int
    public var minNodes: Int
    public var maxNodes: Int
    /// Most operands per computed node (the task's full range is 1…3). A stage of copies
    /// (fan-in 1) rewards fetching one operand by name on its own: with two or more operands,
    /// one operand's value says nothing about the sum mod 23.
    public var maxFanIn: Int
    /// Fewest operands per computed node (1 in the task). A stage of sums only (2-2) has no
    /// copies, so no single fetched value predicts the answer.
    public var minFanIn: Int
    /// Names drawn from only the first `names` of the vocabulary (nil: all of them). Matching a
    /// name against its definition is learnt per name; a few names see many more examples each.
    public var names: Int?
    /// Leaf values drawn with P(v) ∝ decay^v (nil: uniform, as in the task). A skewed stage makes
    /// every operand's value informative about a sum on its own, where uniform values reward a
    /// lookup only jointly with all the others.
    public var leafValueDecay: Double?

    public init(leaves: Int, minNodes: Int, maxNodes: Int, maxFanIn: Int = 3, minFanIn: Int = 1, names: Int? = nil,
                leafValueDecay: Double? = nil) {
        self.leaves = leaves
        self.minNodes = minNodes
        self.maxNodes = maxNodes
        self.maxFanIn = maxFanIn
        self.minFanIn = minFanIn
        self.names = names
        self.leafValueDecay = leafValueDecay
    }

    enum CodingKeys: String, CodingKey { case leaves, minNodes, maxNodes, maxFanIn, minFanIn, names, leafValueDecay }

    /// Decodes a stage; checkpoints written before fan-in stages existed mean fan-in up to 3.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        leaves = try c.decode(Int.self, forKey: .leaves)
        minNodes = try c.decode(Int.self, forKey: .minNodes)
        maxNodes = try c.decode(Int.self, forKey: .maxNodes)
        maxFanIn = try c.decodeIfPresent(Int.self, forKey: .maxFanIn) ?? 3
        minFanIn = try c.decodeIfPresent(Int.self, forKey: .minFanIn) ?? 1
        names = try c.decodeIfPresent(Int.self, forKey: .names)
        leafValueDecay = try c.decodeIfPresent(Double.self, forKey: .leafValueDecay)
    }

    public var description: String {
        "\(leaves) leaves, \(minNodes)–\(maxNodes) nodes" + (minFanIn > 1 ? ", fan-in \(minFanIn)–\(maxFanIn)" : maxFanIn == 3 ? "" : ", fan-in ≤ \(maxFanIn)")
            + (names.map { ", \($0) names" } ?? "") + (leafValueDecay.map { ", leaf values ∝ \($0)^v" } ?? "")
    }

    /// The stage as `lens train --curriculum` spells it, which `parse` reads back.
    public var text: String {
        let fanIn = minFanIn > 1 ? "/\(minFanIn)-\(maxFanIn)" : maxFanIn == 3 ? "" : "/\(maxFanIn)"
        return "\(leaves):\(minNodes)-\(maxNodes)" + fanIn + (names.map { "@\($0)" } ?? "") + (leafValueDecay.map { "~\($0)" } ?? "")
    }

    /// Parses `L:MIN-MAX[/F|/FMIN-FMAX][@N][~D]` (leaves, node range, fan-in, names, leaf value
    /// decay), e.g. `2:3-5`, `4:5-8/1`, `2:3-4/1@8`, `3:4-6/2-2` (sums of exactly two),
    /// `4:5-8/1-3@16~0.9` (leaf values ∝ 0.9^v).
    public static func parse(_ text: String) -> CurriculumStage? {
        guard let (withoutDecay, decay) = optionalSuffix(of: Substring(text), after: "~", { Double($0) }),
              let (withoutNames, names) = optionalSuffix(of: withoutDecay, after: "@", { Int($0) }) else { return nil }
        let fanParts = withoutNames.split(separator: "/", omittingEmptySubsequences: false)
        guard fanParts.count <= 2 else { return nil }
        var fanIn = 3, minFanIn = 1
        if fanParts.count == 2 {
            let fans = fanParts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard fans.count <= 2, let f = Int(fans[fans.count - 1]) else { return nil }
            fanIn = f
            if fans.count == 2 {
                guard let low = Int(fans[0]) else { return nil }
                minFanIn = low
            }
        }
        let parts = fanParts[0].split(separator: ":")
        guard parts.count == 2, let leaves = Int(parts[0]) else { return nil }
        let range = parts[1].split(separator: "-")
        guard range.count == 2, let low = Int(range[0]), let high = Int(range[1]) else { return nil }
        return CurriculumStage(leaves: leaves, minNodes: low, maxNodes: high, maxFanIn: fanIn, minFanIn: minFanIn, names: names,
                               leafValueDecay: decay)
    }

    /// `text` split at an optional `separator` into what precedes it and the parsed value after it
    /// (nil value: no separator); nil when the separator repeats or the value does not parse.
    private static func optionalSuffix<Value>(of text: Substring, after separator: Character,
                                              _ parse: (Substring) -> Value?) -> (Substring, Value?)? {
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (parts[0], nil)
        case 2: return parse(parts[1]).map { (parts[0], $0) }
        default: return nil
        }
    }
}

/// Failures of training and evaluation.
public enum TrainingError: Error, CustomStringConvertible, Sendable {
    case invalidSetting(String)
    case nonFiniteLoss(step: Int, lastCheckpoint: String?)
    case incompatibleResume(String)

    public var description: String {
        switch self {
        case .invalidSetting(let message):
            return message
        case .nonFiniteLoss(let step, let checkpoint):
            let kept = checkpoint.map { "; the last good checkpoint is \($0)" } ?? "; no checkpoint was written yet"
            return "the loss became NaN or infinite at step \(step), so training stopped\(kept)"
        case .incompatibleResume(let message):
            return "cannot resume: \(message)"
        }
    }
}
