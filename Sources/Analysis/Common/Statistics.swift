import Foundation
import Transformer

/// Shared statistics over vectors and attention patterns.
public enum Statistics {
    /// The paper's portion of variance in the fluctuation, r = E‖o − E o‖² / E‖o‖², over the
    /// rows of `vectors` [N, D]; 0 when every row is zero.
    public static func variancePortion(_ vectors: Tensor) throws -> Double {
        try requireRank(vectors, 2, "the vectors", "[N, D]")
        let n = vectors.shape[0], d = vectors.shape[1]
        return vectors.scalars.withUnsafeBufferPointer { v in
            var mean = [Double](repeating: 0, count: d)
            var energy = 0.0
            for i in 0..<n {
                for j in 0..<d {
                    let x = Double(v[i * d + j])
                    mean[j] += x
                    energy += x * x
                }
            }
            for j in 0..<d { mean[j] /= Double(n) }
            var fluctuation = 0.0
            for i in 0..<n {
                for j in 0..<d {
                    let e = Double(v[i * d + j]) - mean[j]
                    fluctuation += e * e
                }
            }
            return energy > 0 ? fluctuation / energy : 0
        }
    }

    /// Shannon entropy (nats) of a probability distribution; zero entries contribute nothing.
    public static func entropy<C: Collection>(_ distribution: C) -> Double where C.Element == Float {
        var total = 0.0
        for p in distribution where p > 0 { total -= Double(p) * log(Double(p)) }
        return total
    }

    /// Mean attention entropy per head at one query position of each sequence.
    ///
    /// `patterns` is [N, H, L, L]; `queries[i]` is the query position of sequence i.
    public static func attentionEntropy(patterns: Tensor, queries: [Int]) throws -> [Double] {
        let (n, h, l) = try patternShape(patterns, queries: queries)
        var result = [Double](repeating: 0, count: h)
        for i in 0..<n {
            for head in 0..<h {
                let start = queryRow(patterns, i, head, h, l, queries[i])
                result[head] += entropy(patterns.scalars[start..<(start + l)])
            }
        }
        return result.map { $0 / Double(n) }
    }

    /// Attention of each head by relative offset back from the query, for one sequence.
    ///
    /// `patterns` is [H, L, L]; entry [h][d] is the attention of query `query` on key
    /// `query − d`, for d = 0 … `maxOffset` (zero where the key would precede the sequence).
    public static func offsetProfile(patterns: Tensor, query: Int, maxOffset: Int) throws -> [[Double]] {
        try requireRank(patterns, 3, "the attention patterns", "[H, L, L]")
        let h = patterns.shape[0], l = patterns.shape[1]
        guard patterns.shape[2] == l else { throw AnalysisError.wrongShape(what: "the attention patterns", expected: "[H, L, L]", found: patterns.shape) }
        guard query >= 0 && query < l else { throw AnalysisError.badProbe("query position \(query) lies outside sequences of \(l) tokens") }
        guard maxOffset >= 0 else { throw AnalysisError.badParameter("the largest offset must not be negative, found \(maxOffset)") }
        return (0..<h).map { head in
            (0...maxOffset).map { d in
                query - d >= 0 ? Double(patterns.scalars[(head * l + query) * l + query - d]) : 0
            }
        }
    }

    /// Mean attention by relative offset per head, averaged over sequences ([N, H, L, L]),
    /// each at its own query position.
    public static func meanOffsetProfile(patterns: Tensor, queries: [Int], maxOffset: Int) throws -> [[Double]] {
        let (n, h, l) = try patternShape(patterns, queries: queries)
        guard maxOffset >= 0 else { throw AnalysisError.badParameter("the largest offset must not be negative, found \(maxOffset)") }
        var result = [[Double]](repeating: [Double](repeating: 0, count: maxOffset + 1), count: h)
        for i in 0..<n {
            let q = queries[i]
            for head in 0..<h {
                let row = queryRow(patterns, i, head, h, l, q)
                for d in 0...maxOffset where q - d >= 0 {
                    result[head][d] += Double(patterns.scalars[row + q - d])
                }
            }
        }
        return result.map { $0.map { $0 / Double(n) } }
    }

    /// Cosine similarity of every pair of rows; a zero row has similarity 0 with every row but itself (1).
    public static func cosineSimilarity(_ rows: [[Double]]) -> [[Double]] {
        let norms = rows.map { ($0.reduce(0) { $0 + $1 * $1 }).squareRoot() }
        return rows.indices.map { i in
            rows.indices.map { j in
                if i == j { return 1 }
                guard norms[i] > 0, norms[j] > 0 else { return 0 }
                var dot = 0.0
                for k in rows[i].indices { dot += rows[i][k] * rows[j][k] }
                return dot / (norms[i] * norms[j])
            }
        }
    }

    /// Head × head cosine similarity of attention at each sequence's query position,
    /// averaged over sequences (`patterns` [N, H, L, L]).
    public static func attentionSimilarity(patterns: Tensor, queries: [Int]) throws -> [[Double]] {
        let (n, h, l) = try patternShape(patterns, queries: queries)
        var result = [[Double]](repeating: [Double](repeating: 0, count: h), count: h)
        for i in 0..<n {
            let rows = (0..<h).map { head -> [Double] in
                let start = queryRow(patterns, i, head, h, l, queries[i])
                return patterns.scalars[start..<(start + l)].map(Double.init)
            }
            let similarity = cosineSimilarity(rows)
            for a in 0..<h { for b in 0..<h { result[a][b] += similarity[a][b] / Double(n) } }
        }
        return result
    }

    /// Start of sequence i's, head `head`'s attention row at query `q` in [N, H, L, L] patterns
    /// or in query rows [N, H, 1, L].
    static func queryRow(_ patterns: Tensor, _ i: Int, _ head: Int, _ h: Int, _ l: Int, _ q: Int) -> Int {
        patterns.shape[2] == 1 ? (i * h + head) * l : ((i * h + head) * l + q) * l
    }

    /// Fraction of positions where `predicted` equals `expected`.
    public static func accuracy(predicted: [Int], expected: [Int]) throws -> Double {
        guard predicted.count == expected.count else {
            throw AnalysisError.badParameter("there are \(predicted.count) predictions for \(expected.count) expected answers")
        }
        guard !predicted.isEmpty else { throw AnalysisError.empty(what: "the list of predictions") }
        let hits = zip(predicted, expected).filter { $0 == $1 }.count
        return Double(hits) / Double(predicted.count)
    }

    /// Median of `values` (mean of the middle two for an even count); 0 when empty.
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Validates [N, H, L, L] patterns (or the query rows alone, [N, H, 1, L]) against one
    /// query per sequence; returns (N, H, L).
    static func patternShape(_ patterns: Tensor, queries: [Int]) throws -> (Int, Int, Int) {
        try requireRank(patterns, 4, "the attention patterns", "[N, H, L, L]")
        let n = patterns.shape[0], h = patterns.shape[1], l = patterns.shape[3]
        guard patterns.shape[2] == l || patterns.shape[2] == 1 else {
            throw AnalysisError.wrongShape(what: "the attention patterns", expected: "[N, H, L, L]", found: patterns.shape)
        }
        guard queries.count == n else {
            throw AnalysisError.badProbe("there are \(queries.count) query positions for \(n) sequences of attention patterns")
        }
        if let bad = queries.firstIndex(where: { $0 < 0 || $0 >= l }) {
            throw AnalysisError.badProbe("the query position \(queries[bad]) of sequence \(bad) lies outside sequences of \(l) tokens")
        }
        return (n, h, l)
    }
}
