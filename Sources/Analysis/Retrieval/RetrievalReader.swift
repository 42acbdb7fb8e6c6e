import GraphTask
import Transformer

/// Attention mass tables [H][operand] pooled over activation files with different operand
/// counts: each operand index is averaged over the sequences that have it.
struct PooledMass {
    var sums: [[Double]] = []
    var counts: [Int] = []

    mutating func add(_ mass: [[Double]], sequences n: Int) {
        guard let operands = mass.first?.count else { return }
        if sums.isEmpty { sums = mass.map { _ in [] } }
        for h in mass.indices {
            while sums[h].count < operands { sums[h].append(0) }
            for j in 0..<operands { sums[h][j] += mass[h][j] * Double(n) }
        }
        while counts.count < operands { counts.append(0) }
        for j in 0..<operands { counts[j] += n }
    }

    var mean: [[Double]] { sums.map { row in row.indices.map { row[$0] / Double(max(counts[$0], 1)) } } }
    var isEmpty: Bool { sums.isEmpty }
}

/// Value retrieval from the slot-sweep and retrieval activation files, and the mirrored-circuit
/// evidence.
public enum RetrievalReader {
    /// The retrieval section and the circuit evidence it measures (layer-1 mass on values and on
    /// operand occurrences; layer-0 look-up from operand occurrences onto their values).
    /// With `model`, value gains and the causal checks (patching, ablation) on at most
    /// `causalSequences` of the activation files' own sequences.
    public static func section(files: [ActivationFileInput], model: Model?, layers: Int, causalSequences: Int,
                               warnings: inout [String]) throws -> (RetrievalSection, CircuitEvidence) {
        guard !files.isEmpty else {
            throw AnalysisError.missingActivationFiles(analysis: "retrieval", needed: "retrieval_distance or the slot sweeps")
        }
        let primary = 1 < layers ? 1 : 0
        let weights = model.map(ModelWeights.init)
        var measured: [RetrievalLayer] = []
        var onOperands = PooledMass(), lookup = PooledMass()
        for layer in ([primary] + (0..<layers).filter { $0 != primary }) {
            let pattern = "blocks.\(layer).attn.hook_pattern"
            let usable = files.filter { $0.reader.hooks.contains(pattern) }
            if usable.isEmpty {
                if layer == primary, let first = files.first {
                    try first.require(pattern, for: "retrieval", record: AnalysisHooks.retrieval)
                }
                warnings.append("retrieval: layer \(layer) is not measured: no activation file recorded \(pattern)")
                continue
            }
            var values = PooledMass()
            for file in usable {
                let t = file.lastIteration
                let queries = try file.meta("rhs_pos")
                let rows = try QueryPatterns(rows: file.reader.activations(pattern, iteration: t, at: "rhs_pos"), queries: queries)
                values.add(try Retrieval.attentionMass(rows, keys: file.operandColumns("value_pos")), sequences: file.reader.count)
                if layer == 1 {
                    onOperands.add(try Retrieval.attentionMass(rows, keys: file.operandColumns("pos")), sequences: file.reader.count)
                }
                if layer == 0 {
                    // At each operand occurrence, attention on that operand's value position.
                    let valuePositions = try file.operandColumns("value_pos")
                    var table: [[Double]] = []
                    for j in 0..<file.operandCount {
                        let at = try file.reader.activations(pattern, iteration: t, at: "operand\(j)_pos")
                        let patterns = try QueryPatterns(rows: at, queries: file.meta("operand\(j)_pos"))
                        let mass = try Retrieval.attentionMass(patterns, keys: valuePositions.map { [$0[j]] })
                        if table.isEmpty { table = mass.map { _ in [] } }
                        for h in mass.indices { table[h].append(mass[h][0]) }
                    }
                    lookup.add(table, sequences: file.reader.count)
                }
            }
            let gain = try weights.map { try Retrieval.valueGain($0, layer: layer) }
            measured.append(RetrievalLayer(layer: layer, headMass: values.mean, valueGain: gain))
        }
        guard !measured.isEmpty else { throw AnalysisError.empty(what: "the list of retrieval measures") }
        var section = try RetrievalSection(layers: measured)
        if let model, let best = section.layer(1) ?? measured.first {
            let probes = try causalProbes(files: files, limit: causalSequences, vocabulary: model.config.vocabulary, warnings: &warnings)
            if !probes.isEmpty {
                var follow = 0.0, baseline = 0.0, cases = 0
                var retrieval: [AblationResult] = [], other: [AblationResult] = [], sizes: [Int] = []
                for probe in probes {
                    let patch = try CausalChecks.patch(model: model, probe: probe)
                    follow += patch.followRate * Double(patch.cases)
                    baseline += patch.baselineAccuracy * Double(patch.cases)
                    cases += patch.cases
                    let pair = try CausalChecks.compareAblations(model: model, probe: probe, measures: best)
                    retrieval.append(pair.retrieval)
                    other.append(pair.other)
                    sizes.append(probe.tokens.batch)
                }
                section.patch = PatchResult(followRate: follow / Double(cases), baselineAccuracy: baseline / Double(cases), cases: cases)
                section.ablationRetrieval = pooled(retrieval, weights: sizes)
                section.ablationOther = pooled(other, weights: sizes)
            }
        } else if model == nil {
            warnings.append("retrieval: no model, so no value gain, patching or ablation (pass --model M)")
        }
        let paperMass = section.layer(1)?.operandMass
        let evidence = CircuitEvidence(
            layer1MassOnValues: paperMass,
            layer1MassOnOperands: onOperands.isEmpty ? nil : RetrievalLayer(layer: 1, headMass: onOperands.mean).operandMass,
            layer0LookupMass: lookup.isEmpty ? nil : RetrievalLayer(layer: 0, headMass: lookup.mean).operandMass)
        return (section, evidence)
    }

