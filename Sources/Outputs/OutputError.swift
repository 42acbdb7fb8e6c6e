/// Why an output cannot be written; each message is one line naming the path.
public enum OutputError: Error, CustomStringConvertible, Equatable {
    /// The path is empty.
    case emptyPath(what: String)
    /// A regular file is there and the command was not told to replace it.
    case exists(path: String, what: String)
    /// A folder is there.
    case isFolder(path: String, what: String)
    /// Something other than a folder is where an output folder should be.
    case notAFolder(path: String, what: String)
    /// A device, FIFO or socket is there, and this output must be a file.
    case notAFile(path: String, what: String)
    /// The path is a symbolic link to nothing.
    case brokenLink(path: String, what: String)
    /// The path is one of the command's inputs.
    case isInput(path: String, what: String, input: String)
    /// The folder does not exist (or is not a folder).
    case noFolder(path: String, what: String, folder: String)
    /// The folder cannot be written.
    case notWritable(path: String, what: String, folder: String, reason: String)
    /// An output folder could not be made.
    case folderNotMade(path: String, what: String, reason: String)
    /// Writing the output failed.
    case writeFailed(path: String, reason: String)
    /// The finished output could not be moved into place.
    case moveFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .emptyPath(let what):
            return "\(what) is empty; expected a file path"
        case let .exists(path, what):
            return "\(what) \(path) already exists; pass --force to replace it (it is replaced only once the new file is complete)"
        case let .isFolder(path, what):
            return "\(what) \(path) is a folder; expected a file path"
        case let .notAFolder(path, what):
            return "\(what) \(path) exists and is not a folder"
        case let .notAFile(path, what):
            return "\(what) \(path) is a device, FIFO or socket; this output must be a regular file"
        case let .brokenLink(path, what):
            return "\(what) \(path) is a symbolic link to nothing; remove it or point it at a file"
        case let .isInput(path, what, input):
            let same = path == input ? "" : " (\(input))"
            return "\(what) \(path) is also an input of this command\(same); write the output elsewhere"
        case let .noFolder(path, what, folder):
            return "\(what) \(path): the folder \(folder) does not exist; create it first"
        case let .notWritable(path, what, folder, reason):
            return "\(what) \(path): the folder \(folder) is not writable (\(reason))"
        case let .folderNotMade(path, what, reason):
            return "\(what) \(path): the folder could not be made (\(reason))"
        case let .writeFailed(path, reason):
            return "writing \(path) failed: \(reason); nothing was replaced"
        case let .moveFailed(path, reason):
            return "could not move the finished file into place at \(path): \(reason); nothing was replaced"
        }
    }

    /// Whether the user can fix it by choosing another path or flag (exit status 2), as
    /// opposed to a failure while writing (status 1).
    public var isUsersToFix: Bool {
        switch self {
        case .writeFailed, .moveFailed: return false
        default: return true
        }
    }
}
