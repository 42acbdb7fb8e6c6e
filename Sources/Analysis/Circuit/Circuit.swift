/// Which two-hop circuit a model grew. The paper's circuit is the one the paper describes for its
/// two-layer model; the mirrored one splits the same two hops the other way between the layers,
/// as a model trained with an operand look-up loss does (docs/models.md, the contrast model).
public enum Circuit: String, Codable, Sendable, Equatable {
    /// Layer 0 copies operand names to the right-hand side by slot; layer 1 fetches each
    /// operand's value from its definition.
    case paper
    /// Layer 0 fetches each operand's value at the operand's own position; layer 1 gathers
    /// those values at the right-hand side by relative offset.
    case mirrored
    /// Neither, or both, is clearly there.
    case unclear
}

/// The numbers that tell the two circuits apart; nil where not measured.
public struct CircuitEvidence: Codable, Sendable, Equatable {
    /// Layer 1 at the right-hand side, on the operands' value positions (paper: high).
    public var layer1MassOnValues: Double?
    /// Layer 1 at the right-hand side, on the operand occurrences in the probe equation (mirrored: high).
    public var layer1MassOnOperands: Double?
    /// Layer 0 at each operand occurrence, on that operand's value position (mirrored: high).
    public var layer0LookupMass: Double?
    /// Share of the operand slots that have a group of layer-0 heads (paper: all).
    public var layer0SlotCoverage: Double?
    /// The operand slots (var_0, …) with no group of layer-0 heads (paper: none).
    public var layer0SlotsWithoutGroup: [String]?
    /// Share of patched operand values whose new sum the answer follows (either circuit: high).
    public var patchFollowRate: Double?

    public init(layer1MassOnValues: Double? = nil, layer1MassOnOperands: Double? = nil,
                layer0LookupMass: Double? = nil, layer0SlotCoverage: Double? = nil,
                layer0SlotsWithoutGroup: [String]? = nil, patchFollowRate: Double? = nil) {
        self.layer1MassOnValues = layer1MassOnValues
        self.layer1MassOnOperands = layer1MassOnOperands
        self.layer0LookupMass = layer0LookupMass
        self.layer0SlotCoverage = layer0SlotCoverage
        self.layer0SlotsWithoutGroup = layer0SlotsWithoutGroup
        self.patchFollowRate = patchFollowRate
    }

    enum CodingKeys: String, CodingKey {
        case layer1MassOnValues = "layer1_mass_on_values"
        case layer1MassOnOperands = "layer1_mass_on_operands"
        case layer0LookupMass = "layer0_lookup_mass"
        case layer0SlotCoverage = "layer0_slot_coverage"
        case layer0SlotsWithoutGroup = "layer0_slots_without_group"
        case patchFollowRate = "patch_follow_rate"
    }
}

/// A circuit decision with the evidence and the reasons, in sentences, and whether the circuit
/// found is whole: a model may have the paper's circuit for some operand slots and not others.
public struct CircuitVerdict: Codable, Sendable, Equatable {
    public var circuit: Circuit
    /// True when every part of the circuit named was measured and found (never for "unclear").
    public var complete: Bool
    /// Operand slots the circuit lacks (for "paper": slots with no layer-0 head group).
    public var missingSlots: [String]
    /// Why the circuit is not complete, one phrase each ("no layer-0 head group for var_0").
    public var gaps: [String]
    public var evidence: CircuitEvidence
    public var reasons: [String]

