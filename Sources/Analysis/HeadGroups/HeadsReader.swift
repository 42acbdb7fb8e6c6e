import Transformer

/// Head grouping from the slot-sweep activation files.
public enum HeadsReader {
    /// The four slots in report order.
    public static let slotOrder = ["var_0", "var_1", "var_2", "rhs"]

    /// Groups the heads of every layer whose hooks the sweeps recorded (layer 0 is required):
    /// per sweep, head outputs at `rhs_pos` (hook_result, or hook_z through W_O from `weights`),
    /// r per context averaged over contexts, attention rows at `rhs_pos`, and the sweep accuracy
    /// (prediction at `rhs_pos` = `answer`, last recorded iteration).
    public static func section(sweeps files: [ActivationFileInput], weights: ModelWeights?, layers: Int,
                               warnings: inout [String]) throws -> HeadsSection {
        guard !files.isEmpty else {
            throw AnalysisError.missingActivationFiles(analysis: "heads", needed: "the slot sweeps slot_var0, slot_var1, slot_var2 and slot_rhs")
        }
        var groupings: [HeadGrouping] = []
        for layer in 0..<max(layers, 1) {
            let z = "blocks.\(layer).attn.hook_z", result = "blocks.\(layer).attn.hook_result"
            let pattern = "blocks.\(layer).attn.hook_pattern"
            let recorded = files.allSatisfy { $0.reader.hooks.contains(z) || $0.reader.hooks.contains(result) }
            if !recorded {
                guard layer == 0, let first = files.first(where: { !$0.reader.hooks.contains(z) && !$0.reader.hooks.contains(result) }) else {
                    warnings.append("heads: layer \(layer) is not grouped: not every slot sweep recorded \(z)")
                    continue
                }
                try first.require(z, for: "heads", record: AnalysisHooks.slotSweeps)
            }
            var sweeps: [SlotSweep] = []
            var attention: [QueryPatterns] = []
            for file in files {
                guard case .slotSweep(let slot) = file.role else { continue }
                let t = file.lastIteration
                let queries = try file.meta("rhs_pos")
                let outputs: Tensor
                if file.reader.hooks.contains(result) {
                    outputs = try file.reader.activations(result, iteration: t, at: "rhs_pos")
                } else {
                    guard let weights else {
                        throw AnalysisError.needsModel(analysis: "heads", reason: "\(file.path) records \(z) but not \(result), so W_O is needed to form the head outputs")
                    }
                    outputs = try HeadOutputs.project(z: file.reader.activations(z, iteration: t, at: "rhs_pos"),
                                                      outputWeight: weights.outputWeight(layer: layer))
                }
                let predicted = try file.predictedValues(at: "rhs_pos")
                let accuracy = try Statistics.accuracy(predicted: predicted, expected: file.meta("answer"))
                let contexts = file.reader.metaKeys.contains("context") ? try file.meta("context") : nil
                sweeps.append(SlotSweep(slot: slot, outputs: outputs, accuracy: accuracy, contexts: contexts))
                if file.reader.hooks.contains(pattern) {
                    attention.append(try QueryPatterns(rows: file.reader.activations(pattern, iteration: t, at: "rhs_pos"), queries: queries))
                } else if layer == 0 {
                    warnings.append("heads: \(file.path) lacks \(pattern); entropy, offsets and clusters leave it out (record --hooks '\(AnalysisHooks.slotSweeps)')")
                }
            }
            sweeps.sort { (slotOrder.firstIndex(of: $0.slot) ?? 9) < (slotOrder.firstIndex(of: $1.slot) ?? 9) }
            groupings.append(try HeadGrouping(layer: layer, sweeps: sweeps, attention: attention))
        }
        return try HeadsSection(layers: groupings)
    }
}
