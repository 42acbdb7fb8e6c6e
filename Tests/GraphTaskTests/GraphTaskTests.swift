import Foundation
import Testing
@testable import GraphTask

@Suite struct RNGTests {
    @Test func splitMixSeedingMatchesTheReferenceStream() {
        // SplitMix64's first output for seed 0 is 0xE220A8397B1DCDAF (Vigna's reference code);
        // it is the first word of xoshiro's state.
        let rng = TaskRNG(seed: 0)
        #expect(rng.state[0] == 0xE220_A839_7B1D_CDAF)
    }

    @Test func sameSeedSameStreamAndDifferentSeedsDiffer() {
        var a = TaskRNG(seed: 42), b = TaskRNG(seed: 42), c = TaskRNG(seed: 43)
        let x = (0..<10).map { _ in a.next() }, y = (0..<10).map { _ in b.next() }, z = (0..<10).map { _ in c.next() }
        #expect(x == y)
        #expect(x != z)
    }

    @Test func stateRoundTripContinuesTheStream() {
        var a = TaskRNG(seed: 7)
        _ = (0..<5).map { _ in a.next() }
        var b = TaskRNG(state: a.state)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
    }

    @Test func belowIsInRangeAndRoughlyUniform() {
        var rng = TaskRNG(seed: 1)
        var counts = [Int](repeating: 0, count: 23)
        for _ in 0..<23_000 { counts[rng.below(23)] += 1 }
        #expect(counts.allSatisfy { $0 > 800 && $0 < 1200 })
    }

    @Test func sampleIsDistinct() {
        var rng = TaskRNG(seed: 2)
        let s = rng.sample(50, from: 128)
        #expect(Set(s).count == 50)
        #expect(s.allSatisfy { (0..<128).contains($0) })
    }
}

@Suite struct GeneratorTests {
    /// Depth and value by brute force: iterate to a fixed point over the variables.
    func bruteForce(_ p: Program) -> [Int: (value: Int, depth: Int)] {
        var known: [Int: (value: Int, depth: Int)] = [:]
        var changed = true
        while changed {
            changed = false
            for e in p.equations where known[e.target] == nil {
                if let literal = e.literal { known[e.target] = (literal, 0); changed = true; continue }
                let operands = e.operands.compactMap { known[$0] }
                if operands.count == e.operands.count {
                    known[e.target] = (operands.map(\.value).reduce(0, +) % p.modulus, 1 + operands.map(\.depth).max()!)
                    changed = true
                }
            }
        }
        return known
    }

    @Test(arguments: [8, 16, 32, 64, 128])
    func generatedGraphsSatisfyTheTaskInvariants(nodes: Int) throws {
        for seed in 0..<20 {
            let p = try GraphGenerator(nodes: nodes).generate(seed: UInt64(seed))
            let solution = try p.solve()
            #expect(p.equations.count == nodes)
            #expect(p.equations.filter(\.isLeaf).count == 6)
            #expect(Set(p.equations.map(\.target)).count == nodes)  // distinct names
            #expect(p.equations.allSatisfy { $0.isLeaf || (1...3).contains($0.operands.count) })
            #expect(p.equations.allSatisfy { Set($0.operands).count == $0.operands.count })
            #expect(solution.depths == solution.depths.sorted())  // sorted by depth
            let brute = bruteForce(p)
            for (e, eq) in p.equations.enumerated() {
                #expect(brute[eq.target]?.value == solution.values[e])
                #expect(brute[eq.target]?.depth == solution.depths[e])
            }
        }
    }

    @Test func sameSeedGivesTheSameGraph() throws {
        let g = GraphGenerator(nodes: 32)
        #expect(try g.generate(seed: 5) == g.generate(seed: 5))
        #expect(try g.generate(seed: 5) != g.generate(seed: 6))
    }

