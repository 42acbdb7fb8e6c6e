import Transformer

/// Retrieval measures of one layer at the probe's right-hand side.
public struct RetrievalLayer: Codable, Sendable, Equatable {
    public var layer: Int
    /// Mean attention of each head on each operand's value position: [H][operand].
    public var headMass: [[Double]]
    /// Mean over operands of the mass of the head best matched to that operand.
    public var operandMass: Double
    /// The head best matched to each operand.
    public var bestHeads: [Int]
    /// Mean attention of each head on all operand value positions together: [H].
    public var totalMass: [Double]
    /// Value-factor gain of W_V·W_O^h against the variable factor, per head (when weights were given).
    public var valueGain: [Double]?

    enum CodingKeys: String, CodingKey {
        case layer
        case headMass = "head_mass"
        case operandMass = "operand_mass"
        case bestHeads = "best_heads"
        case totalMass = "total_mass"
        case valueGain = "value_gain"
    }

    /// Measures `attention` of `layer` on the operand value positions `keys` ([sequence][operand]).
    public init(layer: Int, attention: QueryPatterns, keys: [[Int]], valueGain: [Double]? = nil) throws {
        self.init(layer: layer, headMass: try Retrieval.attentionMass(attention, keys: keys), valueGain: valueGain)
    }

    /// Measures from a mass table already computed ([H][operand], e.g. pooled over several
    /// activation files).
    public init(layer: Int, headMass mass: [[Double]], valueGain: [Double]? = nil) {
        let operands = mass.first?.count ?? 0
        // Best head per operand; ties go to the lower head index.
        let best = (0..<operands).map { j in
            mass.indices.max { mass[$0][j] < mass[$1][j] || (mass[$0][j] == mass[$1][j] && $0 > $1) } ?? 0
        }
        self.layer = layer
        headMass = mass
        bestHeads = best
        operandMass = operands == 0 ? 0 : (0..<operands).map { mass[best[$0]][$0] }.reduce(0, +) / Double(operands)
        totalMass = mass.map { $0.reduce(0, +) }
        self.valueGain = valueGain
    }

    /// The retrieval heads: each operand's best head and every head with at least `threshold`
    /// of its attention on operand value positions, ascending.
    public func retrievalHeads(threshold: Double = 0.3) -> [Int] {
        Set(bestHeads).union(totalMass.indices.filter { totalMass[$0] >= threshold }).sorted()
    }

    /// `count` heads outside `excluded` with the least mass on operand value positions (ties: lower index).
    public func otherHeads(count: Int, excluding excluded: [Int]) -> [Int] {
        let skip = Set(excluded)
        return totalMass.indices.filter { !skip.contains($0) }
            .sorted { totalMass[$0] < totalMass[$1] || (totalMass[$0] == totalMass[$1] && $0 < $1) }
            .prefix(count).sorted()
    }
}

/// Attention mass on given key positions and the value-factor gain of W_V·W_O^h.
public enum Retrieval {
    /// Mean attention of each head at each sequence's query on each key position:
    /// result[h][j] = mean_i pattern[i, h, q_i, keys[i][j]].
    public static func attentionMass(_ attention: QueryPatterns, keys: [[Int]]) throws -> [[Double]] {
        let (n, h, l) = try Statistics.patternShape(attention.patterns, queries: attention.queries)
        guard keys.count == n else {
            throw AnalysisError.badProbe("there are operand positions for \(keys.count) sequences but attention for \(n)")
        }
        let operands = keys.first?.count ?? 0
        guard operands > 0, keys.allSatisfy({ $0.count == operands }) else {
            throw AnalysisError.badProbe("every sequence needs the same, non-zero number of operand positions")
        }
        var mass = [[Double]](repeating: [Double](repeating: 0, count: operands), count: h)
        for i in 0..<n {
            for (j, m) in keys[i].enumerated() {
                guard m >= 0 && m < l else {
                    throw AnalysisError.badProbe("operand \(j) of sequence \(i) sits at position \(m), outside sequences of \(l) tokens")
                }
                for head in 0..<h {
                    mass[head][j] += Double(attention.patterns.scalars[Statistics.queryRow(attention.patterns, i, head, h, l, attention.queries[i]) + m])
                }
            }
        }
        return mass.map { $0.map { $0 / Double(n) } }
    }

    /// Value-factor gain of each head of `layer`: mean ‖W_O^h W_V^h e‖ over the value
    /// embeddings of the numbers 0 … modulus−1, divided by the same over the variable
    /// embeddings x_0 … x_{names−1}.
    ///
    /// LayerNorm is left out (its scale is shared by both factors, its centring is replaced by
    /// `centred`): with `centred`, each table's mean row is subtracted first, so the gain
    /// compares how the head carries the *differences* between numbers and between names
    /// rather than the constant part every token of that factor shares. Biases are left out.
    public static func valueGain(_ weights: ModelWeights, layer: Int, centred: Bool = true) throws -> [Double] {
        let config = weights.config
        let values = try rows(of: weights.embedding("value"), count: config.modulus, centred: centred)
        let names = try rows(of: weights.embedding("variable"), count: config.names, centred: centred)
        let wv = try weights.valueWeight(layer: layer), wo = try weights.outputWeight(layer: layer)
        let d = config.modelWidth, dh = config.headWidth
        return (0..<config.heads).map { h in
            let valueNorm = meanNorm(values, head: h, wv: wv, wo: wo, d: d, dh: dh)
            let nameNorm = meanNorm(names, head: h, wv: wv, wo: wo, d: d, dh: dh)
            return nameNorm > 0 ? valueNorm / nameNorm : 0
        }
    }

    /// The first `count` rows of a [V, D] table, optionally minus their mean.
    static func rows(of table: Tensor, count: Int, centred: Bool) throws -> [[Float]] {
        try requireRank(table, 2, "an embedding table", "[V, D]")
        guard table.shape[0] >= count else {
            throw AnalysisError.wrongShape(what: "an embedding table", expected: "at least \(count) rows", found: table.shape)
        }
        let d = table.shape[1]
        var result = (0..<count).map { Array(table.scalars[($0 * d)..<(($0 + 1) * d)]) }
        if centred {
            var mean = [Float](repeating: 0, count: d)
            for row in result { for k in 0..<d { mean[k] += row[k] / Float(count) } }
            for i in result.indices { for k in 0..<d { result[i][k] -= mean[k] } }
        }
        return result
    }

    /// Mean over `rows` of ‖W_O^h W_V^h e‖ (W_V^h: rows h·Dh… of v_proj, W_O^h: those columns of o_proj).
    static func meanNorm(_ rows: [[Float]], head h: Int, wv: Tensor, wo: Tensor, d: Int, dh: Int) -> Double {
        var total = 0.0
        for e in rows {
            var v = [Double](repeating: 0, count: dh)
            for i in 0..<dh {
                let base = (h * dh + i) * d
                var sum = 0.0
                for k in 0..<d { sum += Double(wv.scalars[base + k]) * Double(e[k]) }
                v[i] = sum
            }
            var norm = 0.0
            for j in 0..<d {
                var sum = 0.0
                let base = j * d + h * dh
                for i in 0..<dh { sum += Double(wo.scalars[base + i]) * v[i] }
                norm += sum * sum
            }
            total += norm.squareRoot()
        }
        return rows.isEmpty ? 0 : total / Double(rows.count)
    }
}
