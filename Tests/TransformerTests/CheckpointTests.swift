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
        if let (v, shape) = edit(slot.name, original, slot.shape) { try file.root.write(slot.name, v, shape: shape) }
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
