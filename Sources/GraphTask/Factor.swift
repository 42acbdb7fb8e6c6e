/// One of the four factors of a token (docs/model-spec.md). Every flat token block holds
/// `Factor.count` ids per token, in this order: a factor's id sits at offset `rawValue`.
public enum Factor: Int, CaseIterable, Sendable, Codable {
    case syntax = 0
    case variable = 1
    case operation = 2
    case value = 3

    /// Ids per token in a flat token block.
    public static let count = 4

    /// Per-factor loss weights in factor order (the model's `factorWeights`) that count `factors`
    /// with weight 1 and the others not at all.
    public static func lossWeights(counting factors: Set<Factor>) -> [Float] {
        allCases.map { factors.contains($0) ? 1 : 0 }
    }

    /// The factor's name as checkpoints, errors and reports spell it.
    public var name: String {
        switch self {
        case .syntax: return "syntax"
        case .variable: return "variable"
        case .operation: return "operation"
        case .value: return "value"
        }
    }
}

extension FactorToken {
    /// The token whose ids start at `ids[start]`, in factor order.
    public init(ids: [Int32], from start: Int) {
        self.init(syntax: ids[start + Factor.syntax.rawValue], variable: ids[start + Factor.variable.rawValue],
                  operation: ids[start + Factor.operation.rawValue], value: ids[start + Factor.value.rawValue])
    }
}

/// A flat block of token ids laid out [sequences, length, `Factor.count`], read and written by
/// name: the layout of `TokenBatch.ids`, of a recurrent run's inputs and predictions, and of one
/// iteration of an activation file's /tokens and /predictions.
public struct TokenIDs: Sendable, Equatable {
    /// Number of sequences.
    public let sequences: Int
    /// Positions per sequence (padding included).
    public let length: Int
    /// The flat ids.
    public var ids: [Int32]

    /// Wraps `ids`, which must hold `sequences × length × Factor.count` ids.
    public init(sequences: Int, length: Int, ids: [Int32]) {
        precondition(ids.count == sequences * length * Factor.count,
                     "a token block of \(sequences) × \(length) needs \(sequences * length * Factor.count) ids, found \(ids.count)")
        self.sequences = sequences
        self.length = length
        self.ids = ids
    }

    /// Where the id of `factor` of sequence `sequence`, position `position` sits in `ids`.
    public static func index(sequence: Int, position: Int, factor: Factor, length: Int) -> Int {
        (sequence * length + position) * Factor.count + factor.rawValue
    }

    /// The id of `factor` at sequence `sequence`, position `position`.
    public subscript(sequence sequence: Int, position position: Int, factor factor: Factor) -> Int32 {
        get { ids[TokenIDs.index(sequence: sequence, position: position, factor: factor, length: length)] }
        set { ids[TokenIDs.index(sequence: sequence, position: position, factor: factor, length: length)] = newValue }
    }

    /// The token at sequence `sequence`, position `position`.
    public subscript(sequence sequence: Int, position position: Int) -> FactorToken {
        FactorToken(ids: ids, from: TokenIDs.index(sequence: sequence, position: position, factor: .syntax, length: length))
    }

    /// The value id at sequence `sequence`, position `position`.
    public func value(sequence: Int, position: Int) -> Int32 {
        self[sequence: sequence, position: position, factor: .value]
    }

    /// The flat ids of sequences `range`, in the same layout.
    public func ids(ofSequences range: Range<Int>) -> [Int32] {
        let perSequence = length * Factor.count
        return Array(ids[(range.lowerBound * perSequence)..<(range.upperBound * perSequence)])
    }
}