    /// Decides from `evidence`: "paper" when layer 1 puts at least `mass` of its best heads'
    /// attention on the operands' value positions and (where measured) at least `coverage` of
    /// the operand slots have a layer-0 head group; "mirrored" when layer 1 instead puts at
    /// least `mass` on the operand occurrences and (where measured) layer 0 looks up the values
    /// from there with at least `mass`; "unclear" when neither or both hold.
    /// The call is `complete` only when nothing of the circuit is missing: for "paper" a group
    /// for every operand slot, for "mirrored" layer 0's look-up measured; for either, patched
    /// answers (where measured) follow the new sum at least `follow` of the time.
    public init(evidence: CircuitEvidence, mass: Double = 0.5, coverage: Double = 2.0 / 3.0, follow: Double = 0.5) {
        self.evidence = evidence
        var reasons: [String] = []
        func percent(_ x: Double) -> String { "\(Int((x * 100).rounded())) %" }

        var paper = false
        if let values = evidence.layer1MassOnValues {
            paper = values >= mass
            reasons.append("layer 1 puts \(percent(values)) of its best heads' attention on the operands' value positions (paper circuit: ≥ \(percent(mass)))")
        } else {
            reasons.append("layer-1 attention on the operands' value positions was not measured")
        }
        if let slots = evidence.layer0SlotCoverage {
            var sentence = "\(percent(slots)) of the operand slots have a group of layer-0 heads reading them (paper circuit: ≥ \(percent(coverage)))"
            if let without = evidence.layer0SlotsWithoutGroup, !without.isEmpty {
                sentence += "; none reads \(without.joined(separator: ", "))"
            }
            reasons.append(sentence)
            if slots < coverage { paper = false }
        }

        var mirrored = false
        if let operands = evidence.layer1MassOnOperands {
            mirrored = operands >= mass
            reasons.append("layer 1 puts \(percent(operands)) of its best heads' attention on the operand occurrences of the probe equation (mirrored circuit: ≥ \(percent(mass)))")
        }
        if let lookup = evidence.layer0LookupMass {
            reasons.append("layer 0 at each operand occurrence puts \(percent(lookup)) of its best heads' attention on that operand's value position (mirrored circuit: ≥ \(percent(mass)))")
            if lookup < mass { mirrored = false }
        } else if mirrored {
            reasons.append("layer 0's look-up at the operand occurrences was not measured, so the mirrored call rests on layer 1 alone")
        }
        if let rate = evidence.patchFollowRate {
            reasons.append("patched operand values change the answer to the new sum in \(percent(rate)) of cases (a complete circuit: ≥ \(percent(follow)))")
        }

        var missing: [String] = []
        var gaps: [String] = []
        switch (paper, mirrored) {
        case (true, false):
            circuit = .paper
            if let slots = evidence.layer0SlotCoverage {
                if let without = evidence.layer0SlotsWithoutGroup {
                    missing = without
                    gaps += without.map { "no layer-0 head group for \($0)" }
                } else if slots < 1 {
                    gaps.append("\(percent(1 - slots)) of the operand slots have no layer-0 head group")
                }
            } else {
                gaps.append("layer-0 head groups not measured")
            }
        case (false, true):
            circuit = .mirrored
            if evidence.layer0LookupMass == nil { gaps.append("layer 0's look-up not measured") }
        case (true, true):
            circuit = .unclear
            reasons.append("the evidence fits both circuits")
        case (false, false):
            circuit = .unclear
            reasons.append("the evidence fits neither circuit")
        }
        if circuit != .unclear, let rate = evidence.patchFollowRate, rate < follow {
            gaps.append("patched answers follow \(percent(rate))")
        }
        self.missingSlots = missing
        self.gaps = gaps
        self.complete = circuit != .unclear && gaps.isEmpty
        self.reasons = reasons
    }

    /// One line for a headline: "paper circuit, complete", "paper circuit, partial: no layer-0
    /// head group for var_0", or "unclear (neither circuit)".
    public var headline: String {
        switch circuit {
        case .unclear:
            return reasons.last == "the evidence fits both circuits" ? "unclear (the evidence fits both circuits)" : "unclear (neither circuit)"
        case .paper, .mirrored:
            return "\(circuit.rawValue) circuit, " + (complete ? "complete" : "partial: " + gaps.joined(separator: "; "))
        }
    }

    enum CodingKeys: String, CodingKey {
        case circuit, complete, headline, evidence, reasons
        case missingSlots = "missing_slots"
        case gaps
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(circuit, forKey: .circuit)
        try container.encode(complete, forKey: .complete)
        try container.encode(missingSlots, forKey: .missingSlots)
        try container.encode(gaps, forKey: .gaps)
        try container.encode(headline, forKey: .headline)
        try container.encode(evidence, forKey: .evidence)
        try container.encode(reasons, forKey: .reasons)
    }

    /// Reads a verdict; one written before `complete` existed gets it from its evidence.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        evidence = try container.decode(CircuitEvidence.self, forKey: .evidence)
        circuit = try container.decode(Circuit.self, forKey: .circuit)
        reasons = try container.decode([String].self, forKey: .reasons)
        let derived = CircuitVerdict(evidence: evidence)
        complete = try container.decodeIfPresent(Bool.self, forKey: .complete) ?? (derived.circuit == circuit && derived.complete)
        missingSlots = try container.decodeIfPresent([String].self, forKey: .missingSlots) ?? derived.missingSlots
        gaps = try container.decodeIfPresent([String].self, forKey: .gaps) ?? derived.gaps
    }
}

extension HeadGrouping {
    /// The operand slots (default: those named var_*) whose group has no head.
    public func slotsWithoutGroup(of slots: [String]? = nil) -> [String] {
        (slots ?? self.slots.filter { $0.hasPrefix("var_") }).filter { (groups[$0] ?? []).isEmpty }
    }

    /// Share of `slots` (default: those named var_*) that have at least one head in their group.
    public func slotCoverage(of slots: [String]? = nil) -> Double {
        let wanted = slots ?? self.slots.filter { $0.hasPrefix("var_") }
        guard !wanted.isEmpty else { return 0 }
        return Double(wanted.filter { !(groups[$0] ?? []).isEmpty }.count) / Double(wanted.count)
    }
}
