import Foundation
import Testing
import Training
import Transformer

/// The repository's root (three levels above this file).
private let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

/// A python that imports torch, numpy and h5py (the repository's .venv, made by
/// `make .venv/bin/python`, then python3 on PATH), or nil: the exporter's test is then skipped.
let pythonWithTorch: String? = {
    var candidates = [repositoryRoot.appendingPathComponent(".venv/bin/python").path, "/usr/bin/python3"]
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        candidates.append("\(directory)/python3")
    }
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: candidate)
        process.arguments = ["-c", "import torch, numpy, h5py"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { continue }
        process.waitUntilExit()
        if process.terminationStatus == 0 { return candidate }
    }
    return nil
}()

@Suite struct AuthorsCheckpointTests {
    /// scripts/export_pytorch_checkpoint.py --self-test: a random network of the authors' layout
    /// (scripts/authors_layout.py) saved as their Lightning training saves it → LatentLens →
    /// `lens run` (every factor's logits, programs longer than the window) → their state_dict,
    /// loaded with strict=True → LatentLens again, bit for bit.
    @Test(.enabled(if: pythonWithTorch != nil,
                   "no python with torch; skipping the exporter's round trip (make .venv/bin/python installs one)"))
    func exporterRoundTripsTheAuthorsLayoutThroughLens() throws {
        let python = try #require(pythonWithTorch)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repositoryRoot.appendingPathComponent("scripts/export_pytorch_checkpoint.py").path,
                             "--self-test", "--lens", lensExecutable]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(output)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("lens run on the export"))
        #expect(output.contains("self-test ok"))
    }

    /// The bundled models were written under the earlier tensor names (schema_version 1).
    @Test func bundledModelsAndResumeStatesStillLoad() throws {
        let models = repositoryRoot.appendingPathComponent("models")
        let files = try FileManager.default.contentsOfDirectory(atPath: models.path).filter { $0.hasSuffix(".h5") }.sorted()
        #expect(files.contains("default.h5") && files.contains("operand-lookup.h5") && files.contains("default.h5.resume.h5"))
        for name in files {
            let path = models.appendingPathComponent(name).path
            if name.hasSuffix(".resume.h5") {
                let (model, state, _) = try TrainingStateFile.load(path)
                #expect(state.optimizer.firstMoment.count == model.layout.totalCount, "\(name)")
            } else {
                let model = try Checkpoint.load(path)
                #expect(model.config.layers >= 1, "\(name)")
            }
        }
    }
}
