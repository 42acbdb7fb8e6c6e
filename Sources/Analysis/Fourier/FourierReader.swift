import Transformer

/// The Fourier analysis from a value-grid activation file.
public enum FourierReader {
    /// Layer-`layer` MLP activations at `rhs_pos` over the (a, b) grid (a = operand 0's value,
    /// b = operand 1's) → `FourierSection`; readout from `hook_logits.value` at `rhs_pos` when
    /// recorded (else accuracy from /predictions only); embedding spectrum from `weights`.
    public static func section(grid file: ActivationFileInput, weights: ModelWeights?, modulus p: Int, layer: Int = 1,
                               warnings: inout [String]) throws -> FourierSection {
        let hook = "blocks.\(layer).mlp.hook_post"
        try file.require(hook, for: "fourier", record: AnalysisHooks.valueGrid)
        let t = file.lastIteration
        let a = try file.meta("operand0_value"), b = try file.meta("operand1_value")
        let rows = try file.reader.activations(hook, iteration: t, at: "rhs_pos")
        let grid = try Fourier.grid(rows: rows, a: a, b: b, modulus: p)
        var readout: Readout
        if file.reader.hooks.contains("hook_logits.value") {
            let logits = try file.reader.activations("hook_logits.value", iteration: t, at: "rhs_pos")
            readout = try Fourier.readout(logits: Fourier.grid(rows: logits, a: a, b: b, modulus: p), modulus: p)
        } else {
            let predicted = try file.predictedValues(at: "rhs_pos")
            let hits = zip(predicted, zip(a, b)).filter { $0 == ($1.0 + $1.1) % p }.count
            readout = Readout(accuracy: Double(hits) / Double(max(predicted.count, 1)), logitByDifference: [])
            warnings.append("fourier: \(file.path) lacks hook_logits.value, so the readout has accuracy only (record --hooks '\(AnalysisHooks.valueGrid)')")
        }
        var spectrum: Spectrum?
        if let weights { spectrum = try Fourier.valueEmbeddingSpectrum(weights) } else {
            warnings.append("fourier: no model, so no value-embedding spectrum (pass --model M)")
        }
        return try FourierSection(activations: grid, modulus: p, embeddingSpectrum: spectrum, readout: readout)
    }
}
