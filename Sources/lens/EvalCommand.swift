import Foundation
import Recording
import Training
import Transformer

/// `lens eval`: recurrent accuracy by graph size and depth.
enum EvalCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "eval", synopsis: "--model M [--nodes 8,16,32,64] [--samples 500] [--extra-iterations K] [--ablate L.H,…] [--json]",
        summary: """
        Evaluates a model recurrently through its discrete bottleneck on random graphs: node
        accuracy (all depths, by depth, and by operand count) and whole-graph accuracy, for each
        graph size. "Operands right" is the accuracy of computed nodes whose operands' values were
        right in the input of the iteration read: one step of the computation, errors carried in
        from earlier steps set aside.
        Graphs are drawn from a fixed evaluation seed, never from a training stream.
        """)

    /// The evaluator's own defaults.
    private static let standard = Evaluator()

    struct Options: CommandOptions {
        let model = Option<String?>("--model", "M", help: "checkpoint to evaluate")
        let nodes = Option<[Int]>.graphSizes(help: "graph sizes ({default})")
        let samples = Option("--samples", "N", default: 500, bounds: .within(1...OptionLimits.samples), help: "graphs per size ({default})")
        let extraIterations = Option<Int>.extraIterations(help: "iterations beyond each graph's depth + 1 ({default})")
        let leaves = Option("--leaves", "N", default: EvalCommand.standard.leaves, bounds: .within(1...OptionLimits.nodes), help: "leaves per graph ({default})")
        let maxFanIn = Option("--max-fan-in", "F", default: EvalCommand.standard.maxFanIn, bounds: .positive,
                              help: "most operands per computed node, 1-3 ({default}; 1 = copy graphs)")
        let seed = Option("--seed", "S", default: EvalCommand.standard.seed, help: "evaluation seed ({default})")
        let batch = Option("--batch", "B", default: EvalCommand.standard.batchSize, bounds: .within(1...OptionLimits.batch), help: "graphs per forward pass ({default})")
        let ablate = Option<String?>("--ablate", "L.H,…", help: "zero-ablate these heads (layer.head, e.g. 0.12,1.3) in every forward pass")
        let json = Option(flag: "--json", help: "print JSON instead of a table")
    }

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

    static func run(_ a: ParsedArguments<Options>) throws {
        let path = try a.require(\.model)
        let model = try Checkpoint.load(path)
        let sizes = try a[\.nodes]
        let samples = try a[\.samples]
        let extra = try a[\.extraIterations]
        var evaluator = Evaluator(leaves: try a[\.leaves], extraIterations: extra, batchSize: try a[\.batch],
                                  seed: try a[\.seed], maxFanIn: try a[\.maxFanIn])
        if let spec = a[\.ablate] {
            evaluator.ablatedHeads = try HeadAblation.parse(spec)
            for (layer, heads) in evaluator.ablatedHeads {
                if let problem = Hooks.ablationProblem(config: model.config, layer: layer, heads: heads) {
                    throw UsageError("lens eval: --ablate: \(problem)")
                }
            }
        }
        guard evaluator.maxFanIn <= 3 else { throw UsageError("lens eval: --max-fan-in must be 1, 2 or 3, found \(evaluator.maxFanIn)") }
        let json = a[\.json]
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
