import HDF5
import Transformer

/// Reads an activation file (docs/activation-file.md): checks its schema and version, and
/// reads tokens, predictions, metadata and a hook's activations for one iteration.
public final class ActivationReader {
    public let path: String
    /// Whether the run that wrote the file finished.
    public let isComplete: Bool
    /// The schema version the file was written with.
    public let schemaVersion: Int
    /// Number of finished sequences (the size of /lengths).
    public let count: Int
    /// The padded sequence length L.
    public let length: Int
    /// Run iteration index of each recorded iteration (the T axis).
    public let iterations: [Int]
    /// Recorded hook names.
    public let hooks: [String]
    /// Metadata column names.
    public let metaKeys: [String]
    /// Metadata columns of the recorded query positions (`lens run --positions`), or nil when
    /// the hooks hold every position.
    public let queryColumns: [String]?
    /// Root attributes: probe, model, model_sha256, command, created, config, …
    public let attributes: [String: H5AttributeValue]

    let file: H5File

    /// Opens `path`; with `requireComplete`, a file whose run did not finish is an error.
    public init(path: String, requireComplete: Bool = false) throws {
        self.path = path
        file = try H5File.open(path)
        let root = file.root
        var attributes: [String: H5AttributeValue] = [:]
        for name in try root.attributeNames() { attributes[name] = try root.attribute(name) }
        self.attributes = attributes
        let schema = try root.stringAttribute("schema")
        guard schema == ActivationSchema.name else { throw ActivationFileError.notActivationFile(path: path, schema: schema) }
        guard let version = try root.intAttribute("schema_version") else {
            throw ActivationFileError.malformed(path: path, reason: "the root attribute schema_version is missing")
        }
        guard version == ActivationSchema.version else {
            throw ActivationFileError.unsupportedVersion(path: path, found: version, supported: ActivationSchema.version)
        }
        schemaVersion = version
        for name in ["tokens", "predictions", "lengths", "iterations"] where !root.contains(name) {
            throw ActivationFileError.malformed(path: path, reason: "the dataset /\(name) is missing")
        }
        let tokenShape = try root.dataset("tokens").shape
        guard tokenShape.count == 4, tokenShape[3] == 4 else {
            throw ActivationFileError.malformed(path: path, reason: "/tokens has shape \(tokenShape), expected [N, T, L, 4]")
        }
        iterations = try root.read("iterations", as: Int32.self).values.map { Int($0) }
        guard iterations.count == tokenShape[1] else {
            throw ActivationFileError.malformed(path: path, reason: "/iterations lists \(iterations.count) iterations but /tokens holds \(tokenShape[1])")
        }
        length = tokenShape[2]
        count = try root.dataset("lengths").shape.first ?? 0
        hooks = root.contains("activations") ? try root.group("activations").childNames() : []
        metaKeys = root.contains("meta") ? try root.group("meta").childNames() : []
        isComplete = (try root.intAttribute("complete") ?? 0) == 1
        if root.contains(ActivationSchema.queryPositionsPath) {
            guard case .strings(let names) = try root.dataset(ActivationSchema.queryPositionsPath).attribute("query_columns") else {
                throw ActivationFileError.malformed(path: path, reason: "/query_positions has no query_columns attribute")
            }
            queryColumns = names
        } else {
            queryColumns = nil
        }
        if requireComplete && !isComplete { throw ActivationFileError.incomplete(path: path, sequences: count) }
    }

    /// Closes the file.
    public func close() { file.close() }

    /// A root attribute as text (strings without quotes), or nil.
    public func attribute(_ name: String) -> String? {
        switch attributes[name] {
        case .string(let s): return s
        case .some(let value): return value.description
        case nil: return nil
        }
    }

    /// Throws `missingHook` (with the `--hooks` to pass) unless every name in `needed` was recorded.
    public func require(hooks needed: [String]) throws {
        for hook in needed where !hooks.contains(hook) {
            throw ActivationFileError.missingHook(path: path, hook: hook, recorded: hooks)
        }
    }

    func checkRange(_ range: Range<Int>?) throws -> Range<Int> {
        let r = range ?? 0..<count
        guard r.lowerBound >= 0, r.upperBound <= count else { throw ActivationFileError.sequenceRange(path: path, range: r, count: count) }
        return r
    }

    /// Position of run iteration `iteration` on the T axis.
    public func iterationIndex(_ iteration: Int) throws -> Int {
        guard let t = iterations.firstIndex(of: iteration) else {
            throw ActivationFileError.iterationNotRecorded(path: path, iteration: iteration, recorded: iterations)
        }
        return t
    }

    /// Unpadded lengths of sequences `range` (all when nil).
    public func lengths(_ range: Range<Int>? = nil) throws -> [Int32] {
        let r = try checkRange(range)
        return try file.root.dataset("lengths").readRows(r, as: Int32.self).values
    }

    /// Input ids [n, T, L, 4] of sequences `range`.
    public func tokens(_ range: Range<Int>? = nil) throws -> H5Array<Int32> {
        try file.root.dataset("tokens").readRows(try checkRange(range), as: Int32.self)
    }

    /// Argmax ids [n, T, L, 4] of sequences `range`.
    public func predictions(_ range: Range<Int>? = nil) throws -> H5Array<Int32> {
        try file.root.dataset("predictions").readRows(try checkRange(range), as: Int32.self)
    }

    /// The metadata column `key` for sequences `range`.
    public func meta(_ key: String, _ range: Range<Int>? = nil) throws -> [Int32] {
        guard metaKeys.contains(key) else { throw ActivationFileError.missingMeta(path: path, key: key, available: metaKeys) }
        return try file.root.dataset("meta/" + key).readRows(try checkRange(range), as: Int32.self).values
    }

    /// Shape of a hook's dataset: [N, T, …].
    public func shape(of hook: String) throws -> [Int] {
        try require(hooks: [hook])
        return try file.root.dataset(ActivationSchema.activationPath(hook)).shape
    }

    /// Axis names of a hook's dataset (its `dims` attribute).
    public func dimensions(of hook: String) throws -> [String] {
        try require(hooks: [hook])
        if case .strings(let names) = try file.root.dataset(ActivationSchema.activationPath(hook)).attribute("dims") { return names }
        return []
    }

    /// A hook's activations at run iteration `iteration` for sequences `range`: shape [n, …].
    public func activations(_ hook: String, iteration: Int, sequences range: Range<Int>? = nil) throws -> Tensor {
        let (dataset, shape) = try hookDataset(hook, minimumRank: 2)
        let t = try iterationIndex(iteration)
        let r = try checkRange(range)
        let rest = Array(shape.dropFirst(2))
        let array = try dataset.readSlice(start: [r.lowerBound, t] + rest.map { _ in 0 }, count: [r.count, 1] + rest, as: Float.self)
        return Tensor(shape: [r.count] + rest, scalars: array.values)
    }

    /// A recorded hook's dataset and shape [N, T, …], checked to have at least `minimumRank`
    /// axes and a row for every finished sequence.
    func hookDataset(_ hook: String, minimumRank: Int) throws -> (H5Dataset, [Int]) {
        try require(hooks: [hook])
        let dataset = try file.root.dataset(ActivationSchema.activationPath(hook))
        let shape = dataset.shape
        guard shape.count >= minimumRank, shape[0] >= count else {
            throw ActivationFileError.malformed(path: path, reason: "/activations/\(hook) has shape \(shape), fewer rows than /lengths (\(count))")
        }
        return (dataset, shape)
    }
}
