import Analysis
import Foundation

/// Turns analysis results into the report's sections, every figure captioned with what it
/// shows and what the paper found.
public enum AnalysisReport {
    /// The whole report page for `content`.
    public static func page(_ content: ReportContent) -> ReportPage {
        var sections: [ReportSection] = []
        if let card = content.modelCard { sections.append(modelCardSection(card, circuit: content.summary.circuit)) }
        sections.append(headlineSection(content.summary))
        if let attention = content.attention {
            sections.append(ReportSection(id: "attention", title: "Attention view", blocks: [
                .paragraph("Attention of every head at every recorded iteration, for a few probe sequences. Tokens show their variable name or value; hover them for all four factor ids."),
                .html(attention.html),
            ]))
        }
        if let heads = content.summary.heads { sections.append(headsSection(heads)) }
        if let retrieval = content.summary.retrieval { sections.append(retrievalSection(retrieval, circuit: content.summary.circuit)) }
        if let fourier = content.summary.fourier { sections.append(fourierSection(fourier, grids: content.neuronGrids)) }
        sections.append(provenanceSection(content))
        var warnings = content.warnings
        if content.activationFiles.contains(where: { !$0.complete }) {
            warnings.insert("At least one activation file is INCOMPLETE (its run was interrupted): the numbers below use only its finished batches.", at: 0)
        }
        let subtitle = content.modelCard.map { "model \($0.path)" } ?? "no model card"
        return ReportPage(title: content.title, subtitle: subtitle + " · generated " + ISO8601DateFormatter().string(from: Date()),
                          sections: sections, warnings: warnings)
    }

