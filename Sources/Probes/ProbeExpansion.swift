import GraphTask

/// A probe expanded into token sequences with per-sequence metadata columns.
///
/// Probe equations: each sequence is the context with every value slot filled, a separator,
/// and the probe equation whose right-hand side is EMPTY (the model computes it). Whole-program
/// probes (no equation): each sequence is the program's iteration-0 input.
public struct ProbeExpansion: Sendable {
    /// The probe's name.
    public let name: String
    /// The vocabulary the tokens use.
    public let vocabulary: Vocabulary
    /// One token sequence per probe instance, unpadded.
    public var sequences: [[FactorToken]]
    /// Metadata column names, in a stable order (probes/README.md lists them).
    public var metaKeys: [String]
    /// Metadata columns: meta[key][i] belongs to sequence i.
    public var meta: [String: [Int32]]
    /// Recurrent iterations a run of this probe takes.
    public var iterations: Int
    /// Slot names of the probe equation, operands first then the right-hand side; empty for programs.
    public var slots: [String]

    /// Number of sequences.
    public var count: Int { sequences.count }
    /// The longest sequence: every batch is padded to it, so an activation file has one length.
    public var length: Int { sequences.map(\.count).max() ?? 1 }

    /// Sequences `range`, padded to `length`.
    public func batch(_ range: Range<Int>) -> TokenBatch {
        TokenBatch(sequences: Array(sequences[range]), vocabulary: vocabulary, padTo: length)
    }
}

/// A context program with where it came from.
struct ContextInstance {
    var program: Program
    var seed: Int
    var at: SourceLocation
}

/// Column-ordered metadata under construction.
struct MetaTable {
    var keys: [String] = []
    var columns: [String: [Int32]] = [:]

    mutating func append(_ row: [(String, Int)]) {
        for (key, value) in row {
            if columns[key] == nil { keys.append(key); columns[key] = [] }
            columns[key, default: []].append(Int32(truncatingIfNeeded: value))
        }
    }
}

extension Probe {
    /// Expands the probe for a model of `vocabulary` whose sequences may hold at most
    /// `maximumLength` tokens; throws a located `ProbeError` for anything the context breaks.
    public func expand(vocabulary: Vocabulary, maximumLength: Int = 4096) throws -> ProbeExpansion {
        try checkWork(vocabulary: vocabulary)
        let contexts = try instantiateContexts(vocabulary: vocabulary)
        var sequences: [[FactorToken]] = []
        var table = MetaTable()
        var iterationCount = iterations ?? 1
        if let equation {
            for (c, context) in contexts.enumerated() {
                try expandEquation(equation, context: context, index: c, vocabulary: vocabulary,
                                   sequences: &sequences, table: &table)
            }
        } else {
            var deepest = 0
            for (c, context) in contexts.enumerated() {
                let solution: Solution
                do { solution = try context.program.solve(vocabulary: vocabulary) } catch let e as ProgramError {
                    throw ProbeError.program(context.at, e)
                }
                deepest = max(deepest, solution.maxDepth)
                sequences.append(context.program.tokenize(vocabulary: vocabulary).iterationInput(0, solution: solution))
                table.append([("context", c), ("seed", context.seed), ("nodes", context.program.equations.count),
                              ("leaves", context.program.equations.filter(\.isLeaf).count), ("max_depth", solution.maxDepth)])
            }
            iterationCount = iterations ?? deepest + 1
        }
        if let longest = sequences.indices.max(by: { sequences[$0].count < sequences[$1].count }),
           sequences[longest].count > maximumLength {
            let c = Int(table.columns["context"]?[longest] ?? 0)
            throw ProbeError.tooLong(contexts[c].at, length: sequences[longest].count, maximum: maximumLength)
        }
        return ProbeExpansion(name: name, vocabulary: vocabulary, sequences: sequences, metaKeys: table.keys,
                              meta: table.columns, iterations: iterationCount, slots: equation?.slots ?? [])
    }

    /// The most sequences one probe may expand to; every sequence is held in memory (and
    /// recorded), so more cannot finish on any machine the task runs on.
    public static let maximumSequences = 10_000_000

