import Dispatch
import Foundation
import Outputs
import Probes
import Recording
import Training
import Transformer

/// `lens run`: records a probe's activations into an activation file.
enum RunCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "run", synopsis: "PROBE --model M --hooks GLOBS --out FILE.h5 [--iterations SPEC] [--positions SEL] [--ablate L.H,…] [--batch B] [--compress gzip] [--force]",
        summary: """
        Runs a probe (a file, or the name of a shipped probe in probes/) through a model in batches
        and streams the selected hook tensors, tokens, predictions and per-sequence metadata into an
        activation file (docs/activation-file.md). The file is written beside --out and moved
        there when complete, so an existing file (with --force) is replaced only by a finished
        one. Ctrl-C or kill stops after the current batch and keeps a readable file with
        complete = 0: at --out when nothing was there, else at STEM.partial.h5 beside it.
        """,
        positionals: ["PROBE"], minimumPositionals: 1, maximumPositionals: 1)

    struct Options: CommandOptions {
        let model = Option<String?>("--model", "M", help: "checkpoint to run")
        let hooks = Option<[String]>("--hooks", "GLOBS", default: [],
                                     help: "comma-separated hook globs, e.g. 'blocks.*.attn.hook_pattern,blocks.1.mlp.hook_post'").repeatable()
        let out = Option<String?>("--out", "FILE.h5", help: "the activation file to write")
        let iterations = Option("--iterations", "SPEC", default: "all", help: "recorded iterations: all, last, first, or indices like 0,2 or 0..3 ({default})")
        let positions = Option("--positions", "SEL", default: "all",
                               help: "recorded query positions: all (full tensors), probe (rhs_pos, equals_pos, operand{i}_pos), or metadata columns like rhs_pos,operand0_pos ({default})")
        let ablate = Option<String?>("--ablate", "L.H,…", help: "zero-ablate these heads (layer.head, e.g. 1.15,0.3) in every forward pass; the file records them")
        let batch = Option("--batch", "B", default: 16, bounds: .within(1...OptionLimits.batch), help: "sequences per forward pass ({default})")
        let compress = Option("--compress", "gzip", default: Compression.none, help: "gzip (level 4), gzip:N, or none ({default})")
        let force = Option<Bool>.forceOut
        let quiet = Option(flag: "--quiet", help: "no progress bar")
    }

    /// How the activation file's datasets are compressed.
    enum Compression: OptionValue {
        case none
        case gzip(level: Int)

        /// nil for no compression, else the gzip level.
        var level: Int? {
            if case .gzip(let level) = self { return level }
            return nil
        }

        static func read(_ text: String, for option: OptionReference) throws -> Compression {
            if text == "none" { return .none }
            if text == "gzip" { return .gzip(level: 4) }
            if text.hasPrefix("gzip:"), let level = Int(text.dropFirst(5)), (0...9).contains(level) { return .gzip(level: level) }
            throw option.refusal("expects gzip, gzip:N (N in 0…9) or none, found \"\(text)\"")
        }

        var shownAsDefault: String? { level.map { "gzip:\($0)" } ?? "none" }
    }

    /// The `config` root attribute.
    struct RunConfig: Encodable {
        let model: ModelConfig
        let hooks: [String]
        let hook_globs: [String]
        let iterations: [Int]
        let run_iterations: Int
        let batch: Int
        let compression: Int?
        let query_columns: [String]?
        /// Zero-ablated heads as LAYER.HEAD pairs; empty for the model as trained.
        let ablated_heads: String
        let sequences: Int
        let length: Int
        let probe: String
        let probe_file: String
        let slots: [String]
        let meta: [String]
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        let modelPath = try a.require(\.model)
        let out = try a.require(\.out)
        let globs = try a[\.hooks]
        guard !globs.isEmpty else { throw UsageError("lens run: --hooks is required (e.g. --hooks 'blocks.*.attn.hook_pattern')") }
        let force = a[\.force]
        let compression = try a[\.compress].level
        let batch = try a[\.batch]

        let probePath = try resolveProbe(a.positionals[0])
        // Checked before any work; the file is written aside and replaces an old one at the end.
        let output = try OutputFile(out, what: "--out", force: force, inputs: [modelPath, probePath])
        let probe = try ProbeParser.load(path: probePath)
        let model = try Checkpoint.load(modelPath)
        let expansion = try probe.expand(vocabulary: model.config.vocabulary, maximumLength: Model.maximumLength)
        let iterations: [Int]
        do {
            iterations = try IterationSelection.parse(a[\.iterations], runIterations: expansion.iterations)
        } catch let error as RecordingError {
            throw UsageError("lens run: \(error)")
        }
        let recorder: Recorder
        do {
            let positions = try PositionSelection.parse(a[\.positions])
            let ablated = try a[\.ablate].map(HeadAblation.parse) ?? [:]
            recorder = try Recorder(model: model, expansion: expansion, hookGlobs: globs, iterations: iterations, batchSize: batch,
                                    positions: positions, ablatedHeads: ablated)
        } catch let error as ModelError {
            throw UsageError("lens run: \(error)")  // an unknown hook glob
        } catch let error as RecordingError {
            throw UsageError("lens run: \(error)")  // a bad --positions or --ablate
        }

        let config = RunConfig(model: model.config, hooks: recorder.hooks, hook_globs: globs, iterations: iterations,
                               run_iterations: expansion.iterations, batch: batch, compression: compression,
                               query_columns: recorder.queryColumns, ablated_heads: HeadAblation.text(recorder.ablatedHeads), sequences: expansion.count, length: expansion.length, probe: probe.name,
                               probe_file: probePath, slots: expansion.slots, meta: expansion.metaKeys)
        let provenance = ActivationFileProvenance(
            command: a.commandLine, modelPath: modelPath,
            modelSHA256: try SHA256.hex(ofFile: modelPath), probe: probe.name,
            probeText: (try? String(contentsOfFile: probePath, encoding: .utf8)) ?? "",
            configJSON: try jsonText(config))
        let writer = try recorder.makeWriter(output: output, provenance: provenance, compression: compression)

        let stop = StopSignal(.announce(command: "run", finishing: "the current batch"))
        let quiet = a[\.quiet]
        let bar = ProgressBar("run \(probe.name)", total: expansion.count, unit: "seq", quiet: quiet)
        let started = Date()
        let outcome = try recorder.record(into: writer, shouldStop: { stop.requested }, progress: { bar.update($0) })
        let seconds = Date().timeIntervalSince(started)
        switch outcome {
        case .complete(let n):
            bar.finish(String(format: "%@: %d sequences × %d iteration%@ × %d hook%@ → %@ (%.1f s, %.0f seq/s)",
                              probe.name, n, iterations.count, iterations.count == 1 ? "" : "s", recorder.hooks.count,
                              recorder.hooks.count == 1 ? "" : "s", out, seconds, Double(n) / max(seconds, 1e-9)))
        case .interrupted(let n):
            bar.finish("")
            let replaced = writer.keptPath == writer.path ? "" : " (\(out) was left as it was)"
            printError("lens run: stopped by a signal after \(n) of \(expansion.count) sequences; \(writer.keptPath) keeps them and says complete = 0\(replaced)")
            exit(130)
        }
    }

    /// A probe file path: PROBE itself, or probes/PROBE[.probe] under the current directory or
    /// under the repository the `lens` executable was built in.
    static func resolveProbe(_ name: String) throws -> String {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: name, isDirectory: &isDirectory), !isDirectory.boolValue { return name }
        for directory in probeDirectories() {
            for candidate in [name, name + ".probe"] {
                let path = directory + "/" + candidate
                if fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { return path }
            }
        }
        let shipped = probeDirectories().flatMap { (try? fm.contentsOfDirectory(atPath: $0)) ?? [] }
            .filter { $0.hasSuffix(".probe") }.map { String($0.dropLast(6)) }
        let hint = closest(name, among: shipped).map { "; did you mean \"\($0)\"?" } ?? ""
        let list = shipped.isEmpty ? "" : " (shipped probes: \(Set(shipped).sorted().joined(separator: ", ")))"
        throw InputError("no probe \"\(name)\": not a file, and not in probes/\(hint)\(list)")
    }

    /// ./probes, then probes/ in the ancestors of the executable (…/REPO/.build/release/lens).
    static func probeDirectories() -> [String] {
        let roots = repositoryRoots()
        let shipped = roots.dropFirst().map { $0 + "/probes" }.filter { FileManager.default.fileExists(atPath: $0) }
        return [roots[0] + "/probes"] + shipped.filter { $0 != roots[0] + "/probes" }
    }
}
