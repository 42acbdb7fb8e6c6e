import Analysis
import Foundation
import Probes
import Recording
import Training
import Transformer

/// Measures the three mechanisms on a model: records small versions of the shipped probes into
/// a scratch folder, runs the analyses on them, and evaluates one-step accuracy by operand count
/// on held-out graphs.
///
/// The probes are the report's, with fewer contexts (`contexts` of the twelve in each slot
/// sweep, half as many of the four in retrieval_distance); the value grid stays whole, since the
/// Fourier analysis needs every (a, b) pair. Causal checks are skipped.
public struct MechanismTracker: Sendable {
    /// The folder holding the shipped probe files (probes/).
    public var probeDirectory: String
    /// Random contexts kept in each slot sweep (each context gives about 20 sequences).
    public var contexts: Int
    /// Graph size and count of the held-out evaluation.
    public var evaluationNodes: Int
    public var evaluationGraphs: Int
    /// Variable names of the held-out graphs drawn from the first `names` of the vocabulary
    /// (nil: all), for a run trained on fewer names. The probes keep theirs (their contexts
    /// need 20 or more).
    public var names: Int?
    /// Leaves of the held-out graphs.
    public var leaves = 6
    /// Sequences per forward pass.
    public var batchSize = 32

    public init(probeDirectory: String, contexts: Int = 4, evaluationNodes: Int = 16, evaluationGraphs: Int = 64) {
        self.probeDirectory = probeDirectory
        self.contexts = contexts
        self.evaluationNodes = evaluationNodes
        self.evaluationGraphs = evaluationGraphs
    }

    /// The analyses' recordings (`AnalysisRecording.forAnalyses`).
    var recordings: [AnalysisRecording] { AnalysisRecording.forAnalyses }

    /// Random contexts kept of `probe`: `contexts` of each slot sweep, half as many of
    /// retrieval_distance, all of the value grid (its one context holds every (a, b) pair).
    func keptContexts(of probe: String) -> Int? {
        switch probe {
        case "value_grid": return nil
        case "retrieval_distance": return max(1, contexts / 2)
        default: return contexts
        }
    }

    /// The probe files this tracker reads; throws when one is missing.
    public func checkProbes() throws {
        for recording in recordings {
            let path = probeDirectory + "/" + recording.probe + ".probe"
            guard FileManager.default.fileExists(atPath: path) else {
                throw TimelineError.missingProbe(path: path)
            }
        }
    }

    /// Measures `model`, which has trained `step` steps.
    public func measure(model: Model, step: Int, snapshot: String? = nil) throws -> MechanismMeasures {
        let started = Date()
        let scratch = NSTemporaryDirectory() + "latentlens-timeline-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        var paths: [String] = []
        for recording in recordings {
            paths.append(try record(recording, model: model, into: scratch))
        }
        var runner = AnalysisRunner(causalSequences: 0)
        runner.model = model
        let summary = try runner.run(paths: paths).summary

        var evaluator = Evaluator(leaves: leaves, batchSize: 16)
        evaluator.names = names
        let evaluation = try evaluator.evaluate(model: model, nodes: evaluationNodes, samples: evaluationGraphs)
        let oneStep = try OneStepAccuracy.measure(model: model, nodes: evaluationNodes, graphs: evaluationGraphs, names: names, leaves: leaves)
        let layer0 = summary.heads?.primary
        let operandSlots = ["var_0", "var_1", "var_2"]
        let layer1 = summary.retrieval?.layers.first { $0.layer == 1 }
        return MechanismMeasures(
            step: step, snapshot: snapshot, loss: nil,
            accuracyByOperands: oneStep.accuracy, nodesByOperands: oneStep.counts,
            nodeAccuracy: evaluation.nodeAccuracy, evaluationNodes: evaluationNodes, evaluationGraphs: evaluationGraphs,
            headGroups: layer0?.groups ?? [:], varianceBySlot: layer0?.r ?? [:],
            layer1OperandValueMass: layer1?.operandMass, layer1ValueMassByHead: layer1?.totalMass,
            keyFrequencies: summary.fourier?.keyFrequencies ?? [],
            ownFrequencyShare: summary.fourier?.weightedTopFrequencyFraction,
            varianceExplainedByKey: summary.fourier?.varianceExplainedByKey,
            circuit: summary.circuit?.circuit.rawValue,
            slotsWithoutGroup: layer0?.slotsWithoutGroup(of: operandSlots) ?? operandSlots,
            seconds: Date().timeIntervalSince(started))
    }

    /// Records `recording` with `model` into `folder` and returns the file's path.
    func record(_ recording: AnalysisRecording, model: Model, into folder: String) throws -> String {
        let probePath = probeDirectory + "/" + recording.probe + ".probe"
        var probe = try ProbeParser.load(path: probePath)
        probe.contexts = probe.contexts.map { context in
            guard case .random(var graphs, let at) = context else { return context }
            if let keep = keptContexts(of: recording.probe) { graphs.seeds = Array(graphs.seeds.prefix(keep)) }
            return .random(graphs, at: at)
        }
        let expansion = try probe.expand(vocabulary: model.config.vocabulary, maximumLength: Model.maximumLength)
        let last = [expansion.iterations - 1]
        let recorder = try Recorder(model: model, expansion: expansion, hookGlobs: recording.hooks, iterations: last,
                                    batchSize: batchSize, positions: try PositionSelection.parse(recording.positions))
        let path = folder + "/" + recording.probe + ".h5"
        let provenance = ActivationFileProvenance(command: "lens timeline", modelPath: "", modelSHA256: "", probe: probe.name,
                                        configJSON: "{}")
        _ = try recorder.record(into: try recorder.makeWriter(path: path, overwrite: true, provenance: provenance, compression: nil))
        return path
    }
}

/// Why a timeline cannot be made.
public enum TimelineError: Error, CustomStringConvertible, Equatable {
    case missingProbe(path: String)
    case noStep(path: String)

    public var description: String {
        switch self {
        case .missingProbe(let path):
            return "the mechanism probes need \(path), which is missing (run from the repository, or pass --probes DIR)"
        case .noStep(let path):
            return "\(path) has no training_steps attribute, so its place on the timeline is unknown (is it a lens train checkpoint?)"
        }
    }
}
