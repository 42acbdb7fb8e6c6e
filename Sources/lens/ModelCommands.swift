import Foundation
import Outputs
import GraphTask
import Transformer

/// `lens init`: writes a randomly initialised model.
enum InitCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "init", synopsis: "--out M.h5 [--seed S] [--config paper|small|tiny] [--force]",
        summary: "Writes a randomly initialised model (GPT-2 style initialisation), so every later step works before training.")

    struct Options: CommandOptions {
        let out = Option<String?>("--out", "M.h5", help: "where to write the checkpoint")
        let seed = Option("--seed", "S", default: UInt64(0), help: "initialisation seed ({default})")
        let config = Option("--config", "NAME", default: ModelConfig.Preset.paper, help: "paper, small or tiny ({default})")
        let force = Option<Bool>.forceOut
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        let out = try a.require(\.out)
        _ = try OutputFile(out, what: "--out", force: a[\.force])
        let config = try a[\.config].config
        let seed = try a[\.seed]
        let model = try Model.randomlyInitialised(config: config, seed: seed)
        try Checkpoint.save(model, to: out, attributes: ["source": "lens init --seed \(seed)"])
        print("wrote \(out): \(model.config.parameterCount) parameters, untrained")
    }
}

/// `lens solve`: runs a model on a hand-written program.
enum SolveCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "solve", synopsis: "\"PROGRAM\" --model M [--extra-iterations K]",
        summary: """
        Runs a model on a program typed in the text syntax (e.g. "17 = x_42; x_42 + x_5 = x_12"
        needs x_5 defined first) and prints each iteration's predicted value of every node next to
        the truth.
        """,
        positionals: ["PROGRAM"], minimumPositionals: 1, maximumPositionals: 1)

    struct Options: CommandOptions {
        let model = Option<String?>("--model", "M", help: "checkpoint to run")
        let extraIterations = Option<Int>.extraIterations(help: "iterations beyond max depth + 1 ({default})")
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        let model = try Checkpoint.load(try a.require(\.model))
        let vocabulary = model.config.vocabulary
        let program: Program
        do { program = try Program.parse(a.positionals[0], vocabulary: vocabulary) } catch {
            throw InputError("program: \(error)")
        }
        let solution = try program.solve()
        let tokenized = program.tokenize(vocabulary: vocabulary)
        let input = tokenized.state(filled: [Bool](repeating: false, count: program.equations.count), solution: solution)
        let batch = TokenBatch(sequences: [input], vocabulary: vocabulary)
        let extra = try a[\.extraIterations]
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
    static let spec = CommandSpec<Options>(
        name: "generate", synopsis: "--nodes N [--seed S] [--names K] [--leaves L] [--format text|tokens|solution]",
        summary: "Prints a random computation-graph problem of the paper's task.")

    /// What `--format` prints.
    enum Format: String, OptionChoice { case text, tokens, solution }

    struct Options: CommandOptions {
        let nodes = Option<Int?>("--nodes", "N", bounds: .within(1...OptionLimits.nodes), help: "number of nodes")
        let seed = Option("--seed", "S", default: UInt64(0), help: "generator seed ({default})")
        let names = Option("--names", "K", default: 128, bounds: .within(1...OptionLimits.names), help: "variable names to draw from ({default})")
        let leaves = Option("--leaves", "L", default: 6, bounds: .within(1...OptionLimits.nodes), help: "leaves ({default})")
        let modulus = Option("--modulus", "P", default: 23, bounds: .within(2...OptionLimits.modulus), help: "modulus ({default})")
        let format = Option("--format", "FORMAT", default: Format.text, help: "text, tokens or solution ({default})")
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        // Without --nodes the generator's own message says a graph needs nodes.
        let nodes = try a[\.nodes] ?? 0
        let names = try a[\.names]
        let modulus = try a[\.modulus]
        let leaves = try a[\.leaves]
        let generator = GraphGenerator(nodes: nodes, leaves: leaves, names: names, modulus: modulus)
        let seed = try a[\.seed]
        let program: Program
        do { program = try generator.generate(seed: seed) } catch {
            throw UsageError("lens generate: \(error)")
        }
        let vocabulary = Vocabulary(names: names, modulus: modulus)
        switch try a[\.format] {
        case .text:
            print(program.text)
        case .solution:
            let solution = try program.solve()
            for (e, equation) in program.equations.enumerated() {
                print("x_\(equation.target) = \(solution.values[e])  (depth \(solution.depths[e]))")
            }
        case .tokens:
            let tokenized = program.tokenize(vocabulary: vocabulary)
            print("position syntax variable operation value  token")
            for (n, token) in tokenized.tokens.enumerated() {
                print(String(format: "%8d %6d %8d %9d %5d  ", n, token.syntax, token.variable, token.operation, token.value)
                      + token.describe(vocabulary: vocabulary))
            }
        }
    }
}
