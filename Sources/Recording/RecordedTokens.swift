import GraphTask

/// Token ids of recorded sequences as an activation file holds /tokens and /predictions
/// (docs/activation-file.md): [count, recorded iterations, length, `Factor.count`], read by name.
public struct RecordedTokens: Sendable, Equatable {
    /// Number of sequences.
    public let count: Int
    /// Number of recorded iterations; `recorded` indexes `ActivationReader.iterations`.
    public let iterations: Int
    /// Positions per sequence (padding included).
    public let length: Int
    /// The flat ids, one `TokenIDs` sequence per (sequence, recorded iteration).
    let block: TokenIDs

    /// Wraps `ids`, which must hold `count × iterations × length × Factor.count` ids.
    public init(count: Int, iterations: Int, length: Int, ids: [Int32]) {
        self.count = count
        self.iterations = iterations
        self.length = length
        block = TokenIDs(sequences: count * iterations, length: length, ids: ids)
    }

    /// The token of sequence `sequence` at position `position` in recorded iteration `recorded`.
    public subscript(sequence sequence: Int, recorded recorded: Int, position position: Int) -> FactorToken {
        block[sequence: sequence * iterations + recorded, position: position]
    }

    /// The id of `factor` of sequence `sequence` at position `position` in recorded iteration `recorded`.
    public subscript(sequence sequence: Int, recorded recorded: Int, position position: Int, factor factor: Factor) -> Int32 {
        block[sequence: sequence * iterations + recorded, position: position, factor: factor]
    }

    /// The value id of sequence `sequence` at position `position` in recorded iteration `recorded`.
    public func value(sequence: Int, recorded: Int, position: Int) -> Int32 {
        self[sequence: sequence, recorded: recorded, position: position, factor: .value]
    }
}
