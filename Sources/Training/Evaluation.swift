import GraphTask
import Transformer

/// Recurrent accuracy of a model on random graphs of one size.
public struct SizeEvaluation: Codable, Sendable {
    public var nodes: Int
    public var graphs: Int
    /// Fraction of nodes whose value the recurrent run got right.
    public var nodeAccuracy: Double
    /// Fraction of graphs with every node right.
    public var graphAccuracy: Double
    /// Node accuracy by node depth, and how many nodes had that depth.
    public var byDepth: [Int: Double]
    public var nodesByDepth: [Int: Int]
    public var maxDepth: Int
    /// Node accuracy by operand count (0 for leaves), and how many nodes had that count.
    public var byOperands: [Int: Double] = [:]
    public var nodesByOperands: [Int: Int] = [:]
    /// Node accuracy by operand count among computed nodes whose operands' values were right in
    /// the input of the iteration that is read (what the model actually saw): one step of the
    /// computation, with the errors carried in from earlier iterations set aside.
    public var stepAccuracyByOperands: [Int: Double] = [:]
    public var nodesWithOperandsRight: [Int: Int] = [:]
}

/// Evaluates a model recurrently through its discrete bottleneck, as in the paper.
public struct Evaluator: Sendable {
    public var leaves: Int = 6
    public var extraIterations: Int = 0
    public var batchSize: Int = 16
    public var seed: UInt64 = 0xE7A1
    /// Most operands per computed node (1 evaluates copy graphs only).
    public var maxFanIn: Int = 3
    /// Names drawn from the first `names` of the vocabulary (nil: all), for a model trained on fewer.
    public var names: Int?
    /// Heads zero-ablated in every forward pass (layer → heads); empty for the model as trained.
    public var ablatedHeads: [Int: [Int]] = [:]

    public init(leaves: Int = 6, extraIterations: Int = 0, batchSize: Int = 16, seed: UInt64 = 0xE7A1, maxFanIn: Int = 3) {
        self.leaves = leaves
        self.maxFanIn = maxFanIn
        self.extraIterations = extraIterations
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Runs `samples` random graphs of `nodes` nodes; each graph is read at iteration
    /// depth + extraIterations (its own depth, so that batching changes nothing).
    public func evaluate(model: Model, nodes: Int, samples: Int,
                         progress: ((Int) -> Void)? = nil) throws -> SizeEvaluation {
        let c = model.config
        let vocabulary = c.vocabulary
        let generator = GraphGenerator(nodes: nodes, leaves: leaves, names: min(names ?? c.names, c.names), modulus: c.modulus, maxFanIn: maxFanIn)
        var rng = TaskRNG(seed: seed &+ UInt64(nodes) &* 0x9E37)
        var byDepth = Tally(), byOperands = Tally(), oneStep = Tally()
        var graphsCorrect = 0, done = 0, deepest = 0
        let hooks = ablatedHeads.isEmpty ? nil : Hooks(config: c)
        try hooks?.zeroAblate(ablatedHeads)
        while done < samples {
            let count = min(batchSize, samples - done)
            var programs: [(Program, Solution, TokenizedProgram)] = []
            for _ in 0..<count {
                let program = try generator.generate(using: &rng)
                let solution = try program.solve()
                programs.append((program, solution, program.tokenize(vocabulary: vocabulary)))
            }
            let sequences = programs.map { $0.2.state(filled: [Bool](repeating: false, count: $0.0.equations.count), solution: $0.1) }
            let batch = TokenBatch(sequences: sequences, vocabulary: vocabulary)
            let iterations = (programs.map { $0.1.maxDepth }.max() ?? 0) + 1 + extraIterations
            let run = try model.run(tokens: batch.ids, batch: batch.batch, length: batch.length, iterations: iterations, hooks: hooks)
            for (b, (program, solution, tokenized)) in programs.enumerated() {
                let t = solution.maxDepth + extraIterations
                deepest = max(deepest, solution.maxDepth)
                let right = tokenized.layout.enumerated().map { e, layout in
                    Int(run.predictedValue(iteration: t, sequence: b, position: layout.targetPosition)) == solution.values[e]
                }
                // Whether each variable's value slot held its true value in the read iteration's input.
                var inputRight: [Int: Bool] = [:]
                for (e, equation) in program.equations.enumerated() {
                    let slot = run.input(iteration: t, sequence: b, position: tokenized.layout[e].targetPosition, factor: .value)
                    inputRight[equation.target] = Int(slot) == solution.values[e]
                }
                for (e, equation) in program.equations.enumerated() {
                    byDepth.add(solution.depths[e], right: right[e])
                    byOperands.add(equation.operands.count, right: right[e])
                    if !equation.isLeaf, equation.operands.allSatisfy({ inputRight[$0] ?? false }) {
                        oneStep.add(equation.operands.count, right: right[e])
                    }
                }
                if !right.contains(false) { graphsCorrect += 1 }
            }
            done += count
            progress?(done)
        }
        let totalNodes = byDepth.counts.values.reduce(0, +)
        let totalCorrect = byDepth.correct.values.reduce(0, +)
        return SizeEvaluation(nodes: nodes, graphs: samples,
                              nodeAccuracy: totalNodes > 0 ? Double(totalCorrect) / Double(totalNodes) : 0,
                              graphAccuracy: Double(graphsCorrect) / Double(max(samples, 1)),
                              byDepth: byDepth.accuracy, nodesByDepth: byDepth.counts, maxDepth: deepest,
                              byOperands: byOperands.accuracy, nodesByOperands: byOperands.counts,
                              stepAccuracyByOperands: oneStep.accuracy, nodesWithOperandsRight: oneStep.counts)
    }
}

/// Right answers counted per key (a depth, an operand count): how many, how many right, the ratio.
struct Tally {
    var counts: [Int: Int] = [:]
    var correct: [Int: Int] = [:]

    mutating func add(_ key: Int, right: Bool) {
        counts[key, default: 0] += 1
        if right { correct[key, default: 0] += 1 }
    }

    /// Accuracy per key that was seen at least once.
    var accuracy: [Int: Double] {
        Dictionary(uniqueKeysWithValues: counts.map { ($0.key, Double(correct[$0.key, default: 0]) / Double($0.value)) })
    }
}
