import HDF5

/// Checks a checkpoint before anything is allocated for it: every root attribute of the
/// configuration within its range (`ModelConfig.validate`), the declared model within
/// `ModelConfig.parameterLimit`, and every parameter tensor present as float32 with exactly
/// the shape the configuration gives it. Only then does `Checkpoint.load` allocate the model,
/// so what a file makes us allocate is what its declared model honestly needs.
public enum CheckpointValidation {
    /// Throws `ModelError` naming the first tensor that is missing, of another type or shape,
    /// or whose stored bytes cannot hold its declared extent; `config` must come from
    /// `Checkpoint.config(of:)` (which validates it).
    public static func checkTensors(in file: H5File, config: ModelConfig) throws {
        let path = file.path
        let layout = ParameterLayout(config: config)
        guard layout.totalCount <= ModelConfig.parameterLimit else {
            throw ModelError.badCheckpoint(file: path, reason: "its attributes declare a model of \(layout.totalCount) parameters, more than the \(ModelConfig.parameterLimit) LatentLens loads (\(config.layers) layers, d_model \(config.modelWidth), d_mlp \(config.mlpWidth), \(config.names) names)")
        }
        for slot in layout.slots {
            // Files written before the authors' names keep theirs (`ParameterNames.legacyName`).
            guard let stored = ParameterNames.storedName(of: slot.name, in: file.root) else {
                throw ModelError.missingTensor(name: slot.name, file: path)
            }
            try checkDataset(stored, in: file.root, shape: slot.shape, file: path)
        }
    }

    /// Throws unless `group` holds a float32 dataset `name` of exactly `shape` whose stored
    /// bytes can hold it (so a later read allocates only what the file honestly declares).
    public static func checkDataset(_ name: String, in group: H5Group, shape: [Int], file path: String) throws {
        guard group.contains(name) else { throw ModelError.missingTensor(name: name, file: path) }
        let dataset: H5Dataset
        do { dataset = try group.dataset(name) } catch {
            throw ModelError.badCheckpoint(file: path, reason: "\(name) is not a readable dataset (\(error))")
        }
        guard dataset.elementType == .float32 else {
            throw ModelError.badCheckpoint(file: path, reason: "tensor \(name) is stored as \(dataset.elementType), expected float32")
        }
        guard dataset.shape == shape else {
            throw ModelError.wrongShape(name: name, expected: shape, found: dataset.shape, file: path)
        }
        if let problem = dataset.storageProblem() {
            throw ModelError.badCheckpoint(file: path, reason: "tensor \(name) \(problem)")
        }
    }
}
