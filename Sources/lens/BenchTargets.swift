import Foundation
import HDF5
import Transformer

// The three targets of the runtime against the machine itself (docs/benchmarks.md), each a
// ratio of two figures measured side by side: the repetitions interleave every figure, and each
// figure is the best of its repetitions, so that background load that comes and goes hits both
// sides of a ratio alike and the best repetitions are the least disturbed.

/// One target: a ratio, what it must reach, and whether higher is better.
struct BenchTarget {
    let key: String, label: String
    let ratio: Double, target: Double
    let higherIsBetter: Bool
    var met: Bool { higherIsBetter ? ratio >= target : ratio <= target }
    var line: String {
        String(format: "%@: %.2f (target %@ %.2f) %@", label, ratio, higherIsBetter ? "≥" : "≤", target, met ? "met" : "missed")
    }
}

extension BenchCommand {
    /// Measures the three ratios in one interleaved loop and adds their figures.
    static func benchTargets(model: Model, quick: Bool, directory: String, figures: inout [String: Double]) throws -> [BenchTarget] {
        let step = AuthorsTrainingStep(model: model)
        let recording = try RecordingBench(model: model, quick: quick)
        let (batch, length) = (32, 256)
        let ids = benchTokens(model.config, batch: batch, length: length)
        step.run()
        _ = try model.run(tokens: ids, batch: batch, length: length, iterations: 1)
        try recording.plainForward()
        var best = [String: Double]()
        func keep(_ key: String, _ t: Double) { best[key] = min(best[key] ?? .infinity, t) }
        var kept: [String] = []
        defer { for path in kept { try? FileManager.default.removeItem(atPath: path) } }
        for rep in 0..<targetRepetitions(quick: quick) {
            keep("sgemm", 2 * pow(1024, 3) / 1e9 / sgemmGflops(repetitions: 1))
            keep("train", seconds { step.run() })
            keep("forward", try seconds { _ = try model.run(tokens: ids, batch: batch, length: length, iterations: 1) })
            keep("plain", try seconds { try recording.plainForward() })
            // An activation file is kept after recording, so every file stays until the loop ends.
            let path = "\(directory)/target\(rep).h5"
            keep("record", try seconds { try recording.record(path: path, compression: nil) })
            kept.append(path)
        }
        let sgemm = 2 * pow(1024, 3) / 1e9 / (best["sgemm"] ?? .infinity)
        let train = step.flops / 1e9 / (best["train"] ?? .infinity)
        let forward = Double(batch * length) * forwardFlopsPerToken(model.config, length: length) / 1e9 / (best["forward"] ?? .infinity)
        let record = (best["record"] ?? 0) / (best["plain"] ?? 1)
        figures["target_sgemm_gflops"] = sgemm
        figures["target_train_useful_gflops"] = train
        figures["target_train_tokens_per_s"] = Double(step.tokens) / (best["train"] ?? .infinity)
        figures["target_forward_b32_l256_gflops"] = forward
        figures["target_record_seconds"] = best["record"]
        // The file's size, and how fast its bytes went out beyond the plain pass's time: on this
        // kind of VM that rate shows whether the page cache had pages at hand (docs/benchmarks.md).
        if let path = kept.first, let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int {
            figures["target_record_megabytes"] = Double(size) / 1e6
        }
        figures["target_plain_forward_seconds"] = best["plain"]
        let targets = [
            BenchTarget(key: "target_train_ratio", label: "training step (authors' recipe) useful GFLOP/s ÷ sgemm", ratio: train / sgemm, target: 0.75, higherIsBetter: true),
            BenchTarget(key: "target_forward_ratio", label: "forward 32 × 256 GFLOP/s ÷ sgemm", ratio: forward / sgemm, target: 0.75, higherIsBetter: true),
            BenchTarget(key: "target_record_ratio", label: "recording, activation file kept ÷ plain forward", ratio: record, target: 1.25, higherIsBetter: false),
        ]
        for t in targets { figures[t.key] = t.ratio }
        return targets
    }

    /// Interleaved repetitions of the targets' loop.
    static func targetRepetitions(quick: Bool) -> Int { quick ? 3 : 5 }

    /// The targets as table lines, with the figures each ratio divides.
    static func targetLines(_ targets: [BenchTarget], figures: [String: Double], quick: Bool) -> [String] {
        let repetitions = targetRepetitions(quick: quick)
        var lines = [String(format: "targets, measured side by side (best of %d interleaved repetitions, %@): sgemm 1024³ %.1f GFLOP/s; training step %.1f useful GFLOP/s (%.0f tokens/s); forward 32 × 256 %.1f GFLOP/s; recording %.3f s against %.3f s plain",
                            repetitions, LeafKernels.description, figures["target_sgemm_gflops"] ?? 0, figures["target_train_useful_gflops"] ?? 0,
                            figures["target_train_tokens_per_s"] ?? 0, figures["target_forward_b32_l256_gflops"] ?? 0,
                            figures["target_record_seconds"] ?? 0, figures["target_plain_forward_seconds"] ?? 0)]
        lines += targets.map { "  " + $0.line }
        if let megabytes = figures["target_record_megabytes"], let record = figures["target_record_seconds"],
           let plain = figures["target_plain_forward_seconds"], record > plain {
            lines.append(String(format: "  (the recording's %.0f MB file went out at %.1f GB/s beyond the plain pass's time)",
                                megabytes, megabytes / 1e3 / (record - plain)))
        }
        return lines
    }
}

extension BenchCommand {
    /// LatentLens's HDF5 wrapper and h5py appending the same rows to the same layout (rows of
    /// [1, 256, 1024] float32, one chunk a row), alternately in one run, the first writer
    /// swapped each repetition, every file kept until the end (as an activation file is): MB/s, the best
    /// of each. h5py runs in `python` (benchmarks/h5py_append.py), timing itself.
    static func benchWritersAlternately(python: String, quick: Bool, directory: String) throws -> (wrapper: Double, h5py: Double) {
        guard let script = repositoryFile("benchmarks/h5py_append.py") else {
            throw InputError("cannot find benchmarks/h5py_append.py; run lens bench from the repository root")
        }
        let rows = quick ? 32 : 128
        let values = [Float](repeating: 0.5, count: 256 * 1024)
        var wrapper = Double.infinity, h5py = Double.infinity
        func ours(_ path: String) throws {
            wrapper = min(wrapper, try seconds {
                let file = try H5File.create(path)
                let dataset = try file.root.createExtendableDataset("x", of: Float.self, rowShape: [1, 256, 1024], chunkRows: 1)
                for _ in 0..<rows { try dataset.append(values, rows: 1) }
                try file.flush()
                file.close()
            })
        }
        func theirs(_ path: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, script, path, String(rows)]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0, let t = Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw InputError("\(python) \(script) failed (does it have h5py and numpy?)")
            }
            h5py = min(h5py, t)
        }
        for rep in 0..<(quick ? 4 : 8) {
            let a = "\(directory)/writer-ours\(rep).h5", b = "\(directory)/writer-h5py\(rep).h5"
            if rep % 2 == 0 { try ours(a); try theirs(b) } else { try theirs(b); try ours(a) }
        }
        let megabytes = Double(rows * values.count * 4) / 1e6
        return (megabytes / wrapper, megabytes / h5py)
    }
}
