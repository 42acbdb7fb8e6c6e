import CBLAS
import Foundation
import Analysis
import GraphTask
import HDF5
import Probes
import Recording
import Training
import Transformer

/// `lens bench`: throughput figures, each a median over repetitions, as a table or JSON.
enum BenchCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "bench", synopsis: "[--json] [--quick] [--python PY] | --targets [--quick] [--python PY] | --profile [--quick]",
        summary: """
        Measures forward throughput of the paper configuration (batch 1, 8, 32 × 64, 256, 1024
        tokens), one training step (forward + backward + AdamW) at 32 × 256 (data-parallel as in
        lens train, and as one block), HDF5 append throughput, and cblas_sgemm's own GFLOP/s on a 1024³ product as the machine's ceiling.
        With --python, also runs benchmarks/pytorch_reference.py with that interpreter and prints
        both side by side with ratios. Under the table, the three targets measured side by side
        (--targets: only those); --profile: where a training step's and a forward pass's time goes.
        """)

    struct Options: CommandOptions {
        let json = Option(flag: "--json", help: "print the figures as JSON")
        let quick = Option(flag: "--quick", help: "fewer shapes and repetitions")
        let python = Option<String?>("--python", "PY", help: "python with torch, numpy and h5py for the side-by-side run")
        let targets = Option(flag: "--targets", help: "only measure the three targets side by side: the training step's and forward 32 × 256's GFLOP/s against sgemm's, recording against the plain forward pass; with --python, also LatentLens's HDF5 appends and h5py's, alternately")
        let profile = Option(flag: "--profile", help: "only time one training step of the authors' recipe, then one forward pass of 32 × 256 on one core, kernel by kernel (GEMMs, attention, softmax, LayerNorm, dropout, optimizer, data), and print where their time goes")
    }

    /// What a bench run measured: figures by key (for JSON and the side-by-side table) and the
    /// table's rows, in the order measured.
    struct Results {
        var figures: [String: Double] = [:]
        var rows: [(String, String)] = []
    }

    /// Median and spread of repeated timings, in seconds.
    struct Timing: Codable {
        let median: Double
        let min: Double
        let max: Double
    }

    static func time(repetitions: Int, warmup: Int = 1, _ body: () throws -> Void) rethrows -> Timing {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        samples.sort()
        return Timing(median: samples[samples.count / 2], min: samples.first ?? 0, max: samples.last ?? 0)
    }

    /// Forward FLOPs per token of the paper model at sequence length L (matmuls only).
    static func forwardFlopsPerToken(_ c: ModelConfig, length: Int) -> Double {
        let d = Double(c.modelWidth), f = Double(c.mlpWidth), l = Double(length), w = Double(c.relativeWindow)
        let linear = 2 * (4 * d * d + 2 * d * f)
        let attention = 2 * (l * d + l * d) + 2 * 2 * w * d  // QKᵀ and PV over all keys, plus c2p and p2c
        return Double(c.layers) * (linear + attention) + 2 * d * Double(c.factorSizes.reduce(0, +))
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        let quick = a[\.quick]
        let model = try Model.randomlyInitialised(config: .paper, seed: 1)
        if a[\.profile] {
            profileTrainingStep(model: model, repetitions: quick ? 3 : 5)
            print("")
            try profileForward(model: model, repetitions: quick ? 3 : 5)
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lens-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        if a[\.targets] {
            var figures: [String: Double] = [:]
            let targets = try benchTargets(model: model, quick: quick, directory: directory.path, figures: &figures)
            for line in targetLines(targets, figures: figures, quick: quick) { print(line) }
            if let python = a[\.python] {
                let (wrapper, h5py) = try benchWritersAlternately(python: python, quick: quick, directory: directory.path)
                print(String(format: "HDF5 appends, alternately in one run (files kept; best of each): LatentLens's wrapper %.0f MB/s, h5py %.0f MB/s (%.2f×)",
                             wrapper, h5py, wrapper / h5py))
            }
            return
        }
        var results = Results()
        let ceiling = benchSgemm(quick: quick, into: &results)
        let shapes: [(Int, Int)] = quick ? [(1, 64), (32, 256)] : [(1, 64), (1, 256), (1, 1024), (8, 64), (8, 256), (8, 1024), (32, 64), (32, 256), (32, 1024)]
        try benchForward(model, shapes: shapes, ceiling: ceiling, quick: quick, into: &results)
        try benchSilentHooks(model, quick: quick, into: &results)
        benchTrainingStep(model, quick: quick, into: &results)
        try benchHDF5Append(directory: directory, quick: quick, into: &results)
        try benchRecording(model: model, quick: quick, directory: directory.path, into: &results)
        let targets = try benchTargets(model: model, quick: quick, directory: directory.path, figures: &results.figures)
        try benchAnalyses(quick: quick, into: &results)
        try printResults(results, shapes: shapes, python: a[\.python], json: a[\.json], quick: quick)
        if !a[\.json] {
            for line in targetLines(targets, figures: results.figures, quick: quick) { print(line) }
        }
    }

    /// The machine's ceiling: one 1024³ sgemm over both cores, in GFLOP/s (the best repetition).
    static func benchSgemm(quick: Bool, into results: inout Results) -> Double {
        let ceiling = sgemmGflops(repetitions: quick ? 3 : 7)
        results.figures["sgemm_1024_gflops"] = ceiling
        results.rows.append(("sgemm 1024³ (ceiling)", String(format: "%.1f GFLOP/s", ceiling)))
        return ceiling
    }

    /// Forward throughput, one iteration, no hooks, for each (batch, length) in `shapes`.
    static func benchForward(_ model: Model, shapes: [(Int, Int)], ceiling: Double, quick: Bool, into results: inout Results) throws {
        let config = model.config
        for (batch, length) in shapes {
            let ids = benchTokens(config, batch: batch, length: length)
            let reps = quick ? 3 : (batch * length >= 8192 ? 3 : 10)
            let t = try time(repetitions: reps) {
                _ = try model.run(tokens: ids, batch: batch, length: length, iterations: 1)
            }
            let tokens = Double(batch * length) / t.median
            let gflops = tokens * forwardFlopsPerToken(config, length: length) / 1e9
            results.figures["forward_b\(batch)_l\(length)_tokens_per_s"] = tokens
            results.figures["forward_b\(batch)_l\(length)_gflops"] = gflops
            results.rows.append(("forward \(batch) × \(length)", String(format: "%.0f tok/s, %.1f GFLOP/s (%.0f%% of sgemm), %.2f ms", tokens, gflops, 100 * gflops / ceiling, t.median * 1000)))
        }
    }

    /// Hooks that nobody registered must cost nothing: the same forward with an empty Hooks
    /// object, and with one observer on a point that never fires (iteration 99 only).
    static func benchSilentHooks(_ model: Model, quick: Bool, into results: inout Results) throws {
        let config = model.config
        let (batch, length) = quick ? (8, 256) : (32, 256)
        let ids = benchTokens(config, batch: batch, length: length)
        let empty = Hooks(config: config)
        let idle = Hooks(config: config)
        try idle.observe("blocks.*.attn.hook_pattern", iterations: .only([99])) { _, _ in }
        // Interleaved, so that drifting background load hits all three alike.
        var samples: [[Double]] = [[], [], []]
        for rep in 0..<(quick ? 5 : 9) {
            for (i, hooks) in [nil, empty, idle].enumerated() {
                let t = try time(repetitions: 1, warmup: rep == 0 ? 1 : 0) {
                    _ = try model.run(tokens: ids, batch: batch, length: length, iterations: 1, hooks: hooks)
                }
                samples[i].append(t.median)
            }
        }
        let medians = samples.map { $0.sorted()[$0.count / 2] }
        let plain = Timing(median: medians[0], min: 0, max: 0)
        let withEmpty = Timing(median: medians[1], min: 0, max: 0), withIdle = Timing(median: medians[2], min: 0, max: 0)
        results.figures["hooks_empty_ratio"] = withEmpty.median / plain.median
        results.figures["hooks_idle_ratio"] = withIdle.median / plain.median
        results.rows.append(("forward \(batch) × \(length), hooks registered but silent", String(format: "%.3f× (empty Hooks), %.3f× (an observer for iteration 99 only) of the plain forward pass",
                                                                                              withEmpty.median / plain.median, withIdle.median / plain.median)))
    }

    /// One training step at 32 × 256: forward, backward, AdamW. Data-parallel as in `lens
    /// train` (one shard of sequences per core), and for comparison as one block whose kernels
    /// each split their rows over the cores (the trainer's path before data parallelism).
    static func benchTrainingStep(_ model: Model, quick: Bool, into results: inout Results) {
        let batch = 32, length = 256
        let inputs = benchTokens(model.config, batch: batch, length: length)
        let weights = [Float](repeating: 1, count: batch * length)
        var adam = AdamW(layout: model.layout)
        /// Median time of `lossAndGradient` plus the AdamW update whose gradient is at `gradient`.
        func timeStep(_ lossAndGradient: () -> Void, gradient: UnsafeMutablePointer<Float>) -> Timing {
            time(repetitions: quick ? 2 : 5) {
                lossAndGradient()
                adam.update(parameters: model.parameterPointer, gradient: gradient, learningRate: 1e-4)
            }
        }
        let sharded = ShardedBackpropagation(model: model)
        let step = timeStep({
            _ = sharded.lossAndGradient(inputs: inputs, targets: inputs, positionWeights: weights, batch: batch, length: length, factorWeights: Factor.lossWeights(counting: [.value]))
        }, gradient: sharded.gradientPointer)
        let trainTokens = Double(batch * length) / step.median
        results.figures["train_step_b32_l256_tokens_per_s"] = trainTokens
        results.figures["train_step_b32_l256_seconds"] = step.median
        results.rows.append(("training step 32 × 256 (\(sharded.shards) shards)", String(format: "%.0f tok/s, %.0f ms", trainTokens, step.median * 1000)))
        let backprop = Backpropagation(model: model)
        let blockStep = timeStep({
            _ = backprop.lossAndGradient(inputs: inputs, targets: inputs, positionWeights: weights, batch: batch, length: length, factorWeights: Factor.lossWeights(counting: [.value]))
        }, gradient: backprop.gradientPointer)
        let blockTokens = Double(batch * length) / blockStep.median
        results.figures["train_step_b32_l256_one_block_tokens_per_s"] = blockTokens
        results.rows.append(("training step 32 × 256 (one block)", String(format: "%.0f tok/s, %.0f ms", blockTokens, blockStep.median * 1000)))
    }

    /// HDF5: appending float32 rows of one sequence's MLP activations to an extendable dataset.
    static func benchHDF5Append(directory: URL, quick: Bool, into results: inout Results) throws {
        let rowShape = [1, 256, 1024]
        let rowValues = [Float](repeating: 0.5, count: rowShape.reduce(1, *))
        let rowsPerFile = quick ? 32 : 128
        var fileIndex = 0
        let h5 = try time(repetitions: quick ? 2 : 5) {
            fileIndex += 1
            let file = try H5File.create(directory.appendingPathComponent("a\(fileIndex).h5").path)
            let dataset = try file.root.createExtendableDataset("x", of: Float.self, rowShape: rowShape, chunkRows: 1)
            for _ in 0..<rowsPerFile { try dataset.append(rowValues, rows: 1) }
            try file.flush()
            file.close()
        }
        let megabytes = Double(rowsPerFile * rowValues.count * 4) / 1e6
        results.figures["hdf5_append_mb_per_s"] = megabytes / h5.median
        results.rows.append(("HDF5 append (1 MB rows)", String(format: "%.0f MB/s", megabytes / h5.median)))
    }

    /// Prints the table (or JSON); with `python`, runs the PyTorch reference first and prints
    /// both side by side.
    static func printResults(_ results: Results, shapes: [(Int, Int)], python: String?, json: Bool, quick: Bool) throws {
        if let python {
            let reference = try runPythonReference(python, quick: quick)
            if json {
                print(try jsonText(SideBySide(latentlens: results.figures, pytorch: reference.figures, notes: reference.notes)))
            } else {
                printComparison(latentLens: results.figures, pytorch: reference.figures, notes: reference.notes, shapes: shapes)
            }
            return
        }
        if json {
            print(try jsonText(results.figures))
        } else {
            let width = results.rows.map(\.0.count).max() ?? 0
            for (name, value) in results.rows { print(name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value) }
        }
    }
}