    @Test func skewedLeafValuesFollowTheGeometricLaw() throws {
        // 20,000 leaves with P(v) ∝ 0.8^v over Z_23: P(0) = 0.2 / (1 − 0.8^23) ≈ 0.2012,
        // P(1) ≈ 0.1610, P(5) ≈ 0.0659; each within 4 standard errors.
        let generator = GraphGenerator(nodes: 20, leaves: 20, names: 20, leafValueDecay: 0.8)
        var counts = [Int](repeating: 0, count: 23)
        for seed in 0..<1_000 {
            for equation in try generator.generate(seed: UInt64(seed)).equations { counts[equation.literal!] += 1 }
        }
        let total = Double(counts.reduce(0, +))
        let norm = (1 - pow(0.8, 23)) / 0.2
        for v in [0, 1, 5, 12] {
            let p = pow(0.8, Double(v)) / norm
            let tolerance = 4 * (p * (1 - p) / total).squareRoot()
            #expect(abs(Double(counts[v]) / total - p) < tolerance, "P(\(v)) = \(Double(counts[v]) / total), expected \(p)")
        }
        #expect(counts.allSatisfy { $0 > 0 })  // every value still occurs (P(22) ≈ 0.0015)
        // A decay of 1 (or none) is the task's uniform draw, graph for graph.
        #expect(try GraphGenerator(nodes: 32, leafValueDecay: 1).generate(seed: 4) == GraphGenerator(nodes: 32).generate(seed: 4))
        #expect(throws: ProgramError.self) { try GraphGenerator(nodes: 8, leafValueDecay: 0).generate(seed: 0) }
        #expect(throws: ProgramError.self) { try GraphGenerator(nodes: 8, leafValueDecay: 1.5).generate(seed: 0) }
    }

    /// The authors' depth cap: operands only among nodes shallower than the limit, so no graph
    /// is deeper and none needs redrawing. Their generator's 32-node, 6-leaf graphs average 6.53
    /// iterations (a Python simulation of it, 20,000 graphs); redrawing graphs deeper than 6
    /// instead averages 6.33.
    @Test func aParentDepthLimitCapsTheDepthLikeTheAuthors() throws {
        let capped = GraphGenerator(nodes: 32, parentDepthLimit: 6)
        var iterations = 0, redrawn = 0, kept = 0
        for seed in 0..<2_000 {
            let depth = try capped.generate(seed: UInt64(seed)).solve().maxDepth
            #expect(depth <= 6)
            iterations += depth + 1
            let free = try GraphGenerator(nodes: 32).generate(seed: UInt64(seed)).solve().maxDepth
            if free > 6 { redrawn += 1 } else { kept += free + 1 }
        }
        #expect(abs(Double(iterations) / 2_000 - 6.53) < 0.05, "\(Double(iterations) / 2_000)")
        #expect(abs(Double(kept) / Double(2_000 - redrawn) - 6.33) < 0.05)
        // A limit above any depth the graph reaches draws what no limit draws, graph for graph.
        #expect(try GraphGenerator(nodes: 32, parentDepthLimit: 100).generate(seed: 4) == GraphGenerator(nodes: 32).generate(seed: 4))
        #expect(throws: ProgramError.self) { try GraphGenerator(nodes: 8, parentDepthLimit: 0).generate(seed: 0) }
    }

    @Test func impossibleSizesAreRejected() {
        #expect(throws: ProgramError.self) { try GraphGenerator(nodes: 4, leaves: 6).generate(seed: 0) }
        #expect(throws: ProgramError.self) { try GraphGenerator(nodes: 200, names: 128).generate(seed: 0) }
        #expect(throws: ProgramError.self) { try GraphGenerator(nodes: 8, leaves: 0).generate(seed: 0) }
    }
}

@Suite struct TextSyntaxTests {
    let vocabulary = Vocabulary(names: 128, modulus: 23)

    @Test func roundTripOfGeneratedPrograms() throws {
        for seed in 0..<20 {
            let p = try GraphGenerator(nodes: 24).generate(seed: UInt64(seed))
            #expect(try Program.parse(p.text, vocabulary: vocabulary) == p)
        }
    }

    @Test func handWrittenProgramParsesAndSolves() throws {
        let p = try Program.parse("17 = x_42; 10 = x_5\n x_42 + x_5 = x_12;", vocabulary: vocabulary)
        #expect(p.text == "17 = x_42; 10 = x_5; x_42 + x_5 = x_12")
        let s = try p.solve()
        #expect(s.values == [17, 10, 4])
        #expect(s.depths == [0, 0, 1])
    }

    func error(_ text: String) -> ProgramError? {
        do { _ = try Program.parse(text, vocabulary: vocabulary); return nil } catch { return error as? ProgramError }
    }

