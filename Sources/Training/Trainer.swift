import Foundation
import GraphTask
import Transformer

/// Where a run stands: everything `--resume` needs to continue bit for bit.
public struct TrainingState: Sendable {
    public var step: Int
    public var rngState: [UInt64]
    public var optimizer: AdamW
    public var recipe: TrainingRecipe
    /// Wall-clock seconds spent training before this run (summed over resumes).
    public var elapsedSeconds: Double
    public var tokensSeen: Int
    /// Current curriculum stage, and the computed-node results of the recent steps that decide
    /// when to move on (one entry per step: counted, correct).
    public var stage: Int = 0
    public var stageWindow: [[Int]] = []
    /// Step at which each stage after the first began.
    public var stageStarts: [Int] = []

    public init(step: Int, rngState: [UInt64], optimizer: AdamW, recipe: TrainingRecipe, elapsedSeconds: Double, tokensSeen: Int) {
        self.step = step
        self.rngState = rngState
        self.optimizer = optimizer
        self.recipe = recipe
        self.elapsedSeconds = elapsedSeconds
        self.tokensSeen = tokensSeen
    }
}

/// Running averages of the training signal between two progress lines.
public struct TrainingWindow: Sendable {
    public var steps = 0
    /// Σ of the steps' cross-entropy (without an entropy bonus, so runs with and without one compare).
    public var loss = 0.0
    /// Σ of the steps' mean attention entropy H̄ and how many steps measured it (those with a bonus).
    public var attentionEntropy = 0.0
    public var entropySteps = 0
    public var counted = 0
    public var correct = 0
    public var heavyCounted = 0
    public var heavyCorrect = 0
    public var computedCounted = 0
    public var computedCorrect = 0
    /// Accuracy at slots of non-leaf nodes the step had to compute (the two-hop lookups).
    public var computedAccuracy: Double { computedCounted > 0 ? Double(computedCorrect) / Double(computedCounted) : 0 }
    public var sequences = 0
    public var tokens = 0
    public var gradientNorm = 0.0
    public var seconds = 0.0

    public var meanLoss: Double { steps > 0 ? loss / Double(steps) : 0 }
    /// The mean of H̄ over the window's steps with an entropy bonus, nil when none had one.
    public var meanAttentionEntropy: Double? { entropySteps > 0 ? attentionEntropy / Double(entropySteps) : nil }
    public var valueAccuracy: Double { counted > 0 ? Double(correct) / Double(counted) : 0 }
    /// Accuracy at the positions the step had to compute (loss weight above 1).
    public var computableAccuracy: Double { heavyCounted > 0 ? Double(heavyCorrect) / Double(heavyCounted) : 0 }
    public var sequencesPerSecond: Double { seconds > 0 ? Double(sequences) / seconds : 0 }
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}

/// The training loop: on-the-fly data, teacher-forced iteration states, AdamW, checkpoints.
public final class Trainer {
    public let model: Model
    public var state: TrainingState
    let data: TrainingData
    let backprop: ShardedBackpropagation
    let schedule: LearningRateSchedule

    /// Called every `reportEvery` steps with the step and the window since the last call.
    public var onReport: ((Int, TrainingWindow) -> Void)?
    public var reportEvery = 50
    /// Called every `checkpointEvery` steps, at the end and when stopped early; returns the path written.
    public var onCheckpoint: ((Model, TrainingState) throws -> String)?
    public var checkpointEvery = 1_000
    /// Called every `evaluateEvery` steps (0 = never).
    public var onEvaluate: ((Int, Model) throws -> Void)?
    public var evaluateEvery = 0
    /// Called every `trackEvery` steps (0 = never), to measure the model's mechanisms.
    public var onTrack: ((Int, Model) throws -> Void)?
    public var trackEvery = 0

    /// A trainer starting at `state` (a fresh state or one loaded for `--resume`).
    public init(model: Model, state: TrainingState) throws {
        try state.recipe.validate()
        self.model = model
        self.state = state
        data = TrainingData(recipe: state.recipe)
        backprop = ShardedBackpropagation(model: model)
        let r = state.recipe
        schedule = LearningRateSchedule(peak: r.learningRate, warmupSteps: r.warmupSteps, totalSteps: r.steps,
                                        floor: r.finalLearningRateFraction)
    }

    /// A fresh state for `recipe` on `model`.
    public static func freshState(recipe: TrainingRecipe, layout: ParameterLayout) -> TrainingState {
        TrainingState(step: 0, rngState: TaskRNG(seed: recipe.seed).state,
                      optimizer: AdamW(layout: layout, weightDecay: recipe.weightDecay),
                      recipe: recipe, elapsedSeconds: 0, tokensSeen: 0)
    }

