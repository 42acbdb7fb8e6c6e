import Foundation
import Testing
@testable import GraphTask
import HDF5
@testable import Training
@testable import Transformer

func tinyModelConfig() -> ModelConfig {
    ModelConfig(layers: 2, heads: 4, modelWidth: 32, headWidth: 8, mlpWidth: 64, relativeWindow: 16, names: 16, modulus: 23)
}

func tinyRecipe(steps: Int) -> TrainingRecipe {
    var r = TrainingRecipe()
    r.steps = steps
    r.batchSize = 16
    r.warmupSteps = 20
    r.learningRate = 3e-3
    r.minNodes = 4
    r.maxNodes = 6
    r.curriculumStartNodes = 4
    r.leaves = 3
    r.names = 16
    r.maxDepth = 3
    return r
}

@Suite struct OptimizerTests {
    @Test func adamWFirstStepMatchesHandComputation() throws {
        // One 2-D tensor gets weight decay, a bias does not. After one step, m̂ = g and v̂ = g²,
        // so the update is lr·(sign(g)·|g|/(|g|+ε) + λθ).
        let model = try Model(config: tinyModelConfig())
        var adam = AdamW(layout: model.layout, weightDecay: 0.1)
        let n = model.layout.totalCount
        var theta = [Float](repeating: 0.5, count: n)
        var gradient = [Float](repeating: 0, count: n)
        let matrix = try #require(model.layout.slot(named: "transformer.blocks.layer_0.attn.q_proj.weight"))
        let bias = try #require(model.layout.slot(named: "transformer.blocks.layer_0.attn.q_proj.bias"))
        gradient[matrix.offset] = 2
        gradient[bias.offset] = -3
        theta.withUnsafeMutableBufferPointer { t in
            gradient.withUnsafeBufferPointer { g in
                adam.update(parameters: t.baseAddress!, gradient: g.baseAddress!, learningRate: 0.01)
            }
        }
        #expect(abs(theta[matrix.offset] - (0.5 - 0.01 * (1 + 0.1 * 0.5))) < 1e-6)
        #expect(abs(theta[bias.offset] - (0.5 + 0.01)) < 1e-6)
        #expect(abs(theta[matrix.offset + 1] - (0.5 - 0.01 * 0.1 * 0.5)) < 1e-7)  // decay only
        #expect(theta[bias.offset + 1] == 0.5)  // no gradient, no decay
    }

    @Test func scheduleWarmsUpThenDecays() {
        let s = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, floor: 0.1)
        #expect(abs(s.rate(at: 0) - 1e-4) < 1e-9)
        #expect(abs(s.rate(at: 9) - 1e-3) < 1e-9)
        #expect(abs(s.rate(at: 60) - 0.55e-3) < 1e-8)  // halfway through the cosine
        #expect(abs(s.rate(at: 110) - 1e-4) < 1e-9)
    }

    /// `--warmup 0 --final-lr-fraction 1`: the authors' constant rate from the first step.
    @Test func aFinalFractionOfOneKeepsTheRateConstant() {
        let constant = LearningRateSchedule(peak: 1e-3, warmupSteps: 0, totalSteps: 100, floor: 1)
        #expect([0, 1, 50, 99, 100, 500].allSatisfy { constant.rate(at: $0) == 1e-3 })
        let warmed = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 100, floor: 1)
        #expect(abs(warmed.rate(at: 4) - 0.5e-3) < 1e-9 && warmed.rate(at: 10) == 1e-3 && warmed.rate(at: 99) == 1e-3)
    }

    @Test func badSettingsAreRejected() {
        var r = TrainingRecipe()
        r.steps = 0
        #expect(throws: TrainingError.self) { try r.validate() }
        r = TrainingRecipe()
        r.learningRate = .nan
        #expect(throws: TrainingError.self) { try r.validate() }
        r = TrainingRecipe()
        r.maxNodes = 4
        #expect(throws: TrainingError.self) { try r.validate() }
        for rate: Float in [1, -0.1, .nan, 1.5] {
            r = TrainingRecipe()
            r.dropout = rate
            #expect(throws: TrainingError.self) { try r.validate() }
        }
        r = TrainingRecipe()
        r.dropout = 0.1
        #expect((try? r.validate()) != nil)
        for rate: Float in [1, -0.1, .nan] {
            r = TrainingRecipe()
            r.attentionDropout = rate
            #expect(throws: TrainingError.self) { try r.validate() }
        }
        for fraction: Float in [1.5, -0.1, .nan] {
            r = TrainingRecipe()
            r.finalLearningRateFraction = fraction
            #expect(throws: TrainingError.self) { try r.validate() }
        }
    }

    /// Recipes saved before dropout existed (no "dropout" key) decode as dropout 0.
    @Test func recipesWithoutDropoutDecodeAsNoDropout() throws {
        let old = TrainingRecipe()
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(old)) as? [String: Any])
        #expect(json["dropout"] == nil)
        let decoded = try JSONDecoder().decode(TrainingRecipe.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(decoded.dropoutRate == 0)
        var with = TrainingRecipe()
        with.dropout = 0.1
        #expect(try JSONDecoder().decode(TrainingRecipe.self, from: JSONEncoder().encode(with)).dropoutRate == 0.1)
    }
}

