import Analysis
import Foundation

/// The readable summary `lens analyze` prints.
enum AnalysisText {
    static func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

    static func render(_ outcome: AnalysisOutcome) -> String {
        var lines: [String] = ["activation files:"]
        for file in outcome.files { lines.append("  \(file.path)  (\(file.probe): \(file.role))") }
        let s = outcome.summary
        if let heads = s.heads {
            for g in heads.layers {
                lines.append("")
                lines.append("heads, layer \(g.layer): r per slot (rows: heads)")
                lines.append("  head  " + g.slots.map { $0.padding(toLength: 7, withPad: " ", startingAt: 0) }.joined() + "label")
                let count = g.labels.count
                for h in 0..<count {
                    let cells = g.slots.map { f(g.r[$0]?[h] ?? 0).padding(toLength: 7, withPad: " ", startingAt: 0) }.joined()
                    lines.append("  " + String(h).padding(toLength: 6, withPad: " ", startingAt: 0) + cells + g.labels[h])
                }
                let groups = g.slots.map { "\($0): \(g.groups[$0] ?? [])" }.joined(separator: ", ")
                lines.append("  groups: \(groups); unassigned: \(g.unassigned)")
                let clear = g.clearGroups()
                lines.append("  clear groups (r ≥ 0.6 for the slot, ≤ 0.1 for the others): " + g.slots.map { "\($0): \(clear[$0] ?? [])" }.joined(separator: ", "))
                lines.append("  sweep accuracy: " + g.slots.map { "\($0) \(g.sweepAccuracy[$0].map { f($0, 3) } ?? "?")" }.joined(separator: ", "))
                if let clusters = g.clusters { lines.append("  attention clusters: \(clusters)") }
            }
        }
        if let r = s.retrieval {
            for layer in r.layers {
                lines.append("")
                lines.append("retrieval, layer \(layer.layer): operand_mass \(f(layer.operandMass, 3)), best heads \(layer.bestHeads)")
                let top = layer.totalMass.indices.sorted { layer.totalMass[$0] > layer.totalMass[$1] }.prefix(6)
                for h in top {
                    let gain = layer.valueGain.map { "  value gain \(f($0[h]))" } ?? ""
                    lines.append("  head \(h): mass per operand \(layer.headMass[h].map { f($0) }), total \(f(layer.totalMass[h]))\(gain)")
                }
            }
            if let p = r.patch { lines.append("  patching: follow rate \(f(p.followRate, 3)) over \(p.cases) cases (baseline accuracy \(f(p.baselineAccuracy, 3)))") }
            if let a = r.ablationRetrieval { lines.append("  ablating retrieval heads \(a.heads): accuracy \(f(a.baselineAccuracy, 3)) → \(f(a.ablatedAccuracy, 3)) (drop \(f(a.drop, 3)))") }
            if let a = r.ablationOther { lines.append("  ablating other heads \(a.heads): accuracy \(f(a.baselineAccuracy, 3)) → \(f(a.ablatedAccuracy, 3)) (drop \(f(a.drop, 3)))") }
        }
        if let four = s.fourier {
            lines.append("")
            lines.append("fourier: key frequencies \(four.keyFrequencies); variance explained by them \(f(four.varianceExplainedByKey, 3))")
            lines.append("  top-frequency fraction: weighted \(f(four.weightedTopFrequencyFraction, 3)), median \(f(four.medianTopFrequencyFraction, 3)); a+b share \(f(four.aPlusBShare, 3)); \(four.activeNeurons)/\(four.neuronCount) neurons active")
            lines.append("  neurons per top frequency (≥ 0.5 in it): " + four.topFrequencyCounts.enumerated().filter { $0.element > 0 }.map { "k=\($0.offset + 1): \($0.element)" }.joined(separator: ", "))
            if let readout = four.readout { lines.append("  readout accuracy against a + b: \(f(readout.accuracy, 3))") }
            if let e = four.embeddingSpectrum {
                let top = e.fraction.indices.sorted { e.fraction[$0] > e.fraction[$1] }.prefix(4)
                lines.append("  value-embedding spectrum, top: " + top.map { "k=\(e.frequencies[$0]) \(f(e.fraction[$0]))" }.joined(separator: ", "))
            }
        }
        if let c = s.circuit {
            lines.append("")
            lines.append("circuit: \(c.headline)")
            for reason in c.reasons { lines.append("  - " + reason) }
        }
        return lines.joined(separator: "\n")
    }
}
