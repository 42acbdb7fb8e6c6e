import Analysis

/// What the model card shows: configuration, training provenance and recurrent accuracy.
public struct ModelCard: Sendable {
    /// Recurrent accuracy on random graphs of one size.
    public struct SizeAccuracy: Sendable {
        public var nodes: Int
        public var graphs: Int
        public var nodeAccuracy: Double
        public var graphAccuracy: Double
        public var maxDepth: Int
        /// Node accuracy by depth (0 … maxDepth); NaN where no node had that depth.
        public var byDepth: [Double]
        /// Accuracy of computed nodes with 1, 2 and 3 operands whose operands' values were right in
        /// their input (one step of the computation); NaN where there was none; empty when not measured.
        public var oneStepByOperands: [Double]
        public init(nodes: Int, graphs: Int, nodeAccuracy: Double, graphAccuracy: Double, maxDepth: Int, byDepth: [Double],
                    oneStepByOperands: [Double] = []) {
            self.nodes = nodes
            self.graphs = graphs
            self.nodeAccuracy = nodeAccuracy
            self.graphAccuracy = graphAccuracy
            self.maxDepth = maxDepth
            self.byDepth = byDepth
            self.oneStepByOperands = oneStepByOperands
        }
    }
    public var path: String
    public var sha256: String?
    /// What the model is, in a sentence or two (the card's opening line); nil when unknown.
    public var description: String?
    public var configuration: [(String, String)]
    public var training: [(String, String)]
    /// The `lens train` invocations that made the model, oldest first (folded away on the page).
    public var commands: [String]
    public var accuracy: [SizeAccuracy]
    /// The largest graph size seen in training, to mark out-of-distribution sizes.
    public var trainedMaxNodes: Int?

    public init(path: String, sha256: String? = nil, description: String? = nil, configuration: [(String, String)],
                training: [(String, String)], commands: [String] = [], accuracy: [SizeAccuracy], trainedMaxNodes: Int? = nil) {
        self.path = path
        self.sha256 = sha256
        self.description = description
        self.configuration = configuration
        self.training = training
        self.commands = commands
        self.accuracy = accuracy
        self.trainedMaxNodes = trainedMaxNodes
    }
}

/// The (a, b) activation grid of one layer-1 MLP neuron over the value grid.
public struct NeuronGrid: Sendable {
    public var neuron: Int
    public var frequency: Int
    public var fraction: Double
    /// grid[a][b]: the neuron's activation at the right-hand side.
    public var grid: [[Double]]
    public init(neuron: Int, frequency: Int, fraction: Double, grid: [[Double]]) {
        self.neuron = neuron
        self.frequency = frequency
        self.fraction = fraction
        self.grid = grid
    }
}

/// One activation file the report was drawn from.
public struct ActivationFileRecord: Sendable {
    public var path: String
    public var probe: String
    public var sequences: Int
    public var complete: Bool
    public var hooks: [String]
    public init(path: String, probe: String, sequences: Int, complete: Bool, hooks: [String]) {
        self.path = path
        self.probe = probe
        self.sequences = sequences
        self.complete = complete
        self.hooks = hooks
    }
}

/// Everything one report shows.
public struct ReportContent: Sendable {
    public var title: String
    public var command: String
    public var modelCard: ModelCard?
    public var summary: AnalysisSummary
    public var attention: AttentionViewData?
    public var neuronGrids: [NeuronGrid]
    public var activationFiles: [ActivationFileRecord]
    public var warnings: [String]

    public init(title: String = "LatentLens report", command: String, modelCard: ModelCard?, summary: AnalysisSummary,
                attention: AttentionViewData?, neuronGrids: [NeuronGrid], activationFiles: [ActivationFileRecord], warnings: [String]) {
        self.title = title
        self.command = command
        self.modelCard = modelCard
        self.summary = summary
        self.attention = attention
        self.neuronGrids = neuronGrids
        self.activationFiles = activationFiles
        self.warnings = warnings
    }
}