@Suite struct TrainingDataTests {
    @Test func examplesAreConsistentStates() throws {
        var recipe = tinyRecipe(steps: 10)
        recipe.errorCorrection = 0
        let data = TrainingData(recipe: recipe)
        var rng = TaskRNG(seed: 3)
        for _ in 0..<50 {
            let e = data.example(nodes: 6, rng: &rng)
            #expect(e.input.count == e.target.count)
            for n in 0..<e.input.count {
                // Only slot values may differ, and only from EMPTY to a value.
                #expect(e.input[n].syntax == e.target[n].syntax && e.input[n].variable == e.target[n].variable)
                if e.input[n].value != e.target[n].value {
                    #expect(e.input[n].value == data.vocabulary.valueEmpty)
                    #expect(e.weights[n] == recipe.computableWeight)
                }
            }
        }
    }

    @Test func operandLookupSupervisesOperandsWhoseValuesAreKnown() throws {
        var recipe = tinyRecipe(steps: 10)
        recipe.operandLookup = true
        recipe.frontierFraction = 0
        let data = TrainingData(recipe: recipe)
        var rng = TaskRNG(seed: 5)
        var supervised = 0
        for _ in 0..<50 {
            let e = data.example(nodes: 6, rng: &rng)
            // Every operand occurrence that carries a value in the target has it from a filled
            // definition: that variable's value slot in the input holds the same value.
            var known: [Int32: Int32] = [:]
            for n in 1..<e.input.count where e.input[n].syntax == 0 && e.input[n - 1].syntax == 5 && e.input[n].value < 23 {
                known[e.input[n].variable] = e.input[n].value
            }
            for n in 1..<e.input.count where e.input[n].syntax == 0 && e.input[n - 1].syntax != 5 && e.target[n].value < 23 {
                #expect(known[e.input[n].variable] == e.target[n].value)
                #expect(e.weights[n] == recipe.computableWeight)
                supervised += 1
            }
        }
        #expect(supervised > 20)
    }

