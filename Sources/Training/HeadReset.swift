import GraphTask
import Transformer

/// Re-draws attention heads as a fresh model would have them, to give a resumed run unused capacity back.
///
/// A head whose softmax has gone hard passes almost no gradient to the keys it ignores, so it
/// cannot move to a position that becomes useful later (docs/models.md, "Why the default model is
/// as it is"). Re-initialising a few heads — the dormant-unit resets of continual learning —
/// makes them attend almost uniformly again. What they then learn is up to the data: nothing
/// here points a head at any position.
public enum HeadReset {
    /// Which of a head's parameters are re-drawn.
    public enum Part: Sendable {
        /// Where it looks and what it writes: query, key, value and relative-position rows, output columns.
        case whole
        /// Where it looks only: query, key and relative-position rows; value and output are kept.
        case attention
    }

    /// Re-initialises the listed heads (layer → heads) of `model` GPT-2 style and zeroes their AdamW moments.
    ///
    /// Per head: its rows of the query, key, value and both relative-position projections are drawn
    /// from N(0, 0.02) and their biases set to 0; its columns of the output projection are drawn
    /// from N(0, 0.02). With `part: .attention` the value rows and output columns are kept, so
    /// the head still writes what it wrote, read from wherever it comes to look. The draws come
    /// from their own generator (seeded by `seed` and the head), so the run's data order is untouched.
    public static func reset(_ heads: [Int: [Int]], in model: Model, optimizer: inout AdamW, seed: UInt64,
                             part: Part = .whole) throws {
        let config = model.config
        let dh = config.headWidth, d = config.modelWidth
        for (layer, list) in heads {
            guard (0..<config.layers).contains(layer) else {
                throw TrainingError.invalidSetting("cannot re-draw heads of layer \(layer): it does not exist (the model has layers 0–\(config.layers - 1))")
            }
            for head in list where !(0..<config.heads).contains(head) {
                throw TrainingError.invalidSetting("cannot re-draw layer \(layer)'s heads: head \(head) does not exist (the model has heads 0–\(config.heads - 1))")
            }
        }
        let p = model.parameterPointer
        for layer in heads.keys.sorted() {
            for head in Set(heads[layer] ?? []).sorted() {
                var rng = TaskRNG(seed: seed &* 0x9E37_79B9 &+ UInt64(layer * 1000 + head))
                let prefix = "transformer.blocks.layer_\(layer).attn."
                // Rows head·dh ..< (head+1)·dh of each [out, in] projection into the heads.
                let projections = part == .whole ? ["q_proj", "k_proj", "v_proj", "relpos_k_proj", "relpos_q_proj"]
                                                 : ["q_proj", "k_proj", "relpos_k_proj", "relpos_q_proj"]
                for name in projections {
                    let weight = try slot(prefix + name + ".weight", model), bias = try slot(prefix + name + ".bias", model)
                    let rows = (weight.offset + head * dh * d)..<(weight.offset + (head + 1) * dh * d)
                    for i in rows { p[i] = 0.02 * gaussian(&rng) }
                    let biasRange = (bias.offset + head * dh)..<(bias.offset + (head + 1) * dh)
                    for i in biasRange { p[i] = 0 }
                    optimizer.clearMoments(rows)
                    optimizer.clearMoments(biasRange)
                }
                // Columns head·dh ..< (head+1)·dh of the output projection, which reads the heads.
                guard part == .whole else { continue }
                let output = try slot(prefix + "o_proj.weight", model)
                for row in 0..<d {
                    let columns = (output.offset + row * d + head * dh)..<(output.offset + row * d + (head + 1) * dh)
                    for i in columns { p[i] = 0.02 * gaussian(&rng) }
                    optimizer.clearMoments(columns)
                }
            }
        }
    }

    private static func slot(_ name: String, _ model: Model) throws -> ParameterSlot {
        guard let slot = model.layout.slot(named: name) else {
            throw TrainingError.invalidSetting("cannot re-draw heads: the model has no parameter \(name)")
        }
        return slot
    }
}

extension AdamW {
    /// Forgets the moments of the parameters in `range`, as if they had never been updated.
    mutating func clearMoments(_ range: Range<Int>) {
        for i in range {
            firstMoment[i] = 0
            secondMoment[i] = 0
        }
    }
}
