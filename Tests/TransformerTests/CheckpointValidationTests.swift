import Foundation
import HDF5
import Testing
@testable import Transformer

/// Crafted checkpoints: declared sizes are checked, each on its own and as a model, and every
/// tensor's type and shape before anything is allocated (Sources/Transformer/CheckpointValidation.swift).
@Suite struct CheckpointValidationTests {
    let model: Model
    init() throws { model = try Model.randomlyInitialised(config: smallConfig(), seed: 5) }

    /// Saves the model, then sets root attributes `attributes` on the file.
    func crafted(_ scratch: ScratchDirectory, _ attributes: [String: H5AttributeValue]) throws -> String {
        let path = scratch.file("crafted-\(UUID().uuidString).h5")
        try Checkpoint.save(model, to: path)
        let file = try H5File.open(path, mode: .readWrite)
        defer { file.close() }
        for (key, value) in attributes { try file.root.setAttribute(key, value) }
        return path
    }

    func loadError(_ path: String) -> String {
        do {
            _ = try Checkpoint.load(path)
            return "loaded"
        } catch let error as ModelError {
            return error.description
        } catch {
            return "not a ModelError: \(error)"
        }
    }

    @Test(arguments: [
        ("d_mlp", 1_000_000_000_000, "d_mlp must lie in 1...65536"),
        ("names", 1_000_000_000_000_000_000, "names must lie in 1...1000000"),
        ("n_layers", 1 << 62, "n_layers must lie in 1...256"),
        ("n_layers", -3, "n_layers must lie in 1...256"),
        ("d_model", 0, "d_model must lie in 1...65536"),
        ("rel_window", Int.max, "rel_window must lie in 1...65536"),
        ("modulus", Int.min, "modulus must lie in 1...1000000"),
    ])
    func absurdSizesAreRefusedOneByOne(attribute: String, value: Int, message: String) throws {
        let scratch = try ScratchDirectory()
        let error = loadError(try crafted(scratch, [attribute: .int(value)]))
        #expect(error.contains(message), "\(error)")
    }

    /// n_heads × d_head = 2^64 wraps to 0 = d_model under -Ounchecked: each size is checked first.
    @Test func aProductThatWouldWrapIsRefused() throws {
        let scratch = try ScratchDirectory()
        let error = loadError(try crafted(scratch, ["n_heads": .int(1 << 32), "d_head": .int(1 << 32), "d_model": .int(0)]))
        #expect(error.contains("must lie in"), "\(error)")
    }

    /// Sizes each within range whose model is still absurd (10^6 names × d_model 65536).
    @Test func anAbsurdModelIsRefusedByItsParameterCount() throws {
        let scratch = try ScratchDirectory()
        let error = loadError(try crafted(scratch, ["names": .int(1_000_000), "n_heads": .int(4096), "d_head": .int(16), "d_model": .int(65_536)]))
        #expect(error.contains("parameters, more than the \(ModelConfig.parameterLimit)"), "\(error)")
    }

    /// A large declared model over the small file's tensors: the first wrong shape is named
    /// (the old loader allocated the whole declared model first).
    @Test func aLargeDeclaredModelOverSmallTensorsNamesTheFirstShape() throws {
        let scratch = try ScratchDirectory()
        let error = loadError(try crafted(scratch, ["d_mlp": .int(65_536)]))
        #expect(error.contains("has shape [24, 16], expected [65536, 16]"), "\(error)")
    }

    @Test func aTensorOfAnotherTypeIsNamed() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.file("f64.h5")
        let name = model.layout.slots[3].name
        try writeCheckpoint(model, to: path) { slot, values, shape in slot == name ? nil : (values, shape) }
        let file = try H5File.open(path, mode: .readWrite)
        try file.root.write(name, [Double](repeating: 0.5, count: model.layout.slots[3].count), shape: model.layout.slots[3].shape)
        file.close()
        #expect(loadError(path).contains("tensor \(name) is stored as float64, expected float32"))
    }

    /// Every tensor with its declared shape but never written: a small file declaring 120 MB of
    /// weights (an 82 MB embedding) is refused before the weights are allocated.
    @Test func unwrittenTensorsOfAHugeDeclaredModelAreRefused() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.file("hollow.h5")
        var config = model.config
        config.headWidth = 256
        config.modelWidth = config.heads * 256
        config.names = 20_000
        let file = try H5File.create(path, overwrite: true)
        for (key, value) in [("n_layers", config.layers), ("n_heads", config.heads), ("d_model", config.modelWidth), ("d_head", config.headWidth),
                             ("d_mlp", config.mlpWidth), ("rel_window", config.relativeWindow), ("names", config.names), ("modulus", config.modulus)] {
            try file.root.setAttribute(key, value)
        }
        for slot in ParameterLayout(config: config).slots {
            let dataset = try file.root.createExtendableDataset(slot.name, of: Float.self, rowShape: Array(slot.shape.dropFirst()),
                                                                 chunkRows: 64)
            try dataset.resize(rows: slot.shape[0])
        }
        file.close()
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(size < 200_000)
        let error = loadError(path)
        #expect(error.contains("but the file stores only 0 bytes of it"), "\(error)")
    }

    @Test func aStringWhereASizeBelongsIsNamed() throws {
        let scratch = try ScratchDirectory()
        let error = loadError(try crafted(scratch, ["d_mlp": .string("64")]))
        #expect(error.contains("d_mlp"), "\(error)")
    }
}
