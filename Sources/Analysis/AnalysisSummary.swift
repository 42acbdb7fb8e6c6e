/// The whole analysis JSON: `heads`, `retrieval`, `fourier` and the `circuit` call, each
/// present when analysed.
public struct AnalysisSummary: Codable, Sendable, Equatable {
    public var heads: HeadsSection?
    public var retrieval: RetrievalSection?
    public var fourier: FourierSection?
    public var circuit: CircuitVerdict?
    /// What the analyses warn about (missing or incomplete activation files, skipped parts); nil
    /// when none.
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
