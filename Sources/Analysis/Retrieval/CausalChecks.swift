import GraphTask
import Transformer

/// A batch of probe sequences for causal checks: where the answer is read and where each
/// operand's value sits in the input.
public struct CausalProbe: Sendable {
    /// Input tokens of the state to run (operand values filled at `operandValuePositions`).
    public var tokens: TokenBatch
    /// Per sequence: the right-hand-side position whose value prediction is the answer.
    public var queries: [Int]
    /// Per sequence, per operand: the position whose value factor holds that operand's value.
    public var operandValuePositions: [[Int]]
    /// Recurrent iterations to run; the answer is read at the last one. Patches change the
    /// first input only, and later iterations rewrite value slots with the model's own
    /// predictions, so a probe whose input already holds the operand values should run one.
    public var iterations: Int

    public init(tokens: TokenBatch, queries: [Int], operandValuePositions: [[Int]], iterations: Int = 1) {
        self.tokens = tokens
        self.queries = queries
        self.operandValuePositions = operandValuePositions
        self.iterations = iterations
    }

    /// Throws unless the positions fit the tokens and every operand position holds a value.
    func validate(modulus: Int) throws {
        let n = tokens.batch
        guard queries.count == n, operandValuePositions.count == n else {
            throw AnalysisError.badProbe("a causal probe of \(n) sequences has \(queries.count) query positions and \(operandValuePositions.count) operand lists")
        }
        guard let operands = operandValuePositions.first?.count, operands > 0,
              operandValuePositions.allSatisfy({ $0.count == operands }) else {
            throw AnalysisError.badProbe("every sequence needs the same, non-zero number of operand value positions")
        }
        for b in 0..<n {
            let length = Int(tokens.lengths[b])
            guard queries[b] >= 0 && queries[b] < length else {
                throw AnalysisError.badProbe("the query position \(queries[b]) of sequence \(b) lies outside its \(length) tokens")
            }
            for (j, p) in operandValuePositions[b].enumerated() {
                guard p >= 0 && p < length else {
                    throw AnalysisError.badProbe("operand \(j) of sequence \(b) sits at \(p), outside its \(length) tokens")
                }
                let value = Int(tokens[b, p].value)
                guard value >= 0 && value < modulus else {
                    throw AnalysisError.badProbe("position \(p) of sequence \(b) should hold operand \(j)'s value, but its value id is \(value)")
                }
            }
        }
    }

    /// The operand values of sequence `b`.
    func operandValues(_ b: Int) -> [Int] { operandValuePositions[b].map { Int(tokens[b, $0].value) } }
}

/// Patching: does the answer follow a changed operand value?
public struct PatchResult: Codable, Sendable, Equatable {
    /// Fraction of patches after which the answer equals the new sum mod p.
    public var followRate: Double
    /// Accuracy of the unpatched answers (against the sum of the operand values).
    public var baselineAccuracy: Double
    /// Number of patched runs (sequences × operands).
    public var cases: Int

    enum CodingKeys: String, CodingKey {
        case followRate = "follow_rate"
        case baselineAccuracy = "baseline_accuracy"
        case cases
    }
}

/// Zero-ablation of a set of heads: the accuracy it costs.
public struct AblationResult: Codable, Sendable, Equatable {
    public var layer: Int
    public var heads: [Int]
    public var baselineAccuracy: Double
    public var ablatedAccuracy: Double
    /// baseline − ablated.
    public var drop: Double

    enum CodingKeys: String, CodingKey {
        case layer, heads
        case baselineAccuracy = "baseline_accuracy"
        case ablatedAccuracy = "ablated_accuracy"
        case drop
    }
}

/// Causal checks run through the runtime's interventions.
public enum CausalChecks {
    /// Sequences per forward pass.
    static let chunk = 64

