/// The kinds of HDF5 objects the wrapper opens and lists.
public enum H5ObjectKind: String, Sendable, Equatable, CustomStringConvertible {
    /// An HDF5 group.
    case group
    /// An HDF5 dataset.
    case dataset

    /// "group" or "dataset".
    public var description: String { rawValue }
}

/// An error raised by the HDF5 wrapper; its description reads as a sentence and carries
/// HDF5's own message where HDF5 supplied one.
public enum H5Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file exists at `path`.
    case fileNotFound(path: String)
    /// The file at `path` exists but could not be opened (not HDF5, truncated, a directory, ...).
    case openFailed(path: String, reason: String)
    /// The file at `path` could not be created.
    case createFailed(path: String, reason: String)
    /// `create` refused to replace an existing file.
    case fileExists(path: String)
    /// The file was used after `close()`.
    case fileClosed(path: String)
    /// No object of the expected kind at `path` inside `file`.
    case missing(H5ObjectKind, path: String, file: String)
    /// The object at `path` is of another kind than the one asked for.
    case wrongKind(path: String, file: String, expected: H5ObjectKind, actual: String)
    /// Creating `path` failed because something of that name is already there.
    case alreadyExists(path: String, file: String)
    /// The dataset stores another element type than the one asked for.
    case typeMismatch(path: String, file: String, stored: H5ElementType, requested: H5ElementType)
    /// Values, shapes, or selections do not agree with each other or with the dataset.
    case shapeMismatch(path: String, file: String, reason: String)
    /// An argument is out of its valid range (gzip level, chunk size, ...).
    case invalidArgument(String)
    /// An HDF5 call failed; `operation` says what was attempted, `reason` is HDF5's message.
    case failed(operation: String, path: String, file: String, reason: String)

    /// A one-sentence explanation of the error.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "cannot open \"\(path)\": no such file"
        case .openFailed(let path, let reason):
            return "cannot open \"\(path)\": \(reason)"
        case .createFailed(let path, let reason):
            return "cannot create \"\(path)\": \(reason)"
        case .fileExists(let path):
            return "cannot create \"\(path)\": the file already exists (pass overwrite: true to replace it)"
        case .fileClosed(let path):
            return "\"\(path)\" has been closed"
        case .missing(let kind, let path, let file):
            return "no \(kind) named \(path) in \(file)"
        case .wrongKind(let path, let file, let expected, let actual):
            return "\(path) in \(file) is a \(actual), not a \(expected)"
        case .alreadyExists(let path, let file):
            return "cannot create \(path) in \(file): an object of that name already exists"
        case .typeMismatch(let path, let file, let stored, let requested):
            return "dataset \(path) in \(file) holds \(stored), asked for \(requested)"
        case .shapeMismatch(let path, let file, let reason):
            return "shape mismatch for dataset \(path) in \(file): \(reason)"
        case .invalidArgument(let reason):
            return "invalid argument: \(reason)"
        case .failed(let operation, let path, let file, let reason):
            return "cannot \(operation) \(path) in \(file): \(reason)"
        }
    }
}
