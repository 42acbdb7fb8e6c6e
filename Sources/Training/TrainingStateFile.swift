import Foundation
import HDF5
import Transformer

/// Checkpoints of a training run: the model in the standard checkpoint format, its recipe and
/// history as root attributes, and (for resumable files) a `/training_state` group with the
/// AdamW moments, the step and the data generator's state.
public enum TrainingStateFile {
    /// The gzip level of resume files (weights and Adam moments, byte-shuffled first).
    static let resumeCompression = 6

    /// Writes the checkpoint atomically; `includeOptimizer` adds what `--resume` needs;
    /// `extraAttributes` become root attributes too (the latest mechanism measures).
    public static func save(model: Model, state: TrainingState, history: [String], to path: String,
                            includeOptimizer: Bool, extraAttributes: [String: String] = [:]) throws {
        let recipeJSON = String(decoding: try JSONEncoder.sorted.encode(state.recipe), as: UTF8.self)
        let attributes: [String: String] = extraAttributes.merging([
            "training_recipe": recipeJSON,
            "training_command": history.joined(separator: "\n"),
            "source": "lens train",
        ]) { _, own in own }
        let numeric: [String: Double] = [
            "training_steps": Double(state.step),
            "training_seconds": state.elapsedSeconds.rounded(),
            "training_tokens": Double(state.tokensSeen),
            // The largest graph trained on so far; the plan's last stage may be larger.
            "max_nodes": Double(state.recipe.largestTrainedNodes(throughStage: state.stage)),
            "planned_max_nodes": Double(state.recipe.maxNodes),
            "max_depth": Double(state.recipe.maxDepth),
            "seed": Double(state.recipe.seed),
            "curriculum_stage": Double(state.stage),
            // Through the Float's shortest text, so h5py shows 0.1 rather than 0.10000000149.
            "dropout": Double(String(state.recipe.dropoutRate)) ?? Double(state.recipe.dropoutRate),
            "attention_dropout": Double(String(state.recipe.attentionDropoutRate)) ?? Double(state.recipe.attentionDropoutRate),
        ]
        // Resume files are three times the model and are committed beside it (models/): shuffled and
        // gzipped they fit under the repository's 20 MiB per file (22.3 → 18.6 MiB), for ≈ 1 s a save.
        let compression = includeOptimizer ? resumeCompression : nil
        try Checkpoint.save(model, to: path, attributes: attributes, numericAttributes: numeric, compression: compression) { root in
            guard includeOptimizer else { return }
            let group = try root.createGroup("training_state")
            try group.write("first_moment", state.optimizer.firstMoment, shape: [state.optimizer.firstMoment.count],
                            compression: compression, shuffle: true)
            try group.write("second_moment", state.optimizer.secondMoment, shape: [state.optimizer.secondMoment.count],
                            compression: compression, shuffle: true)
            try group.setAttribute("step", state.step)
            try group.setAttribute("optimizer_step", state.optimizer.step)
            try group.setAttribute("rng_state", state.rngState.map { Int(Int64(bitPattern: $0)) })
            try group.setAttribute("elapsed_seconds", state.elapsedSeconds)
            try group.setAttribute("tokens_seen", state.tokensSeen)
            try group.setAttribute("stage", state.stage)
            if !state.stageStarts.isEmpty { try group.setAttribute("stage_starts", state.stageStarts) }
            let window = state.stageWindow.flatMap { $0 }
            if !window.isEmpty { try group.write("stage_window", window.map { Int32($0) }, shape: [window.count / 2, 2]) }
        }
    }

