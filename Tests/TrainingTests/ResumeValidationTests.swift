import Foundation
import HDF5
import Testing
@testable import Training
@testable import Transformer

/// Crafted resume states: every field is checked when the state is loaded
/// (TrainingStateFile.validate), so none loops forever, trains backwards or claims a model it
/// never writes.
@Suite struct ResumeValidationTests {
    /// A genuine resume state of 3 steps, written into a fresh directory.
    static func genuineState(in directory: String) throws -> String {
        let path = directory + "/state.h5"
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 2)
        let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: tinyRecipe(steps: 10), layout: model.layout))
        trainer.checkpointEvery = 3
        trainer.onCheckpoint = { model, state in
            try TrainingStateFile.save(model: model, state: state, history: ["test"], to: path, includeOptimizer: true)
            return path
        }
        try trainer.run(stopAfter: 3)
        return path
    }

    /// The message of loading the state after `edit` changed it ("loaded" when it loads).
    func loadMessage(_ edit: (H5Group, H5Group) throws -> Void) throws -> String {
        let directory = NSTemporaryDirectory() + "lens-resume-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try Self.genuineState(in: directory)
        let file = try H5File.open(path, mode: .readWrite)
        try edit(file.root, try file.root.group("training_state"))
        file.close()
        do {
            _ = try TrainingStateFile.load(path)
            return "loaded"
        } catch let error as TrainingError {
            return error.description
        }
    }

    /// Rewrites one field of the stored recipe JSON.
    func editRecipe(_ root: H5Group, _ key: String, _ value: Any) throws {
        let text = try #require(try root.stringAttribute("training_recipe"))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        object[key] = value
        try root.setAttribute("training_recipe", String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    }

    @Test func theGenuineStateLoads() throws {
        #expect(try loadMessage { _, _ in } == "loaded")
    }

    @Test func aNegativeStepIsRefused() throws {
        let message = try loadMessage { _, state in try state.setAttribute("step", -5) }
        #expect(message.contains("the step is -5"), "\(message)")
    }

    @Test func aNegativeStageIsRefused() throws {
        let message = try loadMessage { _, state in try state.setAttribute("stage", -1) }
        #expect(message.contains("the curriculum stage is -1"), "\(message)")
    }

    @Test func aStageBeyondTheCurriculumIsRefused() throws {
        let message = try loadMessage { _, state in try state.setAttribute("stage", 7) }
        #expect(message.contains("the curriculum stage is 7"), "\(message)")
    }

    @Test func anAllZeroGeneratorStateIsRefused() throws {
        let message = try loadMessage { _, state in try state.setAttribute("rng_state", [0, 0, 0, 0]) }
        #expect(message.contains("all zero"), "\(message)")
    }

    @Test func aNegativeLearningRateIsRefused() throws {
        let message = try loadMessage { root, _ in try editRecipe(root, "learningRate", -0.001) }
        #expect(message.contains("--lr must be a positive number"), "\(message)")
    }

    @Test func aNegativeWeightDecayIsRefused() throws {
        let message = try loadMessage { root, _ in try editRecipe(root, "weightDecay", -1) }
        #expect(message.contains("--weight-decay must be a non-negative number"), "\(message)")
    }

    @Test func aHugeBatchIsRefused() throws {
        let message = try loadMessage { root, _ in try editRecipe(root, "batchSize", 1 << 40) }
        #expect(message.contains("--batch must lie in 1...65536"), "\(message)")
    }

    @Test func aStepBeyondTheRecipeIsRefused() throws {
        let message = try loadMessage { _, state in try state.setAttribute("step", 1_000) }
        #expect(message.contains("the step is 1000, expected 0...10"), "\(message)")
    }

    @Test func aNegativeOptimizerStepIsRefused() throws {
        let message = try loadMessage { _, state in try state.setAttribute("optimizer_step", -1) }
        #expect(message.contains("the optimizer step is -1"), "\(message)")
    }

    @Test func momentsOfAnotherSizeAreRefusedBeforeTheyAreRead() throws {
        let message = try loadMessage { _, state in
            try state.remove("first_moment")
            let moment = try state.createExtendableDataset("first_moment", of: Float.self, rowShape: [1], chunkRows: 1 << 16)
            try moment.resize(rows: 1 << 40)
        }
        #expect(message.contains("does not fit the model's"), "\(message)")
    }

    @Test func negativeElapsedTimeIsRefused() throws {
        let message = try loadMessage { _, state in try state.setAttribute("elapsed_seconds", -.infinity) }
        #expect(message.contains("elapsed_seconds"), "\(message)")
    }
}
