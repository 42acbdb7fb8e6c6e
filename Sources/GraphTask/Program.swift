/// One equation: a leaf `17 = x_42` (a literal) or a sum `x_3 + x_90 = x_12` (operands).
public struct Equation: Hashable, Sendable, Codable {
    /// Variable ids summed mod the modulus; empty for a leaf.
    public var operands: [Int]
    /// The leaf's value; nil for a computed equation.
    public var literal: Int?
    /// The variable this equation defines.
    public var target: Int

    public init(operands: [Int] = [], literal: Int? = nil, target: Int) {
        self.operands = operands
        self.literal = literal
        self.target = target
    }

    /// Whether this is a leaf.
    public var isLeaf: Bool { literal != nil }
}

/// A program: equations in sequence order, each defining one variable.
public struct Program: Hashable, Sendable, Codable {
    public var equations: [Equation]
    public var modulus: Int

    public init(equations: [Equation], modulus: Int = 23) {
        self.equations = equations
        self.modulus = modulus
    }
}

/// Values and depths of every equation of a valid program.
public struct Solution: Sendable, Equatable {
    /// values[e] is the value of equation e's variable.
    public var values: [Int]
    /// depths[e]: 0 for a leaf, 1 + the deepest operand otherwise.
    public var depths: [Int]
    /// The largest depth (a recurrent run needs maxDepth + 1 iterations).
    public var maxDepth: Int { depths.max() ?? 0 }
}

/// Why a program is not valid; messages read like sentences.
public enum ProgramError: Error, Equatable, Sendable, CustomStringConvertible {
    case syntax(column: Int, expected: String, found: String)
    case empty
    case noOperands(equation: Int)
    case undefined(variable: Int, equation: Int, column: Int?)
    case cycle(variables: [Int], equation: Int, column: Int?)
    case redefined(variable: Int, equation: Int, firstEquation: Int, column: Int?)
    case valueOutOfRange(value: Int, modulus: Int, equation: Int, column: Int?)
    case nameOutOfVocabulary(variable: Int, names: Int, equation: Int, column: Int?)
    case badGenerator(String)

    public var description: String {
        func at(_ equation: Int, _ column: Int?) -> String {
            column.map { "column \($0) (equation \(equation + 1))" } ?? "equation \(equation + 1)"
        }
        switch self {
        case .syntax(let column, let expected, let found):
            return "column \(column): expected \(expected), found \(found)"
        case .empty:
            return "the program has no equations"
        case .noOperands(let e):
            return "equation \(e + 1) sums no operands"
        case .undefined(let v, let e, let c):
            return "\(at(e, c)): x_\(v) is used but never defined earlier in the program"
        case .cycle(let vs, let e, let c):
            return "\(at(e, c)): the definitions form a cycle " + vs.map { "x_\($0)" }.joined(separator: " → ")
        case .redefined(let v, let e, let first, let c):
            return "\(at(e, c)): x_\(v) is defined again (first defined by equation \(first + 1))"
        case .valueOutOfRange(let value, let modulus, let e, let c):
            return "\(at(e, c)): the value \(value) is outside Z_\(modulus) (0...\(modulus - 1))"
        case .nameOutOfVocabulary(let v, let names, let e, let c):
            return "\(at(e, c)): x_\(v) is beyond the vocabulary's \(names) names (x_0 … x_\(names - 1))"
        case .badGenerator(let message):
            return message
        }
    }
}

extension Program {
    /// Checks names and literals against `vocabulary`, definitions before use, no redefinition.
    public func validate(vocabulary: Vocabulary) throws {
        _ = try solve(vocabulary: vocabulary)
    }

    /// Values and depths of every equation, checking the program on the way.
    public func solve(vocabulary: Vocabulary? = nil, columns: [[Int]]? = nil) throws -> Solution {
        guard !equations.isEmpty else { throw ProgramError.empty }
        var definedBy: [Int: Int] = [:]
        for (e, equation) in equations.enumerated() {
            if let first = definedBy[equation.target] {
                throw ProgramError.redefined(variable: equation.target, equation: e, firstEquation: first, column: columns?[e].last)
            }
            definedBy[equation.target] = e
        }
        var values = [Int](repeating: 0, count: equations.count)
        var depths = [Int](repeating: 0, count: equations.count)
        for (e, equation) in equations.enumerated() {
            let cols = columns?[e]
            if let vocabulary {
                for (i, v) in (equation.operands + [equation.target]).enumerated() where v < 0 || v >= vocabulary.names {
                    throw ProgramError.nameOutOfVocabulary(variable: v, names: vocabulary.names, equation: e, column: cols?[safe: i + (equation.isLeaf ? 1 : 0)])
                }
            }
            if let literal = equation.literal {
                guard literal >= 0 && literal < modulus else {
                    throw ProgramError.valueOutOfRange(value: literal, modulus: modulus, equation: e, column: cols?.first)
                }
                values[e] = literal
                depths[e] = 0
                continue
            }
            guard !equation.operands.isEmpty else { throw ProgramError.noOperands(equation: e) }
            var sum = 0, depth = 0
            for (i, operand) in equation.operands.enumerated() {
                guard let d = definedBy[operand] else {
                    throw ProgramError.undefined(variable: operand, equation: e, column: cols?[safe: i])
                }
                if d >= e {
                    if let loop = cycle(through: operand, startingAt: e, definedBy: definedBy) {
                        throw ProgramError.cycle(variables: loop, equation: e, column: cols?[safe: i])
                    }
                    throw ProgramError.undefined(variable: operand, equation: e, column: cols?[safe: i])
                }
                sum += values[d]
                depth = max(depth, depths[d] + 1)
            }
            values[e] = sum % modulus
            depths[e] = depth
        }
        return Solution(values: values, depths: depths)
    }

    /// A cycle of definitions through equation `start` that reaches `operand`, if there is one.
    func cycle(through operand: Int, startingAt start: Int, definedBy: [Int: Int]) -> [Int]? {
        let target = equations[start].target
        // Depth-first search from `operand` along operand edges back to `target`.
        var stack: [(Int, [Int])] = [(operand, [target, operand])]
        var seen: Set<Int> = []
        while let (variable, path) = stack.popLast() {
            if variable == target { return path }
            guard seen.insert(variable).inserted, let e = definedBy[variable] else { continue }
            for next in equations[e].operands { stack.append((next, path + [next])) }
        }
        return nil
    }

    /// The equations that can be filled once `filled` ones are: leaves always, and every
    /// equation whose operands are all filled (the rule one recurrent iteration applies).
    public func nextFilled(_ filled: [Bool]) -> [Bool] {
        var isFilled: [Int: Bool] = [:]
        for (e, equation) in equations.enumerated() { isFilled[equation.target] = filled[e] }
        return equations.enumerated().map { e, equation in
            filled[e] || equation.isLeaf || equation.operands.allSatisfy { isFilled[$0] == true }
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
