/// Random computation graphs of the paper's task (DESIGN "The task").
///
/// Nodes 0..<leaves are leaves with a uniform value in Z_modulus; every later node sums
/// minFanIn…maxFanIn distinct earlier nodes (fan-in uniform; the task's own range is 1…3). Names
/// are drawn without replacement; the equations are sorted by depth, ties in random order.
public struct GraphGenerator: Sendable {
    public var nodes: Int
    public var leaves: Int
    public var names: Int
    public var modulus: Int
    public var maxFanIn: Int
    /// Fewest operands of a computed node (1 in the task itself).
    public var minFanIn: Int

    public init(nodes: Int, leaves: Int = 6, names: Int = 128, modulus: Int = 23, maxFanIn: Int = 3, minFanIn: Int = 1) {
        self.nodes = nodes
        self.leaves = leaves
        self.names = names
        self.modulus = modulus
        self.maxFanIn = maxFanIn
        self.minFanIn = minFanIn
    }

    /// Throws when the sizes cannot make a graph.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw ProgramError.badGenerator(message) } }
        try check(leaves >= 1, "a graph needs at least one leaf, asked for \(leaves)")
        try check(nodes >= leaves, "a graph of \(nodes) nodes cannot have \(leaves) leaves")
        try check(nodes <= names, "\(nodes) nodes need \(nodes) distinct names but only \(names) exist")
        try check(modulus >= 2, "the modulus must be at least 2, found \(modulus)")
        try check(minFanIn >= 1 && maxFanIn >= minFanIn, "the fan-in range must satisfy 1 ≤ min ≤ max, found \(minFanIn)…\(maxFanIn)")
        try check(leaves >= minFanIn || nodes == leaves, "a fan-in of at least \(minFanIn) needs at least \(minFanIn) leaves, found \(leaves)")
    }

    /// A graph drawn from `rng`.
    public func generate(using rng: inout TaskRNG) throws -> Program {
        try validate()
        var operands: [[Int]] = []
        var literal: [Int?] = []
        var depth: [Int] = []
        for i in 0..<nodes {
            if i < leaves {
                operands.append([])
                literal.append(rng.below(modulus))
                depth.append(0)
            } else {
                // With minFanIn 1 this draws exactly as before (1 + below(min(maxFanIn, i))).
                let low = min(minFanIn, i), high = min(maxFanIn, i)
                let fanIn = low + rng.below(high - low + 1)
                let chosen = rng.sample(fanIn, from: i)
                operands.append(chosen)
                literal.append(nil)
                depth.append(1 + (chosen.map { depth[$0] }.max() ?? 0))
            }
        }
        let nameOf = rng.sample(nodes, from: names)
        // Sort by depth with random tie order: shuffle, then a stable sort by depth.
        var order = Array(0..<nodes)
        rng.shuffle(&order)
        order = order.enumerated().sorted { a, b in
            depth[a.element] != depth[b.element] ? depth[a.element] < depth[b.element] : a.offset < b.offset
        }.map(\.element)
        let equations = order.map { node in
            Equation(operands: operands[node].map { nameOf[$0] }, literal: literal[node], target: nameOf[node])
        }
        return Program(equations: equations, modulus: modulus)
    }

    /// A graph drawn from a generator seeded with `seed`.
    public func generate(seed: UInt64) throws -> Program {
        var rng = TaskRNG(seed: seed)
        return try generate(using: &rng)
    }
}
