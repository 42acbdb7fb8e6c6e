/// The `heads` section of the analysis JSON: the paper's layer (0) at the top level, and every
/// analysed layer under `layers` (docs/analysis.md).
public struct HeadsSection: Codable, Sendable, Equatable {
    /// Groupings of every analysed layer, the primary (layer 0) first.
    public var layers: [HeadGrouping]

    public init(layers: [HeadGrouping]) throws {
        guard !layers.isEmpty else { throw AnalysisError.empty(what: "the list of head groupings") }
        self.layers = layers
    }

    /// The primary layer's grouping.
    public var primary: HeadGrouping { layers[0] }

    /// The grouping of `layer`, if analysed.
    public func layer(_ layer: Int) -> HeadGrouping? { layers.first { $0.layer == layer } }

    enum CodingKeys: String, CodingKey { case layers }

    public func encode(to encoder: Encoder) throws {
        try primary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(layers, forKey: .layers)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        layers = try container.decode([HeadGrouping].self, forKey: .layers)
        guard !layers.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .layers, in: container, debugDescription: "the heads section lists no layer")
        }
    }
}
