/// The factored vocabulary (docs/model-spec.md): every token is four ids, one per factor.
public struct Vocabulary: Sendable, Equatable, Codable {
    /// Number of variable names x_0 … x_{names−1}.
    public var names: Int
    /// The numbers are Z_modulus.
    public var modulus: Int

    public init(names: Int = 128, modulus: Int = 23) {
        self.names = names
        self.modulus = modulus
    }

    /// Ids of the syntax factor.
    public enum Syntax {
        public static let variable: Int32 = 0
        public static let operation: Int32 = 1
        public static let value: Int32 = 2
        public static let pad: Int32 = 3
        public static let unknown: Int32 = 4
        public static let equals: Int32 = 5
        public static let separator: Int32 = 6
        public static let count = 7
    }

    /// The factors' names in layout order (`Factor.name`).
    public static let factorNames = Factor.allCases.map(\.name)
    public static let operationAdd: Int32 = 0
    public static let operationNA: Int32 = 1

    /// The variable id meaning "not a variable".
    public var variableNA: Int32 { Int32(names) }
    /// The value id meaning "not a value position".
    public var valueNA: Int32 { Int32(modulus) }
    /// The value id of a variable whose value is not (yet) known.
    public var valueEmpty: Int32 { Int32(modulus + 1) }

    /// Sizes of the four factor vocabularies, in layout order.
    public var factorSizes: [Int] { [Syntax.count, names + 1, 2, modulus + 2] }

    /// The padding token.
    public var padToken: FactorToken {
        FactorToken(syntax: Syntax.pad, variable: variableNA, operation: Vocabulary.operationNA, value: valueNA)
    }
    /// The `=` token.
    public var equalsToken: FactorToken {
        FactorToken(syntax: Syntax.equals, variable: variableNA, operation: Vocabulary.operationNA, value: valueNA)
    }
    /// The equation separator.
    public var separatorToken: FactorToken {
        FactorToken(syntax: Syntax.separator, variable: variableNA, operation: Vocabulary.operationNA, value: valueNA)
    }
    /// The `+` token.
    public var plusToken: FactorToken {
        FactorToken(syntax: Syntax.operation, variable: variableNA, operation: Vocabulary.operationAdd, value: valueNA)
    }
    /// A variable occurrence carrying `value` (EMPTY unless it is a filled value slot).
    public func variableToken(_ id: Int, value: Int32? = nil) -> FactorToken {
        FactorToken(syntax: Syntax.variable, variable: Int32(id), operation: Vocabulary.operationNA, value: value ?? valueEmpty)
    }
    /// A number literal.
    public func literalToken(_ value: Int) -> FactorToken {
        FactorToken(syntax: Syntax.value, variable: variableNA, operation: Vocabulary.operationNA, value: Int32(value))
    }
}

/// One position of a sequence: an id for each of the four factors.
public struct FactorToken: Hashable, Sendable, Codable {
    public var syntax: Int32
    public var variable: Int32
    public var operation: Int32
    public var value: Int32

    public init(syntax: Int32, variable: Int32, operation: Int32, value: Int32) {
        self.syntax = syntax
        self.variable = variable
        self.operation = operation
        self.value = value
    }

    /// The four ids in factor order.
    public var ids: [Int32] { [syntax, variable, operation, value] }

    /// A short human form: `x_42`, `x_42:17` (a slot holding 17), `+`, `=`, `;`, `17`, `<pad>`.
    public func describe(vocabulary: Vocabulary) -> String {
        switch syntax {
        case Vocabulary.Syntax.variable:
            let name = variable == vocabulary.variableNA ? "x_?" : "x_\(variable)"
            return value < vocabulary.valueNA ? "\(name):\(value)" : name
        case Vocabulary.Syntax.operation: return "+"
        case Vocabulary.Syntax.value: return value < vocabulary.valueNA ? "\(value)" : "?"
        case Vocabulary.Syntax.pad: return "<pad>"
        case Vocabulary.Syntax.equals: return "="
        case Vocabulary.Syntax.separator: return ";"
        default: return "<unk>"
        }
    }
}
