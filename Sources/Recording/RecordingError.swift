/// Why a recording cannot be made; messages read like sentences.
public enum RecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file that had to be read could not be.
    case unreadable(path: String, reason: String)
    /// The output exists and overwriting was not asked for.
    case outputExists(path: String)
    /// An `--iterations` spec that does not parse or names iterations the run does not have.
    case badIterations(spec: String, reason: String)
    /// No hook was selected.
    case noHooks
    /// A `--positions` spec that does not parse or names columns the probe does not have.
    case badPositions(spec: String, reason: String)
    /// An `--ablate` spec that does not parse or names heads the model does not have.
    case badAblation(String)
    /// A batch does not match the file's layout (a bug in the caller).
    case badBatch(String)
    /// Writing to the file failed (disk full, file removed, …); the finished batches stay readable.
    case writeFailed(path: String, sequences: Int, reason: String)
    /// The disk (or the file-size limit) has no room for the next batch; nothing of it was written.
    case noRoom(path: String, sequences: Int, neededBytes: Int, availableBytes: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .outputExists(let path):
            return "\(path) already exists; pass --force to overwrite it"
        case .badIterations(let spec, let reason):
            return "--iterations \"\(spec)\": \(reason) (write all, last, or indices like 0,2 or 0..3)"
        case .noHooks:
            return "no hook selected; pass --hooks with one or more globs like 'blocks.*.attn.hook_pattern'"
        case .badPositions(let spec, let reason):
            return "--positions \"\(spec)\": \(reason) (write all, probe, or metadata columns like rhs_pos,operand0_pos)"
        case .badAblation(let reason):
            return "--ablate: \(reason) (write LAYER.HEAD pairs like 1.15,0.3)"
        case .badBatch(let reason):
            return "a recorded batch does not fit the file: \(reason)"
        case .noRoom(let path, let sequences, let needed, let available):
            return String(format: "stopped before the disk filled up: the next batch of %@ needs about %.1f MB but only %.1f MB are free; the file keeps every finished batch (%d sequences) and says complete = 0",
                          path, Double(needed) / 1e6, Double(available) / 1e6, sequences)
        case .writeFailed(let path, let sequences, let reason):
            return "writing \(path) failed after \(sequences) sequences: \(reason); the file keeps every finished batch and says complete = 0"
        }
    }
}

/// Why an activation file cannot be read as asked.
public enum ActivationFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is HDF5 but not an activation file.
    case notActivationFile(path: String, schema: String?)
    /// The activation file was written with a schema version this reader does not know.
    case unsupportedVersion(path: String, found: Int, supported: Int)
    /// The run that wrote the activation file did not finish.
    case incomplete(path: String, sequences: Int, planned: Int? = nil)
    /// No activations were recorded for `hook`.
    case missingHook(path: String, hook: String, recorded: [String])
    /// `iteration` was not recorded.
    case iterationNotRecorded(path: String, iteration: Int, recorded: [Int])
    /// No metadata column `key`.
    case missingMeta(path: String, key: String, available: [String])
    /// A sequence range outside 0..<count.
    case sequenceRange(path: String, range: Range<Int>, count: Int)
    /// The activation file was recorded at query positions only, and `column` is not among them.
    case positionNotRecorded(path: String, column: String, recorded: [String])
    /// The file breaks the schema.
    case malformed(path: String, reason: String)
    /// A hook's activations hold a NaN or an infinity.
    case nonFinite(path: String, hook: String, sequence: Int, iteration: Int, value: Float)

    public var description: String {
        switch self {
        case .notActivationFile(let path, let schema):
            let found = schema.map { "its schema is \"\($0)\"" } ?? "it has no schema attribute"
            return "\(path) is not a LatentLens activation file: \(found), expected \"\(ActivationSchema.name)\" (make one with lens run)"
        case .unsupportedVersion(let path, let found, let supported):
            return "\(path) has activation schema_version \(found); this LatentLens reads version \(supported) (re-record it with this version's lens run)"
        case .incomplete(let path, let sequences, let planned):
            let of = planned.map { " of the \($0) planned" } ?? ""
            return "\(path) is incomplete (complete = 0): its recording stopped after \(sequences)\(of) sequences; record it again with lens run (its command attribute holds the command)"
        case .missingHook(let path, let hook, let recorded):
            let have = recorded.isEmpty ? "no hooks" : recorded.joined(separator: ", ")
            return "\(path) has no activations for \(hook) (it records \(have)); record it with lens run PROBE --hooks '\(hook)' …"
        case .iterationNotRecorded(let path, let iteration, let recorded):
            return "\(path) did not record iteration \(iteration) (it records \(recorded.map(String.init).joined(separator: ", "))); pick one with lens run --iterations"
        case .missingMeta(let path, let key, let available):
            return "\(path) has no metadata column \(key) (it has \(available.joined(separator: ", ")))"
        case .sequenceRange(let path, let range, let count):
            return "sequences \(range.lowerBound)..<\(range.upperBound) are outside \(path)'s \(count) sequences"
        case .positionNotRecorded(let path, let column, let recorded):
            return "\(path) was recorded at the query positions \(recorded.joined(separator: ", ")) only, not at \(column); record it with lens run --positions probe (or --positions all, or add \(column) to --positions)"
        case .malformed(let path, let reason):
            return "\(path) breaks the activation schema: \(reason)"
        case .nonFinite(let path, let hook, let sequence, let iteration, let value):
            return "\(path) holds \(value) in the activations of \(hook) at sequence \(sequence), iteration \(iteration); no analysis can use a non-finite activation (record the activation file again from a model whose checkpoint loads)"
        }
    }
}
