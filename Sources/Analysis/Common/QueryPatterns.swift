import Transformer

/// Attention patterns [N, H, L, L] of one layer with the query position of each sequence;
/// `patterns` may also hold only each sequence's query row, [N, H, 1, L].
public struct QueryPatterns: Sendable {
    public var patterns: Tensor
    public var queries: [Int]

    public init(patterns: Tensor, queries: [Int]) {
        self.patterns = patterns
        self.queries = queries
    }

    /// The query rows [N, H, L] (as `ActivationReader.activations(_:iteration:at:)` returns
    /// them), each taken at `queries[i]`.
    public init(rows: Tensor, queries: [Int]) throws {
        try requireRank(rows, 3, "the attention rows", "[N, H, L]")
        self.init(patterns: Tensor(shape: [rows.shape[0], rows.shape[1], 1, rows.shape[2]], scalars: rows.scalars), queries: queries)
    }
}
