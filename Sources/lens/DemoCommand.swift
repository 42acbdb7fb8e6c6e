import Foundation
import GraphTask
import Training
import Transformer

/// `lens demo`: the whole pipeline on the bundled default model (what `make demo` runs).
enum DemoCommand: LensCommand {
    static let spec = CommandSpec(
        name: "demo", synopsis: "[--model M] [--smoke]",
        summary: """
        Runs the workbench end to end on the bundled model: model card, recurrent accuracy by graph
        size and depth, and a worked example through every iteration.
        """,
        options: [
            OptionSpec(name: "--model", value: "M", help: "model to use (default models/default.h5)"),
            OptionSpec(name: "--smoke", value: nil, help: "a quick run with few samples (CI)"),
        ])

    static func run(_ a: ParsedArguments) throws {
        let path = a.string("--model", default: "models/default.h5")
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError("no model at \(path); train one with lens train --out \(path) or pass --model")
        }
        let smoke = a.has("--smoke")
        let model = try Checkpoint.load(path)
        let attributes = try Checkpoint.attributes(of: path)
        print("== model card: \(path)")
        let c = model.config
        print("   \(c.layers) layers, \(c.heads) heads × \(c.headWidth), d_model \(c.modelWidth), MLP \(c.mlpWidth), relative window \(c.relativeWindow), \(c.parameterCount) parameters")
        for key in ["source", "training_steps", "training_seconds", "max_nodes", "curriculum_stage"] {
            if let value = attributes[key] { print("   \(key): \(value)") }
        }
        print("\n== recurrent accuracy (lens eval)")
        let samples = smoke ? 16 : 200
        for nodes in smoke ? [8, 16] : [8, 16, 32, 64] {
            let bar = ProgressBar("eval \(nodes) nodes", total: samples, unit: "graphs")
            let result = try Evaluator().evaluate(model: model, nodes: nodes, samples: samples) { bar.update($0) }
            bar.finish(String(format: "   %3d nodes: node accuracy %.3f, graph accuracy %.3f (%d graphs, max depth %d)",
                              nodes, result.nodeAccuracy, result.graphAccuracy, samples, result.maxDepth))
        }
        print("\n== a worked example (lens solve)")
        let program = "17 = x_42; 5 = x_7; 9 = x_13; x_42 + x_7 = x_20; x_20 + x_13 = x_1; x_1 + x_42 + x_7 = x_99"
        print("   \(program)")
        try SolveCommand.run(try parseArguments([program, "--model", path], spec: SolveCommand.spec))
    }
}
