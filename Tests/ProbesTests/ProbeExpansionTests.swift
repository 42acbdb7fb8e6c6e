import Foundation
import Testing
import GraphTask
@testable import Probes

@Suite struct ProbeExpansionTests {
    let vocabulary = Vocabulary()

    /// Positions worked out by hand for
    ///   17 = x_42 ; 3 = x_5 ; x_42 + x_5 = x_12 ; v0 + v1 = rhs
    ///   0  1  2   3 4 5 6   7 8    9 10  11 12  13 14 15 16 17 18
    @Test func literalProgramMetadataMatchesHandComputedPositions() throws {
        let probe = try ProbeParser.parse("""
        context program 17 = x_42; 3 = x_5; x_42 + x_5 = x_12
        equation v0 + v1 = rhs
        fix v0 = x_12
        sweep v1 over defined
        fix rhs = free[0]
        """)
        let e = try probe.expand(vocabulary: vocabulary)
        #expect(e.count == 3 && e.length == 19 && e.iterations == 1)
        #expect(e.slots == ["v0", "v1", "rhs"])
        #expect(e.meta["operand0_var"] == [12, 12, 12])
        #expect(e.meta["operand1_var"] == [42, 5, 12])
        #expect(e.meta["sweep_v1"] == [42, 5, 12])
        #expect(e.meta["operand0_pos"] == [14, 14, 14])
        #expect(e.meta["operand1_pos"] == [16, 16, 16])
        #expect(e.meta["equals_pos"] == [17, 17, 17])
        #expect(e.meta["rhs_pos"] == [18, 18, 18])
        #expect(e.meta["probe_start"] == [14, 14, 14])
        #expect(e.meta["rhs_var"] == [0, 0, 0])
        #expect(e.meta["operand0_value_pos"] == [12, 12, 12])
        #expect(e.meta["operand1_value_pos"] == [2, 6, 12])
        #expect(e.meta["operand0_value"] == [20, 20, 20])
        #expect(e.meta["operand1_value"] == [17, 3, 20])
        #expect(e.meta["operand1_depth"] == [0, 0, 1])
        #expect(e.meta["answer"] == [14, 0, 17])
        #expect(e.meta["context"] == [0, 0, 0])
        let tokens = e.sequences[0]
        #expect(tokens[2].value == 17 && tokens[6].value == 3 && tokens[12].value == 20)
        #expect(tokens[18] == vocabulary.variableToken(0))  // the probe's rhs: EMPTY
        #expect(tokens[13] == vocabulary.separatorToken && tokens[15] == vocabulary.plusToken && tokens[17] == vocabulary.equalsToken)
        #expect(tokens[14] == vocabulary.variableToken(12) && tokens[16] == vocabulary.variableToken(42))
        let batch = e.batch(0..<3)
        #expect(batch.length == 19 && batch.lengths == [19, 19, 19])
    }

