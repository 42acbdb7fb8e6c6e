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
        let first = try group.read("first_moment", as: Float.self).values
        let second = try group.read("second_moment", as: Float.self).values
        guard first.count == model.layout.totalCount, second.count == model.layout.totalCount else {
            throw TrainingError.incompatibleResume("the optimizer state in \(path) has \(first.count) entries but the model has \(model.layout.totalCount) parameters")
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
            let window = try group.read("stage_window", as: Int32.self).values.map(Int.init)
            state.stageWindow = stride(from: 0, to: window.count - 1, by: 2).map { [window[$0], window[$0 + 1]] }
        }
        let history = (try root.stringAttribute("training_command") ?? "").split(separator: "\n").map(String.init)
        return (model, state, history)
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
