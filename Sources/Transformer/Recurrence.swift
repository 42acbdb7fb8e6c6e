import GraphTask

/// Input and argmax output tokens of every iteration of a recurrent run.
public struct RecurrentRun: Sendable {
    public let batch: Int
    public let length: Int
    /// inputs[t] is iteration t's input, flat [batch, length, 4].
    public var inputs: [[Int32]]
    /// predictions[t] is the argmax of every factor at iteration t, flat [batch, length, 4].
    public var predictions: [[Int32]]

    /// Predicted ids of factor `factor` at iteration `t`, sequence `b`, position `n`.
    public func prediction(iteration t: Int, sequence b: Int, position n: Int, factor: Int) -> Int32 {
        predictions[t][(b * length + n) * 4 + factor]
    }
}

extension Model {
    /// Throws if any token id lies outside the model's vocabulary or the block is too long.
    public func validate(tokens ids: [Int32], batch: Int, length: Int) throws {
        guard batch >= 1, length >= 1, ids.count == batch * length * 4 else {
            throw ModelError.badInput("a token block of \(batch) × \(length) needs \(batch * length * 4) ids, found \(ids.count)")
        }
        guard length <= Model.maximumLength else {
            throw ModelError.badInput("sequences of \(length) tokens are longer than this runtime supports (\(Model.maximumLength))")
        }
        let sizes = config.factorSizes
        for i in 0..<ids.count {
            let f = i % 4, id = Int(ids[i])
            if id < 0 || id >= sizes[f] {
                let token = i / 4
                throw ModelError.tokenOutOfVocabulary(sequence: token / length, position: token % length,
                                                      factor: Vocabulary.factorNames[f], id: id, size: sizes[f])
            }
        }
    }

    /// Runs the recurrence for `iterations` steps through the discrete bottleneck.
    ///
    /// After each iteration the argmax of the value logits is written into the value factor of
    /// every value slot (a VARIABLE right after `=`); all other ids stay as given.
    public func run(tokens ids: [Int32], batch: Int, length: Int, iterations: Int,
                    hooks: Hooks? = nil) throws -> RecurrentRun {
        try validate(tokens: ids, batch: batch, length: length)
        guard iterations >= 1 else { throw ModelError.badInput("a run needs at least one iteration, asked for \(iterations)") }
        let acts = activationCache.take(config: config, batch: batch, length: length)
        defer { activationCache.give(acts) }
        let slots = valueSlotMask(ids, rows: batch * length, length: length)
        let sizes = config.factorSizes
        var current = ids
        var run = RecurrentRun(batch: batch, length: length, inputs: [], predictions: [])
        for t in 0..<iterations {
            current.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { acts.tokens.pointer.update(from: base, count: current.count) }
            }
            forward(acts, hooks: hooks, iteration: t, of: iterations)
            var predicted = [Int32](repeating: 0, count: current.count)
            for r in 0..<(batch * length) {
                for f in 0..<4 {
                    predicted[r * 4 + f] = Int32(argmax(acts.logits[f].pointer + r * sizes[f], count: sizes[f]))
                }
            }
            run.inputs.append(current)
            run.predictions.append(predicted)
            for r in 0..<(batch * length) where slots[r] { current[r * 4 + 3] = predicted[r * 4 + 3] }
        }
        return run
    }
}

/// Value slots of a flat [rows, 4] token block: VARIABLE tokens right after `=` in the same sequence.
func valueSlotMask(_ ids: [Int32], rows: Int, length: Int) -> [Bool] {
    var mask = [Bool](repeating: false, count: rows)
    for r in 0..<rows where r % length > 0 {
        mask[r] = ids[r * 4] == Vocabulary.Syntax.variable && ids[(r - 1) * 4] == Vocabulary.Syntax.equals
    }
    return mask
}