    @Test func valueGridCoversZ23SquaredWithCorrectAnswers() throws {
        let probe = try ProbeParser.parse("""
        context random seed=5 nodes=10 leaves=4
        equation a + b = s
        fix a = leaf[0]
        fix b = leaf[1]
        fix s = free[0]
        sweep a.value over values
        sweep b.value over values
        """)
        let e = try probe.expand(vocabulary: vocabulary)
        #expect(e.count == 529)
        let a = try #require(e.meta["operand0_value"]), b = try #require(e.meta["operand1_value"])
        #expect(e.meta["sweep_a_value"] == a && e.meta["sweep_b_value"] == b)
        #expect(Set(zip(a, b).map { "\($0),\($1)" }).count == 529)
        #expect(e.meta["answer"] == zip(a, b).map { ($0 + $1) % 23 })
        for i in [0, 100, 528] {
            let valuePos = Int(try #require(e.meta["operand0_value_pos"])[i])
            #expect(e.sequences[i][valuePos].value == a[i])  // the leaf's value slot holds the swept value
        }
    }

    @Test func zipPairsTheSweepsAndChecksTheirLengths() throws {
        let ok = try ProbeParser.parse("""
        context program 1 = x_1; 2 = x_2; 3 = x_3
        equation p + q = r
        sweep p over x_1, x_2, x_3
        sweep q over x_3, x_2, x_1
        fix r = x_9
        combine zip
        """)
        let e = try ok.expand(vocabulary: vocabulary)
        #expect(e.meta["operand0_var"] == [1, 2, 3] && e.meta["operand1_var"] == [3, 2, 1] && e.meta["answer"] == [4, 4, 4])
        let bad = try ProbeParser.parse("""
        context program 1 = x_1; 2 = x_2; 3 = x_3
        equation p + q = r
        sweep p over defined
        sweep q over x_3
        fix r = x_9
        combine zip
        """)
        #expect(throws: ProbeError.invalid(SourceLocation(file: "<probe>", line: 6, column: 1),
                                           "combine zip needs sweeps of equal length, found p: 3, q: 1")) {
            try bad.expand(vocabulary: vocabulary)
        }
    }

    /// Errors that need the context: (probe text, line, column, message fragment).
    static let contextErrors: [(String, Int, Int, String)] = [
        ("context program 1 = x_1; 2 = x_2\nequation p = r\nfix p = x_7\nfix r = x_9", 3, 9, "does not define"),
        ("context program 1 = x_1; 2 = x_2\nequation p = r\nsweep p over x_1, x_8\nfix r = x_9", 3, 19, "does not define"),
        ("context program 1 = x_1; 2 = x_2\nequation p = r\nfix p = defined[5]\nfix r = x_9", 3, 9, "has 2 defined variables"),
        ("context program 1 = x_1; 2 = x_2\nequation p = r\nfix p = x_1\nfix r = x_2", 4, 9, "already defines"),
        ("context program 1 = x_1; 2 = x_2\nequation p = r\nfix p = x_1\nfix r = x_200", 4, 9, "beyond the vocabulary"),
        ("context program 1 = x_1; x_1 = x_2\nequation p = r\nfix p = x_2\nfix p.value = 3\nfix r = x_9", 4, 15, "is computed"),
        ("context program 1 = x_1; 2 = x_2\nequation p = r\nfix p = x_1\nfix p.value = 23\nfix r = x_9", 4, 15, "outside Z_23"),
        ("context program 1 = x_1; x_5 = x_2\nequation p = r\nfix p = x_1\nfix r = x_9", 1, 26, "x_5 is used but never defined"),
        ("context program 1 = x_1; 2 x_2\nequation p = r\nfix p = x_1\nfix r = x_9", 1, 28, "expected"),
        ("context random seed=1 nodes=300\nequation p = r\nfix p = x_1\nfix r = x_9", 1, 1, "distinct names"),
        ("context random seed=1 nodes=20 names=16", 1, 1, "only 16 exist"),
        ("context random seed=1 nodes=8 names=200", 1, 1, "exceeds the model's 128 names"),
    ]

    @Test(arguments: 0..<contextErrors.count) func contextErrorsAreLocated(_ index: Int) throws {
        let (text, line, column, fragment) = Self.contextErrors[index]
        let probe = try ProbeParser.parse(text, file: "ctx.probe")
        do {
            _ = try probe.expand(vocabulary: vocabulary)
            Issue.record("case \(index) expanded without error")
        } catch let error as ProbeError {
            #expect(error.location?.line == line, "case \(index): \(error)")
            #expect(error.location?.column == column, "case \(index): \(error)")
            #expect(error.description.contains(fragment), "case \(index): \(error)")
        }
    }

    @Test func tooLongForTheModelNamesTheContextLine() throws {
        let probe = try ProbeParser.parse("context random seed=1 nodes=30\nequation p = r\nfix p = defined[0]\nfix r = free[0]")
        #expect(throws: ProbeError.self) { try probe.expand(vocabulary: vocabulary, maximumLength: 50) }
        do { _ = try probe.expand(vocabulary: vocabulary, maximumLength: 50) } catch let error as ProbeError {
            #expect(error.location?.line == 1 && error.description.contains("more than the model accepts (50)"))
        }
    }

    /// `names=16 minfanin=2 fanin=2` draws what a `4:5-8/2-2@16` curriculum stage trains on.
    @Test func randomContextsHonourNamesAndTheFanInRange() throws {
        let probe = try ProbeParser.parse("context random seed=1..20 nodes=8 leaves=4 names=16 minfanin=2 fanin=2")
        let e = try probe.expand(vocabulary: vocabulary)
        #expect(e.count == 20)
        for (i, seed) in (UInt64(1)...20).enumerated() {
            let program = try GraphGenerator(nodes: 8, leaves: 4, names: 16, maxFanIn: 2, minFanIn: 2).generate(seed: seed)
            #expect(program.equations.allSatisfy { $0.target < 16 && ($0.isLeaf || $0.operands.count == 2) })
            #expect(e.sequences[i] == program.tokenize(vocabulary: vocabulary).iterationInput(0, solution: try program.solve()))
        }
    }

    @Test func wholeProgramProbesRunMaxDepthPlusOne() throws {
        let probe = try ProbeParser.parse("context random seed=7..9 nodes=8,12")
        let e = try probe.expand(vocabulary: vocabulary)
        #expect(e.count == 6 && e.slots.isEmpty)
        #expect(e.meta["nodes"] == [8, 8, 8, 12, 12, 12] && e.meta["seed"] == [7, 8, 9, 7, 8, 9])
        let program = try GraphGenerator(nodes: 12, leaves: 6).generate(seed: 9)
        let solution = try program.solve()
        #expect(e.sequences[5] == program.tokenize(vocabulary: vocabulary).iterationInput(0, solution: solution))
        #expect(e.iterations == Int(e.meta["max_depth"]?.max() ?? 0) + 1)
    }

    @Test func everyShippedProbeParsesAndExpands() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../probes").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".probe") }.sorted()
        #expect(files.count >= 8)
        for file in files {
            let probe = try ProbeParser.load(path: directory.appendingPathComponent(file).path)
            #expect(probe.name + ".probe" == file)
            let e = try probe.expand(vocabulary: vocabulary)
            // Analysis probes need enough sequences for statistics and few enough for a quick demo;
            // attention_examples records full patterns for the report's viewer, so it stays tiny.
            let range = file == "attention_examples.probe" ? 1...8 : 90...600
            #expect(range.contains(e.count), "\(file): \(e.count) sequences")
            for (key, column) in e.meta { #expect(column.count == e.count, "\(file) \(key)") }
            if probe.equation != nil {
                // The probe's right-hand side is the last token and the answer is the sum of the operand values.
                let operands = e.slots.count - 1
                for i in 0..<e.count {
                    #expect(Int(e.meta["rhs_pos"]?[i] ?? -1) == e.sequences[i].count - 1)
                    let sum = (0..<operands).map { Int(e.meta["operand\($0)_value"]?[i] ?? 0) }.reduce(0, +) % 23
                    #expect(Int(e.meta["answer"]?[i] ?? -1) == sum)
                }
            }
        }
    }
}
