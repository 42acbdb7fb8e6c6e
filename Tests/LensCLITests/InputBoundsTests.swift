import Foundation
import HDF5
import Testing
import Training
import Transformer

/// Runs `lens arguments` in `directory` under a virtual-memory limit of `kilobytes` (bash's
/// `ulimit -v`) and a time limit of `seconds` (coreutils' `timeout`, which exits 124), so that
/// an input that makes lens allocate its declared size or loop forever fails loudly.
func runLensLimited(_ arguments: [String], in directory: String, kilobytes: Int = 3_000_000, seconds: Int = 60) throws -> LensResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", "ulimit -v \(kilobytes); exec timeout -s KILL \(seconds) \"$0\" \"$@\"", lensExecutable] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return LensResult(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      error: String(decoding: error, as: UTF8.self))
}

/// Exit status 2 and one line on standard error that contains `text`.
func expectInputError(_ result: LensResult, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 2, "\(result.error)", sourceLocation: sourceLocation)
    #expect(result.error.split(separator: "\n").count == 1, "\(result.error)", sourceLocation: sourceLocation)
    #expect(result.error.contains(text), "\(result.error)", sourceLocation: sourceLocation)
}

/// A probe of six sequences named value_grid (so the Fourier analysis reads it): recorded in
/// well under a second by the tiny model.
let smallGridProbe = """
name value_grid
context random seed=201 nodes=8 leaves=4
equation v0 + v1 = rhs
fix v0 = leaf[0]
fix v1 = leaf[1]
fix rhs = free[0]
sweep v0.value over 1, 2, 3
sweep v1.value over 4, 5
combine product

"""

