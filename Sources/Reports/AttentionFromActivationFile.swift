import GraphTask
import Recording
import Transformer

extension AttentionViewData {
    /// The patterns of the first `limit` sequences of an activation file that recorded full
    /// `blocks.*.attn.hook_pattern` tensors; nil when it recorded none (or only query rows).
    public static func from(_ reader: ActivationReader, limit: Int = 3, vocabulary: Vocabulary) throws -> AttentionViewData? {
        var layerHooks: [String] = []
        for layer in 0..<64 {
            let hook = "blocks.\(layer).attn.hook_pattern"
            guard reader.hooks.contains(hook) else { break }
            guard try reader.dimensions(of: hook).suffix(2) == ["query", "key"], try reader.shape(of: hook).suffix(2) == [reader.length, reader.length] else {
                return nil
            }
            layerHooks.append(hook)
        }
        guard !layerHooks.isEmpty, reader.count > 0 else { return nil }
        let n = min(limit, reader.count)
        let lengths = try reader.lengths(0..<n).map(Int.init)
        let tokens = try reader.inputTokens(0..<n)
        let T = reader.iterations.count, L = reader.length
        var heads = 0
        // patterns[b][layer][t][head] as [len × len]
        var perSequence: [[[[[Float]]]]] = Array(repeating: [], count: n)
        for hook in layerHooks {
            var perIteration: [[Tensor]] = []
            for iteration in reader.iterations { perIteration.append([try reader.activations(hook, iteration: iteration, sequences: 0..<n)]) }
            for b in 0..<n {
                let len = lengths[b]
                var layer: [[[Float]]] = []
                for t in 0..<T {
                    let tensor = perIteration[t][0]
                    heads = tensor.shape[1]
                    var byHead: [[Float]] = []
                    for h in 0..<heads {
                        var matrix = [Float](repeating: 0, count: len * len)
                        let base = (b * heads + h) * L * L
                        for q in 0..<len { for k in 0..<len { matrix[q * len + k] = tensor.scalars[base + q * L + k] } }
                        byHead.append(matrix)
                    }
                    layer.append(byHead)
                }
                perSequence[b].append(layer)
            }
        }
        let probe = reader.attribute("probe") ?? "probe"
        var sequences: [Sequence] = []
        for b in 0..<n {
            let len = lengths[b]
            var labels: [String] = [], details: [String] = []
            for p in 0..<len {
                let token = tokens[sequence: b, recorded: 0, position: p]
                labels.append(tokenLabel(syntax: Int(token.syntax), variable: Int(token.variable), value: Int(token.value), vocabulary: vocabulary))
                details.append("syntax \(token.syntax) · variable \(token.variable) · operation \(token.operation) · value \(token.value)")
            }
            sequences.append(Sequence(title: "\(probe) #\(b)", tokens: labels, details: details, patterns: perSequence[b]))
        }
        return AttentionViewData(sequences: sequences, iterations: reader.iterations, heads: heads, layers: layerHooks.count)
    }
}

/// A short label for one token: "x_5", "x_5:17" (a filled value slot), "17", "+", "=", ";".
func tokenLabel(syntax: Int, variable: Int, value: Int, vocabulary: Vocabulary) -> String {
    switch Int32(syntax) {
    case Vocabulary.Syntax.variable:
        let name = variable < vocabulary.names ? "x_\(variable)" : "x_?"
        return value < vocabulary.modulus ? "\(name):\(value)" : name
    case Vocabulary.Syntax.value: return value < vocabulary.modulus ? String(value) : "?"
    case Vocabulary.Syntax.operation: return "+"
    case Vocabulary.Syntax.equals: return "="
    case Vocabulary.Syntax.separator: return ";"
    case Vocabulary.Syntax.pad: return "·"
    default: return "unk"
    }
}
