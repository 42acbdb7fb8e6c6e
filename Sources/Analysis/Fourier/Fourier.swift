import Transformer

/// Helpers that bring activation file rows and weights into the Fourier analysis.
public enum Fourier {
    /// Assembles rows [N, F] measured at grid points (a[i], b[i]) into a [p, p, F] grid,
    /// averaging repeated cells; every cell must be present.
    public static func grid(rows: Tensor, a: [Int], b: [Int], modulus p: Int) throws -> Tensor {
        try requireRank(rows, 2, "the activations at the right-hand side", "[N, F]")
        let n = rows.shape[0], f = rows.shape[1]
        guard a.count == n, b.count == n else {
            throw AnalysisError.badProbe("the value grid has \(n) sequences but \(a.count) values of a and \(b.count) of b")
        }
        var sums = [Double](repeating: 0, count: p * p * f), hits = [Int](repeating: 0, count: p * p)
        for i in 0..<n {
            guard (0..<p).contains(a[i]), (0..<p).contains(b[i]) else {
                throw AnalysisError.badProbe("sequence \(i) sits at (a, b) = (\(a[i]), \(b[i])), outside Z_\(p) × Z_\(p)")
            }
            let cell = a[i] * p + b[i]
            hits[cell] += 1
            for k in 0..<f { sums[cell * f + k] += Double(rows.scalars[i * f + k]) }
        }
        if let missing = hits.firstIndex(of: 0) {
            throw AnalysisError.badProbe("the value grid lacks the cell (a, b) = (\(missing / p), \(missing % p)); the Fourier analysis needs all \(p * p)")
        }
        var out = [Float](repeating: 0, count: p * p * f)
        for cell in 0..<(p * p) { for k in 0..<f { out[cell * f + k] = Float(sums[cell * f + k] / Double(hits[cell])) } }
        return Tensor(shape: [p, p, f], scalars: out)
    }

    /// The spectrum over Z_p of a table whose rows 0 … p−1 are indexed by a number ([≥ p, D]).
    public static func spectrum(table: Tensor, modulus p: Int) throws -> Spectrum {
        let basis = try FourierBasis(modulus: p)
        try requireRank(table, 2, "the table", "[V, D]")
        guard table.shape[0] >= p else {
            throw AnalysisError.wrongShape(what: "the table", expected: "at least \(p) rows", found: table.shape)
        }
        let d = table.shape[1]
        var perIndex = [Double](repeating: 0, count: p)
        for column in 0..<d {
            let values = (0..<p).map { Double(table.scalars[$0 * d + column]) }
            for (i, c) in try basis.transform(values).enumerated() { perIndex[i] += c * c }
        }
        let power = (1...basis.maxFrequency).map { perIndex[2 * $0 - 1] + perIndex[2 * $0] }
        let total = power.reduce(0, +)
        return Spectrum(frequencies: Array(1...basis.maxFrequency), power: power,
                        fraction: power.map { total > 0 ? $0 / total : 0 }, constant: perIndex[0])
    }

    /// The spectrum of the value embedding table (rows 0 … p−1 of token_embedder.embeddings.3, the value factor's).
    public static func valueEmbeddingSpectrum(_ weights: ModelWeights) throws -> Spectrum {
        try spectrum(table: weights.embedding("value"), modulus: weights.config.modulus)
    }

    /// Readout against a + b from value logits [p, p, V] (V ≥ p) at the right-hand side.
    public static func readout(logits: Tensor, modulus p: Int) throws -> Readout {
        try requireRank(logits, 3, "the value logits over the grid", "[\(p), \(p), V ≥ \(p)]")
        guard logits.shape[0] == p, logits.shape[1] == p, logits.shape[2] >= p else {
            throw AnalysisError.wrongShape(what: "the value logits over the grid", expected: "[\(p), \(p), V ≥ \(p)]", found: logits.shape)
        }
        let v = logits.shape[2]
        var hits = 0
        var byDifference = [Double](repeating: 0, count: p)
        for a in 0..<p {
            for b in 0..<p {
                let row = (a * p + b) * v
                var best = 0
                for c in 1..<v where logits.scalars[row + c] > logits.scalars[row + best] { best = c }
                if best == (a + b) % p { hits += 1 }
                for c in 0..<p { byDifference[((a + b - c) % p + p) % p] += Double(logits.scalars[row + c]) }
            }
        }
        return Readout(accuracy: Double(hits) / Double(p * p), logitByDifference: byDifference.map { $0 / Double(p * p) })
    }
}
