import Foundation
import Recording
import Training
import Transformer

/// `lens eval`: recurrent accuracy by graph size and depth.
enum EvalCommand: LensCommand {
    static let spec = CommandSpec(
        name: "eval", synopsis: "--model M [--nodes 8,16,32,64] [--samples 500] [--extra-iterations K] [--ablate L.H,…] [--json]",
        summary: """
        Evaluates a model recurrently through its discrete bottleneck on random graphs: node
        accuracy (all depths, by depth, and by operand count) and whole-graph accuracy, for each
        graph size. "Operands right" is the accuracy of computed nodes whose operands' values were
        right in the input of the iteration read: one step of the computation, errors carried in
        from earlier steps set aside.
        Graphs are drawn from a fixed evaluation seed, never from a training stream.
        """,
        options: [
            OptionSpec(name: "--model", value: "M", help: "checkpoint to evaluate"),
            OptionSpec(name: "--nodes", value: "LIST", help: "graph sizes (default 8,16,32,64)"),
            OptionSpec(name: "--samples", value: "N", help: "graphs per size (default 500)"),
            OptionSpec(name: "--extra-iterations", value: "K", help: "iterations beyond each graph's depth + 1 (default 0)"),
            OptionSpec(name: "--leaves", value: "N", help: "leaves per graph (default 6)"),
            OptionSpec(name: "--max-fan-in", value: "F", help: "most operands per computed node, 1-3 (default 3; 1 = copy graphs)"),
            OptionSpec(name: "--seed", value: "S", help: "evaluation seed (default 59297)"),
            OptionSpec(name: "--batch", value: "B", help: "graphs per forward pass (default 16)"),
            OptionSpec(name: "--ablate", value: "L.H,…", help: "zero-ablate these heads (layer.head, e.g. 0.12,1.3) in every forward pass"),
            OptionSpec(name: "--json", value: nil, help: "print JSON instead of a table"),
        ])

    /// JSON layout of the result: {"sizes": [...]}.
    struct Report: Encodable {
        struct Size: Encodable {
            let nodes: Int
            let graphs: Int
            let node_accuracy: Double
            let graph_accuracy: Double
            let max_depth: Int
            let by_depth: [String: Double]
            let nodes_by_depth: [String: Int]
            let by_operands: [String: Double]
            let nodes_by_operands: [String: Int]
            let step_accuracy_by_operands: [String: Double]
            let nodes_with_operands_right: [String: Int]
        }
        let model: String
        let ablated_heads: String
        let extra_iterations: Int
        let sizes: [Size]
    }

    static func run(_ a: ParsedArguments) throws {
        let path = try a.require("--model")
        let model = try Checkpoint.load(path)
        let sizes = try a.intList("--nodes") ?? [8, 16, 32, 64]
        let samples = try a.int("--samples", in: 1...OptionLimits.samples, default: 500)
        let extra = try a.int("--extra-iterations", in: 0...OptionLimits.extraIterations, default: 0,
                              because: "each iteration is a forward pass whose predictions are kept")
        var evaluator = Evaluator(leaves: try a.int("--leaves", in: 1...OptionLimits.nodes, default: 6), extraIterations: extra,
                                  batchSize: try a.int("--batch", in: 1...OptionLimits.batch, default: 16),
                                  seed: try a.seed(default: 0xE7A1),
                                  maxFanIn: try a.positiveInt("--max-fan-in", default: 3))
        if let spec = a.string("--ablate") {
            evaluator.ablatedHeads = try HeadAblation.parse(spec)
            for (layer, heads) in evaluator.ablatedHeads {
                if let problem = Hooks.ablationProblem(config: model.config, layer: layer, heads: heads) {
                    throw UsageError("lens eval: --ablate: \(problem)")
                }
            }
        }
        guard evaluator.maxFanIn <= 3 else { throw UsageError("lens eval: --max-fan-in must be 1, 2 or 3, found \(evaluator.maxFanIn)") }
        let json = a.has("--json")
        var results: [SizeEvaluation] = []
        for nodes in sizes {
            guard nodes > evaluator.leaves, nodes <= model.config.names else {
                throw UsageError("lens eval: --nodes \(nodes) must exceed --leaves (\(evaluator.leaves)) and be at most the model's \(model.config.names) names")
            }
            let bar = ProgressBar("eval \(nodes) nodes", total: samples, unit: "graphs", quiet: json)
            let result = try evaluator.evaluate(model: model, nodes: nodes, samples: samples) { bar.update($0) }
            bar.finish(String(format: "%4d nodes: node accuracy %.4f  graph accuracy %.4f  (max depth %d, %d graphs)",
                              nodes, result.nodeAccuracy, result.graphAccuracy, result.maxDepth, samples))
            if !json {
                let depths = result.byDepth.keys.sorted().map { String(format: "%d:%.3f", $0, result.byDepth[$0] ?? 0) }
                print("      by depth  " + depths.joined(separator: " "))
                let operands = result.byOperands.keys.sorted().map { String(format: "%d:%.3f", $0, result.byOperands[$0] ?? 0) }
                let steps = result.stepAccuracyByOperands.keys.sorted().map { String(format: "%d:%.3f", $0, result.stepAccuracyByOperands[$0] ?? 0) }
                print("      by operands  " + operands.joined(separator: " ") + "   operands right  " + steps.joined(separator: " "))
            }
            results.append(result)
        }
        if json {
            let report = Report(model: path, ablated_heads: HeadAblation.text(evaluator.ablatedHeads), extra_iterations: extra, sizes: results.map { r in
                Report.Size(nodes: r.nodes, graphs: r.graphs, node_accuracy: r.nodeAccuracy, graph_accuracy: r.graphAccuracy,
                            max_depth: r.maxDepth,
                            by_depth: stringKeys(r.byDepth),
                            nodes_by_depth: stringKeys(r.nodesByDepth),
                            by_operands: stringKeys(r.byOperands), nodes_by_operands: stringKeys(r.nodesByOperands),
                            step_accuracy_by_operands: stringKeys(r.stepAccuracyByOperands),
                            nodes_with_operands_right: stringKeys(r.nodesWithOperandsRight))
            })
            print(try jsonText(report))
        }
    }

    /// JSON objects need string keys.
    private static func stringKeys<V>(_ d: [Int: V]) -> [String: V] {
        Dictionary(uniqueKeysWithValues: d.map { (String($0.key), $0.value) })
    }
}
