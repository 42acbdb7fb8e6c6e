/// Which two-hop circuit a model grew (TRAINING-NOTES "the mirrored circuit").
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

    public init(layer1MassOnValues: Double? = nil, layer1MassOnOperands: Double? = nil,
                layer0LookupMass: Double? = nil, layer0SlotCoverage: Double? = nil) {
        self.layer1MassOnValues = layer1MassOnValues
        self.layer1MassOnOperands = layer1MassOnOperands
        self.layer0LookupMass = layer0LookupMass
        self.layer0SlotCoverage = layer0SlotCoverage
    }

    enum CodingKeys: String, CodingKey {
        case layer1MassOnValues = "layer1_mass_on_values"
        case layer1MassOnOperands = "layer1_mass_on_operands"
        case layer0LookupMass = "layer0_lookup_mass"
        case layer0SlotCoverage = "layer0_slot_coverage"
    }
}

/// A circuit decision with the evidence and the reasons, in sentences.
public struct CircuitVerdict: Codable, Sendable, Equatable {
    public var circuit: Circuit
    public var evidence: CircuitEvidence
    public var reasons: [String]

    /// Decides from `evidence`: "paper" when layer 1 puts at least `mass` of its best heads'
    /// attention on the operands' value positions and (where measured) at least `coverage` of
    /// the operand slots have a layer-0 head group; "mirrored" when layer 1 instead puts at
    /// least `mass` on the operand occurrences and (where measured) layer 0 looks up the values
    /// from there with at least `mass`; "unclear" when neither or both hold.
    public init(evidence: CircuitEvidence, mass: Double = 0.5, coverage: Double = 2.0 / 3.0) {
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
            reasons.append("\(percent(slots)) of the operand slots have a group of layer-0 heads reading them (paper circuit: ≥ \(percent(coverage)))")
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

        switch (paper, mirrored) {
        case (true, false): circuit = .paper
        case (false, true): circuit = .mirrored
        case (true, true):
            circuit = .unclear
            reasons.append("the evidence fits both circuits")
        case (false, false):
            circuit = .unclear
            reasons.append("the evidence fits neither circuit")
        }
        self.reasons = reasons
    }
}

extension HeadGrouping {
    /// Share of `slots` (default: those named var_*) that have at least one head in their group.
    public func slotCoverage(of slots: [String]? = nil) -> Double {
        let wanted = slots ?? self.slots.filter { $0.hasPrefix("var_") }
        guard !wanted.isEmpty else { return 0 }
        return Double(wanted.filter { !(groups[$0] ?? []).isEmpty }.count) / Double(wanted.count)
    }
}

/// The whole analysis JSON: `heads`, `retrieval`, `fourier` and the `circuit` call, each
/// present when analysed.
public struct AnalysisSummary: Codable, Sendable, Equatable {
    public var heads: HeadsSection?
    public var retrieval: RetrievalSection?
    public var fourier: FourierSection?
    public var circuit: CircuitVerdict?
    /// What the analyses warn about (missing or incomplete dumps, skipped parts); nil when none.
    public var warnings: [String]?

    public init(heads: HeadsSection? = nil, retrieval: RetrievalSection? = nil, fourier: FourierSection? = nil,
                circuit: CircuitVerdict? = nil) {
        self.heads = heads
        self.retrieval = retrieval
        self.fourier = fourier
        self.circuit = circuit
    }

    enum CodingKeys: String, CodingKey {
        case heads, retrieval, fourier, circuit
        case circuitEvidence = "circuit_evidence"
        case warnings
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(heads, forKey: .heads)
        try container.encodeIfPresent(retrieval, forKey: .retrieval)
        try container.encodeIfPresent(fourier, forKey: .fourier)
        try container.encodeIfPresent(circuit?.circuit, forKey: .circuit)
        try container.encodeIfPresent(circuit, forKey: .circuitEvidence)
        try container.encodeIfPresent(warnings, forKey: .warnings)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        heads = try container.decodeIfPresent(HeadsSection.self, forKey: .heads)
        retrieval = try container.decodeIfPresent(RetrievalSection.self, forKey: .retrieval)
        fourier = try container.decodeIfPresent(FourierSection.self, forKey: .fourier)
        circuit = try container.decodeIfPresent(CircuitVerdict.self, forKey: .circuitEvidence)
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings)
    }
}