extension BenchCommand {
    /// Recording overhead: `lens run`'s recorder (attention patterns of both layers and the
    /// layer-1 MLP activations at every position) against the plain recurrent forward pass on
    /// the same sequences, uncompressed and with gzip.
    static func benchRecording(model: Model, quick: Bool, directory: String, into results: inout Results) throws {
        let recording = try RecordingBench(model: model, quick: quick)
        let count = recording.count
        let plain = try time(repetitions: quick ? 2 : 3) { try recording.plainForward() }
        var index = 0
        // Each repetition writes its own file. An activation file is kept after recording, so the main rows
        // keep every file until the timing ends; the "deleted at once" row unlinks each file
        // inside the timed block, as this bench did before 2026-11-25 — on this VM that is about
        // twice as fast (the kernel drops the dirty pages instead of keeping them), which is why
        // both are shown.
        for (label, level, keep) in [("uncompressed", nil, true), ("uncompressed_deleted", nil, false),
                                     ("gzip", 4, true)] as [(String, Int?, Bool)] {
            var bytes = 0.0
            var written: [String] = []
            defer { for path in written { try? FileManager.default.removeItem(atPath: path) } }
            let timing = try time(repetitions: quick ? 2 : 3) {
                index += 1
                let path = "\(directory)/record\(index).h5"
                try recording.record(path: path, compression: level)
                bytes = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.doubleValue ?? 0)
                if keep { written.append(path) } else { try? FileManager.default.removeItem(atPath: path) }
            }
            let overhead = timing.median / plain.median
            results.figures["record_overhead_\(label)"] = overhead
            results.figures["record_\(label)_mb_per_s"] = bytes / 1e6 / timing.median
            results.rows.append(("recording \(count) seq, \(label.replacingOccurrences(of: "_deleted", with: ", file deleted at once"))", String(format: "%.2f× the plain forward pass (%.2f s vs %.2f s), %.0f MB/s written",
                                                                  overhead, timing.median, plain.median, bytes / 1e6 / timing.median)))
        }
    }

    /// The recorder's workload: the first sequences of slot_var0 with the demo's hooks (attention
    /// patterns of both layers, the layer-1 MLP activations, every position), batch 16.
    struct RecordingBench {
        let model: Model
        let probe: Probe
        let expansion: ProbeExpansion
        let batchSize = 16
        var count: Int { expansion.sequences.count }

        init(model: Model, quick: Bool) throws {
            self.model = model
            probe = try ProbeParser.load(path: try RunCommand.resolveProbe("slot_var0"))
            var expansion = try probe.expand(vocabulary: model.config.vocabulary)
            let count = min(expansion.sequences.count, quick ? 32 : 96)
            expansion.sequences = Array(expansion.sequences.prefix(count))
            for key in expansion.meta.keys { expansion.meta[key] = Array((expansion.meta[key] ?? []).prefix(count)) }
            self.expansion = expansion
        }

        /// The same sequences through the recurrent forward pass, nothing recorded.
        func plainForward() throws {
            for start in stride(from: 0, to: count, by: batchSize) {
                let batch = TokenBatch(sequences: Array(expansion.sequences[start..<min(count, start + batchSize)]), vocabulary: expansion.vocabulary,
                                       padTo: expansion.length)
                _ = try model.run(tokens: batch.ids, batch: batch.batch, length: batch.length, iterations: expansion.iterations)
            }
        }

        /// Records them into a new file at `path`, as `lens run` does.
        func record(path: String, compression: Int?) throws {
            let recorder = try Recorder(model: model, expansion: expansion, hookGlobs: ["blocks.*.attn.hook_pattern", "blocks.1.mlp.hook_post"],
                                        iterations: Array(0..<expansion.iterations), batchSize: batchSize, positions: .all)
            let provenance = ActivationFileProvenance(command: "lens bench", modelPath: "(random)", modelSHA256: "", probe: probe.name, configJSON: "{}")
            let writer = try recorder.makeWriter(path: path, overwrite: true, provenance: provenance, compression: compression)
            _ = try recorder.record(into: writer)
        }
    }

    /// Each analysis on the demo's activation files (notebooks-data/demo, made by `lens demo`), when present.
    static func benchAnalyses(quick: Bool, into results: inout Results) throws {
        let directory = "notebooks-data/demo"
        let names = ["slot_var0", "slot_var1", "slot_var2", "slot_rhs", "retrieval_distance", "value_grid"]
        let paths = names.map { "\(directory)/\($0).h5" }
        guard paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else {
            results.rows.append(("analyses", "skipped: run make demo first (it writes the activation files they read)"))
            return
        }
        for kind in AnalysisKind.allCases {
            let runner = AnalysisRunner(analyses: [kind], causalSequences: 0)
            let timing = try time(repetitions: quick ? 1 : 3, warmup: 0) { _ = try runner.run(paths: paths) }
            results.figures["analysis_\(kind.rawValue)_seconds"] = timing.median
            results.rows.append(("analysis \(kind.rawValue) (demo activation files, no causal checks)", String(format: "%.2f s", timing.median)))
        }
    }
}

