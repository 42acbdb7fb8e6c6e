import Foundation

/// Random computation graphs of the paper's task (the README's "The task", docs/model-spec.md for the tokens).
///
/// Nodes 0..<leaves are leaves with a value in Z_modulus (uniform unless `leafValueDecay` is set);
/// every later node sums minFanIn…maxFanIn distinct earlier nodes (fan-in uniform; the task's own
/// range is 1…3). Names are drawn without replacement; the equations are sorted by depth, ties in
/// random order.
public struct GraphGenerator: Sendable {
    public var nodes: Int
    public var leaves: Int
    public var names: Int
    public var modulus: Int
    public var maxFanIn: Int
    /// Fewest operands of a computed node (1 in the task itself).
    public var minFanIn: Int
    /// Leaf values drawn with P(v) ∝ decay^v instead of uniformly (nil or 1: uniform, the task
    /// itself). Over uniform values no proper subset of a sum's operands says anything about the
    /// sum; over skewed ones each operand does, so a training stage can reward each lookup alone.
    public var leafValueDecay: Double?
    /// Operands drawn only among nodes of depth below this (nil: among all earlier nodes). This
    /// is how the paper's authors cap a graph's depth; without it a caller that wants depth ≤ D
    /// redraws deeper graphs, which leaves shallower graphs more common than theirs.
    public var parentDepthLimit: Int?

    public init(nodes: Int, leaves: Int = 6, names: Int = 128, modulus: Int = 23, maxFanIn: Int = 3, minFanIn: Int = 1,
                leafValueDecay: Double? = nil, parentDepthLimit: Int? = nil) {
        self.nodes = nodes
        self.leaves = leaves
        self.names = names
        self.modulus = modulus
        self.maxFanIn = maxFanIn
        self.minFanIn = minFanIn
        self.leafValueDecay = leafValueDecay
        self.parentDepthLimit = parentDepthLimit
    }

    /// Throws when the sizes cannot make a graph.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw ProgramError.badGenerator(message) } }
        try check(leaves >= 1, "a graph needs at least one leaf, asked for \(leaves)")
        try check(nodes >= leaves, "a graph of \(nodes) nodes cannot have \(leaves) leaves")
        try check(nodes <= names, "\(nodes) nodes need \(nodes) distinct names but only \(names) exist")
        try check(modulus >= 2, "the modulus must be at least 2, found \(modulus)")
        try check(minFanIn >= 1 && maxFanIn >= minFanIn, "the fan-in range must satisfy 1 ≤ min ≤ max, found \(minFanIn)…\(maxFanIn)")
        try check(leafValueDecay.map { $0 > 0 && $0 <= 1 } ?? true,
                  "the leaf value decay must lie in (0, 1], found \(leafValueDecay ?? 0)")
        try check(leaves >= minFanIn || nodes == leaves, "a fan-in of at least \(minFanIn) needs at least \(minFanIn) leaves, found \(leaves)")
        try check((parentDepthLimit ?? 1) >= 1, "the parents' depth limit must be at least 1, found \(parentDepthLimit ?? 0)")
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
                literal.append(leafValue(using: &rng))
                depth.append(0)
            } else {
                // With minFanIn 1 and no depth limit this draws exactly as before (1 + below(min(maxFanIn, i))).
                let candidates = parentDepthLimit.map { limit in (0..<i).filter { depth[$0] < limit } } ?? Array(0..<i)
                let low = min(minFanIn, candidates.count), high = min(maxFanIn, candidates.count)
                let fanIn = low + rng.below(high - low + 1)
                let chosen = rng.sample(fanIn, from: candidates.count).map { candidates[$0] }
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

    /// One leaf's value: uniform (one `below` draw, as always), or from P(v) ∝ decay^v by inverting
    /// the cumulative distribution with one unit draw.
    func leafValue(using rng: inout TaskRNG) -> Int {
        guard let decay = leafValueDecay, decay < 1 else { return rng.below(modulus) }
        // CDF(v) = (1 − decay^(v+1)) / (1 − decay^modulus); the smallest v with CDF(v) > u.
        let u = rng.unitDouble() * (1 - pow(decay, Double(modulus)))
        let v = Int((log(1 - u) / log(decay)).rounded(.down))
        return min(max(v, 0), modulus - 1)
    }

    /// A graph drawn from a generator seeded with `seed`.
    public func generate(seed: UInt64) throws -> Program {
        var rng = TaskRNG(seed: seed)
        return try generate(using: &rng)
    }
}
