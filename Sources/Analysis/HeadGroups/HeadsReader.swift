import Transformer

/// The hooks each analysis reads, as `lens run --hooks` values.
public enum AnalysisHooks {
    /// Slot sweeps: head values and attention of every layer.
    public static let slotSweeps = "blocks.*.attn.hook_z,blocks.*.attn.hook_pattern"
    /// The retrieval probe: attention of every layer.
    public static let retrieval = "blocks.*.attn.hook_pattern"
    /// The value grid: the layer-1 MLP and the value logits.
    public static let valueGrid = "blocks.1.mlp.hook_post,hook_logits.value"
}

/// Head grouping from the slot-sweep dumps.
public enum DumpHeads {
    /// The four slots in report order.
    public static let slotOrder = ["var_0", "var_1", "var_2", "rhs"]

    /// Groups the heads of every layer whose hooks the sweeps recorded (layer 0 is required):
    /// per sweep, head outputs at `rhs_pos` (hook_result, or hook_z through W_O from `weights`),
    /// r per context averaged over contexts, attention rows at `rhs_pos`, and the sweep accuracy
    /// (prediction at `rhs_pos` = `answer`, last recorded iteration).
    public static func section(sweeps dumps: [AnalysisDump], weights: ModelWeights?, layers: Int,
                               warnings: inout [String]) throws -> HeadsSection {
        guard !dumps.isEmpty else {
            throw AnalysisError.missingDumps(analysis: "heads", needed: "the slot sweeps slot_var0, slot_var1, slot_var2 and slot_rhs")
        }
        var groupings: [HeadGrouping] = []
        for layer in 0..<max(layers, 1) {
            let z = "blocks.\(layer).attn.hook_z", result = "blocks.\(layer).attn.hook_result"
            let pattern = "blocks.\(layer).attn.hook_pattern"
            let recorded = dumps.allSatisfy { $0.reader.hooks.contains(z) || $0.reader.hooks.contains(result) }
            if !recorded {
                guard layer == 0, let first = dumps.first(where: { !$0.reader.hooks.contains(z) && !$0.reader.hooks.contains(result) }) else {
                    warnings.append("heads: layer \(layer) is not grouped: not every slot sweep recorded \(z)")
                    continue
                }
                try first.require(z, for: "heads", record: AnalysisHooks.slotSweeps)
            }
            var sweeps: [SlotSweep] = []
            var attention: [QueryPatterns] = []
            for dump in dumps {
                guard case .slotSweep(let slot) = dump.role else { continue }
                let t = dump.lastIteration
                let queries = try dump.meta("rhs_pos")
                let outputs: Tensor
                if dump.reader.hooks.contains(result) {
                    outputs = try dump.reader.activations(result, iteration: t, at: "rhs_pos")
                } else {
                    guard let weights else {
                        throw AnalysisError.needsModel(analysis: "heads", reason: "\(dump.path) records \(z) but not \(result), so W_O is needed to form the head outputs")
                    }
                    outputs = try HeadOutputs.project(z: dump.reader.activations(z, iteration: t, at: "rhs_pos"),
                                                      outputWeight: weights.outputWeight(layer: layer))
                }
                let predicted = try dump.predictedValues(at: "rhs_pos")
                let accuracy = try Statistics.accuracy(predicted: predicted, expected: dump.meta("answer"))
                let contexts = dump.reader.metaKeys.contains("context") ? try dump.meta("context") : nil
                sweeps.append(SlotSweep(slot: slot, outputs: outputs, accuracy: accuracy, contexts: contexts))
                if dump.reader.hooks.contains(pattern) {
                    attention.append(try QueryPatterns(rows: dump.reader.activations(pattern, iteration: t, at: "rhs_pos"), queries: queries))
                } else if layer == 0 {
                    warnings.append("heads: \(dump.path) lacks \(pattern); entropy, offsets and clusters leave it out (record --hooks '\(AnalysisHooks.slotSweeps)')")
                }
            }
            sweeps.sort { (slotOrder.firstIndex(of: $0.slot) ?? 9) < (slotOrder.firstIndex(of: $1.slot) ?? 9) }
            groupings.append(try HeadGrouping(layer: layer, sweeps: sweeps, attention: attention))
        }
        return try HeadsSection(layers: groupings)
    }
}