    /// Trains until `state.recipe.steps` (or `stopAfter` more steps), or until `shouldStop`,
    /// asked after each step, says to stop: then the step is checkpointed and the run ends.
    /// Returns the path of the last checkpoint written.
    @discardableResult
    public func run(stopAfter: Int? = nil, shouldStop: () -> Bool = { false }) throws -> String? {
        let recipe = state.recipe
        var rng = TaskRNG(state: state.rngState)
        var window = TrainingWindow()
        var lastCheckpoint: String?
        let end = min(recipe.steps, stopAfter.map { state.step + $0 } ?? recipe.steps)
        let count = model.layout.totalCount
        var clock = Date()
        func checkpoint() throws {
            state.rngState = rng.state
            let now = Date()
            state.elapsedSeconds += now.timeIntervalSince(clock)
            clock = now
            if let onCheckpoint { lastCheckpoint = try onCheckpoint(model, state) }
        }
        while state.step < end {
            let started = Date()
            let batch = data.batch(step: state.step, stage: state.stage, rng: &rng)
            let report = backprop.lossAndGradient(inputs: batch.inputs, targets: batch.targets,
                                                  positionWeights: batch.weights, batch: batch.batch,
                                                  length: batch.length, factorWeights: recipe.factorWeights,
                                                  dropout: dropout(at: state.step))
            guard report.loss.isFinite else {
                throw TrainingError.nonFiniteLoss(step: state.step, lastCheckpoint: lastCheckpoint)
            }
            let norm = gradientNorm(backprop.gradientPointer, count: count)
            guard norm.isFinite else { throw TrainingError.nonFiniteLoss(step: state.step, lastCheckpoint: lastCheckpoint) }
            let scale = norm > recipe.gradientClip ? recipe.gradientClip / norm : 1
            state.optimizer.update(parameters: model.parameterPointer, gradient: backprop.gradientPointer,
                                   learningRate: schedule.rate(at: state.step), gradientScale: scale)
            state.step += 1
            state.tokensSeen += batch.batch * batch.length
            window.steps += 1
            window.loss += report.crossEntropyLoss
            if let entropy = report.meanAttentionEntropy {
                window.attentionEntropy += entropy
                window.entropySteps += 1
            }
            window.counted += report.countedPositions(.value)
            window.correct += report.correctPositions(.value)
            window.heavyCounted += report.heavyCounted
            window.heavyCorrect += report.heavyCorrect
            var stepCounted = 0, stepCorrect = 0
            for r in 0..<batch.computed.count where batch.computed[r] {
                stepCounted += 1
                if backprop.valueCorrect(at: r) { stepCorrect += 1 }
            }
            window.computedCounted += stepCounted
            window.computedCorrect += stepCorrect
            advanceCurriculum(counted: stepCounted, correct: stepCorrect)
            window.sequences += batch.batch
            window.tokens += Int(batch.weights.filter { $0 > 0 }.count)
            window.gradientNorm += Double(norm)
            window.seconds += Date().timeIntervalSince(started)
            if state.step % reportEvery == 0 || state.step == end {
                onReport?(state.step, window)
                window = TrainingWindow()
            }
            if evaluateEvery > 0 && state.step % evaluateEvery == 0 { try onEvaluate?(state.step, model) }
            if trackEvery > 0 && state.step % trackEvery == 0 { try onTrack?(state.step, model) }
            // Asked once, so that a stop is never taken without its checkpoint.
            let stopping = shouldStop()
            if state.step % checkpointEvery == 0 || state.step == end || stopping { try checkpoint() }
            if stopping { break }
        }
        return lastCheckpoint
    }

    /// The dropout, attention temperature and entropy bonus of step `step`, nil when the recipe
    /// has none. Its masks are a function of the run's seed and the step alone, so a resumed run
    /// draws the same masks without saving any generator state (and the data generator's stream
    /// is untouched).
    func dropout(at step: Int) -> Dropout? {
        let rate = state.recipe.dropoutRate, attentionRate = state.recipe.attentionDropoutRate
        let temperature = attentionTemperature(at: step), bonus = attentionEntropyBonus(at: step)
        guard rate > 0 || attentionRate > 0 || temperature != 1 || bonus > 0 else { return nil }
        return Dropout(rate: rate, seed: Dropout.stepSeed(runSeed: state.recipe.seed, step: step), attentionRate: attentionRate,
                       attentionTemperature: temperature, attentionEntropyBonus: bonus)
    }

    /// The attention temperature of step `step` (1 without an anneal in the recipe).
    public func attentionTemperature(at step: Int) -> Float {
        state.recipe.attentionTemperature?.value(at: step) ?? 1
    }

    /// The attention-entropy bonus λ of step `step` (0 without one in the recipe).
    public func attentionEntropyBonus(at step: Int) -> Float {
        state.recipe.attentionEntropyBonus?.value(at: step) ?? 0
    }

    /// Moves to the next curriculum stage once computed nodes are mastered in the current one.
    func advanceCurriculum(counted: Int, correct: Int) {
        let recipe = state.recipe
        guard state.stage < recipe.effectiveStages.count - 1 else { return }
        state.stageWindow.append([counted, correct])
        if state.stageWindow.count > recipe.advanceWindow { state.stageWindow.removeFirst() }
        let stageStart = state.stageStarts.last ?? 0
        let outOfTime = recipe.maxStageSteps.map { state.step - stageStart >= $0 } ?? false
        guard state.stageWindow.count == recipe.advanceWindow || outOfTime else { return }
        let total = state.stageWindow.reduce(0) { $0 + $1[0] }, right = state.stageWindow.reduce(0) { $0 + $1[1] }
        if outOfTime || (total > 0 && Double(right) / Double(total) >= recipe.advanceAccuracy) {
            state.stage += 1
            state.stageStarts.append(state.step)
            state.stageWindow = []
            onStage?(state.step, state.stage, recipe.effectiveStages[state.stage])
        }
    }

    /// Called when the curriculum moves to a new stage.
    public var onStage: ((Int, Int, CurriculumStage) -> Void)?

    /// The learning rate at the current step.
    public var learningRate: Float { schedule.rate(at: state.step) }
}