    /// The most bytes of tokens an expansion may hold in memory.
    public static let maximumTokenBytes = 4e9

    /// An upper bound of the sequences this probe expands to and of the bytes their tokens
    /// take, computed from the probe's text before any graph is generated (in Double, so a
    /// product of huge sweeps cannot overflow).
    public func estimatedWork(vocabulary: Vocabulary) -> (sequences: Double, tokenBytes: Double) {
        let names = Double(vocabulary.names)
        var sequences = 0.0, bytes = 0.0
        for spec in contexts {
            // (contexts of this line, nodes per context, leaves per context)
            let shapes: [(count: Double, nodes: Double, leaves: Double)]
            switch spec {
            case .program(let text, _):
                let equations = Double(text.split(separator: ";").count)
                shapes = [(1, equations, equations)]
            case .random(let graphs, _):
                shapes = graphs.nodes.map { (Double(graphs.seeds.count), Double($0), Double(min(graphs.leaves, $0))) }
            }
            for shape in shapes {
                var perContext = 1.0
                if equation != nil {
                    let sizes: [Double] = sweeps.map { sweep in
                        switch sweep.set {
                        case .defined: return shape.nodes
                        case .leaves: return shape.leaves
                        case .free: return max(names - shape.nodes, 0)
                        case .values: return Double(vocabulary.modulus)
                        case .list(let items): return Double(items.count)
                        }
                    }
                    switch combine {
                    case .product: perContext = sizes.reduce(1, *)
                    case .zip: perContext = sizes.min() ?? 1
                    }
                }
                let count = shape.count * perContext
                // A node tokenises to at most 10 tokens (three operands, operators, =, target, ;).
                let tokens = 10 * (shape.nodes + 2)
                sequences += count
                bytes += count * tokens * Double(MemoryLayout<FactorToken>.stride)
            }
        }
        return (sequences, bytes)
    }

    /// Throws `ProbeError.invalid` when the probe would expand to more sequences or token
    /// bytes than `maximumSequences` and `maximumTokenBytes`, saying how much it would take.
    func checkWork(vocabulary: Vocabulary) throws {
        let (sequences, bytes) = estimatedWork(vocabulary: vocabulary)
        guard sequences > Double(Probe.maximumSequences) || bytes > Probe.maximumTokenBytes else { return }
        let at = equation?.location ?? contexts.first?.location ?? SourceLocation(file: file, line: 1, column: 1)
        let what = equation == nil ? "contexts" : "contexts × sweep combinations"
        throw ProbeError.invalid(at, String(format: "the probe expands to up to %.3g sequences (%@, about %.3g GB of tokens); the limit is %d sequences and %.0f GB, so narrow the seed ranges or sweeps",
                                            sequences, what, bytes / 1e9, Probe.maximumSequences, Probe.maximumTokenBytes / 1e9))
    }

    func instantiateContexts(vocabulary: Vocabulary) throws -> [ContextInstance] {
        var result: [ContextInstance] = []
        for spec in contexts {
            switch spec {
            case .program(let text, let at):
                do {
                    result.append(ContextInstance(program: try Program.parse(text, vocabulary: vocabulary), seed: -1, at: at))
                } catch let e as ProgramError {
                    var where_ = at
                    if let column = e.column { where_.column = at.column + column - 1 }
                    throw ProbeError.program(where_, e)
                }
            case .random(let graphs, let at):
                if let names = graphs.names, names > vocabulary.names {
                    throw ProbeError.invalid(at, "names=\(names) exceeds the model's \(vocabulary.names) names")
                }
                for n in graphs.nodes {
                    for seed in graphs.seeds {
                        let generator = GraphGenerator(nodes: n, leaves: min(graphs.leaves, n), names: graphs.names ?? vocabulary.names,
                                                       modulus: vocabulary.modulus, maxFanIn: graphs.maxFanIn,
                                                       minFanIn: graphs.minFanIn)
                        do {
                            result.append(ContextInstance(program: try generator.generate(seed: seed), seed: Int(seed), at: at))
                        } catch let e as ProgramError {
                            throw ProbeError.program(at, e)
                        }
                    }
                }
            }
        }
        return result
    }

