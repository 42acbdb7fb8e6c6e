import Foundation

/// A file a command is about to write, checked before any work and written aside.
///
/// The rules every command follows (README "Errors and recovery"):
/// - the folder must exist and be writable, and the path must not be a folder;
/// - the path must not be one of the command's inputs (the same file by device and inode, so a
///   link or another spelling of the path is caught too);
/// - an existing regular file is replaced only with `force`, and only at the end: the output is
///   written to `temporaryPath` in the same folder and renamed over the old file once complete,
///   so a reader holding the old file keeps it and a failed run leaves it as it was;
/// - a device, FIFO or socket (`/dev/null`, `/dev/stdout`) is written in place where the output
///   is a text stream, and refused where it must be a file;
/// - temporaries of the same path left by processes that no longer run (a `kill -9` mid-write)
///   are removed before a new one is made.
public struct OutputFile: Sendable, Equatable {
    /// What is at the path now.
    public enum Destination: Sendable, Equatable {
        /// Nothing: the output will be new.
        case new
        /// A regular file, replaced once the output is complete.
        case replacing
        /// A device, FIFO or socket, written in place.
        case stream
    }

    /// The path the output ends up at (a symbolic link is followed to its target).
    public let path: String
    /// What is there before the command writes.
    public let destination: Destination
    /// Where the output is written until it is complete: `PATH.tmp-PID`, in the same folder.
    public var temporaryPath: String { OutputFile.temporaryPath(of: path) }

