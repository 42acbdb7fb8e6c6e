import Foundation
import GraphTask
import HDF5
import Testing
@testable import Transformer

/// A checkpoint of the authors' layout (six factors, their names, saved as their Lightning
/// training saves it) brought in by scripts/export_pytorch_checkpoint.py, with their network's
/// logits (scripts/make_authors_fixture.py wrote Fixtures/authors.h5; no Python needed here).
@Suite struct AuthorsLayoutTests {
    /// Largest logit error allowed, relative to the largest |logit|.
    static let tolerance: Float = 1e-4

    static func fixturePath() throws -> String {
        try #require(Bundle.module.path(forResource: "authors", ofType: "h5", inDirectory: "Fixtures"),
                     "Fixtures/authors.h5 is missing; run scripts/make_authors_fixture.py")
    }

    @Test func logitsOfEveryFactorEqualTheirNetworksBeyondTheWindow() throws {
        let path = try Self.fixturePath()
        let model = try Checkpoint.load(path)
        let file = try H5File.open(path)
        defer { file.close() }
        let authors = try file.root.group("authors")
        let tokens = try authors.read("tokens", as: Int32.self)
        let lengths = try authors.read("lengths", as: Int32.self).values
        let scale = Float(try #require(try authors.doubleAttribute("logit_scale")))
        let (batch, length) = (tokens.shape[0], tokens.shape[1])
        #expect(lengths.allSatisfy { Int($0) > model.config.relativeWindow }, "programs must be longer than the window")
        #expect(model.config.relativeWindow == 64)

        let hooks = Hooks(config: model.config)
        var seen: [String: Tensor] = [:]
        try hooks.observe("hook_logits.*") { event, tensor in seen[event.name] = tensor }
        _ = try model.run(tokens: tokens.values, batch: batch, length: length, iterations: 1, hooks: hooks)
        for factor in Vocabulary.factorNames {
            let expected = try authors.read("logits/\(factor)", as: Float.self)
            let got = try #require(seen["hook_logits.\(factor)"])
            #expect(got.shape == expected.shape, "\(factor)")
            guard got.shape == expected.shape else { continue }
            let error = got.maxAbsDifference(Tensor(shape: expected.shape, scalars: expected.values)) / scale
            print("authors' layout: hook_logits.\(factor) max abs error \(error) of the logit scale \(scale)")
            #expect(error <= Self.tolerance, "logits of \(factor): error \(error) of the logit scale")
        }
    }

    @Test func checkpointNamesAreTheirStateDictKeysLessTheFoldedFactors() throws {
        let path = try Self.fixturePath()
        let model = try Checkpoint.load(path)
        let file = try H5File.open(path)
        defer { file.close() }
        guard case .strings(let theirs)? = try file.root.group("authors").attribute("state_dict_names") else {
            Issue.record("authors/state_dict_names is missing")
            return
        }
        let folded: Set<String> = ["token_embedder.embeddings.4.weight", "token_embedder.embeddings.5.weight",
                                   "output_layers.4.weight", "output_layers.4.bias",
                                   "output_layers.5.weight", "output_layers.5.bias"]
        let ours = model.layout.slots.map(\.name)
        // Their order too: the flat layout follows their state_dict.
        #expect(ours == theirs.filter { !folded.contains($0) })
        let stored = Set(try file.root.childNames()).subtracting(["authors"])
        #expect(stored == Set(ours), "the exporter wrote names other than theirs")
    }
}