/// Issue 26's input side: numbers on the command line and sizes in files are checked before
/// they size an allocation or a loop; broken files are named in one line.
@Suite(.serialized) struct InputBoundsTests {
    @Test func negativeSeedsAreUsageErrors() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        for arguments in [["generate", "--nodes", "10"], ["init", "--config", "tiny", "--out", "m.h5"],
                          ["train", "--config", "tiny", "--out", "m.h5", "--steps", "1"],
                          ["eval", "--model", "tiny.h5", "--nodes", "8", "--samples", "1"]] {
            expectInputError(try runLens(arguments + ["--seed", "-1"], in: dir), "--seed expects a whole number from 0 to 18446744073709551615")
        }
        // The whole unsigned range is a seed.
        #expect(try runLens(["generate", "--nodes", "10", "--seed", "18446744073709551615"], in: dir).status == 0)
    }

    @Test func hugeSizesOnTheCommandLineAreRefusedUpFront() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        expectInputError(try runLensLimited(["generate", "--nodes", "10", "--names", "1000000000000000000"], in: dir),
                         "--names must lie in 1...100000")
        expectInputError(try runLens(["eval", "--model", "tiny.h5", "--nodes", "8", "--samples", "1", "--extra-iterations", "1000000000"], in: dir),
                         "--extra-iterations must lie in 0...1000")
        expectInputError(try runLens(["solve", "1 = x_1; x_1 + x_1 = x_2", "--model", "tiny.h5", "--extra-iterations", "99999999999"], in: dir),
                         "--extra-iterations must lie in 0...1000")
        expectInputError(try runLens(["eval", "--model", "tiny.h5", "--nodes", "8", "--batch", "100000000"], in: dir), "--batch must lie in 1...65536")
        expectInputError(try runLens(["train", "--config", "tiny", "--out", "m.h5", "--batch", "100000000"], in: dir),
                         "--batch must lie in 1...65536 graphs")
        // Within the bound but beyond any memory: refused with what one step would need.
        expectInputError(try runLens(["train", "--config", "paper", "--out", "m.h5", "--batch", "65536", "--every-iteration"], in: dir),
                         "one step of --batch 65536 needs about")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.h5"))
    }

    @Test func aProbeThatExpandsToBillionsIsRefusedWithItsSize() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        let probe = """
        name big
        context random seed=0..99999 nodes=16
        equation v0 + v1 + v2 = rhs
        fix v0 = leaf[0]
        fix v1 = leaf[1]
        fix rhs = free[0]
        sweep v0.value over values
        sweep v1.value over values
        sweep v2 over defined
        combine product

        """
        try probe.write(toFile: dir + "/big.probe", atomically: true, encoding: .utf8)
        let result = try runLensLimited(["run", "big.probe", "--model", "tiny.h5", "--hooks", "blocks.1.mlp.hook_post", "--out", "big.h5"], in: dir, seconds: 30)
        expectInputError(result, "the probe expands to up to 8.46e+08 sequences")
        #expect(result.error.contains("the limit is 10000000 sequences"))
    }

    /// A checkpoint declaring d_mlp = 10^12 over tiny tensors: the old loader asked for the
    /// declared model's memory first (a signal under this limit, gigabytes without it).
    @Test func aCraftedCheckpointIsRefusedInBoundedMemory() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        for (attribute, value, message) in [("d_mlp", 1_000_000_000_000, "d_mlp must lie in 1...65536"),
                                            ("names", 1_000_000, "has shape [129, 32], expected [1000001, 32]"),
                                            ("n_layers", 1 << 40, "n_layers must lie in 1...256")] {
            try FileManager.default.copyItem(atPath: dir + "/tiny.h5", toPath: dir + "/crafted.h5")
            let file = try H5File.open(dir + "/crafted.h5", mode: .readWrite)
            try file.root.setAttribute(attribute, value)
            file.close()
            expectInputError(try runLensLimited(["eval", "--model", "crafted.h5", "--nodes", "8", "--samples", "1"], in: dir, kilobytes: 1_000_000),
                             message)
            try FileManager.default.removeItem(atPath: dir + "/crafted.h5")
        }
    }

    @Test func craftedResumeStatesAreRefusedOnTheCommandLine() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trained = try runLens(tinyTraining + ["--stop-after", "2"], in: dir)
        #expect(trained.status == 0, "\(trained.error)")
        let state = dir + "/t.h5.resume.h5"
        for (name, value, message) in [("step", -3, "the step is -3"), ("stage", -1, "the curriculum stage is -1")] {
            try FileManager.default.copyItem(atPath: state, toPath: dir + "/crafted.h5")
            let file = try H5File.open(dir + "/crafted.h5", mode: .readWrite)
            try file.root.group("training_state").setAttribute(name, value)
            file.close()
            // Unchecked, a negative step trained (and ignored Ctrl-C) until killed.
            expectInputError(try runLensLimited(["train", "--resume", "crafted.h5", "--out", "again.h5"], in: dir, seconds: 30), message)
            try FileManager.default.removeItem(atPath: dir + "/crafted.h5")
        }
        // A finished run has nothing to train: it says so instead of claiming to write a model.
        let finished = try runLensLimited(["train", "--resume", "t.h5.resume.h5", "--out", "again.h5", "--steps", "2"], in: dir, seconds: 30)
        expectInputError(finished, "already reached its last step (2 of 2)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/again.h5"))
    }

    /// Records the six-sequence value grid with the tiny model into dir/grid.h5.
    func recordSmallGrid(in dir: String) throws {
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        try smallGridProbe.write(toFile: dir + "/grid.probe", atomically: true, encoding: .utf8)
        let run = try runLens(["run", "grid.probe", "--model", "tiny.h5", "--hooks", "blocks.1.mlp.hook_post", "--out", "grid.h5", "--quiet"], in: dir)
        #expect(run.status == 0, "\(run.error)")
    }

    @Test func anIncompleteActivationFileIsNamedBeforeAnyAnalysis() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try recordSmallGrid(in: dir)
        let file = try H5File.open(dir + "/grid.h5", mode: .readWrite)
        try file.root.setAttribute("complete", 0)
        file.close()
        for arguments in [["analyze", "fourier", "grid.h5", "--causal", "0"],
                          ["report", "grid.h5", "--out", "report", "--eval-samples", "0", "--causal", "0"]] {
            let result = try runLensLimited(arguments, in: dir, seconds: 60)
            expectInputError(result, "grid.h5 is incomplete (complete = 0): its recording stopped after 6 of the 6 planned sequences; record it again")
        }
        // inspect still shows it.
        let inspect = try runLens(["inspect", "grid.h5"], in: dir)
        #expect(inspect.status == 0 && inspect.output.contains("INCOMPLETE"), "\(inspect.error)")
    }

    @Test func aNonFiniteActivationIsNamedWithFileHookAndSequence() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try recordSmallGrid(in: dir)
        let file = try H5File.open(dir + "/grid.h5", mode: .readWrite)
        let hook = try file.root.dataset("activations/blocks.1.mlp.hook_post")
        let shape = hook.shape
        let row = Array(shape.dropFirst())
        // Sequence 4's activations, every position (so also the one the analysis reads), are NaN.
        let values = [Float](repeating: .nan, count: row.reduce(1, *))
        try values.withUnsafeBufferPointer { try hook.write($0, start: [4] + row.map { _ in 0 }, count: [1] + row) }
        file.close()
        let result = try runLensLimited(["analyze", "fourier", "grid.h5", "--causal", "0"], in: dir, seconds: 60)
        expectInputError(result, "grid.h5 holds nan in the activations of blocks.1.mlp.hook_post at sequence 4")
    }

    /// A hook whose declared extent the file does not store (6.4 TB, 64 MB a sequence, over no
    /// stored bytes): refused when the file is opened, in bounded memory.
    @Test func aHugeDeclaredHookShapeIsRefusedOnOpening() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try recordSmallGrid(in: dir)
        let file = try H5File.open(dir + "/grid.h5", mode: .readWrite)
        let name = "activations/blocks.1.mlp.hook_post"
        let shape = try file.root.dataset(name).shape
        try file.root.group("activations").remove("blocks.1.mlp.hook_post")
        let huge = try file.root.createExtendableDataset(name, of: Float.self, rowShape: [shape[1], 1 << 14, 1 << 10], chunkRows: 1)
        try huge.resize(rows: 100_000)
        file.close()
        for arguments in [["analyze", "fourier", "grid.h5", "--causal", "0"], ["inspect", "grid.h5"]] {
            expectInputError(try runLensLimited(arguments, in: dir, kilobytes: 1_000_000), "but the file stores only 0 bytes of it")
        }
    }
}
