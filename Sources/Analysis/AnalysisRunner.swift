import Foundation
import Recording
import Transformer

/// One of the three analyses.
public enum AnalysisKind: String, CaseIterable, Sendable {
    case heads, retrieval, fourier
}

/// What `AnalysisRunner` produced: the JSON summary, warnings in sentences, and the activation
/// files used.
public struct AnalysisOutcome: Sendable {
    public var summary: AnalysisSummary
    /// Things the reader should know (incomplete or missing activation files, hooks to add,
    /// skipped parts).
    public var warnings: [String]
    /// Activation file path → what it was used for.
    public var files: [(path: String, probe: String, role: String)]
}

/// Runs the analyses on a list of activation files (`lens analyze`, `lens report`): sorts the
/// files by probe, runs each requested analysis it has the files for, and collects warnings.
public struct AnalysisRunner {
    public var analyses: [AnalysisKind]
    /// The checkpoint; nil: the `model` attribute of the first activation file, if that file exists.
    public var modelPath: String?
    /// Sequences the causal checks run on (shared between the activation files).
    public var causalSequences: Int
    /// With `strict`, an analysis that cannot run throws; otherwise it becomes a warning.
    public var strict: Bool
    /// A model in memory (a training run's, measured between steps); it takes the place of
    /// `modelPath` and of the activation files' `model` attribute.
    public var model: Model?

    public init(analyses: [AnalysisKind] = AnalysisKind.allCases, modelPath: String? = nil, causalSequences: Int = 256,
                strict: Bool = false) {
        self.analyses = analyses
        self.modelPath = modelPath
        self.causalSequences = causalSequences
        self.strict = strict
    }

    /// Opens `paths` and runs the analyses.
    public func run(paths: [String]) throws -> AnalysisOutcome {
        let files = try paths.map { try ActivationFileInput(path: $0) }
        defer { files.forEach { $0.reader.close() } }
        return try run(files: files)
    }

    /// Runs the analyses on opened activation files.
    public func run(files: [ActivationFileInput]) throws -> AnalysisOutcome {
        var warnings: [String] = []
        for file in files where file.role == .other {
            warnings.append("\(file.path) (probe \(file.probe)) is not read by any analysis")
        }
        // One activation file per role; the first wins.
        var seen: [String: String] = [:]
        var chosen: [ActivationFileInput] = []
        for file in files where file.role != .other {
            let key = file.role.description
            if file.role == .valueGrid, let other = chosen.firstIndex(where: { $0.role == .valueGrid }) {
                // Prefer the two-operand grid (value_grid) over value_grid3.
                if chosen[other].probe != "value_grid" && file.probe == "value_grid" { chosen[other] = file }
                warnings.append("fourier: several value-grid activation files; using \(chosen[other].path)")
                continue
            }
            if let first = seen[key] {
                warnings.append("\(file.path) is a second \(key) activation file; using \(first)")
                continue
            }
            seen[key] = file.path
            chosen.append(file)
        }

        let model = loadModel(files: chosen.isEmpty ? files : chosen, warnings: &warnings)
        let weights = model.map(ModelWeights.init)
        let config = model?.config ?? chosen.compactMap(\.config).first
        let layers = config?.layers ?? 2
        let modulus = config?.modulus ?? 23

        var summary = AnalysisSummary()
        var evidence = CircuitEvidence()
        func attempt(_ kind: AnalysisKind, _ body: () throws -> Void) throws {
            do { try body() } catch {
                if strict { throw error }
                warnings.append("\(kind.rawValue): not analysed: \(error)")
            }
        }
        let sweeps = chosen.filter { if case .slotSweep = $0.role { return true } else { return false } }
        if analyses.contains(.heads) {
            try attempt(.heads) {
                let present = Set(sweeps.compactMap { file -> String? in if case .slotSweep(let s) = file.role { return s } else { return nil } })
                for slot in HeadsReader.slotOrder where !present.contains(slot) && !sweeps.isEmpty {
                    warnings.append("heads: no \(slot == "rhs" ? "slot_rhs" : "slot_var" + slot.dropFirst(4)) activation file, so slot \(slot) is not measured")
                }
                let heads = try HeadsReader.section(sweeps: sweeps, weights: weights, layers: layers, warnings: &warnings)
                summary.heads = heads
                evidence.layer0SlotCoverage = heads.layer(0)?.slotCoverage()
                evidence.layer0SlotsWithoutGroup = heads.layer(0)?.slotsWithoutGroup()
            }
        }
        if analyses.contains(.retrieval) {
            try attempt(.retrieval) {
                let sources = chosen.filter { $0.role == .retrieval } + sweeps
                if !chosen.contains(where: { $0.role == .retrieval }) && !sources.isEmpty {
                    warnings.append("retrieval: no retrieval_distance activation file; measured on the slot sweeps only")
                }
                let (section, found) = try RetrievalReader.section(files: sources, model: model, layers: layers,
                                                                   causalSequences: causalSequences, warnings: &warnings)
                summary.retrieval = section
                evidence.layer1MassOnValues = found.layer1MassOnValues
                evidence.layer1MassOnOperands = found.layer1MassOnOperands
                evidence.layer0LookupMass = found.layer0LookupMass
                evidence.patchFollowRate = section.patch?.followRate
            }
        }
        if analyses.contains(.fourier) {
            try attempt(.fourier) {
                guard let grid = chosen.first(where: { $0.role == .valueGrid }) else {
                    throw AnalysisError.missingActivationFiles(analysis: "fourier", needed: "the value_grid activation file")
                }
                summary.fourier = try FourierReader.section(grid: grid, weights: weights, modulus: modulus, warnings: &warnings)
            }
        }
        if summary.heads != nil || summary.retrieval != nil {
            summary.circuit = CircuitVerdict(evidence: evidence)
        }
        if summary.heads == nil && summary.retrieval == nil && summary.fourier == nil {
            let reasons = warnings.filter { $0.contains("not analysed") }.joined(separator: "; ")
            throw AnalysisError.empty(what: "the result (\(reasons.isEmpty ? "no activation file fits the analyses asked for" : reasons))")
        }
        summary.warnings = warnings.isEmpty ? nil : warnings
        return AnalysisOutcome(summary: summary, warnings: warnings,
                               files: files.map { ($0.path, $0.probe, $0.role.description) })
    }

    /// The model at `modelPath`, or at the activation files' `model` attribute; nil (with a
    /// warning) when none loads. Warns when its SHA-256 differs from the one a file recorded.
    func loadModel(files: [ActivationFileInput], warnings: inout [String]) -> Model? {
        if let model { return model }
        let path = modelPath ?? files.compactMap { $0.reader.attribute("model") }.first { FileManager.default.fileExists(atPath: $0) }
        guard let path else {
            warnings.append("no model: --model was not given and no activation file's model attribute names a file here; the analyses that need weights or the runtime are skipped or partial")
            return nil
        }
        do {
            let model = try Checkpoint.load(path)
            if let hash = try? SHA256.hex(ofFile: path) {
                for file in files where file.reader.attribute("model_sha256").map({ $0 != hash }) ?? false {
                    warnings.append("\(file.path) was recorded with another model (SHA-256 differs from \(path)); weights and causal checks use \(path)")
                }
            }
            return model
        } catch {
            if strict || modelPath != nil { warnings.append("cannot load the model \(path): \(error)") }
            return nil
        }
    }
}