    /// Appends every sweep combination of `equation` after one context.
    func expandEquation(_ equation: ProbeEquation, context: ContextInstance, index c: Int, vocabulary: Vocabulary,
                        sequences: inout [[FactorToken]], table: inout MetaTable) throws {
        let program = context.program
        let defined = program.equations.map(\.target)
        let definedSet = Set(defined)
        let leafEquation = Dictionary(uniqueKeysWithValues: program.equations.enumerated().filter { $0.element.isLeaf }.map { ($0.element.target, $0.offset) })
        let leaves = program.equations.filter(\.isLeaf).map(\.target)
        let free = (0..<vocabulary.names).filter { !definedSet.contains($0) }
        let scope = ContextScope(defined: defined, leaves: leaves, free: free, names: vocabulary.names, file: file, contextLine: context.at.line)

        func resolve(_ item: SlotItem, isValue: Bool) throws -> (Int, SourceLocation) {
            switch item {
            case .variable(let ref, let at): return (try scope.resolve(ref, at: at), at)
            case .value(let v, let at):
                guard v < vocabulary.modulus else {
                    throw ProbeError.invalid(at, "the value \(v) is outside Z_\(vocabulary.modulus) (0...\(vocabulary.modulus - 1))")
                }
                return (v, at)
            }
        }
        // Each sweep's items, resolved against this context.
        var lists: [[(Int, SourceLocation)]] = []
        for sweep in sweeps {
            switch sweep.set {
            case .defined: lists.append(defined.map { ($0, sweep.location) })
            case .leaves: lists.append(leaves.map { ($0, sweep.location) })
            case .free: lists.append(free.map { ($0, sweep.location) })
            case .values: lists.append((0..<vocabulary.modulus).map { ($0, sweep.location) })
            case .list(let items): lists.append(try items.map { try resolve($0, isValue: sweep.isValue) })
            }
            if lists[lists.count - 1].isEmpty {
                throw ProbeError.invalid(sweep.location, "the sweep of \(sweep.slot) is empty in the context of line \(context.at.line)")
            }
        }
        let combinations: [[Int]]
        switch combine {
        case .product:
            combinations = lists.reduce([[]]) { partial, list in partial.flatMap { prefix in list.indices.map { prefix + [$0] } } }
        case .zip:
            let counts = Set(lists.map(\.count))
            guard counts.count <= 1 else {
                throw ProbeError.invalid(combineLocation ?? sweeps[0].location,
                                         "combine zip needs sweeps of equal length, found " + zip(sweeps, lists).map { "\($0.slot): \($1.count)" }.joined(separator: ", "))
            }
            combinations = (0..<(lists.first?.count ?? 1)).map { i in lists.map { _ in i } }
        }
        var fixed: [String: (Int, SourceLocation)] = [:], fixedValues: [String: (Int, SourceLocation)] = [:]
        for fix in fixes {
            let resolved = try resolve(fix.item, isValue: fix.isValue)
            if fix.isValue { fixedValues[fix.slot] = resolved } else { fixed[fix.slot] = resolved }
        }
        for combination in combinations {
            var variables = fixed, values = fixedValues
            for (s, sweep) in sweeps.enumerated() {
                let item = lists[s][combination[s]]
                if sweep.isValue { values[sweep.slot] = item } else { variables[sweep.slot] = item }
            }
            var equations = program.equations
            var operandVariables: [Int] = []
            for slot in equation.operands {
                guard let (variable, at) = variables[slot] else { continue }  // checked by the parser
                guard definedSet.contains(variable) else {
                    throw ProbeError.invalid(at, "\(slot) is set to x_\(variable), which the context of line \(context.at.line) does not define (operands must be defined variables)")
                }
                operandVariables.append(variable)
                if let (value, valueAt) = values[slot] {
                    guard let e = leafEquation[variable] else {
                        throw ProbeError.invalid(valueAt, "\(slot).value needs \(slot) to be a leaf of the context, but x_\(variable) is computed (use leaf[i])")
                    }
                    if let previous = equations[e].literal, previous != value, previous != program.equations[e].literal {
                        throw ProbeError.invalid(valueAt, "x_\(variable) gets two different values (\(previous) and \(value)) from two slots")
                    }
                    equations[e].literal = value
                }
            }
            guard let (rhsVariable, rhsAt) = variables[equation.rhs] else { continue }
            guard !definedSet.contains(rhsVariable) else {
                throw ProbeError.invalid(rhsAt, "\(equation.rhs) is set to x_\(rhsVariable), which the context already defines (the right-hand side must be a free name, e.g. free[0])")
            }
            guard rhsVariable < vocabulary.names else {
                throw ProbeError.invalid(rhsAt, "x_\(rhsVariable) is beyond the vocabulary's \(vocabulary.names) names")
            }
            equations.append(Equation(operands: operandVariables, target: rhsVariable))
            let full = Program(equations: equations, modulus: vocabulary.modulus)
            let solution: Solution
            do { solution = try full.solve(vocabulary: vocabulary) } catch let e as ProgramError {
                throw ProbeError.program(equation.location, e)
            }
            let tokenized = full.tokenize(vocabulary: vocabulary)
            let filled = equations.indices.map { $0 < program.equations.count }
            sequences.append(tokenized.state(filled: filled, solution: solution))

            let definedAt = Dictionary(uniqueKeysWithValues: equations.enumerated().map { ($0.element.target, $0.offset) })
            guard let probeLayout = tokenized.layout.last else { continue }
            var row: [(String, Int)] = [("context", c)]
            for (i, variable) in operandVariables.enumerated() {
                let e = definedAt[variable] ?? 0
                row += [("operand\(i)_var", variable), ("operand\(i)_pos", probeLayout.operandPositions[i]),
                        ("operand\(i)_value", solution.values[e]), ("operand\(i)_value_pos", tokenized.layout[e].targetPosition),
                        ("operand\(i)_depth", solution.depths[e])]
            }
            row += [("rhs_var", rhsVariable), ("rhs_pos", probeLayout.targetPosition), ("equals_pos", probeLayout.equalsPosition),
                    ("answer", solution.values[solution.values.count - 1]), ("probe_start", probeLayout.start)]
            for (s, sweep) in sweeps.enumerated() { row.append((sweep.metaKey, lists[s][combination[s]].0)) }
            table.append(row)
        }
    }
}

