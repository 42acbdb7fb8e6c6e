import Foundation
import Outputs
import GraphTask
import Transformer

/// `lens init`: writes a randomly initialised model.
enum InitCommand: LensCommand {
    static let spec = CommandSpec(
        name: "init", synopsis: "--out M.h5 [--seed S] [--config paper|small|tiny] [--force]",
        summary: "Writes a randomly initialised model (GPT-2 style initialisation), so every later step works before training.",
        options: [
            OptionSpec(name: "--out", value: "M.h5", help: "where to write the checkpoint"),
            OptionSpec(name: "--seed", value: "S", help: "initialisation seed (default 0)"),
            OptionSpec(name: "--config", value: "NAME", help: "paper (default), small or tiny"),
            OptionSpec(name: "--force", value: nil, help: "replace --out if it exists (once the new file is complete)"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let out = try a.require("--out")
        _ = try OutputFile(out, what: "--out", force: a.has("--force"))
        let config = try TrainCommand.modelConfig(a.string("--config", default: "paper"))
        let seed = try a.seed(default: 0)
        let model = try Model.randomlyInitialised(config: config, seed: seed)
        try Checkpoint.save(model, to: out, attributes: ["source": "lens init --seed \(seed)"])
        print("wrote \(out): \(model.config.parameterCount) parameters, untrained")
    }
}

/// `lens solve`: runs a model on a hand-written program.
enum SolveCommand: LensCommand {
    static let spec = CommandSpec(
        name: "solve", synopsis: "\"PROGRAM\" --model M [--extra-iterations K]",
        summary: """
        Runs a model on a program typed in the text syntax (e.g. "17 = x_42; x_42 + x_5 = x_12"
        needs x_5 defined first) and prints each iteration's predicted value of every node next to
        the truth.
        """,
        options: [
            OptionSpec(name: "--model", value: "M", help: "checkpoint to run"),
            OptionSpec(name: "--extra-iterations", value: "K", help: "iterations beyond max depth + 1 (default 0)"),
        ],
        positionals: ["PROGRAM"], minimumPositionals: 1, maximumPositionals: 1)

    static func run(_ a: ParsedArguments) throws {
        let model = try Checkpoint.load(try a.require("--model"))
        let vocabulary = model.config.vocabulary
        let program: Program
        do { program = try Program.parse(a.positionals[0], vocabulary: vocabulary) } catch {
            throw InputError("program: \(error)")
        }
        let solution = try program.solve()
        let tokenized = program.tokenize(vocabulary: vocabulary)
        let input = tokenized.state(filled: [Bool](repeating: false, count: program.equations.count), solution: solution)
        let batch = TokenBatch(sequences: [input], vocabulary: vocabulary)
        let extra = try a.int("--extra-iterations", in: 0...OptionLimits.extraIterations, default: 0,
                              because: "each iteration is a forward pass whose predictions are kept")
        let iterations = solution.maxDepth + 1 + extra
        let run = try model.run(tokens: batch.ids, batch: 1, length: batch.length, iterations: iterations)
        let header = ["node", "depth", "truth"] + (0..<iterations).map { "t=\($0)" }
        print(header.map { $0.padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
        var correct = 0
        for (e, layout) in tokenized.layout.enumerated() {
            let target = program.equations[e].target
            var row = ["x_\(target)", "\(solution.depths[e])", "\(solution.values[e])"]
            for t in 0..<iterations {
                let id = Int(run.predictedValue(iteration: t, sequence: 0, position: layout.targetPosition))
                row.append(id < model.config.modulus ? "\(id)" : (id == model.config.modulus ? "n/a" : "·"))
            }
            let final = Int(run.predictedValue(iteration: iterations - 1, sequence: 0, position: layout.targetPosition))
            if final == solution.values[e] { correct += 1 }
            print(row.map { $0.padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
        }
        print("\(correct)/\(program.equations.count) nodes right after \(iterations) iterations (· = EMPTY)")
    }
}

/// `lens generate`: prints a random problem.
enum GenerateCommand: LensCommand {
    static let spec = CommandSpec(
        name: "generate", synopsis: "--nodes N [--seed S] [--names K] [--leaves L] [--format text|tokens|solution]",
        summary: "Prints a random computation-graph problem of the paper's task.",
        options: [
            OptionSpec(name: "--nodes", value: "N", help: "number of nodes"),
            OptionSpec(name: "--seed", value: "S", help: "generator seed (default 0)"),
            OptionSpec(name: "--names", value: "K", help: "variable names to draw from (default 128)"),
            OptionSpec(name: "--leaves", value: "L", help: "leaves (default 6)"),
            OptionSpec(name: "--modulus", value: "P", help: "modulus (default 23)"),
            OptionSpec(name: "--format", value: "FORMAT", help: "text (default), tokens or solution"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let nodes = try a.int("--nodes", in: 1...OptionLimits.nodes, default: 0)
        let names = try a.int("--names", in: 1...OptionLimits.names, default: 128)
        let modulus = try a.int("--modulus", in: 2...OptionLimits.modulus, default: 23)
        let leaves = try a.int("--leaves", in: 1...OptionLimits.nodes, default: 6)
        let generator = GraphGenerator(nodes: nodes, leaves: leaves, names: names, modulus: modulus)
        let seed = try a.seed(default: 0)
        let program: Program
        do { program = try generator.generate(seed: seed) } catch {
            throw UsageError("lens generate: \(error)")
        }
        let vocabulary = Vocabulary(names: names, modulus: modulus)
        switch a.string("--format", default: "text") {
        case "text":
            print(program.text)
        case "solution":
            let solution = try program.solve()
            for (e, equation) in program.equations.enumerated() {
                print("x_\(equation.target) = \(solution.values[e])  (depth \(solution.depths[e]))")
            }
        case "tokens":
            let tokenized = program.tokenize(vocabulary: vocabulary)
            print("position syntax variable operation value  token")
            for (n, token) in tokenized.tokens.enumerated() {
                print(String(format: "%8d %6d %8d %9d %5d  ", n, token.syntax, token.variable, token.operation, token.value)
                      + token.describe(vocabulary: vocabulary))
            }
        case let other:
            throw UsageError("lens generate: --format must be text, tokens or solution, found \"\(other)\"")
        }
    }
}
