import GraphTask

/// Input and argmax output tokens of every iteration of a recurrent run.
public struct RecurrentRun: Sendable {
    public let batch: Int
    public let length: Int
    /// inputs[t] is iteration t's input, flat [batch, length, `Factor.count`] (the layout of `TokenIDs`).
    public var inputs: [[Int32]]
    /// predictions[t] is the argmax of every factor at iteration t, flat [batch, length, `Factor.count`].
    public var predictions: [[Int32]]

    /// Predicted id of factor `factor` at iteration `t`, sequence `b`, position `n`.
    public func prediction(iteration t: Int, sequence b: Int, position n: Int, factor: Factor) -> Int32 {
        predictions[t][TokenIDs.index(sequence: b, position: n, factor: factor, length: length)]
    }

    /// Predicted value id at iteration `t`, sequence `b`, position `n`.
    public func predictedValue(iteration t: Int, sequence b: Int, position n: Int) -> Int32 {
        prediction(iteration: t, sequence: b, position: n, factor: .value)
    }

    /// Input id of factor `factor` at iteration `t`, sequence `b`, position `n`.
    public func input(iteration t: Int, sequence b: Int, position n: Int, factor: Factor) -> Int32 {
        inputs[t][TokenIDs.index(sequence: b, position: n, factor: factor, length: length)]
    }
}

extension Model {
    /// Throws if any token id lies outside the model's vocabulary or the block is too long.
    public func validate(tokens ids: [Int32], batch: Int, length: Int) throws {
        guard batch >= 1, length >= 1, ids.count == batch * length * Factor.count else {
            throw ModelError.badInput("a token block of \(batch) × \(length) needs \(batch * length * Factor.count) ids, found \(ids.count)")
        }
        guard length <= Model.maximumLength else {
            throw ModelError.badInput("sequences of \(length) tokens are longer than this runtime supports (\(Model.maximumLength))")
        }
        let sizes = config.factorSizes, factors = Factor.count
        for i in 0..<ids.count {
            let f = i % factors, id = Int(ids[i])
            if id < 0 || id >= sizes[f] {
                let token = i / factors
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
        let acts = bufferPool.take(config: config, batch: batch, length: length)
        defer { bufferPool.give(acts) }
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
            predicted.withUnsafeMutableBufferPointer { predicted in
                parallelRows(batch * length, minimumPerTask: 256) { rows in
                    for r in rows {
                        for f in 0..<Factor.count {
                            predicted[r * Factor.count + f] = Int32(argmax(acts.logits[f].pointer + r * sizes[f], count: sizes[f]))
                        }
                    }
                }
            }
            run.inputs.append(current)
            run.predictions.append(predicted)
            let value = Factor.value.rawValue
            for r in 0..<(batch * length) where slots[r] { current[r * Factor.count + value] = predicted[r * Factor.count + value] }
        }
        return run
    }
}

/// Value slots of a flat [rows, `Factor.count`] token block: VARIABLE tokens right after `=` in the same sequence.
func valueSlotMask(_ ids: [Int32], rows: Int, length: Int) -> [Bool] {
    var mask = [Bool](repeating: false, count: rows)
    for r in 0..<rows where r % length > 0 {
        let syntax = Factor.syntax.rawValue
        mask[r] = ids[r * Factor.count + syntax] == Vocabulary.Syntax.variable
            && ids[(r - 1) * Factor.count + syntax] == Vocabulary.Syntax.equals
    }
    return mask
}
