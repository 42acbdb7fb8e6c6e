import Foundation
import HDF5
import Testing
@testable import Transformer

/// A scratch directory removed when the test ends.
final class ScratchDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "latentlens-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// Writes a checkpoint by hand, with every tensor of `model` except those `edit` drops or changes.
func writeCheckpoint(_ model: Model, to path: String, schema: String = Checkpoint.schema,
                     renaming: (String) -> String = { $0 },
                     edit: (String, [Float], [Int]) -> (values: [Float], shape: [Int])?) throws {
    let file = try H5File.create(path, overwrite: true)
    defer { file.close() }
    let c = model.config
    try file.root.setAttribute("schema", schema)
    try file.root.setAttribute("schema_version", Checkpoint.schemaVersion)
    for (key, value) in [("n_layers", c.layers), ("n_heads", c.heads), ("d_model", c.modelWidth), ("d_head", c.headWidth),
                         ("d_mlp", c.mlpWidth), ("rel_window", c.relativeWindow), ("names", c.names), ("modulus", c.modulus)] {
        try file.root.setAttribute(key, value)
    }
    let values = model.parameters
    for slot in model.layout.slots {
        let original = Array(values[slot.offset..<(slot.offset + slot.count)])
        if let (v, shape) = edit(slot.name, original, slot.shape) { try file.root.write(renaming(slot.name), v, shape: shape) }
    }
}

@Suite struct CheckpointTests {
    let model: Model
    init() throws { model = try Model.randomlyInitialised(config: smallConfig(), seed: 5) }

    @Test func saveThenLoadIsExactAndLeavesNoTemporaryFile() throws {
        let dir = try ScratchDirectory()
        try Checkpoint.save(model, to: dir.file("m.h5"), attributes: ["source": "test"])
        let loaded = try Checkpoint.load(dir.file("m.h5"))
        #expect(loaded.config == model.config)
        #expect(loaded.parameters == model.parameters)
        #expect(try Checkpoint.attributes(of: dir.file("m.h5"))["source"] == "test")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.h5"])
    }

    @Test func savedTensorsCarryTheAuthorsNames() throws {
        let dir = try ScratchDirectory()
        try Checkpoint.save(model, to: dir.file("m.h5"))
        let file = try H5File.open(dir.file("m.h5"))
        defer { file.close() }
        let names = Set(try file.root.childNames())
        for name in ["token_embedder.embeddings.0.weight", "token_embedder.embeddings.3.weight",
                     "transformer.pos_model.relpos_embeddings.weight", "transformer.pos_model.layer_norm.weight",
                     "transformer.pos_model.layer_norm.bias", "output_layers.1.weight", "output_layers.3.bias"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(names.count == model.layout.slots.count)
        #expect(try file.root.intAttribute("schema_version") == 2)
    }

    /// Files written before the authors' names were adopted (the bundled models among them) keep loading.
    @Test func aCheckpointUnderTheEarlierNamesLoadsTheSameWeights() throws {
        let dir = try ScratchDirectory()
        var renamed = 0
        try writeCheckpoint(model, to: dir.file("old.h5"), renaming: { name in
            guard let legacy = ParameterNames.legacyName(of: name) else { return name }
            renamed += 1
            return legacy
        }) { ($1, $2) }
        #expect(renamed == 3 + 4 + 8)  // E_rel and its LayerNorm, 4 embeddings, 4 readouts
        let file = try H5File.open(dir.file("old.h5"))
        #expect(file.root.contains("token_embedder.embeddings.syntax.weight"))
        #expect(file.root.contains("output_layers.value.bias"))
        #expect(file.root.contains("transformer.pos_model.rel_embeddings.weight"))
        #expect(file.root.contains("transformer.pos_model.ln.bias"))
        file.close()
        let loaded = try Checkpoint.load(dir.file("old.h5"))
        #expect(loaded.parameters == model.parameters)
    }

    @Test func legacyNamesMapEveryRenamedTensorAndNothingElse() throws {
        #expect(ParameterNames.legacyName(of: "token_embedder.embeddings.2.weight") == "token_embedder.embeddings.operation.weight")
        #expect(ParameterNames.legacyName(of: "output_layers.1.weight") == "output_layers.variable.weight")
        #expect(ParameterNames.legacyName(of: "output_layers.0.bias") == "output_layers.syntax.bias")
        #expect(ParameterNames.legacyName(of: "transformer.pos_model.layer_norm.weight") == "transformer.pos_model.ln.weight")
        #expect(ParameterNames.legacyName(of: "token_embedder.embeddings.4.weight") == nil)
        #expect(ParameterNames.legacyName(of: "transformer.blocks.layer_0.ln_1.weight") == nil)
        let layout = ParameterLayout(config: smallConfig())
        #expect(try #require(layout.slot(named: "transformer.pos_model.layer_norm.bias")).kind == .layerNorm)
        #expect(try #require(layout.slot(named: "transformer.blocks.layer_1.ln_2.weight")).kind == .layerNorm)
        #expect(try #require(layout.slot(named: "transformer.pos_model.relpos_embeddings.weight")).kind != .layerNorm)
    }

    @Test func aMissingTensorIsNamed() throws {
        let dir = try ScratchDirectory()
        let name = "transformer.blocks.layer_1.attn.v_proj.weight"
        try writeCheckpoint(model, to: dir.file("m.h5")) { $0 == name ? nil : ($1, $2) }
        #expect { try Checkpoint.load(dir.file("m.h5")) } throws: { error in
            "\(error)".contains(name) && "\(error)".contains("no tensor")
        }
    }

