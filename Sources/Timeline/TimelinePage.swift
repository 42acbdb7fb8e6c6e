import Foundation
import Reports

/// The timeline of one training run as a self-contained HTML page: one section per mechanism,
/// each a line chart against the training step.
public enum TimelinePage {
    /// The page for `measures` (sorted by step); `title` names the run.
    public static func html(_ measures: [MechanismMeasures], title: String, command: String) -> String {
        let steps = measures.map { Double($0.step) }
        func chart(_ series: [Series], _ yTitle: String, range: ClosedRange<Double>? = 0...1) -> String {
            var chart = LineChart(x: steps, series: series, xTitle: "training step", yTitle: yTitle, yRange: range)
            chart.width = 620
            return chart.svg
        }
        func values(_ value: (MechanismMeasures) -> Double?) -> [Double] { measures.map { value($0) ?? .nan } }
        var sections: [ReportSection] = []

        var accuracy = ["copies", "sums of two", "sums of three"].enumerated().map { i, name in
            Series(name: name, values: values { $0.accuracyByOperands.indices.contains(i) ? $0.accuracyByOperands[i] : nil })
        }
        accuracy.append(Series(name: "node (recurrent)", values: values { $0.nodeAccuracy }))
        var accuracyBlocks: [ReportBlock] = [
            .figure(chart(accuracy, "accuracy"), caption: "Teacher-forced one-step accuracy of computed nodes by operand count on held-out graphs of \(measures.first?.evaluationNodes ?? 0) nodes (each depth's input holds the true values of every shallower node, as in training), and the recurrent node accuracy on the same graphs. Chance is 1/23."),
        ]
        if measures.contains(where: { $0.loss != nil }) {
            accuracyBlocks.append(.figure(chart([Series(name: "loss", values: values { $0.loss })], "training loss", range: nil),
                                          caption: "The training loss logged at (or just before) each snapshot's step."))
        }
        sections.append(ReportSection(id: "accuracy", title: "Accuracy", blocks: accuracyBlocks))

        let slots = ["var_0", "var_1", "var_2", "rhs"]
        var headBlocks: [ReportBlock] = [
            .figure(chart(slots.map { slot in Series(name: slot, values: values { $0.varianceBySlot[slot] == nil ? nil : $0.bestVariance(of: slot) }) }, "best r over heads"),
                    caption: "Layer 0: for each slot of v0 + v1 + v2 = rhs, the largest share of a head's output variance that the slot's variable explains (r, docs/analysis.md). The paper's mechanism is a group of heads per operand slot with r near 1."),
            .figure(chart(slots.map { slot in Series(name: slot, values: values { Double(($0.headGroups[slot] ?? []).count) }) }, "heads in the group", range: nil),
                    caption: "Layer 0: how many heads form each slot's group (a head joins the slot whose r is at least 0.3 and exceeds every other slot's by 0.2; docs/analysis.md)."),
        ]
        let heads = measures.map { $0.varianceBySlot["var_0"]?.count ?? 0 }.max() ?? 0
        for slot in slots.prefix(3) where heads > 0 {
            let series = (0..<heads).map { h in Series(name: "head \(h)", values: values { m in m.varianceBySlot[slot].flatMap { $0.indices.contains(h) ? $0[h] : nil } }) }
            headBlocks.append(.figure(chart(series, "r_\(slot)(h)"), caption: "Layer 0: r for slot \(slot), one line per head."))
        }
        sections.append(ReportSection(id: "heads", title: "Layer 0: head groups per operand slot", blocks: headBlocks))

        var retrievalBlocks: [ReportBlock] = [
            .figure(chart([Series(name: "best head per operand", values: values { $0.layer1OperandValueMass })], "attention on operand values"),
                    caption: "Layer 1: at the right-hand side, the attention of the head best matched to each operand on that operand's value position, averaged over operands (retrieval_distance and the slot sweeps). The paper's second hop puts most of it there."),
        ]
        let layer1Heads = measures.map { $0.layer1ValueMassByHead?.count ?? 0 }.max() ?? 0
        if layer1Heads > 0 {
            let series = (0..<layer1Heads).map { h in Series(name: "head \(h)", values: values { m in m.layer1ValueMassByHead.flatMap { $0.indices.contains(h) ? $0[h] : nil } }) }
            retrievalBlocks.append(.figure(chart(series, "attention on all operand values"), caption: "Layer 1: each head's attention on all operand value positions together."))
        }
        sections.append(ReportSection(id: "retrieval", title: "Layer 1: value retrieval", blocks: retrievalBlocks))

        sections.append(ReportSection(id: "fourier", title: "Layer-1 MLP: Fourier addition", blocks: [
            .figure(chart([Series(name: "own-frequency share", values: values { $0.ownFrequencyShare }),
                           Series(name: "variance explained by key frequencies", values: values { $0.varianceExplainedByKey })], "share"),
                    caption: "Layer-1 MLP on the (a, b) value grid: the weighted share of each active neuron's variance at its own top frequency, and the variance the key frequencies explain together."),
            .figure(chart([Series(name: "key frequencies", values: values { Double($0.keyFrequencies.count) })], "count", range: nil),
                    caption: "How many key frequencies the MLP uses."),
        ]))

        let rows = measures.map { m -> [String] in
            func fixed(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
            return ["\(m.step)"] + (0..<3).map { fixed(m.accuracyByOperands.indices.contains($0) ? m.accuracyByOperands[$0] : nil) }
                + ["var_0", "var_1", "var_2"].map { slot in (m.headGroups[slot] ?? []).map(String.init).joined(separator: ",") }
                + [fixed(m.layer1OperandValueMass), m.keyFrequencies.map(String.init).joined(separator: ","), fixed(m.ownFrequencyShare),
                   (m.circuit ?? "–") + (m.slotsWithoutGroup.isEmpty ? "" : " (no group: " + m.slotsWithoutGroup.joined(separator: ", ") + ")")]
        }
        sections.append(ReportSection(id: "table", title: "Every snapshot", blocks: [
            .table(headers: ["step", "copies", "sums of 2", "sums of 3", "var_0 heads", "var_1 heads", "var_2 heads", "L1 value mass", "key freqs", "own share", "circuit"], rows: rows),
            .paragraph("Made by: \(command)"),
        ]))
        let span = measures.isEmpty ? "" : "steps \(measures.first?.step ?? 0)–\(measures.last?.step ?? 0), \(measures.count) snapshots"
        return ReportPage(title: "Mechanism timeline: \(title)", subtitle: span, sections: sections).html
    }
}
