/// Where the tokens of one equation sit in the sequence.
public struct EquationLayout: Sendable, Equatable {
    public var start: Int
    public var operandPositions: [Int]
    public var literalPosition: Int?
    public var equalsPosition: Int
    /// The right-hand-side variable: the equation's value slot.
    public var targetPosition: Int
    /// One past the last token of the equation (its separator, if any, sits here).
    public var end: Int
}

/// A program's token sequence (slots EMPTY) and the layout of each equation.
public struct TokenizedProgram: Sendable {
    public let vocabulary: Vocabulary
    public var tokens: [FactorToken]
    public var layout: [EquationLayout]

    /// The sequence with the slots of `filled` equations holding their values, the rest EMPTY.
    public func state(filled: [Bool], solution: Solution) -> [FactorToken] {
        var result = tokens
        for (e, place) in layout.enumerated() where filled[e] {
            result[place.targetPosition].value = Int32(solution.values[e])
        }
        return result
    }

    /// Input of recurrent iteration t: nodes of depth < t filled.
    public func iterationInput(_ t: Int, solution: Solution) -> [FactorToken] {
        state(filled: solution.depths.map { $0 < t }, solution: solution)
    }

    /// Target of recurrent iteration t: nodes of depth ≤ t filled.
    public func iterationTarget(_ t: Int, solution: Solution) -> [FactorToken] {
        state(filled: solution.depths.map { $0 <= t }, solution: solution)
    }

    /// True at value slots (a VARIABLE right after `=`).
    public var valueSlotMask: [Bool] {
        tokens.indices.map { n in
            n > 0 && tokens[n].syntax == Vocabulary.Syntax.variable && tokens[n - 1].syntax == Vocabulary.Syntax.equals
        }
    }
}

extension Program {
    /// Tokens of this program: equations joined by separators, slots EMPTY.
    public func tokenize(vocabulary: Vocabulary) -> TokenizedProgram {
        var tokens: [FactorToken] = []
        var layout: [EquationLayout] = []
        for (e, equation) in equations.enumerated() {
            if e > 0 { tokens.append(vocabulary.separatorToken) }
            let start = tokens.count
            var operandPositions: [Int] = []
            var literalPosition: Int?
            if let literal = equation.literal {
                literalPosition = tokens.count
                tokens.append(vocabulary.literalToken(literal))
            } else {
                for (i, operand) in equation.operands.enumerated() {
                    if i > 0 { tokens.append(vocabulary.plusToken) }
                    operandPositions.append(tokens.count)
                    tokens.append(vocabulary.variableToken(operand))
                }
            }
            let equalsPosition = tokens.count
            tokens.append(vocabulary.equalsToken)
            let targetPosition = tokens.count
            tokens.append(vocabulary.variableToken(equation.target))
            layout.append(EquationLayout(start: start, operandPositions: operandPositions, literalPosition: literalPosition,
                                         equalsPosition: equalsPosition, targetPosition: targetPosition, end: tokens.count))
        }
        return TokenizedProgram(vocabulary: vocabulary, tokens: tokens, layout: layout)
    }
}

/// Sequences padded on the right into one flat [batch, length, `Factor.count`] block of ids.
public struct TokenBatch: Sendable {
    public let batch: Int
    public let length: Int
    /// Flat ids in factor order syntax, variable, operation, value (the layout of `TokenIDs`).
    public var ids: [Int32]
    /// Unpadded length of each sequence.
    public var lengths: [Int32]

    /// Pads `sequences` with the PAD token to the longest one (or to `padTo` when larger).
    public init(sequences: [[FactorToken]], vocabulary: Vocabulary, padTo: Int? = nil) {
        batch = sequences.count
        length = max(sequences.map(\.count).max() ?? 0, padTo ?? 0, 1)
        lengths = sequences.map { Int32($0.count) }
        var ids = [Int32]()
        ids.reserveCapacity(batch * length * Factor.count)
        let pad = vocabulary.padToken
        for sequence in sequences {
            for n in 0..<length {
                ids += (n < sequence.count ? sequence[n] : pad).ids
            }
        }
        self.ids = ids
    }

    /// The ids as a block with named access.
    public var block: TokenIDs { TokenIDs(sequences: batch, length: length, ids: ids) }

    /// The token of sequence `b` at position `n`.
    public subscript(b: Int, n: Int) -> FactorToken {
        FactorToken(ids: ids, from: TokenIDs.index(sequence: b, position: n, factor: .syntax, length: length))
    }

    /// The id of `factor` at sequence `sequence`, position `position`.
    public subscript(sequence sequence: Int, position position: Int, factor factor: Factor) -> Int32 {
        get { ids[TokenIDs.index(sequence: sequence, position: position, factor: factor, length: length)] }
        set { ids[TokenIDs.index(sequence: sequence, position: position, factor: factor, length: length)] = newValue }
    }

    /// The value id at sequence `sequence`, position `position`.
    public func value(sequence: Int, position: Int) -> Int32 {
        self[sequence: sequence, position: position, factor: .value]
    }

    /// Sequence `b` without its padding.
    public func sequence(_ b: Int) -> [FactorToken] {
        (0..<Int(lengths[b])).map { self[b, $0] }
    }
}
