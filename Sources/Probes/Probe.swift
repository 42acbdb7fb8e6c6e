/// A parsed probe file: contexts, an optional probe equation with named slots, and how the
/// slots are fixed or swept (probes/README.md describes the format).
public struct Probe: Sendable, Equatable {
    /// The probe's name (the `name` line, else the file name without extension).
    public var name: String
    /// The file it was read from (for error messages).
    public var file: String
    /// Free text from `description` lines.
    public var description: String = ""
    /// Context lines, in file order; each may stand for several contexts.
    public var contexts: [ContextSpec] = []
    /// The probe equation appended after each context, or nil for whole-program probes.
    public var equation: ProbeEquation?
    /// `fix` lines.
    public var fixes: [Assignment] = []
    /// `sweep` lines, in file order (the first is the outermost loop of a product).
    public var sweeps: [Sweep] = []
    /// How several sweeps combine.
    public var combine: Combine = .product
    /// Where `combine` was given (for zip length errors).
    public var combineLocation: SourceLocation?
    /// Recurrent iterations to run (nil: 1 for probe equations, max depth + 1 for programs).
    public var iterations: Int?

    public init(name: String, file: String) {
        self.name = name
        self.file = file
    }
}

/// The graphs of a `context random` line: one per (nodes, seed) pair.
public struct RandomGraphs: Sendable, Equatable {
    public var seeds: [UInt64]
    public var nodes: [Int]
    public var leaves = 6
    /// Operands of a computed node lie in minFanIn…maxFanIn (the task's own range is 1…3).
    public var minFanIn = 1
    public var maxFanIn = 3
    /// Names are drawn from the first `names` of the vocabulary (nil: all of them), as in a
    /// curriculum stage with `@NAMES`.
    public var names: Int?

    public init(seeds: [UInt64], nodes: [Int], leaves: Int = 6, minFanIn: Int = 1, maxFanIn: Int = 3, names: Int? = nil) {
        self.seeds = seeds
        self.nodes = nodes
        self.leaves = leaves
        self.minFanIn = minFanIn
        self.maxFanIn = maxFanIn
        self.names = names
    }
}

/// One `context` line.
public enum ContextSpec: Sendable, Equatable {
    /// Random graphs, one per (nodes, seed) pair.
    case random(RandomGraphs, at: SourceLocation)
    /// A literal program in the text syntax; `at` points at its first character.
    case program(text: String, at: SourceLocation)

    /// Where the line is.
    public var location: SourceLocation {
        switch self {
        case .random(_, let at), .program(_, let at): return at
        }
    }
}

/// `v0 + v1 + v2 = rhs`: operand slots summed into the right-hand-side slot.
public struct ProbeEquation: Sendable, Equatable {
    public var operands: [String]
    public var rhs: String
    public var location: SourceLocation

    /// Every slot, operands first, then the right-hand side.
    public var slots: [String] { operands + [rhs] }
}

/// Names a variable relative to the context.
public enum VariableReference: Sendable, Equatable, CustomStringConvertible {
    /// `x_12`.
    case name(Int)
    /// `defined[i]`: the variable of the context's i-th equation (negative: from the end).
    case defined(Int)
    /// `leaf[i]`: the i-th leaf of the context, in sequence order.
    case leaf(Int)
    /// `free[i]`: the i-th name the context does not define, by increasing id.
    case free(Int)

    public var description: String {
        switch self {
        case .name(let id): return "x_\(id)"
        case .defined(let i): return "defined[\(i)]"
        case .leaf(let i): return "leaf[\(i)]"
        case .free(let i): return "free[\(i)]"
        }
    }
}

/// What a slot is set to: a variable, or (for `slot.value`) a number of Z_modulus.
public enum SlotItem: Sendable, Equatable {
    case variable(VariableReference, at: SourceLocation)
    case value(Int, at: SourceLocation)
}

/// A `fix` line: `fix v1 = defined[3]` or `fix v0.value = 5`.
public struct Assignment: Sendable, Equatable {
    public var slot: String
    /// Whether the line sets the slot's value (`v0.value`) rather than its variable.
    public var isValue: Bool
    public var item: SlotItem
    public var location: SourceLocation
}

/// The set a sweep runs over.
public enum SweepSet: Sendable, Equatable {
    /// Every variable the context defines, in sequence order.
    case defined
    /// Every leaf of the context, in sequence order.
    case leaves
    /// Every name the context does not define, by increasing id.
    case free
    /// Every value of Z_modulus, 0 … modulus − 1.
    case values
    /// An explicit list.
    case list([SlotItem])
}

/// A `sweep` line: `sweep v0 over defined`, `sweep v1.value over 0..22`.
public struct Sweep: Sendable, Equatable {
    public var slot: String
    public var isValue: Bool
    public var set: SweepSet
    public var location: SourceLocation

    /// The /meta column holding the swept item.
    public var metaKey: String { isValue ? "sweep_\(slot)_value" : "sweep_\(slot)" }
}

/// How several sweeps combine.
public enum Combine: String, Sendable, Equatable {
    /// Every combination (the first sweep is the outermost loop).
    case product
    /// The i-th items of every sweep together (the sweeps must have equal lengths).
    case zip
}