    /// `--every-iteration`: one graph gives its exact states t = 0 … depth in order, each
    /// example's target the next one's input, from all slots empty to all filled.
    @Test func everyIterationChainsAGraphsStates() throws {
        var recipe = tinyRecipe(steps: 10)
        recipe.everyIteration = true
        let data = TrainingData(recipe: recipe)
        let empty = data.vocabulary.valueEmpty
        var rng = TaskRNG(seed: 6)
        var deepest = 0
        for _ in 0..<20 {
            let chain = data.iterationExamples(nodes: 6, rng: &rng)
            deepest = max(deepest, chain.count - 1)
            #expect(chain.count >= 2 && chain.count <= recipe.maxDepth + 1)
            for (earlier, later) in zip(chain, chain.dropFirst()) { #expect(earlier.target == later.input) }
            // Slot positions: a variable (syntax 0) right after "=" (syntax 5).
            let slots = (1..<chain[0].input.count).filter { chain[0].input[$0].syntax == 0 && chain[0].input[$0 - 1].syntax == 5 }
            #expect(slots.allSatisfy { chain[0].input[$0].value == empty })
            #expect(slots.allSatisfy { chain[chain.count - 1].target[$0].value != empty })
            // Every step fills something, and only computed slots count as the hard positions.
            #expect(chain.allSatisfy { e in slots.contains { e.input[$0] != e.target[$0] } })
            #expect(chain[0].computedSlots.allSatisfy { !$0 })
        }
        #expect(deepest >= 2)
        // A batch holds batchSize graphs, each with all its iterations.
        let batch = data.batch(step: 0, rng: &rng)
        #expect(batch.batch > recipe.batchSize * 2 && batch.batch <= recipe.batchSize * (recipe.maxDepth + 1))
    }

    @Test func errorCorrectionCorruptsInputsOnly() throws {
        var recipe = tinyRecipe(steps: 10)
        recipe.errorCorrection = 1
        recipe.frontierFraction = 1
        let data = TrainingData(recipe: recipe)
        var rng = TaskRNG(seed: 4)
        var corrupted = 0
        for _ in 0..<20 {
            let e = data.example(nodes: 6, rng: &rng)
            for n in 0..<e.input.count where e.input[n].value < 23 && e.target[n].value < 23 && e.input[n].syntax == 0 {
                #expect(e.input[n].value != e.target[n].value)
                corrupted += 1
            }
        }
        #expect(corrupted > 0)
    }
}

@Suite(.serialized) struct TrainerTests {
    @Test func aTinyModelLearnsWellAboveChance() throws {
        let recipe = tinyRecipe(steps: 400)
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 1)
        let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: recipe, layout: model.layout))
        var first: TrainingWindow?, last: TrainingWindow?
        trainer.reportEvery = 50
        trainer.onReport = { _, w in if first == nil { first = w }; last = w }
        try trainer.run()
        let start = try #require(first), end = try #require(last)
        #expect(end.meanLoss < start.meanLoss * 0.5)
        // Positions the step must compute (leaf copies and sums): chance is about 1/23.
        #expect(end.computableAccuracy > 0.3)
        let evaluation = try Evaluator(leaves: 3).evaluate(model: model, nodes: 5, samples: 32)
        #expect(evaluation.nodeAccuracy > 0.3)
        // The operand-count breakdown covers every node once: 3 leaves and 2 computed nodes per graph.
        #expect(evaluation.nodesByOperands[0] == 3 * 32)
        #expect(evaluation.nodesByOperands.values.reduce(0, +) == 5 * 32)
        #expect(Set(evaluation.nodesByOperands.keys).isSubset(of: [0, 1, 2, 3]))
        let weighted = evaluation.byOperands.reduce(0.0) { $0 + $1.value * Double(evaluation.nodesByOperands[$1.key] ?? 0) }
        #expect(abs(weighted / Double(5 * 32) - evaluation.nodeAccuracy) < 1e-9)
        // One-step accuracy counts computed nodes only, and only those whose operands came out right.
        #expect(evaluation.nodesWithOperandsRight[0] == nil)
        for (k, n) in evaluation.nodesWithOperandsRight { #expect(n <= evaluation.nodesByOperands[k] ?? 0) }
        let copies = try Evaluator(leaves: 3, maxFanIn: 1).evaluate(model: model, nodes: 5, samples: 8)
        #expect(Set(copies.nodesByOperands.keys) == [0, 1])
        // Zero-ablating every head of both layers is the model with both output projections zeroed:
        // the same numbers, and far below the intact model (no position sees another).
        var ablating = Evaluator(leaves: 3)
        ablating.ablatedHeads = [0: [0, 1, 2, 3], 1: [0, 1, 2, 3]]
        let ablated = try ablating.evaluate(model: model, nodes: 5, samples: 32)
        for layer in 0..<2 {
            let slot = try #require(model.layout.slot(named: "transformer.blocks.layer_\(layer).attn.o_proj.weight"))
            model.parameterPointer.advanced(by: slot.offset).update(repeating: 0, count: slot.count)
        }
        let silenced = try Evaluator(leaves: 3).evaluate(model: model, nodes: 5, samples: 32)
        #expect(ablated.nodeAccuracy == silenced.nodeAccuracy && ablated.byDepth == silenced.byDepth)
        #expect(ablated.nodeAccuracy < evaluation.nodeAccuracy - 0.1, "\(ablated.nodeAccuracy) vs \(evaluation.nodeAccuracy)")
    }

    @Test func resumeContinuesBitForBit() throws {
        try checkResumeContinuesBitForBit(recipe: tinyRecipe(steps: 30))
    }

    /// With dropout the masks of every step must also be the same after the resume.
    @Test func resumeContinuesBitForBitWithDropout() throws {
        var recipe = tinyRecipe(steps: 30)
        recipe.dropout = 0.1
        try checkResumeContinuesBitForBit(recipe: recipe)
    }

    /// The authors' step: attention-weight dropout and every iteration of each graph.
    @Test func resumeContinuesBitForBitWithAttentionDropoutAndEveryIteration() throws {
        var recipe = tinyRecipe(steps: 30)
        recipe.batchSize = 4
        recipe.attentionDropout = 0.1
        recipe.everyIteration = true
        try checkResumeContinuesBitForBit(recipe: recipe)
    }

    /// The parameters after five steps of a tiny run from fixed initial weights, its recipe
    /// changed by `change`.
    func parametersAfterFiveSteps(_ change: (inout TrainingRecipe) -> Void) throws -> [Float] {
        var recipe = tinyRecipe(steps: 5)
        change(&recipe)
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 2)
        try Trainer(model: model, state: Trainer.freshState(recipe: recipe, layout: model.layout)).run()
        return model.parameters
    }

    /// Output dropout and attention dropout each change training, and each at rate 0 is exactly
    /// no dropout.
    @Test(arguments: [\TrainingRecipe.dropout, \TrainingRecipe.attentionDropout])
    func dropoutChangesTrainingAndRateZeroDoesNot(rate: WritableKeyPath<TrainingRecipe, Float?> & Sendable) throws {
        func train(_ value: Float?) throws -> [Float] { try parametersAfterFiveSteps { $0[keyPath: rate] = value } }
        let plain = try train(nil)
        #expect(try train(0) == plain)
        #expect(try train(0.1) != plain)
    }

    /// An attention temperature or an entropy bonus mid-anneal, saved in the recipe, gives the
    /// same steps after a resume (each anneal ends at step 20 of 30, so the resume crosses both
    /// sides of its end).
    @Test func resumeContinuesBitForBitMidAnneal() throws {
        var hot = tinyRecipe(steps: 30), soft = hot
        hot.attentionTemperature = AttentionTemperature(initial: 3, steps: 20)
        soft.attentionEntropyBonus = AttentionEntropyBonus(initial: 0.05, steps: 20)
        for recipe in [hot, soft] { try checkResumeContinuesBitForBit(recipe: recipe) }
    }

    /// The anneal reaches training while it runs, and outside it (τ = 1) the run is exactly the
    /// run without one.
    @Test func anAttentionTemperatureChangesTrainingOnlyWhileItAnneals() throws {
        func train(_ anneal: AttentionTemperature?) throws -> [Float] {
            try parametersAfterFiveSteps { $0.attentionDropout = 0.1; $0.attentionTemperature = anneal }
        }
        let plain = try train(nil)
        #expect(try train(AttentionTemperature(initial: 3, steps: 10, fromStep: 100)) == plain)
        #expect(try train(AttentionTemperature(initial: 1, steps: 10)) == plain)
        #expect(try train(AttentionTemperature(initial: 3, steps: 10)) != plain)
    }

    /// The entropy bonus reaches training while it runs, and outside it (λ = 0) the run is
    /// exactly the run without one.
    @Test func anEntropyBonusChangesTrainingOnlyWhileItAnneals() throws {
        func train(_ anneal: AttentionEntropyBonus?) throws -> [Float] {
            try parametersAfterFiveSteps { $0.attentionEntropyBonus = anneal }
        }
        let plain = try train(nil)
        #expect(try train(AttentionEntropyBonus(initial: 0.05, steps: 10, fromStep: 100)) == plain)
        #expect(try train(AttentionEntropyBonus(initial: 0.05, steps: 10)) != plain)
    }

    /// λ falls linearly to 0 and stays there; the recipe refuses impossible ones.
    @Test func theEntropyBonusAnnealsLinearlyToZero() throws {
        let anneal = AttentionEntropyBonus(initial: 0.04, steps: 100, fromStep: 50)
        #expect(anneal.value(at: 0) == 0 && anneal.value(at: 50) == 0.04 && anneal.value(at: 100) == 0.02)
        #expect(anneal.value(at: 149) > 0 && anneal.value(at: 150) == 0 && anneal.value(at: 10_000) == 0)
        #expect(AttentionEntropyBonus("0.01:15000") == AttentionEntropyBonus(initial: 0.01, steps: 15_000))
        #expect(anneal.description == "0.04 → 0 over 100 steps from step 50")
        for bad in [AttentionEntropyBonus(initial: 0, steps: 10), AttentionEntropyBonus(initial: -1, steps: 10),
                    AttentionEntropyBonus(initial: 11, steps: 10), AttentionEntropyBonus(initial: .infinity, steps: 10),
                    AttentionEntropyBonus(initial: 0.1, steps: 0)] {
            var recipe = tinyRecipe(steps: 5)
            recipe.attentionEntropyBonus = bad
            #expect(throws: TrainingError.self) { try recipe.validate() }
        }
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(tinyRecipe(steps: 5))) as? [String: Any]
        #expect(json?["attentionEntropyBonus"] == nil)
    }

    /// τ falls linearly from its start to 1 and stays there; the recipe refuses impossible ones.
    @Test func theAttentionTemperatureAnnealsLinearlyToOne() throws {
        let anneal = AttentionTemperature(initial: 3, steps: 100, fromStep: 50)
        #expect(anneal.value(at: 0) == 1)
        #expect(anneal.value(at: 50) == 3)
        #expect(anneal.value(at: 100) == 2)
        #expect(anneal.value(at: 149) > 1)
        #expect(anneal.value(at: 150) == 1)
        #expect(anneal.value(at: 10_000) == 1)
        #expect(AttentionTemperature("3:15000") == AttentionTemperature(initial: 3, steps: 15_000))
        #expect(AttentionTemperature("3") == nil && AttentionTemperature("x:5") == nil && AttentionTemperature("3:5:1") == nil)
        for bad in [AttentionTemperature(initial: 0, steps: 10), AttentionTemperature(initial: .nan, steps: 10),
                    AttentionTemperature(initial: 2, steps: 0)] {
            var recipe = tinyRecipe(steps: 5)
            recipe.attentionTemperature = bad
            #expect(throws: TrainingError.self) { try recipe.validate() }
        }
        // Recipes saved before it existed decode without one.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(tinyRecipe(steps: 5))) as? [String: Any]
        #expect(json?["attentionTemperature"] == nil)
    }

    func checkResumeContinuesBitForBit(recipe: TrainingRecipe) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lens-resume-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.h5").path

        let straight = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 2)
        try Trainer(model: straight, state: Trainer.freshState(recipe: recipe, layout: straight.layout)).run()

        let interrupted = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 2)
        let first = try Trainer(model: interrupted, state: Trainer.freshState(recipe: recipe, layout: interrupted.layout))
        first.onCheckpoint = { model, state in
            try TrainingStateFile.save(model: model, state: state, history: ["test"], to: path, includeOptimizer: true)
            return path
        }
        try first.run(stopAfter: 13)
        // Resume files are stored shuffled and gzipped (weights and moments alike).
        let file = try H5File.open(path)
        let datasets = try file.tree().filter { $0.kind == .dataset && $0.path != "/training_state/stage_window" }
        file.close()
        #expect(datasets.count > 2)
        #expect(datasets.allSatisfy { $0.compression == TrainingStateFile.resumeCompression })
        let (model, state, history) = try TrainingStateFile.load(path)
        #expect(state.step == 13)
        #expect(history == ["test"])
        try Trainer(model: model, state: state).run()
        #expect(model.parameters == straight.parameters)
    }

    @Test func aNonFiniteLossStopsTrainingAndNamesTheLastCheckpoint() throws {
        var recipe = tinyRecipe(steps: 50)
        recipe.learningRate = 1e30
        recipe.warmupSteps = 0
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lens-nan-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.h5").path
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 3)
        let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: recipe, layout: model.layout))
        trainer.checkpointEvery = 1
        trainer.onCheckpoint = { model, state in
            try TrainingStateFile.save(model: model, state: state, history: [], to: path, includeOptimizer: true)
            return path
        }
        do {
            try trainer.run()
            Issue.record("training with a learning rate of 1e30 should have stopped on a non-finite loss")
        } catch TrainingError.nonFiniteLoss(let step, let checkpoint) {
            #expect(step < 50)
            #expect(checkpoint == path)
            // The checkpoint it names is complete and loads (it holds only finite tensors).
            let (_, state, _) = try TrainingStateFile.load(path)
            #expect(state.step <= step)
        }
    }

    @Test func aStageEndsAfterItsStepLimitEvenWithoutCompetence() throws {
        var recipe = tinyRecipe(steps: 14)
        recipe.stages = [CurriculumStage(leaves: 2, minNodes: 3, maxNodes: 4), CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 6),
                         CurriculumStage(leaves: 3, minNodes: 5, maxNodes: 6)]
        recipe.advanceAccuracy = 1.0
        recipe.maxStageSteps = 5
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 4)
        let trainer = try Trainer(model: model, state: Trainer.freshState(recipe: recipe, layout: model.layout))
        var advances: [(Int, Int)] = []
        trainer.onStage = { step, stage, _ in advances.append((step, stage)) }
        try trainer.run()
        #expect(advances.map(\.1) == [1, 2])
        #expect(trainer.state.stageStarts.count == 2)
        #expect(trainer.state.stageStarts[1] - trainer.state.stageStarts[0] == 5)
    }

    /// `max_nodes` says what the model has seen, not where the curriculum ends.
    @Test func maxNodesRecordsTheLargestGraphTrainedSoFar() throws {
        var recipe = tinyRecipe(steps: 1)
        recipe.follow([CurriculumStage(leaves: 2, minNodes: 3, maxNodes: 5), CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 4),
                       CurriculumStage(leaves: 3, minNodes: 5, maxNodes: 6)])
        #expect(recipe.largestTrainedNodes(throughStage: 0) == 5)
        #expect(recipe.largestTrainedNodes(throughStage: 1) == 5)
        #expect(recipe.largestTrainedNodes(throughStage: 2) == 6)
        let model = try Model.randomlyInitialised(config: tinyModelConfig(), seed: 4)
        var state = Trainer.freshState(recipe: recipe, layout: model.layout)
        state.stage = 1
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lens-maxnodes-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TrainingStateFile.save(model: model, state: state, history: [], to: path, includeOptimizer: false)
        let file = try H5File.open(path)
        defer { file.close() }
        #expect(try file.root.doubleAttribute("max_nodes") == 5)
        #expect(try file.root.doubleAttribute("planned_max_nodes") == 6)
    }
    @Test func aCopyStageDrawsOnlySingleOperandEquations() throws {
        let stage = try #require(CurriculumStage.parse("4:5-8/1"))
        #expect(stage == CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 8, maxFanIn: 1))
        #expect(CurriculumStage.parse("4:5-8")?.maxFanIn == 3)
        #expect(CurriculumStage.parse("4:5-8/x") == nil)
        #expect(CurriculumStage.parse("2:3-4/1@8") == CurriculumStage(leaves: 2, minNodes: 3, maxNodes: 4, maxFanIn: 1, names: 8))
        #expect(CurriculumStage.parse("2:3-4@8")?.names == 8)
        #expect(CurriculumStage.parse("2:3-4/1@") == nil)
        var recipe = tinyRecipe(steps: 1)
        recipe.stages = [stage, CurriculumStage(leaves: 4, minNodes: 6, maxNodes: 8)]
        try recipe.validate()
        let data = TrainingData(recipe: recipe)
        var rng = TaskRNG(seed: 9)
        var fanIns = Set<Int>()
        for _ in 0..<50 {
            let (program, _) = data.graph(nodes: 8, leaves: 4, maxFanIn: 1, rng: &rng)
            for equation in program.equations where !equation.isLeaf { fanIns.insert(equation.operands.count) }
        }
        #expect(fanIns == [1])
        var used = Set<Int>()
        for _ in 0..<50 {
            let (program, _) = data.graph(nodes: 6, leaves: 2, maxFanIn: 3, names: 8, rng: &rng)
            for equation in program.equations { used.insert(equation.target) }
        }
        #expect(used == Set(0..<8))
        recipe.stages = [CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 9, names: 8)]
        #expect(throws: TrainingError.self) { try recipe.validate() }
        // Old checkpoints stored stages without a fan-in: they mean the full range.
        let old = try JSONDecoder().decode(CurriculumStage.self, from: Data(#"{"leaves":2,"minNodes":3,"maxNodes":5}"#.utf8))
        #expect(old.maxFanIn == 3)
        recipe.stages = [CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 8, maxFanIn: 4)]
        #expect(throws: TrainingError.self) { try recipe.validate() }
    }

    @Test func aSumsStageDrawsOnlyEquationsWithItsFanInRange() throws {
        let stage = try #require(CurriculumStage.parse("3:4-6/2-2"))
        #expect(stage == CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 6, maxFanIn: 2, minFanIn: 2))
        #expect(CurriculumStage.parse("3:4-6/2-3@8") == CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 6, maxFanIn: 3, minFanIn: 2, names: 8))
        #expect(CurriculumStage.parse("3:4-6/2-") == nil)
        #expect(CurriculumStage.parse("3:4-6/1-2-3") == nil)
        var recipe = tinyRecipe(steps: 1)
        recipe.stages = [stage]
        try recipe.validate()
        let data = TrainingData(recipe: recipe)
        var rng = TaskRNG(seed: 5)
        var fanIns = Set<Int>()
        for _ in 0..<50 {
            let (program, _) = data.graph(nodes: 6, leaves: 3, maxFanIn: 3, minFanIn: 2, rng: &rng)
            for equation in program.equations where !equation.isLeaf { fanIns.insert(equation.operands.count) }
        }
        #expect(fanIns == [2, 3])
        // A minimum above the maximum, or more operands than there are leaves: refused.
        recipe.stages = [CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 6, maxFanIn: 2, minFanIn: 3)]
        #expect(throws: TrainingError.self) { try recipe.validate() }
        recipe.stages = [CurriculumStage(leaves: 1, minNodes: 4, maxNodes: 6, maxFanIn: 2, minFanIn: 2)]
        #expect(throws: TrainingError.self) { try recipe.validate() }
    }

    @Test func aSkewedStageDrawsSmallLeafValuesMoreOften() throws {
        let stage = try #require(CurriculumStage.parse("4:5-8/1-3@16~0.5"))
        #expect(stage == CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 8, maxFanIn: 3, minFanIn: 1, names: 16, leafValueDecay: 0.5))
        #expect(CurriculumStage.parse("4:5-8~0.9")?.leafValueDecay == 0.9)
        #expect(CurriculumStage.parse("4:5-8~") == nil)
        #expect(CurriculumStage.parse("4:5-8~0.9~0.8") == nil)
        // Stages saved before the decay existed decode as uniform; a saved decay round-trips.
        let old = try JSONDecoder().decode(CurriculumStage.self, from: Data(#"{"leaves":2,"minNodes":3,"maxNodes":5}"#.utf8))
        #expect(old.leafValueDecay == nil)
        #expect(try JSONDecoder().decode(CurriculumStage.self, from: JSONEncoder().encode(stage)) == stage)
        var recipe = tinyRecipe(steps: 1)
        recipe.stages = [stage]
        try recipe.validate()
        // With decay 0.5, P(0) ≈ 0.5 and P(v ≥ 4) ≈ 0.06: 400 leaves tell them apart at once.
        let data = TrainingData(recipe: recipe)
        var rng = TaskRNG(seed: 3)
        var values: [Int] = []
        for _ in 0..<100 {
            let batch = data.graph(nodes: 8, leaves: 4, maxFanIn: 3, names: 16, leafValueDecay: 0.5, rng: &rng).0
            values += batch.equations.compactMap(\.literal)
        }
        #expect(values.count == 400)
        #expect(values.filter { $0 == 0 }.count > 160 && values.filter { $0 >= 4 }.count < 50)
        // Batches draw their literals with the stage's decay (literal tokens: syntax `value`).
        func literals(_ stages: [CurriculumStage]) -> [Int32] {
            var r = recipe
            r.stages = stages
            r.batchSize = 64
            var batchRNG = TaskRNG(seed: 8)
            let batch = TrainingData(recipe: r).batch(step: 0, stage: 0, rng: &batchRNG)
            return stride(from: 0, to: batch.inputs.count, by: 4).filter { batch.inputs[$0] == Vocabulary.Syntax.value }
                .map { batch.inputs[$0 + 3] }
        }
        let skewed = literals([stage]), uniform = literals([CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 8, names: 16)])
        #expect(skewed.count == 256 && uniform.count == 256)  // 64 graphs of 4 leaves each
        #expect(skewed.filter { $0 == 0 }.count * 4 > skewed.count && uniform.filter { $0 == 0 }.count * 8 < uniform.count)
        recipe.stages = [CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 8, leafValueDecay: 0)]
        #expect(throws: TrainingError.self) { try recipe.validate() }
    }
}