    @Test func syntaxErrorsNameTheColumn() {
        #expect(error("17 = x_42; x_42 + = x_12") == .syntax(column: 19, expected: "a variable like x_5 after \"+\"", found: "\"=\""))
        #expect(error("17 x_42") == .syntax(column: 4, expected: "\"=\" after the number", found: "\"x_42\""))
        #expect(error("17 = y") == .syntax(column: 6, expected: "the variable defined on the right of \"=\", like x_12", found: "\"y\""))
        #expect(error("x_ = x_1")?.description.hasPrefix("column 3: expected the digits") == true)
        #expect(error("17 = x_1 x_2")?.description.hasPrefix("column 10: expected \";\"") == true)
    }

    @Test func semanticErrors() {
        #expect(error("17 = x_42; x_42 + x_5 = x_12") == .undefined(variable: 5, equation: 1, column: 19))
        #expect(error("17 = x_1; 3 = x_1") == .redefined(variable: 1, equation: 1, firstEquation: 0, column: 15))
        #expect(error("23 = x_1") == .valueOutOfRange(value: 23, modulus: 23, equation: 0, column: 1))
        #expect(error("1 = x_128") == .nameOutOfVocabulary(variable: 128, names: 128, equation: 0, column: 5))
        #expect(error("") == .empty)
        if case .cycle(let vs, _, _)? = error("x_2 = x_1; x_1 = x_2") { #expect(vs == [1, 2, 1]) } else { Issue.record("expected a cycle") }
    }
}

@Suite struct TokenizationTests {
    let vocabulary = Vocabulary(names: 128, modulus: 23)

    @Test func tokensFollowTheSpecification() throws {
        let program = try Program.parse("17 = x_42; 3 = x_5; x_42 + x_5 = x_12", vocabulary: vocabulary)
        let t = program.tokenize(vocabulary: vocabulary)
        let ids = t.tokens.map(\.ids)
        #expect(ids == [
            [2, 128, 1, 17], [5, 128, 1, 23], [0, 42, 1, 24], [6, 128, 1, 23],
            [2, 128, 1, 3], [5, 128, 1, 23], [0, 5, 1, 24], [6, 128, 1, 23],
            [0, 42, 1, 24], [1, 128, 0, 23], [0, 5, 1, 24], [5, 128, 1, 23], [0, 12, 1, 24],
        ])
        #expect(t.layout[2] == EquationLayout(start: 8, operandPositions: [8, 10], literalPosition: nil, equalsPosition: 11, targetPosition: 12, end: 13))
        #expect(t.valueSlotMask.enumerated().filter(\.element).map(\.offset) == [2, 6, 12])
    }

    @Test func iterationStatesFillByDepth() throws {
        let program = try GraphGenerator(nodes: 16).generate(seed: 3)
        let solution = try program.solve()
        let t = program.tokenize(vocabulary: vocabulary)
        for step in 0...solution.maxDepth {
            let input = t.iterationInput(step, solution: solution), target = t.iterationTarget(step, solution: solution)
            for (e, place) in t.layout.enumerated() {
                #expect((input[place.targetPosition].value != vocabulary.valueEmpty) == (solution.depths[e] < step))
                #expect((target[place.targetPosition].value != vocabulary.valueEmpty) == (solution.depths[e] <= step))
                if solution.depths[e] <= step { #expect(Int(target[place.targetPosition].value) == solution.values[e]) }
            }
            // One recurrent step of the filling rule takes depth < t to depth ≤ t.
            #expect(program.nextFilled(solution.depths.map { $0 < step }) == solution.depths.map { $0 <= step })
        }
    }

    @Test func batchesPadOnTheRight() throws {
        let a = try GraphGenerator(nodes: 8).generate(seed: 1).tokenize(vocabulary: vocabulary).tokens
        let b = try GraphGenerator(nodes: 12).generate(seed: 2).tokenize(vocabulary: vocabulary).tokens
        let batch = TokenBatch(sequences: [a, b], vocabulary: vocabulary)
        #expect(batch.length == max(a.count, b.count))
        #expect(batch.sequence(0) == a)
        #expect(batch.sequence(1) == b)
        #expect(batch[0, batch.length - 1] == vocabulary.padToken)
        #expect(batch.ids.count == 2 * batch.length * 4)
    }
}

@Suite struct SpellingTests {
    @Test func editDistanceCountsInsertionsDeletionsAndSubstitutions() {
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(editDistance("same", "same") == 0)
    }

    @Test func closestWordSuggestsOnlyLikelyTypos() {
        #expect(closestWord(to: "evel", among: ["eval", "train", "run"]) == "eval")
        #expect(closestWord(to: "zzzzzz", among: ["eval", "run"]) == nil)
    }
}
