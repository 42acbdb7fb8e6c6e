import Foundation
import GraphTask
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
    /// The number of sequences the recording planned (the `sequences` field of the `config`
    /// attribute), when the file says.
    public let plannedSequences: Int?
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
        guard tokenShape.count == 4, tokenShape[3] == Factor.count else {
            throw ActivationFileError.malformed(path: path, reason: "/tokens has shape \(tokenShape), expected [N, T, L, \(Factor.count)]")
        }
        let iterationShape = try root.dataset("iterations").shape
        guard iterationShape == [tokenShape[1]] else {
            throw ActivationFileError.malformed(path: path, reason: "/iterations has shape \(iterationShape) but /tokens holds \(tokenShape[1]) iterations")
        }
        iterations = try root.read("iterations", as: Int32.self).values.map { Int($0) }
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
        if case .string(let json)? = attributes["config"],
           let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
           let planned = object["sequences"] as? Int {
            plannedSequences = planned
        } else {
            plannedSequences = nil
        }
        if requireComplete && !isComplete {
            throw ActivationFileError.incomplete(path: path, sequences: count, planned: plannedSequences)
        }
        try checkShapes(tokens: tokenShape)
    }

    /// Checks every dataset's extent against /tokens [N, T, L, 4] and /lengths [N] before
    /// anything is read, so a crafted extent is named here instead of sizing an allocation.
    private func checkShapes(tokens tokenShape: [Int]) throws {
        let root = file.root
        func malformed(_ reason: String) -> ActivationFileError { .malformed(path: path, reason: reason) }
        let rows = tokenShape[0]
        guard rows >= count else { throw malformed("/tokens has \(rows) rows, fewer than /lengths (\(count))") }
        let predictions = try root.dataset("predictions").shape
        guard predictions == tokenShape else { throw malformed("/predictions has shape \(predictions), expected \(tokenShape) like /tokens") }
        let lengthShape = try root.dataset("lengths").shape
        guard lengthShape.count == 1 else { throw malformed("/lengths has shape \(lengthShape), expected [N]") }
        for key in metaKeys {
            let shape = try root.dataset("meta/" + key).shape
            guard shape.count == 1, shape[0] >= count else { throw malformed("/meta/\(key) has shape \(shape), expected [\(count)] or more rows") }
        }
        for hook in hooks {
            let dataset = try root.dataset(ActivationSchema.activationPath(hook))
            let shape = dataset.shape
            guard dataset.elementType == .float32 else {
                throw malformed("/activations/\(hook) is stored as \(dataset.elementType), expected float32")
            }
            guard shape.count >= 2, shape[0] >= count, shape[1] == iterations.count else {
                throw malformed("/activations/\(hook) has shape \(shape), expected [N ≥ \(count), T = \(iterations.count), …]")
            }
            // One sequence's row must be something a forward pass could produce: this bounds what
            // any later read of a whole hook allocates (the storage check bounds the rest).
            if let problem = dataset.storageProblem() {
                throw malformed("/activations/\(hook) \(problem)")
            }
        }
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

    /// Input ids of sequences `range` (all when nil), read by name.
    public func inputTokens(_ range: Range<Int>? = nil) throws -> RecordedTokens {
        try recordedTokens(tokens(range))
    }

    /// Argmax ids of sequences `range` (all when nil), read by name.
    public func predictedTokens(_ range: Range<Int>? = nil) throws -> RecordedTokens {
        try recordedTokens(predictions(range))
    }

    /// `array` [n, T, L, Factor.count] as `RecordedTokens`; throws if its shape is another.
    private func recordedTokens(_ array: H5Array<Int32>) throws -> RecordedTokens {
        let shape = array.shape
        guard shape.count == 4, shape[1] == iterations.count, shape[2] == length, shape[3] == Factor.count,
              array.values.count == shape.reduce(1, *) else {
            throw ActivationFileError.malformed(path: path, reason: "token ids of shape \(shape), expected [n, \(iterations.count), \(length), \(Factor.count)]")
        }
        return RecordedTokens(count: shape[0], iterations: shape[1], length: shape[2], ids: array.values)
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
        try checkFinite(array.values, hook: hook, iteration: iteration, firstSequence: r.lowerBound, perSequence: rest.reduce(1, *))
        return Tensor(shape: [r.count] + rest, scalars: array.values)
    }

    /// Throws `nonFinite` naming the first sequence whose activations hold a NaN or an infinity
    /// (attention scores may hold -infinity: the causal mask writes it above the diagonal), so
    /// that a broken recording is named where it enters instead of deep inside an analysis.
    func checkFinite(_ values: [Float], hook: String, iteration: Int, firstSequence: Int, perSequence: Int) throws {
        let allowsMinusInfinity = HookPoints.point(named: hook)?.holdsMaskedScores ?? false
        guard let i = values.firstIndex(where: { !$0.isFinite && !(allowsMinusInfinity && $0 == -.infinity) }) else { return }
        throw ActivationFileError.nonFinite(path: path, hook: hook, sequence: firstSequence + i / max(perSequence, 1),
                                            iteration: iteration, value: values[i])
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