/// The variables one context offers to references like `defined[3]`.
struct ContextScope {
    let defined: [Int]
    let leaves: [Int]
    let free: [Int]
    let names: Int
    let file: String
    let contextLine: Int

    func resolve(_ reference: VariableReference, at: SourceLocation) throws -> Int {
        func pick(_ list: [Int], _ i: Int, _ what: String) throws -> Int {
            let index = i < 0 ? list.count + i : i
            guard list.indices.contains(index) else {
                throw ProbeError.invalid(at, "\(reference) is out of range: the context of line \(contextLine) has \(list.count) \(what)")
            }
            return list[index]
        }
        switch reference {
        case .name(let id):
            guard id < names else { throw ProbeError.invalid(at, "x_\(id) is beyond the vocabulary's \(names) names (x_0 … x_\(names - 1))") }
            return id
        case .defined(let i): return try pick(defined, i, "defined variables")
        case .leaf(let i): return try pick(leaves, i, "leaves")
        case .free(let i): return try pick(free, i, "free names")
        }
    }
}

extension ProgramError {
    /// The 1-based column inside the program text, when the error has one.
    var column: Int? {
        switch self {
        case .syntax(let c, _, _): return c
        case .undefined(_, _, let c), .cycle(_, _, let c), .redefined(_, _, _, let c), .valueOutOfRange(_, _, _, let c),
             .nameOutOfVocabulary(_, _, _, let c):
            return c
        case .empty, .noOperands, .badGenerator: return nil
        }
    }
}
