/// A deterministic agglomerative clustering with average linkage.
public struct Clustering: Codable, Sendable, Equatable {
    /// The clusters, each a list of item indices in display order; clusters in display order.
    public var clusters: [[Int]]
    /// Every item once, clusters contiguous, in dendrogram leaf order (for ordering a matrix).
    public var order: [Int]

    /// When to stop merging.
    public enum Stop: Sendable, Equatable {
        /// Stop before merging two clusters whose average distance exceeds the threshold.
        case distance(Double)
        /// Stop when this many clusters remain.
        case count(Int)
    }

    /// Clusters items with pairwise `distances` (symmetric, [n][n]) by average linkage.
    ///
    /// Each step merges the closest pair of clusters; ties go to the pair with the smallest
    /// indices, so the result depends only on the distances. The merged cluster lists the
    /// members of the cluster holding the smaller item first.
    public init(distances: [[Double]], stop: Stop) throws {
        let n = distances.count
        guard distances.allSatisfy({ $0.count == n }) else {
            throw AnalysisError.badParameter("a distance matrix must be square, found \(n) rows of lengths \(Set(distances.map(\.count)).sorted())")
        }
        if case .count(let k) = stop, k < 1 {
            throw AnalysisError.badParameter("clustering into \(k) clusters is meaningless; ask for at least one")
        }
        // Slot i holds the active cluster whose smallest member is i (nil once merged away).
        var members: [[Int]?] = (0..<n).map { [$0] }
        var d = distances
        var remaining = n
        while remaining > 1 {
            if case .count(let k) = stop, remaining <= k { break }
            var best: (i: Int, j: Int, distance: Double)?
            for i in 0..<n where members[i] != nil {
                for j in (i + 1)..<n where members[j] != nil {
                    let value = (d[i][j] + d[j][i]) / 2
                    if let current = best, value >= current.distance { continue }
                    best = (i, j, value)
                }
            }
            guard let merge = best else { break }
            if case .distance(let threshold) = stop, merge.distance > threshold { break }
            let a = members[merge.i] ?? [], b = members[merge.j] ?? []
            // Lance–Williams update for average linkage, stored in row/column i.
            for k in 0..<n where members[k] != nil && k != merge.i && k != merge.j {
                let value = (Double(a.count) * d[k][merge.i] + Double(b.count) * d[k][merge.j]) / Double(a.count + b.count)
                d[k][merge.i] = value
                d[merge.i][k] = value
            }
            members[merge.i] = a + b
            members[merge.j] = nil
            remaining -= 1
        }
        let found = members.compactMap { $0 }
        clusters = found
        order = found.flatMap { $0 }
    }

    /// Clusters rows by cosine similarity (distance 1 − cosine).
    public static func bySimilarity(_ similarity: [[Double]], stop: Stop) throws -> Clustering {
        try Clustering(distances: similarity.map { $0.map { 1 - $0 } }, stop: stop)
    }
}
