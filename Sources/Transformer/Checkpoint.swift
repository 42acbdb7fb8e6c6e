import Foundation
import HDF5
import Outputs

/// Reads and writes models in LatentLens's HDF5 checkpoint format: one float32 dataset per
/// parameter, named by the authors' PyTorch state_dict key with PyTorch's shape, and the
/// configuration as root attributes (docs/model-spec.md "Parameter names").
public enum Checkpoint {
    public static let schema = "latentlens.checkpoint"
    /// 2: the authors' state_dict names (`ParameterNames`). Version 1 files, written under the
    /// earlier names, still load: `load` reads each tensor under either name.
    public static let schemaVersion = 2

    /// Writes `model` to `path` atomically (a temporary file renamed into place), so an
    /// interrupted save never leaves a half-written checkpoint under the final name; temporaries
    /// left by a killed save of the same path are removed first. The caller checks the path
    /// (`OutputFile`) before its work.
    ///
    /// `attributes` become extra root attributes (training metadata); `extra` may add groups;
    /// `compression` (a gzip level) stores the weights shuffled and compressed.
    public static func save(_ model: Model, to path: String, attributes: [String: String] = [:],
                            numericAttributes: [String: Double] = [:], compression: Int? = nil,
                            extra: ((H5Group) throws -> Void)? = nil) throws {
        let output = OutputFile(checked: path)
        let temporary = output.begin()
        do {
            let file = try H5File.create(temporary, overwrite: true)
            defer { file.close() }
            let root = file.root
            let c = model.config
            try root.setAttribute("schema", schema)
            try root.setAttribute("schema_version", schemaVersion)
            try root.setAttribute("n_layers", c.layers)
            try root.setAttribute("n_heads", c.heads)
            try root.setAttribute("d_model", c.modelWidth)
            try root.setAttribute("d_head", c.headWidth)
            try root.setAttribute("d_mlp", c.mlpWidth)
            try root.setAttribute("rel_window", c.relativeWindow)
            try root.setAttribute("names", c.names)
            try root.setAttribute("modulus", c.modulus)
            try root.setAttribute("ln_eps", Double(c.layerNormEpsilon))
            if attributes["created"] == nil {
                try root.setAttribute("created", ISO8601DateFormatter().string(from: Date()))
            }
            for (key, value) in attributes.sorted(by: { $0.key < $1.key }) { try root.setAttribute(key, value) }
            for (key, value) in numericAttributes.sorted(by: { $0.key < $1.key }) { try root.setAttribute(key, value) }
            let values = model.parameters
            for slot in model.layout.slots {
                try root.write(slot.name, Array(values[slot.offset..<(slot.offset + slot.count)]), shape: slot.shape,
                               compression: compression, shuffle: compression != nil)
            }
            try extra?(root)
            try file.flush()
            file.close()
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }

    /// Reads the model configuration from a checkpoint's root attributes.
    public static func config(of file: H5File) throws -> ModelConfig {
        let root = file.root
        let path = file.path
        if let schemaName = try root.stringAttribute("schema"), schemaName != schema {
            throw ModelError.badCheckpoint(file: path, reason: "its schema is \"\(schemaName)\", expected \"\(schema)\"")
        }
        if let version = try root.intAttribute("schema_version"), version > schemaVersion {
            throw ModelError.badCheckpoint(file: path, reason: "schema_version \(version) is newer than this LatentLens understands (\(schemaVersion))")
        }
        func int(_ name: String) throws -> Int {
            guard let value = try root.intAttribute(name) else {
                let found = (try? root.attribute(name)).flatMap { $0 }
                throw ModelError.badCheckpoint(file: path, reason: found.map { "the root attribute \(name) is \($0), expected one whole number" }
                                               ?? "the root attribute \(name) is missing (is this a LatentLens checkpoint?)")
            }
            return value
        }
        let config = ModelConfig(layers: try int("n_layers"), heads: try int("n_heads"), modelWidth: try int("d_model"),
                                 headWidth: try int("d_head"), mlpWidth: try int("d_mlp"), relativeWindow: try int("rel_window"),
                                 layerNormEpsilon: Float(try root.doubleAttribute("ln_eps") ?? 1e-5),
                                 names: try int("names"), modulus: try int("modulus"))
        do { try config.validate() } catch {
            throw ModelError.badCheckpoint(file: path, reason: "\(error)")
        }
        return config
    }

    /// Loads and validates every tensor of the checkpoint at `path`.
    public static func load(_ path: String) throws -> Model {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ModelError.badCheckpoint(file: path, reason: "it is a directory, not a checkpoint file")
        }
        let file = try H5File.open(path)
        defer { file.close() }
        let config = try config(of: file)
        // Every tensor's type and shape is checked before the model is allocated.
        try CheckpointValidation.checkTensors(in: file, config: config)
        let model = try Model(config: config)
        var values = [Float](repeating: 0, count: model.layout.totalCount)
        for slot in model.layout.slots {
            guard let stored = ParameterNames.storedName(of: slot.name, in: file.root) else {
                throw ModelError.missingTensor(name: slot.name, file: path)
            }
            let array = try file.root.read(stored, as: Float.self)
            guard array.shape == slot.shape else {
                throw ModelError.wrongShape(name: stored, expected: slot.shape, found: array.shape, file: path)
            }
            for (i, v) in array.values.enumerated() {
                guard v.isFinite else {
                    throw ModelError.badCheckpoint(file: path, reason: "tensor \(stored) holds a non-finite value at flat index \(i)")
                }
                values[slot.offset + i] = v
            }
        }
        model.parameters = values
        return model
    }

    /// Root attributes of a checkpoint as text, for model cards.
    public static func attributes(of path: String) throws -> [String: String] {
        let file = try H5File.open(path)
        defer { file.close() }
        var result: [String: String] = [:]
        for name in try file.root.attributeNames() {
            switch try file.root.attribute(name) {
            case .string(let text): result[name] = text
            case let value?: result[name] = value.description
            case nil: break
            }
        }
        return result
    }
}
