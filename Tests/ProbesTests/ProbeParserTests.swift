import Testing
@testable import Probes

@Suite struct ProbeParserTests {
    @Test func parsesEveryKey() throws {
        let text = """
        # a comment line
        name demo-probe
        description first part
        description second part   # trailing comment
        context random seed=1..3 nodes=8,16 leaves=4 fanin=2
        context program 17 = x_42; x_42 = x_5
        equation v0 + v1 = rhs
        fix v0 = leaf[0]
        fix v0.value = 5
        sweep v1 over defined[-1], x_42, free[2]
        sweep rhs over free
        combine zip
        iterations 3
        """
        let probe = try ProbeParser.parse(text, file: "demo.probe")
        #expect(probe.name == "demo-probe")
        #expect(probe.description == "first part second part")
        #expect(probe.contexts.count == 2)
        guard case .random(let graphs, let at) = probe.contexts[0] else {
            Issue.record("expected a random context"); return
        }
        #expect(graphs == RandomGraphs(seeds: [1, 2, 3], nodes: [8, 16], leaves: 4, maxFanIn: 2) && at.line == 5)
        guard case .program(let program, let programAt) = probe.contexts[1] else { Issue.record("expected a program"); return }
        #expect(program == "17 = x_42; x_42 = x_5")
        #expect(programAt == SourceLocation(file: "demo.probe", line: 6, column: 17))
        #expect(probe.equation?.operands == ["v0", "v1"] && probe.equation?.rhs == "rhs")
        #expect(probe.fixes.count == 2 && probe.fixes[1].isValue)
        #expect(probe.sweeps[0].set == .list([.variable(.defined(-1), at: SourceLocation(file: "demo.probe", line: 10, column: 15)),
                                              .variable(.name(42), at: SourceLocation(file: "demo.probe", line: 10, column: 28)),
                                              .variable(.free(2), at: SourceLocation(file: "demo.probe", line: 10, column: 34))]))
        #expect(probe.sweeps[1].set == .free)
        #expect(probe.combine == .zip && probe.iterations == 3)
    }

    @Test func valueSweepsAcceptRangesListsAndZ23() throws {
        let base = "context random seed=1 nodes=8\nequation a + b = c\nfix a = leaf[0]\nfix b = leaf[1]\nfix c = free[0]\n"
        let probe = try ProbeParser.parse(base + "sweep a.value over 0..2, 7\nsweep b.value over Z23\n")
        #expect(probe.sweeps[0].set == .list([0, 1, 2, 7].map { .value($0, at: SourceLocation(file: "<probe>", line: 6, column: 20)) }))
        #expect(probe.sweeps[1].set == .values)
        #expect(probe.name == "probe")
    }

    /// Every error path: (text, line, column, a fragment of the message).
    static let errorCases: [(String, Int, Int, String)] = [
        ("contxt random seed=1 nodes=8", 1, 1, "did you mean \"context\""),
        ("= 3", 1, 1, "expected a key"),
        ("context randm seed=1", 1, 9, "\"random\" or \"program\""),
        ("context random seed=1 node=8", 1, 23, "did you mean \"nodes\""),
        ("context random nodes=8", 1, 1, "needs seed=S"),
        ("context random seed=1", 1, 1, "needs nodes=N"),
        ("context random seed=x nodes=8", 1, 21, "a whole number for seed"),
        ("context random seed=5..2 nodes=8", 1, 21, "is empty"),
        ("context random seed=1 nodes 8", 1, 29, "\"=\" after nodes"),
        ("context random seed=1 nodes=8 leaves=1,2", 1, 31, "one whole number"),
        ("context random seed=1 nodes=8 names=0", 1, 31, "names takes one whole number of at least 1"),
        ("context random seed=1 nodes=8 minfanin=3 fanin=2", 1, 1, "minfanin=3 exceeds fanin=2"),
        ("context program", 1, 16, "a program in the text syntax"),
        ("context random seed=1 nodes=8\nequation v0 + = rhs", 2, 15, "a slot name like v0 after \"+\""),
        ("context random seed=1 nodes=8\nequation v0 v1 = rhs", 2, 13, "\"+\" or \"=\""),
        ("context random seed=1 nodes=8\nequation v0 + v0 = rhs", 2, 15, "appears twice"),
        ("context random seed=1 nodes=8\nequation v0 = rhs extra", 2, 19, "the end of the line"),
        ("context random seed=1 nodes=8\nequation v0 = r\nequation v1 = r", 3, 1, "given twice (first on line 2)"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v9 = x_1\nfix rhs = free[0]", 3, 5, "no slot named \"v9\"; did you mean \"v0\""),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = x_1\nfix v0 = x_2\nfix rhs = free[0]", 4, 5, "already fixed or swept on line 3"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = x_1", 2, 1, "the slot rhs is neither fixed nor swept"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = x_1\nfix rhs.value = 3\nfix rhs = free[0]", 4, 5, "only operand values"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = x_1, x_2\nfix rhs = free[0]", 3, 5, "fix sets one variable"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = defind[2]\nfix rhs = free[0]", 3, 10, "did you mean defined[i]"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = leaf 2\nfix rhs = free[0]", 3, 15, "\"[\" after leaf"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = leaf[0]\nfix v0.valu = 1\nfix rhs = free[0]", 4, 8, "\"value\" after \"v0.\""),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nsweep v0 in defined\nfix rhs = free[0]", 3, 10, "\"over\""),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = leaf[0]\nsweep v0.value over defined\nfix rhs = free[0]", 4, 21, "a value sweep runs over values"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nsweep v0 over values\nfix rhs = free[0]", 3, 15, "sweep v0.value over"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = x_1\nsweep rhs over defined", 4, 7, "must be a name the context leaves free"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nsweep v0 over free\nfix rhs = free[0]", 3, 7, "must be a defined variable"),
        ("context random seed=1 nodes=8\nequation v0 = rhs\nfix v0 = leaf[0]\nsweep v0.value over -1\nfix rhs = free[0]", 4, 21, "values are numbers"),
        ("context random seed=1 nodes=8\ncombine sometimes", 2, 9, "\"product\" or \"zip\""),
        ("context random seed=1 nodes=8\niterations 0", 2, 12, "at least 1 iteration"),
        ("context random seed=1 nodes=8\niterations many", 2, 12, "a whole number of iterations"),
        ("name\ncontext random seed=1 nodes=8", 1, 5, "a name of letters"),
        ("# only a comment\n\nname x", 1, 1, "no context line"),
        ("context random seed=1 nodes=8\nfix v0 = x_1", 2, 5, "need a probe equation"),
    ]

    @Test(arguments: 0..<errorCases.count) func errorNamesFileLineAndColumn(_ index: Int) {
        let (text, line, column, fragment) = Self.errorCases[index]
        do {
            _ = try ProbeParser.parse(text, file: "bad.probe")
            Issue.record("case \(index) parsed without error: \(text)")
        } catch let error as ProbeError {
            #expect(error.location?.file == "bad.probe")
            #expect(error.location?.line == line, "case \(index): \(error)")
            #expect(error.location?.column == column, "case \(index): \(error)")
            #expect(error.description.contains(fragment), "case \(index): \(error)")
            #expect(error.description.hasPrefix("bad.probe:\(line):\(column): "), "case \(index): \(error)")
        } catch {
            Issue.record("case \(index) threw an untyped error \(error)")
        }
    }

    @Test func unreadableFileIsATypedError() {
        #expect(throws: ProbeError.self) { try ProbeParser.load(path: "/nonexistent/x.probe") }
    }
}
