/// What the analyses need recorded from a shipped probe (docs/analysis.md "Recording for the
/// analyses"): its hooks and the query positions kept, at the probe's last iteration.
/// `lens demo` records these (and the attention examples) for the report; `lens timeline`
/// records smaller versions of them.
public struct AnalysisRecording: Sendable, Equatable {
    /// The shipped probe's name (probes/NAME.probe).
    public let probe: String
    /// Hook globs, as `lens run --hooks` takes them.
    public let hooks: [String]
    /// The kept query positions, as `lens run --positions` takes them.
    public let positions: String

    /// The slot sweeps (heads), retrieval_distance (retrieval) and value_grid (fourier).
    public static let forAnalyses: [AnalysisRecording] = {
        // The hooks come from AnalysisHooks, which the readers also name when a file lacks one.
        func globs(_ list: String) -> [String] { list.split(separator: ",").map(String.init) }
        return ["slot_var0", "slot_var1", "slot_var2", "slot_rhs"].map {
            AnalysisRecording(probe: $0, hooks: globs(AnalysisHooks.slotSweeps), positions: "probe")
        } + [
            AnalysisRecording(probe: "retrieval_distance", hooks: globs(AnalysisHooks.retrieval), positions: "probe"),
            AnalysisRecording(probe: "value_grid", hooks: globs(AnalysisHooks.valueGrid), positions: "rhs_pos"),
        ]
    }()
}

/// The hooks each analysis reads, as `lens run --hooks` values.
public enum AnalysisHooks {
    /// Slot sweeps: head values and attention of every layer.
    public static let slotSweeps = "blocks.*.attn.hook_z,blocks.*.attn.hook_pattern"
    /// The retrieval probe: attention of every layer.
    public static let retrieval = "blocks.*.attn.hook_pattern"
    /// The value grid: the layer-1 MLP and the value logits.
    public static let valueGrid = "blocks.1.mlp.hook_post,hook_logits.value"
}
