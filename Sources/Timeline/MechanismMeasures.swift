/// The three mechanisms and the accuracy they buy, measured on one model at one training step
/// (`lens timeline`, `lens train --track-every`); one entry of `timeline.json`.
public struct MechanismMeasures: Codable, Sendable, Equatable {
    /// The training step (the checkpoint's `training_steps`; 0 for an untrained model).
    public var step: Int
    /// The checkpoint measured, when it came from a file.
    public var snapshot: String?
    /// The training loss logged at or just before `step`, when the run's log was found.
    public var loss: Double?

    /// Teacher-forced one-step accuracy on held-out graphs of computed nodes with 1, 2 and 3
    /// operands (copies, sums of two, sums of three): each depth's input holds every shallower
    /// node's true value, as in training; nil where the graphs had no such node.
    public var accuracyByOperands: [Double?]
    /// How many nodes each of those accuracies counts.
    public var nodesByOperands: [Int]
    /// Recurrent node accuracy on the same graphs.
    public var nodeAccuracy: Double
    /// Graph size and count of that evaluation.
    public var evaluationNodes: Int
    public var evaluationGraphs: Int

    /// Layer 0: slot → heads that read it (docs/analysis.md, head grouping).
    public var headGroups: [String: [Int]]
    /// Layer 0: slot → r_slot(h), the variance portion of each head's output explained by the slot.
    public var varianceBySlot: [String: [Double]]
    /// Layer 1: mean attention, at the right-hand side, of the head best matched to each operand
    /// on that operand's value position, averaged over operands.
    public var layer1OperandValueMass: Double?
    /// Layer 1: each head's attention on all operand value positions together.
    public var layer1ValueMassByHead: [Double]?
    /// Layer-1 MLP: the key frequencies, the weighted own-frequency share of the active neurons,
    /// and the variance the key frequencies explain.
    public var keyFrequencies: [Int]
    public var ownFrequencyShare: Double?
    public var varianceExplainedByKey: Double?
    /// The circuit verdict of the analyses (`circuit` in analysis.json).
    public var circuit: String?
    /// Operand slots with no layer-0 head group (empty when every slot has one).
    public var slotsWithoutGroup: [String]
    /// Seconds the measurement took.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case step, snapshot, loss, circuit, seconds
        case accuracyByOperands = "accuracy_by_operands"
        case nodesByOperands = "nodes_by_operands"
        case nodeAccuracy = "node_accuracy"
        case evaluationNodes = "evaluation_nodes"
        case evaluationGraphs = "evaluation_graphs"
        case headGroups = "head_groups"
        case varianceBySlot = "variance_by_slot"
        case layer1OperandValueMass = "layer1_operand_value_mass"
        case layer1ValueMassByHead = "layer1_value_mass_by_head"
        case keyFrequencies = "key_frequencies"
        case ownFrequencyShare = "own_frequency_share"
        case varianceExplainedByKey = "variance_explained_by_key"
        case slotsWithoutGroup = "slots_without_group"
    }

    /// The largest r over heads for `slot` (0 when the slot was not measured).
    public func bestVariance(of slot: String) -> Double {
        varianceBySlot[slot]?.max() ?? 0
    }

    /// One line for a training log.
    public var logLine: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
        let accuracy = accuracyByOperands.map(percent).joined(separator: "/")
        let groups = ["var_0", "var_1", "var_2"].map { slot in
            "\(slot) [" + (headGroups[slot] ?? []).map(String.init).joined(separator: ",") + "]"
        }.joined(separator: " ")
        let frequencies = keyFrequencies.isEmpty ? "none" : keyFrequencies.map(String.init).joined(separator: ",")
        return "mechanisms at step \(step): one-step accuracy by operands \(accuracy); layer-0 groups \(groups); "
            + "layer-1 value mass \(percent(layer1OperandValueMass)); MLP key frequencies \(frequencies), own share \(percent(ownFrequencyShare)); "
            + "circuit \(circuit ?? "-") (\(String(format: "%.1f", seconds)) s)"
    }
}