    @Test func aWrongShapeIsNamedWithBothShapes() throws {
        let dir = try ScratchDirectory()
        let name = "transformer.blocks.layer_0.mlp.fc.weight"
        try writeCheckpoint(model, to: dir.file("m.h5")) { n, v, s in n == name ? (v, [s[1], s[0]]) : (v, s) }
        #expect { try Checkpoint.load(dir.file("m.h5")) } throws: { error in
            "\(error)" == "tensor \(name) in \(dir.file("m.h5")) has shape [16, 24], expected [24, 16]"
        }
    }

    @Test func aNonFiniteWeightIsRejected() throws {
        let dir = try ScratchDirectory()
        try writeCheckpoint(model, to: dir.file("m.h5")) { n, v, s in
            n == "transformer.ln_final.bias" ? ([Float.nan] + v.dropFirst(), s) : (v, s)
        }
        #expect { try Checkpoint.load(dir.file("m.h5")) } throws: { error in
            "\(error)".contains("transformer.ln_final.bias holds a non-finite value at flat index 0")
        }
    }

    @Test func anotherSchemaIsRejected() throws {
        let dir = try ScratchDirectory()
        try writeCheckpoint(model, to: dir.file("m.h5"), schema: "latentlens.activations") { ($1, $2) }
        #expect { try Checkpoint.load(dir.file("m.h5")) } throws: { error in
            "\(error)".contains("its schema is \"latentlens.activations\"")
        }
    }

    @Test func truncatedNotHDF5AndDirectoryGiveClearErrors() throws {
        let dir = try ScratchDirectory()
        try Checkpoint.save(model, to: dir.file("m.h5"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("m.h5")))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir.file("half.h5")))
        try Data("not a checkpoint\n".utf8).write(to: URL(fileURLWithPath: dir.file("text.h5")))
        #expect(throws: (any Error).self) { try Checkpoint.load(dir.file("half.h5")) }
        #expect { try Checkpoint.load(dir.file("text.h5")) } throws: { "\($0)".contains("not an HDF5 file") }
        #expect { try Checkpoint.load(dir.path) } throws: { "\($0)".contains("is a directory") }
        #expect { try Checkpoint.load(dir.file("absent.h5")) } throws: { "\($0)".contains("no such file") }
    }
}