    /// Ablation results of several probes pooled by sequence count.
    static func pooled(_ results: [AblationResult], weights: [Int]) -> AblationResult? {
        guard let first = results.first else { return nil }
        let total = Double(weights.reduce(0, +))
        let base = zip(results, weights).map { $0.baselineAccuracy * Double($1) }.reduce(0, +) / total
        let ablated = zip(results, weights).map { $0.ablatedAccuracy * Double($1) }.reduce(0, +) / total
        return AblationResult(layer: first.layer, heads: first.heads, baselineAccuracy: base, ablatedAccuracy: ablated, drop: base - ablated)
    }

    /// One causal probe per activation file: the input tokens of its first recorded iteration,
    /// evenly strided to share `limit` sequences between the files, run for one iteration.
    static func causalProbes(files: [ActivationFileInput], limit: Int, vocabulary: Vocabulary, warnings: inout [String]) throws -> [CausalProbe] {
        let usable = files.filter { $0.operandCount > 0 && $0.reader.count > 0 }
        guard !usable.isEmpty, limit > 0 else { return [] }
        let share = max(1, limit / usable.count)
        var probes: [CausalProbe] = []
        for file in usable {
            let n = file.reader.count, stride = max(1, n / share)
            let chosen = Array(Swift.stride(from: 0, to: n, by: stride).prefix(share))
            let tokens = try file.reader.inputTokens()
            let lengths = try file.reader.lengths()
            let l = file.reader.length
            let sequences: [[FactorToken]] = chosen.map { i in
                (0..<Int(lengths[i])).map { p in tokens[sequence: i, recorded: 0, position: p] }
            }
            let rhs = try file.meta("rhs_pos"), values = try file.operandColumns("value_pos")
            let batch = TokenBatch(sequences: sequences, vocabulary: vocabulary, padTo: l)
            if file.reader.iterations.first != 0 {
                warnings.append("retrieval: \(file.path) did not record iteration 0; the causal checks start from its iteration \(file.reader.iterations.first ?? 0) input")
            }
            probes.append(CausalProbe(tokens: batch, queries: chosen.map { rhs[$0] }, operandValuePositions: chosen.map { values[$0] }))
        }
        return probes
    }
}
