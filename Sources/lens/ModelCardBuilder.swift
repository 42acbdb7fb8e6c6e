import Foundation
import Recording
import Reports
import Training
import Transformer

/// Builds the report's model card: configuration, training provenance and recurrent accuracy.
enum ModelCardBuilder {
    static func card(path: String, model: Model, nodes: [Int], samples: Int, quiet: Bool) throws -> ModelCard {
        let attributes = try Checkpoint.attributes(of: path)
        let c = model.config
        let configuration: [(String, String)] = [
            ("layers × heads × head width", "\(c.layers) × \(c.heads) × \(c.headWidth)"),
            ("d_model / MLP", "\(c.modelWidth) / \(c.mlpWidth)"),
            ("relative-position window", String(c.relativeWindow)),
            ("names / modulus", "\(c.names) / \(c.modulus)"),
            ("parameters", String(c.parameterCount)),
        ]
        var training: [(String, String)] = []
        // One line per invocation (a run resumed n times has n + 1 commands).
        let commands = (attributes["training_command"] ?? "").split(separator: "\n").map(String.init)
        for (key, label) in [("source", "made by"), ("training_steps", "optimizer steps"), ("training_tokens", "tokens seen"),
                             ("training_seconds", "training time"), ("curriculum_stage", "curriculum stage reached")] {
            guard let value = attributes[key] else { continue }
            if key == "training_seconds", let seconds = Double(value) {
                training.append((label, formatDuration(seconds)))
            } else if let number = Double(value), number == number.rounded() {
                training.append((label, String(Int(number))))
            } else {
                training.append((label, value))
            }
        }
        var trainedMaxNodes: Int?
        if let text = attributes["training_recipe"], let recipe = try? JSONDecoder().decode(TrainingRecipe.self, from: Data(text.utf8)) {
            let stage = attributes["curriculum_stage"].flatMap { Double($0) }.map { Int($0) }
            let depth = "depth ≤ \(recipe.maxDepth)" + (recipe.depthCappedByParents == true ? " (operands drawn among shallower nodes)" : "")
            if !recipe.stages.isEmpty, let stage, stage < recipe.stages.count {
                let s = recipe.stages[stage]
                trainedMaxNodes = recipe.largestTrainedNodes(throughStage: stage)
                training.append(("graphs in training (current stage)", "\(s.minNodes)–\(s.maxNodes) nodes, \(s.leaves) leaves, \(depth)"))
            } else {
                trainedMaxNodes = recipe.maxNodes
                training.append(("graphs in training", "\(recipe.minNodes)–\(recipe.maxNodes) nodes, \(recipe.leaves) leaves, \(depth)"))
            }
            training.append(("optimizer", String(format: "AdamW lr %g, weight decay %g, batch %d, warm-up %d", recipe.learningRate, recipe.weightDecay, recipe.batchSize, recipe.warmupSteps)
                + (recipe.finalLearningRateFraction == 1 ? ", constant rate" : String(format: ", cosine to %g × the peak", recipe.finalLearningRateFraction))
                + (recipe.everyIteration == true ? "; every iteration of each graph per step" : "")))
            var dropouts: [String] = []
            if recipe.dropoutRate > 0 { dropouts.append(String(format: "%g on attention and MLP outputs", recipe.dropoutRate)) }
            if recipe.attentionDropoutRate > 0 { dropouts.append(String(format: "%g on attention weights", recipe.attentionDropoutRate)) }
            training.append(("dropout", dropouts.isEmpty ? "none" : dropouts.joined(separator: ", ")))
            if let anneal = recipe.attentionTemperature {
                training.append(("attention temperature (training only)", "scores divided by τ annealed linearly \(anneal); the model is evaluated and recorded at τ = 1"))
            }
            if let anneal = recipe.attentionEntropyBonus {
                training.append(("attention-entropy bonus (training only)", "−λ·H̄ added to the loss (H̄: mean entropy of every head's attention rows at the supervised positions), λ annealed linearly \(anneal)"))
            }
            training.append(("initial weights", recipe.initialisation == .pytorch
                ? "PyTorch module defaults (embeddings N(0, 1), linear maps U(±1/√in))" : "N(0, 0.02), biases 0 (GPT-2 style)"))
        }
        var accuracy: [ModelCard.SizeAccuracy] = []
        if samples > 0 {
            for n in nodes {
                let bar = ProgressBar("eval \(n) nodes", total: samples, unit: "graphs", quiet: quiet)
                let e = try Evaluator().evaluate(model: model, nodes: n, samples: samples) { bar.update($0) }
                bar.finish(String(format: "  %3d nodes: node accuracy %.3f, graph accuracy %.3f (%d graphs, max depth %d)",
                                  n, e.nodeAccuracy, e.graphAccuracy, samples, e.maxDepth))
                let depths = (0...e.maxDepth).map { e.byDepth[$0] ?? .nan }
                accuracy.append(.init(nodes: n, graphs: samples, nodeAccuracy: e.nodeAccuracy, graphAccuracy: e.graphAccuracy,
                                      maxDepth: e.maxDepth, byDepth: depths,
                                      oneStepByOperands: (1...3).map { e.stepAccuracyByOperands[$0] ?? .nan }))
            }
        }
        return ModelCard(path: path, sha256: try? SHA256.hex(ofFile: path),
                         description: describe(path: path, config: c, attributes: attributes, trainedMaxNodes: trainedMaxNodes),
                         configuration: configuration, training: training, commands: commands,
                         accuracy: accuracy, trainedMaxNodes: trainedMaxNodes)
    }

    /// The card's opening sentence: the architecture in a phrase, then how it was trained.
    static func describe(path: String, config c: ModelConfig, attributes: [String: String], trainedMaxNodes: Int?) -> String {
        let parameters = c.parameterCount >= 100_000
            ? String(format: "%.2f M parameters", Double(c.parameterCount) / 1e6) : "\(c.parameterCount) parameters"
        var text = "\((path as NSString).lastPathComponent): a recurrent transformer of \(c.layers) layers × \(c.heads) heads "
            + "(d_model \(c.modelWidth), MLP \(c.mlpWidth), \(parameters); \(c.names) variable names, values mod \(c.modulus))"
        if let steps = attributes["training_steps"].flatMap(Double.init) {
            text += ", trained by LatentLens for \(grouped(Int(steps))) steps"
            if let max = trainedMaxNodes { text += " on graphs of up to \(max) nodes" }
        } else if let source = attributes["source"] {
            text += ", made by \(source)"
        }
        return text + "."
    }

    /// 295856 → "295,856".
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0) ? [",", d] : [d] })
    }
}