    static func percent(_ x: Double) -> String { x.isFinite ? String(format: "%.1f %%", x * 100) : "–" }
    static func fixed(_ x: Double, _ digits: Int = 3) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "–" }

    /// The model card: what the model is, the circuit verdict and its accuracy first; its
    /// configuration and training after; the command history folded away.
    static func modelCardSection(_ card: ModelCard, circuit: CircuitVerdict?) -> ReportSection {
        var blocks: [ReportBlock] = []
        if let description = card.description { blocks.append(.paragraph(description)) }
        if let circuit { blocks.append(.paragraph("Circuit the analyses find: \(circuit.headline).")) }
        if !card.accuracy.isEmpty {
            let ood = card.trainedMaxNodes.map { max in card.accuracy.filter { $0.nodes > max }.map { "\($0.nodes)" } } ?? []
            blocks.append(.table(headers: ["graph size", "graphs", "node accuracy", "graph accuracy", "max depth", "in training?"],
                                 rows: card.accuracy.map { a in
                                     [String(a.nodes), String(a.graphs), percent(a.nodeAccuracy), percent(a.graphAccuracy), String(a.maxDepth),
                                      ood.contains(String(a.nodes)) ? "no (out of distribution)" : "yes"]
                                 }))
            let bars = BarChart(categories: card.accuracy.map { "\($0.nodes) nodes" },
                                series: [Series(name: "node", values: card.accuracy.map(\.nodeAccuracy)),
                                         Series(name: "whole graph", values: card.accuracy.map(\.graphAccuracy))],
                                xTitle: "graph size", yTitle: "accuracy", yRange: 0...1)
            blocks.append(.figure(bars.svg, caption: "Recurrent accuracy (argmax re-embedded each iteration) by graph size. The paper's recurrent models keep near-perfect accuracy far beyond the training sizes."))
            let depth = card.accuracy.map(\.byDepth.count).max() ?? 0
            let lines = LineChart(x: (0..<depth).map(Double.init),
                                  series: card.accuracy.map { a in Series(name: "\(a.nodes) nodes", values: (0..<depth).map { $0 < a.byDepth.count ? a.byDepth[$0] : .nan }) },
                                  xTitle: "node depth", yTitle: "node accuracy", yRange: 0...1)
            blocks.append(.figure(lines.svg, caption: "Node accuracy by depth in the graph. Depth d needs d recurrent steps; the paper finds recurrence lets accuracy hold at depths never seen in training."))
            let measured = card.accuracy.filter { $0.oneStepByOperands.count == 3 }
            if !measured.isEmpty {
                let steps = BarChart(categories: ["copies", "sums of two", "sums of three"],
                                     series: measured.map { Series(name: "\($0.nodes) nodes", values: $0.oneStepByOperands) },
                                     xTitle: "operands of the node", yTitle: "one-step accuracy", yRange: 0...1)
                blocks.append(.figure(steps.svg, caption: "One step at a time: accuracy of computed nodes whose operands' values were right in their input, by operand count. Errors here are a missing skill (an operand the model cannot fetch or add); the gap between these bars and the accuracy by depth is errors compounding over iterations."))
            }
        }
        blocks.append(.table(headers: ["setting", "value"], rows: card.configuration.map { [$0.0, $0.1] }))
        if !card.training.isEmpty {
            blocks.append(.table(headers: ["training", "value"], rows: card.training.map { [$0.0, $0.1] }))
        }
        if !card.commands.isEmpty {
            let rows = card.commands.enumerated().map { [String($0.offset + 1), $0.element] }
            let title = card.commands.count == 1 ? "Training command" : "Training commands (\(card.commands.count) invocations, the first and its resumes)"
            blocks.append(.details(summary: title, blocks: [.table(headers: ["#", "lens train …"], rows: rows)]))
        }
        return ReportSection(id: "model", title: "Model card", blocks: blocks)
    }

    static func headlineSection(_ summary: AnalysisSummary) -> ReportSection {
        var numbers: [(String, String)] = []
        if let heads = summary.heads {
            let g = heads.primary
            for slot in g.slots { numbers.append(("layer-0 heads reading \(slot)", g.groups[slot].map { $0.isEmpty ? "none" : $0.map(String.init).joined(separator: ", ") } ?? "none")) }
            if let mean = mean(Array(g.sweepAccuracy.values)) { numbers.append(("sweep accuracy (mean)", percent(mean))) }
        }
        if let retrieval = summary.retrieval {
            numbers.append(("layer-1 attention on operand values", percent(retrieval.primary.operandMass)))
            if let patch = retrieval.patch { numbers.append(("patched answers that follow", percent(patch.followRate))) }
        }
        if let fourier = summary.fourier {
            numbers.append(("key frequencies", fourier.keyFrequencies.isEmpty ? "none" : fourier.keyFrequencies.map(String.init).joined(separator: ", ")))
            numbers.append(("MLP variance in key frequencies", percent(fourier.varianceExplainedByKey)))
        }
        var blocks: [ReportBlock] = [.numbers(numbers)]
        if let verdict = summary.circuit {
            blocks.append(.paragraph("Circuit: \(verdict.headline) — " + verdict.reasons.joined(separator: "; ") + "."))
        }
        return ReportSection(id: "headlines", title: "Headline numbers", blocks: blocks)
    }

    static func mean(_ values: [Double]) -> Double? {
        let finite = values.filter { $0.isFinite }
        return finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count)
    }

    static func headsSection(_ heads: HeadsSection) -> ReportSection {
        let g = heads.primary
        let headCount = g.labels.count
        let headLabels = (0..<headCount).map { "head \($0)" }
        var blocks: [ReportBlock] = []
        let r = (0..<headCount).map { h in g.slots.map { g.r[$0].map { h < $0.count ? $0[h] : .nan } ?? .nan } }
        var rMap = Heatmap(values: r, rowLabels: headLabels, columnLabels: g.slots, rowTitle: "layer-\(g.layer) head",
                           columnTitle: "swept slot", colorTitle: "variance portion r", scale: .sequential(low: 0, high: 1))
        rMap.cell = 22
        rMap.annotate = true
        blocks.append(.figure(rMap.svg, caption: "Portion of variance r_s(h) of each head's output at the right-hand side when only slot s is swept. The paper finds layer-0 heads in groups, each moving with exactly one operand slot (r near 1 there, near 0 elsewhere)."))
        var rows: [[String]] = g.slots.map { slot in
            [slot, (g.groups[slot] ?? []).map(String.init).joined(separator: ", "), g.sweepAccuracy[slot].map(percent) ?? "–"]
        }
        rows.append(["unassigned", g.unassigned.map { "\($0) (\(g.labels[$0]))" }.joined(separator: ", "), ""])
        blocks.append(.table(headers: ["slot", "heads", "sweep accuracy"], rows: rows))
        if let profile = g.offsetProfile {
            let offsets = (profile.first?.count ?? 0)
            var map = Heatmap(values: profile, rowLabels: headLabels, columnLabels: (0..<offsets).map { "−\($0)" },
                              rowTitle: "layer-\(g.layer) head", columnTitle: "key offset from the right-hand side",
                              colorTitle: "mean attention", scale: .sequential(low: 0, high: max(profile.joined().max() ?? 1, 1e-6)))
            map.cell = 18
            blocks.append(.figure(map.svg, caption: "Mean attention at the right-hand side by relative offset back. In the paper, each operand group attends to its operand's position in the equation (a fixed offset back)."))
        }
        if let entropy = g.entropy {
            let chart = BarChart(categories: (0..<entropy.count).map(String.init), series: [Series(name: "", values: entropy)],
                                 xTitle: "layer-\(g.layer) head", yTitle: "entropy (nats)")
            blocks.append(.figure(chart.svg, caption: "Attention entropy at the right-hand side. Low entropy = a head looks at one token; the paper's grouped heads are sharp."))
        }
        if let similarity = g.cosineSimilarity, let order = g.clusterOrder, order.count == similarity.count {
            let ordered = order.map { i in order.map { j in similarity[i][j] } }
            var map = Heatmap(values: ordered, rowLabels: order.map { "head \($0)" }, columnLabels: order.map(String.init),
                              rowTitle: "head (cluster order)", columnTitle: "head (cluster order)", colorTitle: "cosine similarity",
                              scale: .sequential(low: 0, high: 1))
            map.cell = 18
            let clusters = (g.clusters ?? []).map { "{" + $0.map(String.init).joined(separator: ",") + "}" }.joined(separator: " ")
            blocks.append(.figure(map.svg, caption: "Cosine similarity of heads' attention rows, ordered by average-linkage clusters \(clusters). Blocks on the diagonal are heads that attend alike — the paper's head groups."))
        }
        return ReportSection(id: "heads", title: "Layer \(g.layer): head groups that find the operands", blocks: blocks)
    }

    static func retrievalSection(_ retrieval: RetrievalSection, circuit: CircuitVerdict?) -> ReportSection {
        let p = retrieval.primary
        var blocks: [ReportBlock] = []
        let operands = p.headMass.first?.count ?? 0
        var map = Heatmap(values: p.headMass, rowLabels: (0..<p.headMass.count).map { "head \($0)" },
                          columnLabels: (0..<operands).map { "operand \($0)" }, rowTitle: "layer-\(p.layer) head",
                          columnTitle: "value position of", colorTitle: "attention mass", scale: .sequential(low: 0, high: 1))
        map.cell = 24
        map.annotate = true
        blocks.append(.figure(map.svg, caption: "Attention mass of each layer-\(p.layer) head at the right-hand side on the position holding each operand's value (its definition's right-hand side). The paper finds layer-1 heads that retrieve exactly these values."))
        if let gain = p.valueGain {
            let chart = BarChart(categories: (0..<gain.count).map(String.init), series: [Series(name: "", values: gain)],
                                 xTitle: "layer-\(p.layer) head", yTitle: "value / variable gain")
            blocks.append(.figure(chart.svg, caption: "Gain of W_V·W_O per head on value embeddings relative to variable-name embeddings. Retrieval heads should carry values (gain > 1), as the paper's value-amplifying heads do."))
        }
        var numbers: [(String, String)] = [("operand mass (best head per operand)", percent(p.operandMass)),
                                           ("best heads", p.bestHeads.map(String.init).joined(separator: ", "))]
        if let patch = retrieval.patch {
            numbers.append(("patched operand value → answer follows", "\(percent(patch.followRate)) of \(patch.cases)"))
        }
        if let a = retrieval.ablationRetrieval {
            numbers.append(("accuracy drop, ablating retrieval heads \(a.heads.map(String.init).joined(separator: ","))", percent(a.drop)))
        }
        if let a = retrieval.ablationOther {
            numbers.append(("accuracy drop, ablating as many other heads", percent(a.drop)))
        }
        blocks.append(.numbers(numbers))
        if let verdict = circuit {
            blocks.append(.paragraph("Which circuit: \(verdict.headline)."))
            blocks.append(.table(headers: ["evidence"], rows: verdict.reasons.map { [$0] }))
        }
        for other in retrieval.layers.dropFirst() {
            blocks.append(.paragraph(String(format: "Layer %d for comparison: operand mass %@ (best heads %@).", other.layer,
                                            percent(other.operandMass), other.bestHeads.map(String.init).joined(separator: ", "))))
        }
        return ReportSection(id: "retrieval", title: "Layer \(p.layer): retrieving the operands' values", blocks: blocks)
    }

    static func fourierSection(_ f: FourierSection, grids: [NeuronGrid]) -> ReportSection {
        var blocks: [ReportBlock] = [.numbers([
            ("key frequencies", f.keyFrequencies.isEmpty ? "none" : f.keyFrequencies.map(String.init).joined(separator: ", ")),
            ("variance explained by key frequencies", percent(f.varianceExplainedByKey)),
            ("variance in own top frequency (weighted)", percent(f.weightedTopFrequencyFraction)),
            ("share of variance in functions of a + b", percent(f.aPlusBShare)),
            ("active neurons", "\(f.activeNeurons) of \(f.neuronCount)"),
        ])]
        let frequencies = f.frequencyShare.count
        let active = (0..<f.neuronCount).filter { f.topFrequency[$0] > 0 }
        let shown = active.sorted { (f.topFrequency[$0], -f.neuronVariance[$0]) < (f.topFrequency[$1], -f.neuronVariance[$1]) }
        let sample = shown.count > 96 ? stride(from: 0, to: shown.count, by: max(1, shown.count / 96)).map { shown[$0] } : shown
        if !sample.isEmpty {
            let byFrequency = (0..<max(frequencies, 1)).map { k in sample.map { k < f.neuronSpectrum[$0].count ? f.neuronSpectrum[$0][k] : 0 } }
            var map = Heatmap(values: byFrequency, rowLabels: (1...max(frequencies, 1)).map { "k=\($0)" },
                              columnLabels: sample.map { "n\($0)" }, rowTitle: "frequency",
                              columnTitle: "layer-1 MLP neuron (sorted by top frequency)", colorTitle: "fraction of variance",
                              scale: .sequential(low: 0, high: 1))
            map.cell = 8
            blocks.append(.figure(map.svg, caption: "Each active neuron's variance over the (a, b) grid split by frequency k (terms in a, in b and in both). The paper finds neurons sparse in this basis, each tuned to one of a few key frequencies."))
        }
        let bars = BarChart(categories: (1...max(frequencies, 1)).map(String.init),
                            series: [Series(name: "share of variance", values: f.frequencyShare),
                                     Series(name: "share of neurons (top)", values: f.topFrequencyCounts.map { Double($0) / Double(max(f.activeNeurons, 1)) })],
                            xTitle: "frequency k", yTitle: "share", yRange: 0...1)
        blocks.append(.figure(bars.svg, caption: "Key frequencies: share of the MLP's variance and of its neurons at each frequency. The paper's model concentrates on a handful of frequencies."))
        for grid in grids.prefix(4) {
            var map = Heatmap(values: grid.grid, rowLabels: (0..<grid.grid.count).map(String.init), columnLabels: (0..<(grid.grid.first?.count ?? 0)).map(String.init),
                              rowTitle: "a", columnTitle: "b", colorTitle: "activation")
            map.cell = 9
            blocks.append(.figure(map.svg, caption: "Neuron \(grid.neuron) over all (a, b): \(percent(grid.fraction)) of its variance at frequency \(grid.frequency). Periodic stripes along a + b are the paper's Fourier addition."))
        }
        if let spectrum = f.embeddingSpectrum {
            let chart = BarChart(categories: spectrum.frequencies.map(String.init), series: [Series(name: "", values: spectrum.fraction)],
                                 xTitle: "frequency k", yTitle: "share of power", yRange: 0...1)
            blocks.append(.figure(chart.svg, caption: "Fourier spectrum of the value-embedding table (numbers 0–22). In the paper the embeddings already favour the key frequencies."))
        }
        if let readout = f.readout {
            let chart = LineChart(x: (0..<readout.logitByDifference.count).map(Double.init),
                                  series: [Series(name: "mean logit", values: readout.logitByDifference)],
                                  xTitle: "(a + b − c) mod 23", yTitle: "mean logit of class c")
            blocks.append(.figure(chart.svg, caption: "Readout logits as a function of (a + b − c) mod 23 (argmax = a + b on \(percent(readout.accuracy)) of the grid). A peak at 0 with a smooth periodic profile is the signature of Fourier addition."))
        }
        return ReportSection(id: "fourier", title: "Layer-1 MLP: adding in a Fourier basis", blocks: blocks)
    }

    static func provenanceSection(_ content: ReportContent) -> ReportSection {
        var blocks: [ReportBlock] = [.paragraph("Made with: \(content.command)")]
        if !content.activationFiles.isEmpty {
            blocks.append(.table(headers: ["activation file", "probe", "sequences", "complete", "hooks"],
                                 rows: content.activationFiles.map { [$0.path, $0.probe, String($0.sequences), $0.complete ? "yes" : "NO", $0.hooks.joined(separator: ", ")] }))
        }
        if let sha = content.modelCard?.sha256 { blocks.append(.paragraph("Model SHA-256: \(sha)")) }
        blocks.append(.paragraph("The numbers behind every figure are in analysis.json next to this file."))
        return ReportSection(id: "provenance", title: "Provenance", blocks: blocks)
    }
}
