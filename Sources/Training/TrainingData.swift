import GraphTask
import Transformer

/// One supervised example: input and target tokens of one graph state, and loss weights.
public struct TrainingExample: Sendable {
    public var input: [FactorToken]
    public var target: [FactorToken]
    public var weights: [Float]
    /// Slots of computed (non-leaf) nodes that this step must fill: the hard positions.
    public var computedSlots: [Bool]
}

/// Draws training examples on the fly from a seeded generator (no data files).
public struct TrainingData: Sendable {
    public let recipe: TrainingRecipe
    public let vocabulary: Vocabulary

    public init(recipe: TrainingRecipe) {
        self.recipe = recipe
        vocabulary = Vocabulary(names: recipe.names, modulus: recipe.modulus)
    }

    /// A random graph of `nodes` nodes, redrawn until its depth is at most `recipe.maxDepth` (never
    /// needed when the recipe caps the depth by the operands' depth).
    func graph(nodes: Int, leaves: Int, maxFanIn: Int, minFanIn: Int = 1, names: Int? = nil, leafValueDecay: Double? = nil,
               rng: inout TaskRNG) -> (Program, Solution) {
        let generator = GraphGenerator(nodes: nodes, leaves: leaves, names: names ?? recipe.names, modulus: recipe.modulus,
                                       maxFanIn: maxFanIn, minFanIn: minFanIn, leafValueDecay: leafValueDecay,
                                       parentDepthLimit: recipe.depthCappedByParents == true ? recipe.maxDepth : nil)
        while true {
            guard let program = try? generator.generate(using: &rng), let solution = try? program.solve() else { continue }
            if solution.maxDepth <= recipe.maxDepth { return (program, solution) }
        }
    }

    /// A graph size for step `step` in `stage`, uniform over the sizes allowed then.
    func nodeCount(step: Int, stage: CurriculumStage, rng: inout TaskRNG) -> Int {
        var upper = stage.maxNodes
        if recipe.stages.isEmpty { upper = recipe.maxNodes(at: step) }
        return stage.minNodes + rng.below(upper - stage.minNodes + 1)
    }

    /// One example with a graph of `nodes` nodes, `leaves` leaves, fan-in `minFanIn`…`maxFanIn`,
    /// names from the first `names` of the vocabulary (nil: all) and leaf values ∝ `leafValueDecay`^v
    /// (nil: uniform).
    public func example(nodes: Int, leaves: Int? = nil, maxFanIn: Int = 3, minFanIn: Int = 1, names: Int? = nil,
                        leafValueDecay: Double? = nil, rng: inout TaskRNG) -> TrainingExample {
        let (program, solution) = graph(nodes: nodes, leaves: leaves ?? recipe.leaves, maxFanIn: maxFanIn, minFanIn: minFanIn,
                                        names: names, leafValueDecay: leafValueDecay, rng: &rng)
        let count = program.equations.count
        var filled = [Bool](repeating: false, count: count)
        if rng.unitFloat() < recipe.frontierFraction {
            // A closed random state: a node may be filled only once all its operands are.
            let density = rng.unitFloat()
            var isFilled: [Int: Bool] = [:]
            for (e, equation) in program.equations.enumerated() {
                let ready = equation.operands.allSatisfy { isFilled[$0] == true }
                filled[e] = ready && rng.unitFloat() < density
                isFilled[equation.target] = filled[e]
            }
        } else {
            let t = rng.below(solution.maxDepth + 1)
            for e in 0..<count { filled[e] = solution.depths[e] < t }
        }
        return supervised(program, solution, tokenized: program.tokenize(vocabulary: vocabulary), filled: filled, rng: &rng)
    }

    /// Every iteration of one graph (drawn as `example` draws it): the exact teacher-forced states
    /// t = 0 … depth, in order, each with its own target (the authors' training step).
    public func iterationExamples(nodes: Int, leaves: Int? = nil, maxFanIn: Int = 3, minFanIn: Int = 1, names: Int? = nil,
                                  leafValueDecay: Double? = nil, rng: inout TaskRNG) -> [TrainingExample] {
        let (program, solution) = graph(nodes: nodes, leaves: leaves ?? recipe.leaves, maxFanIn: maxFanIn, minFanIn: minFanIn,
                                        names: names, leafValueDecay: leafValueDecay, rng: &rng)
        let tokenized = program.tokenize(vocabulary: vocabulary)
        return (0...solution.maxDepth).map { t in
            supervised(program, solution, tokenized: tokenized, filled: solution.depths.map { $0 < t }, rng: &rng)
        }
    }

