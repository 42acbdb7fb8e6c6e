import GraphTask
import Transformer

/// Teacher-forced one-step accuracy by operand count: for each depth t ≥ 1 of each held-out
/// graph, the input holds the true values of every node shallower than t (the state the trainer
/// supervises), and the model's value readout after one iteration is read at the nodes of depth t.
///
/// Unlike the recurrent evaluation's one-step figure, it does not depend on earlier iterations
/// being right, so it stays informative while a run is on its plateau.
public enum OneStepAccuracy {
    /// Accuracy (nil where no node had that many operands) and node counts, for 1, 2 and 3 operands.
    /// `names`: draw variable names from the first `names` only (nil: all of the vocabulary).
    public static func measure(model: Model, nodes: Int, graphs: Int, names: Int? = nil, leaves: Int = 6, seed: UInt64 = 0x71AE,
                               batchSize: Int = 64) throws -> (accuracy: [Double?], counts: [Int]) {
        let c = model.config
        var generator = GraphGenerator(nodes: nodes, leaves: leaves, names: c.names, modulus: c.modulus)
        if let names { generator.names = min(names, c.names) }
        var rng = TaskRNG(seed: seed &+ UInt64(nodes))
        // Every teacher-forced state: its tokens and the (position, operand count, truth) read in it.
        var states: [(tokens: [FactorToken], reads: [(position: Int, operands: Int, value: Int)])] = []
        for _ in 0..<graphs {
            let program = try generator.generate(using: &rng)
            let solution = try program.solve()
            let tokenized = program.tokenize(vocabulary: c.vocabulary)
            guard solution.maxDepth >= 1 else { continue }
            for t in 1...solution.maxDepth {
                let filled = solution.depths.map { $0 < t }
                let reads = program.equations.indices.filter { solution.depths[$0] == t }.map {
                    (tokenized.layout[$0].targetPosition, program.equations[$0].operands.count, solution.values[$0])
                }
                states.append((tokenized.state(filled: filled, solution: solution), reads))
            }
        }
        var counts = [0, 0, 0], right = [0, 0, 0]
        var start = 0
        while start < states.count {
            let chunk = states[start..<min(start + batchSize, states.count)]
            let batch = TokenBatch(sequences: chunk.map(\.tokens), vocabulary: c.vocabulary)
            let run = try model.run(tokens: batch.ids, batch: batch.batch, length: batch.length, iterations: 1)
            for (b, state) in chunk.enumerated() {
                for read in state.reads where (1...3).contains(read.operands) {
                    counts[read.operands - 1] += 1
                    if Int(run.predictedValue(iteration: 0, sequence: b, position: read.position)) == read.value {
                        right[read.operands - 1] += 1
                    }
                }
            }
            start += chunk.count
        }
        let accuracy = (0..<3).map { counts[$0] > 0 ? Double(right[$0]) / Double(counts[$0]) : nil }
        return (accuracy, counts)
    }
}