    /// Loads a resumable checkpoint: the model, the state to continue from and the command history.
    public static func load(_ path: String) throws -> (Model, TrainingState, [String]) {
        let model = try Checkpoint.load(path)
        let file = try H5File.open(path)
        defer { file.close() }
        let root = file.root
        guard root.contains("training_state") else {
            throw TrainingError.incompatibleResume("\(path) holds no training_state group; resume from the .resume.h5 file that lens train writes next to the model")
        }
        guard let recipeText = try root.stringAttribute("training_recipe"),
              let recipe = try? JSONDecoder().decode(TrainingRecipe.self, from: Data(recipeText.utf8)) else {
            throw TrainingError.incompatibleResume("\(path) has no readable training_recipe attribute")
        }
        let group = try root.group("training_state")
        // Shapes first, so a crafted file cannot make us allocate more than the model's size.
        for name in ["first_moment", "second_moment"] {
            do {
                try CheckpointValidation.checkDataset(name, in: group, shape: [model.layout.totalCount], file: path)
            } catch {
                throw TrainingError.incompatibleResume("the optimizer state in \(path) does not fit the model's \(model.layout.totalCount) parameters: \(error)")
            }
        }
        let first = try group.read("first_moment", as: Float.self).values
        let second = try group.read("second_moment", as: Float.self).values
        if let i = first.firstIndex(where: { !$0.isFinite }) ?? second.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw TrainingError.incompatibleResume("the optimizer state in \(path) holds a non-finite (or negative second) moment at index \(i)")
        }
        guard let step = try group.intAttribute("step"), let optimizerStep = try group.intAttribute("optimizer_step"),
              case .ints(let rngBits)? = try group.attribute("rng_state"), rngBits.count == 4 else {
            throw TrainingError.incompatibleResume("\(path) lacks the step or generator state of the run")
        }
        var optimizer = AdamW(layout: model.layout, weightDecay: recipe.weightDecay)
        optimizer.firstMoment = first
        optimizer.secondMoment = second
        optimizer.step = optimizerStep
        var state = TrainingState(step: step, rngState: rngBits.map { UInt64(bitPattern: Int64($0)) },
                                  optimizer: optimizer, recipe: recipe,
                                  elapsedSeconds: try group.doubleAttribute("elapsed_seconds") ?? 0,
                                  tokensSeen: try group.intAttribute("tokens_seen") ?? 0)
        state.stage = try group.intAttribute("stage") ?? 0
        if case .ints(let starts)? = try group.attribute("stage_starts") { state.stageStarts = starts }
        if group.contains("stage_window") {
            let dataset = try group.dataset("stage_window")
            guard dataset.elementType == .int32, dataset.shape.count == 2, dataset.shape[1] == 2,
                  dataset.shape[0] <= recipe.advanceWindow else {
                throw TrainingError.incompatibleResume("\(path): /training_state/stage_window has type \(dataset.elementType) and shape \(dataset.shape), expected int32 [at most \(recipe.advanceWindow), 2]")
            }
            let window = try dataset.read(as: Int32.self).values.map(Int.init)
            state.stageWindow = stride(from: 0, to: window.count - 1, by: 2).map { [window[$0], window[$0 + 1]] }
        }
        try validate(state, model: model, path: path)
        let history = (try root.stringAttribute("training_command") ?? "").split(separator: "\n").map(String.init)
        return (model, state, history)
    }
}

extension TrainingStateFile {
    /// Throws `incompatibleResume` naming the first field of a loaded resume state that no run
    /// could have written: a crafted or corrupted state would otherwise loop forever, train
    /// with a nonsensical recipe, or index outside the curriculum.
    static func validate(_ state: TrainingState, model: Model, path: String) throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.incompatibleResume("\(path): \(message)") }
        }
        let recipe = state.recipe
        do { try recipe.validate() } catch {
            throw TrainingError.incompatibleResume("\(path) holds a training_recipe that cannot run: \(error)")
        }
        try check(recipe.names == model.config.names && recipe.modulus == model.config.modulus,
                  "the recipe's names and modulus (\(recipe.names), \(recipe.modulus)) differ from the model's (\(model.config.names), \(model.config.modulus))")
        try check(state.step >= 0 && state.step <= recipe.steps, "the step is \(state.step), expected 0...\(recipe.steps) (the recipe's steps)")
        try check(state.optimizer.step >= 0 && state.optimizer.step <= TrainingRecipe.maximumSteps,
                  "the optimizer step is \(state.optimizer.step), expected 0...\(TrainingRecipe.maximumSteps)")
        // xoshiro256** never leaves the all-zero state: every draw would be 0 and graph
        // generation would redraw forever.
        try check(state.rngState.contains { $0 != 0 }, "the data generator's state (rng_state) is all zero, which no run writes")
        try check(state.elapsedSeconds.isFinite && state.elapsedSeconds >= 0, "elapsed_seconds is \(state.elapsedSeconds), expected a non-negative number")
        try check(state.tokensSeen >= 0, "tokens_seen is \(state.tokensSeen), expected a non-negative count")
        let stages = recipe.effectiveStages.count
        try check(state.stage >= 0 && state.stage < stages, "the curriculum stage is \(state.stage), expected 0..<\(stages) (the recipe's stages)")
        try check(state.stageStarts.count <= state.stage && zip(state.stageStarts, state.stageStarts.dropFirst()).allSatisfy { $0 <= $1 }
                  && state.stageStarts.allSatisfy { (0...state.step).contains($0) },
                  "stage_starts \(state.stageStarts.prefix(8)) must be at most \(state.stage) ascending steps within 0...\(state.step)")
        try check(state.stageWindow.allSatisfy { $0.count == 2 && $0[0] >= 0 && (0...$0[0]).contains($0[1]) },
                  "stage_window must hold (counted, correct) pairs with 0 ≤ correct ≤ counted")
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so stored JSON is stable.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