/// Both sides' figures, under the same keys, for `lens bench --json --python PY`.
struct SideBySide: Encodable {
    let latentlens: [String: Double]
    let pytorch: [String: Double]
    let notes: [String]
}

extension BenchCommand {
    /// Runs benchmarks/pytorch_reference.py with `python` and reads its JSON figures.
    static func runPythonReference(_ python: String, quick: Bool) throws -> (figures: [String: Double], notes: [String]) {
        let script = try locateReferenceScript()
        FileHandle.standardError.write(Data("running the PyTorch reference: \(python) \(script)\(quick ? " --quick" : "")\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, "--json"] + (quick ? ["--quick"] : [])
        let output = Pipe()
        process.standardOutput = output
        // stderr passes through: torch's warnings and compile notes stay visible.
        do { try process.run() } catch {
            throw InputError("could not start \(python): \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InputError("\(python) \(script) failed with status \(process.terminationStatus) (does it have torch, numpy and h5py? `make bench` installs them into .venv)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dictionary = object as? [String: Any] else {
            throw InputError("\(script) printed no JSON object: \(String(decoding: data.prefix(400), as: UTF8.self))")
        }
        var figures: [String: Double] = [:]
        for (key, value) in dictionary {
            if let number = value as? NSNumber { figures[key] = number.doubleValue }
        }
        return (figures, dictionary["notes"] as? [String] ?? [])
    }

    /// benchmarks/pytorch_reference.py from the working directory or above the executable.
    static func locateReferenceScript() throws -> String {
        let relative = "benchmarks/pytorch_reference.py"
        guard let path = repositoryFile(relative) else {
            throw InputError("cannot find \(relative); run lens bench from the repository root")
        }
        return path
    }

    /// One table: figure, LatentLens, PyTorch, ratio (LatentLens ÷ PyTorch, > 1 = LatentLens faster).
    static func printComparison(latentLens: [String: Double], pytorch: [String: Double], notes: [String], shapes: [(Int, Int)]) {
        var lines: [(String, String, String)] = []  // (figure, key on our side, key on PyTorch's side)
        lines.append(("sgemm 1024³ GFLOP/s (cblas_sgemm | torch.matmul)", "sgemm_1024_gflops", "sgemm_1024_gflops"))
        for (batch, length) in shapes {
            let key = "forward_b\(batch)_l\(length)_tokens_per_s"
            lines.append(("forward \(batch) × \(length) tok/s (eager)", key, key))
        }
        for (batch, length) in shapes {
            let key = "forward_b\(batch)_l\(length)_tokens_per_s"
            if pytorch[key + "_compiled"] != nil {
                lines.append(("forward \(batch) × \(length) tok/s (torch.compile)", key, key + "_compiled"))
            }
        }
        lines.append(("forward 32 × 256 GFLOP/s (eager)", "forward_b32_l256_gflops", "forward_b32_l256_gflops"))
        lines.append(("training step 32 × 256 tok/s (eager)", "train_step_b32_l256_tokens_per_s", "train_step_b32_l256_tokens_per_s"))
        lines.append(("training step 32 × 256 tok/s, one block (no data parallelism)", "train_step_b32_l256_one_block_tokens_per_s",
                      "train_step_b32_l256_one_block_tokens_per_s"))
        if pytorch["train_step_b32_l256_tokens_per_s_compiled"] != nil {
            lines.append(("training step 32 × 256 tok/s (torch.compile)", "train_step_b32_l256_tokens_per_s",
                          "train_step_b32_l256_tokens_per_s_compiled"))
        }
        lines.append(("HDF5 append MB/s (HDF5 wrapper | h5py)", "hdf5_append_mb_per_s", "hdf5_append_mb_per_s"))
        for key in ["hooks_empty_ratio", "hooks_idle_ratio"] where latentLens[key] != nil {
            lines.append(("forward with silent hooks ÷ without (\(key.dropFirst(6).dropLast(6)); 1 = free)", key, key))
        }
        for key in ["record_overhead_uncompressed", "record_overhead_gzip"] where latentLens[key] != nil {
            lines.append(("recording ÷ plain forward (\(key.dropFirst(16)); lower is better)", key, key))
        }
        for kind in AnalysisKind.allCases where latentLens["analysis_\(kind.rawValue)_seconds"] != nil {
            let key = "analysis_\(kind.rawValue)_seconds"
            lines.append(("analysis \(kind.rawValue) seconds (lower is better)", key, key))
        }
        func format(_ value: Double?) -> String {
            guard let value else { return "–" }
            return value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
        }
        let table = [("figure", "LatentLens", "PyTorch", "ratio")] + lines.map { label, ours, theirs in
            let l = latentLens[ours], p = pytorch[theirs]
            let ratio = (l != nil && p != nil && p != 0) ? String(format: "%.2f×", (l ?? 0) / (p ?? 1)) : "–"
            return (label, format(l), format(p), ratio)
        }
        let w0 = table.map(\.0.count).max() ?? 0, w1 = table.map(\.1.count).max() ?? 0
        let w2 = table.map(\.2.count).max() ?? 0
        for (i, row) in table.enumerated() {
            print(row.0.padding(toLength: w0 + 2, withPad: " ", startingAt: 0)
                  + String(repeating: " ", count: w1 - row.1.count) + row.1 + "  "
                  + String(repeating: " ", count: w2 - row.2.count) + row.2 + "  " + row.3)
            if i == 0 { print(String(repeating: "-", count: w0 + w1 + w2 + 12)) }
        }
        print("ratio = LatentLens ÷ PyTorch (> 1: LatentLens faster), both measured in this run")
        for note in notes { print("note: " + note) }
    }
}

/// Random in-vocabulary ids for benchmarks (any ids do; no program structure is needed).
func benchTokens(_ config: ModelConfig, batch: Int, length: Int) -> [Int32] {
    let sizes = config.factorSizes
    var state: UInt64 = 0x1234_5678
    return (0..<(batch * length * Factor.count)).map { i in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int32((state >> 33) % UInt64(sizes[i % Factor.count]))
    }
}
