import Testing
@testable import Training
@testable import Transformer

/// How a run ends early: `Trainer.run`'s `shouldStop` (lens train hands it a signal flag).
@Suite struct TrainerStopTests {
    @Test func aStopEndsTheRunAfterTheCurrentStepWithItsCheckpoint() throws {
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 2)
        let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: tinyRecipe(steps: 10), layout: model.layout))
        trainer.checkpointEvery = 100
        var checkpoints: [Int] = []
        trainer.onCheckpoint = { _, state in
            checkpoints.append(state.step)
            return "step \(state.step)"
        }
        var asked = 0
        let last = try trainer.run(shouldStop: {
            asked += 1
            return asked == 3
        })
        #expect(trainer.state.step == 3)
        #expect(checkpoints == [3])
        #expect(last == "step 3")
        #expect(asked == 3)
    }

    @Test func withoutAStopTheRunReachesItsLastStep() throws {
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 2)
        let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: tinyRecipe(steps: 4), layout: model.layout))
        var checkpoints: [Int] = []
        trainer.onCheckpoint = { _, state in
            checkpoints.append(state.step)
            return ""
        }
        try trainer.run()
        #expect(trainer.state.step == 4 && checkpoints == [4])
    }
}

/// `CurriculumStage.text` spells a stage as `lens train --curriculum` reads it.
@Suite struct CurriculumStageTextTests {
    @Test func theTextOfAStageParsesBackToIt() {
        for text in ["2:3-5", "4:5-8/1", "2:3-4/1@8", "3:4-6/2-2", "4:5-8/1-3@16~0.9", "6:8-32"] {
            let stage = CurriculumStage.parse(text)
            #expect(stage != nil, "\(text)")
            if let stage {
                #expect(CurriculumStage.parse(stage.text) == stage, "\(text) → \(stage.text)")
            }
        }
        #expect(TrainingRecipe.defaultStages.map(\.text).joined(separator: ",") == "2:3-5,3:4-8,4:5-12,6:7-16,6:8-24,6:8-32")
    }
}