    /// Patches each operand's value, in turn, to another number and checks the answer at the
    /// query follows the new sum mod p. Sequence b, operand j is shifted by 1 + (b + j) mod (p − 1).
    public static func patch(model: Model, probe: CausalProbe) throws -> PatchResult {
        let p = model.config.modulus
        try probe.validate(modulus: p)
        let operands = probe.operandValuePositions[0].count
        let baseline = try answers(model: model, probe: probe, ids: probe.tokens.ids, hooks: nil)
        let expected = (0..<probe.tokens.batch).map { probe.operandValues($0).reduce(0, +) % p }
        var follows = 0
        for j in 0..<operands {
            var tokens = probe.tokens.block
            var patchedSums = expected
            for b in 0..<probe.tokens.batch {
                let shift = 1 + (b + j) % (p - 1)
                let position = probe.operandValuePositions[b][j]
                let shifted = (Int(tokens.value(sequence: b, position: position)) + shift) % p
                tokens[sequence: b, position: position, factor: .value] = Int32(shifted)
                patchedSums[b] = (expected[b] + shift) % p
            }
            let patched = try answers(model: model, probe: probe, ids: tokens.ids, hooks: nil)
            follows += zip(patched, patchedSums).filter { $0 == $1 }.count
        }
        return PatchResult(followRate: Double(follows) / Double(operands * probe.tokens.batch),
                           baselineAccuracy: try Statistics.accuracy(predicted: baseline, expected: expected),
                           cases: operands * probe.tokens.batch)
    }

    /// Zero-ablates `heads` of `layer` (their hook_z at every position and iteration) and
    /// measures the accuracy lost at the query.
    public static func ablate(model: Model, probe: CausalProbe, layer: Int, heads: [Int]) throws -> AblationResult {
        let config = model.config
        try probe.validate(modulus: config.modulus)
        if let problem = Hooks.ablationProblem(config: config, layer: layer, heads: heads) {
            throw AnalysisError.badParameter(problem)
        }
        let expected = (0..<probe.tokens.batch).map { probe.operandValues($0).reduce(0, +) % config.modulus }
        let baseline = try Statistics.accuracy(predicted: answers(model: model, probe: probe, ids: probe.tokens.ids, hooks: nil),
                                               expected: expected)
        let hooks = try zeroAblation(config: config, layer: layer, heads: heads)
        let accuracy = try Statistics.accuracy(predicted: answers(model: model, probe: probe, ids: probe.tokens.ids, hooks: hooks),
                                               expected: expected)
        return AblationResult(layer: layer, heads: heads.sorted(), baselineAccuracy: baseline, ablatedAccuracy: accuracy,
                              drop: baseline - accuracy)
    }

    /// Hooks that zero `heads` of `layer` in hook_z [B, L, H, Dh] at every position and iteration.
    public static func zeroAblation(config: ModelConfig, layer: Int, heads: [Int]) throws -> Hooks {
        let hooks = Hooks(config: config)
        try hooks.zeroAblate(layer: layer, heads: heads)
        return hooks
    }

    /// Ablates `measures`' retrieval heads, then as many of its layer's other heads (those with
    /// the least mass on operand value positions); the pair of ablation numbers.
    public static func compareAblations(model: Model, probe: CausalProbe, measures: RetrievalLayer,
                                        threshold: Double = 0.3) throws -> (retrieval: AblationResult, other: AblationResult) {
        let retrieval = measures.retrievalHeads(threshold: threshold)
        let others = measures.otherHeads(count: retrieval.count, excluding: retrieval)
        return (try ablate(model: model, probe: probe, layer: measures.layer, heads: retrieval),
                try ablate(model: model, probe: probe, layer: measures.layer, heads: others))
    }

    /// The predicted value at each sequence's query after the last iteration, in chunks.
    static func answers(model: Model, probe: CausalProbe, ids: [Int32], hooks: Hooks?) throws -> [Int] {
        let tokens = TokenIDs(sequences: probe.tokens.batch, length: probe.tokens.length, ids: ids)
        let length = probe.tokens.length, n = probe.tokens.batch
        var result: [Int] = []
        result.reserveCapacity(n)
        var start = 0
        while start < n {
            let end = min(start + chunk, n)
            let block = tokens.ids(ofSequences: start..<end)
            let run = try model.run(tokens: block, batch: end - start, length: length, iterations: probe.iterations, hooks: hooks)
            for b in start..<end {
                result.append(Int(run.predictedValue(iteration: probe.iterations - 1, sequence: b - start, position: probe.queries[b])))
            }
            start = end
        }
        return result
    }
}
