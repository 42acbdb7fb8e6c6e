import Foundation
import LensTestSupport
import Testing
import Training
import Transformer

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