    /// The example of input state `filled` (one flag per equation): its target is the next
    /// iteration's state; computable positions weigh `computableWeight`, and the recipe's operand
    /// lookup and error correction apply.
    func supervised(_ program: Program, _ solution: Solution, tokenized: TokenizedProgram, filled: [Bool],
                    rng: inout TaskRNG) -> TrainingExample {
        let next = program.nextFilled(filled)
        var input = tokenized.state(filled: filled, solution: solution)
        var target = tokenized.state(filled: next, solution: solution)
        var weights = [Float](repeating: 1, count: input.count)
        var computed = [Bool](repeating: false, count: input.count)
        for (e, layout) in tokenized.layout.enumerated() where next[e] && !filled[e] {
            weights[layout.targetPosition] = recipe.computableWeight
            computed[layout.targetPosition] = !program.equations[e].isLeaf
        }
        if recipe.operandLookup == true {
            var definedBy: [Int: Int] = [:]
            for (e, equation) in program.equations.enumerated() { definedBy[equation.target] = e }
            for (e, layout) in tokenized.layout.enumerated() {
                for (operand, position) in zip(program.equations[e].operands, layout.operandPositions) {
                    guard let d = definedBy[operand], filled[d] else { continue }
                    target[position].value = Int32(solution.values[d])
                    weights[position] = recipe.computableWeight
                }
            }
        }
        if recipe.errorCorrection > 0 {
            for (e, layout) in tokenized.layout.enumerated() where filled[e] && rng.unitFloat() < recipe.errorCorrection {
                let truth = Int(solution.values[e])
                let wrong = (truth + 1 + rng.below(recipe.modulus - 1)) % recipe.modulus
                input[layout.targetPosition].value = Int32(wrong)
                weights[layout.targetPosition] = recipe.computableWeight
            }
        }
        return TrainingExample(input: input, target: target, weights: weights, computedSlots: computed)
    }

    /// A padded batch of examples: flat [batch, length, `Factor.count`] inputs and targets, [batch, length] weights.
    public func batch(step: Int, stage: Int = 0, rng: inout TaskRNG) -> (inputs: [Int32], targets: [Int32], weights: [Float], computed: [Bool], batch: Int, length: Int) {
        let profiled = Profiler.start()
        defer { Profiler.stop(.data, since: profiled) }
        // One size per batch keeps padding small (sequence lengths then vary only with fan-in).
        let current = recipe.effectiveStages[min(stage, recipe.effectiveStages.count - 1)]
        let nodes = nodeCount(step: step, stage: current, rng: &rng)
        let examples = (0..<recipe.batchSize).flatMap { _ in
            recipe.everyIteration == true
                ? iterationExamples(nodes: nodes, leaves: current.leaves, maxFanIn: current.maxFanIn, minFanIn: current.minFanIn,
                                    names: current.names, leafValueDecay: current.leafValueDecay, rng: &rng)
                : [example(nodes: nodes, leaves: current.leaves, maxFanIn: current.maxFanIn, minFanIn: current.minFanIn,
                           names: current.names, leafValueDecay: current.leafValueDecay, rng: &rng)]
        }
        let length = examples.map(\.input.count).max() ?? 1
        let pad = vocabulary.padToken
        var inputs = [Int32](), targets = [Int32](), weights = [Float](), computed = [Bool]()
        inputs.reserveCapacity(examples.count * length * Factor.count)
        targets.reserveCapacity(examples.count * length * Factor.count)
        weights.reserveCapacity(examples.count * length)
        for example in examples {
            for n in 0..<length {
                let i = n < example.input.count ? example.input[n] : pad
                let t = n < example.input.count ? example.target[n] : pad
                inputs += i.ids
                targets += t.ids
                weights.append(n < example.input.count ? example.weights[n] : 0)
                computed.append(n < example.input.count ? example.computedSlots[n] : false)
            }
        }
        return (inputs, targets, weights, computed, examples.count, length)
    }
}