    /// Checks `path` for an output (see the type's rules); `what` names it in messages (e.g.
    /// "--out"); `inputs` are the files the command reads; `allowsStream` lets a device or FIFO
    /// take the output in place.
    public init(_ path: String, what: String = "output", force: Bool, inputs: [String] = [],
                allowsStream: Bool = false) throws {
        guard !path.isEmpty else { throw OutputError.emptyPath(what: what) }
        var resolved = path
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            // Replace the link's target, not the link: the user's link keeps pointing at the output.
            guard let real = realpath(path, nil) else {
                throw OutputError.brokenLink(path: path, what: what)
            }
            resolved = String(cString: real)
            free(real)
        }
        for input in inputs where OutputFile.sameFile(resolved, input) {
            throw OutputError.isInput(path: path, what: what, input: input)
        }
        let exists = stat(resolved, &info) == 0
        if exists {
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                throw OutputError.isFolder(path: path, what: what)
            case S_IFREG:
                guard force else { throw OutputError.exists(path: path, what: what) }
                destination = .replacing
            default:
                guard allowsStream else { throw OutputError.notAFile(path: path, what: what) }
                destination = .stream
            }
        } else {
            destination = .new
        }
        if destination != .stream {
            let folder = OutputFile.folder(of: resolved)
            var folderInfo = stat()
            guard stat(folder, &folderInfo) == 0, (folderInfo.st_mode & S_IFMT) == S_IFDIR else {
                throw OutputError.noFolder(path: path, what: what, folder: folder)
            }
            // Creating the temporary is the only reliable test (root passes access(2) on a
            // folder it still cannot write, such as /proc).
            let probe = OutputFile.temporaryPath(of: resolved)
            let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard descriptor >= 0 || errno == EEXIST else {
                throw OutputError.notWritable(path: path, what: what, folder: folder, reason: OutputFile.lastError())
            }
            if descriptor >= 0 {
                close(descriptor)
                unlink(probe)
            }
        }
        self.path = resolved
    }

    /// A file output whose checks the caller has made with the checking initialiser (a
    /// checkpoint the trainer rewrites every few hundred steps): written aside and renamed
    /// over whatever is at `path`.
    public init(checked path: String) {
        self.path = path
        destination = access(path, F_OK) == 0 ? .replacing : .new
    }

    /// Removes stale temporaries, then returns the path to write: the temporary for a file, the
    /// path itself for a stream.
    public func begin() -> String {
        guard destination != .stream else { return path }
        OutputFile.removeStaleTemporaries(of: path)
        unlink(temporaryPath)  // our own, from an earlier failed attempt in this process
        return temporaryPath
    }

    /// Moves the finished temporary into place (nothing for a stream). On failure the
    /// temporary stays; the caller discards or keeps it.
    public func commit() throws {
        guard destination != .stream else { return }
        guard rename(temporaryPath, path) == 0 else {
            throw OutputError.moveFailed(path: path, reason: OutputFile.lastError())
        }
    }

    /// Removes the temporary of a failed write (nothing for a stream).
    public func discard() {
        guard destination != .stream else { return }
        unlink(temporaryPath)
    }

    /// Moves an unfinished temporary (an interrupted recording) to where it is kept: the path,
    /// when nothing is there, else `STEM.partial.EXT` beside it, never replacing anything.
    /// Returns where it went.
    public func keepUnfinished() -> String {
        guard destination != .stream else { return path }
        for target in [path, OutputFile.partialPath(of: path)] {
            // link() refuses an existing target, so nothing is replaced, even by a race.
            if link(temporaryPath, target) == 0 {
                unlink(temporaryPath)
                return target
            }
        }
        return temporaryPath
    }

    /// Writes `data` as the whole output: in place for a stream, else aside and renamed.
    public func write(_ data: Data) throws {
        let target = begin()
        let flags = destination == .stream ? O_WRONLY : (O_WRONLY | O_CREAT | O_EXCL)
        let descriptor = open(target, flags, 0o644)
        guard descriptor >= 0 else { throw OutputError.writeFailed(path: path, reason: OutputFile.lastError()) }
        var failure: String?
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let written = Foundation.write(descriptor, base + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = OutputFile.lastError()
                    return
                }
                offset += written
            }
        }
        if close(descriptor) != 0, failure == nil { failure = OutputFile.lastError() }
        if let failure {
            discard()
            throw OutputError.writeFailed(path: path, reason: failure)
        }
        do { try commit() } catch {
            discard()
            throw error
        }
    }

    /// Writes `text` as UTF-8 (see `write(_:)`).
    public func write(_ text: String) throws {
        try write(Data(text.utf8))
    }

    /// Makes the output folder `path` and its missing parents, before the work, so that a
    /// folder that cannot be made is found then; an existing folder is left as it is.
    public static func makeFolder(_ path: String, what: String = "output folder") throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw OutputError.notAFolder(path: path, what: what) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            // Foundation's error says little; the first parent that cannot take a folder says more.
            var parent = (path as NSString).deletingLastPathComponent
            while !parent.isEmpty && !FileManager.default.fileExists(atPath: parent) {
                parent = (parent as NSString).deletingLastPathComponent
            }
            let reason = parent.isEmpty || access(parent, W_OK) == 0 ? "it cannot be created there" : "\(parent) is not writable"
            throw OutputError.folderNotMade(path: path, what: what, reason: reason)
        }
    }

    /// The files `names` a command writes into `folder` (a report, a timeline), checked before
    /// the work: the folder is made with its parents (`makeFolder`), and each file follows the
    /// rules of `init` (replaced only with `force`, never one of `inputs`).
    public static func inFolder(_ folder: String, names: [String], what: String, force: Bool,
                                inputs: [String] = []) throws -> [OutputFile] {
        try makeFolder(folder, what: what)
        return try names.map { try OutputFile((folder as NSString).appendingPathComponent($0), what: what, force: force, inputs: inputs) }
    }

    // MARK: - Helpers

    /// `PATH.tmp-PID`.
    public static func temporaryPath(of path: String) -> String {
        "\(path).tmp-\(getpid())"
    }

    /// `STEM.partial.EXT` for `STEM.EXT` (`STEM.partial` without an extension).
    public static func partialPath(of path: String) -> String {
        let ns = path as NSString
        let ext = ns.pathExtension
        return ext.isEmpty ? path + ".partial" : ns.deletingPathExtension + ".partial." + ext
    }

    /// Removes `PATH.tmp-PID` files whose process no longer runs.
    public static func removeStaleTemporaries(of path: String) {
        let folder = folder(of: path)
        let prefix = (path as NSString).lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink((folder as NSString).appendingPathComponent(name))
            }
        }
    }

    /// Whether `a` and `b` name the same file: by device and inode when both exist, else by
    /// their standardised absolute paths.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat(), y = stat()
        if stat(a, &x) == 0 && stat(b, &y) == 0 { return x.st_dev == y.st_dev && x.st_ino == y.st_ino }
        return absolute(a) == absolute(b)
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (full as NSString).standardizingPath
    }

    static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
