import CHDF5
import Foundation

/// An open HDF5 file. Closing it (explicitly or on deinit) closes every group and dataset
/// opened from it; those objects keep the file alive while they are referenced.
public final class H5File {
    /// How an existing file is opened.
    public enum Mode: Sendable, Equatable {
        /// Reads only (H5F_ACC_RDONLY).
        case readOnly
        /// Reads and writes (H5F_ACC_RDWR).
        case readWrite
    }

    /// The path the file was created or opened with.
    public let path: String
    /// Whether writes are allowed.
    public let mode: Mode
    /// The HDF5 file id, or -1 once closed.
    private(set) var id: hid_t

    private init(path: String, mode: Mode, id: hid_t) {
        self.path = path
        self.mode = mode
        self.id = id
    }

    deinit {
        close()
    }

    /// Creates a new file at `path`; refuses to replace an existing file unless `overwrite`.
    public static func create(_ path: String, overwrite: Bool = false) throws -> H5File {
        prepareHDF5()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw H5Error.createFailed(path: path, reason: "a directory of that name exists")
            }
            if !overwrite { throw H5Error.fileExists(path: path) }
        }
        let fapl = try fileAccessList(path: path, creating: true)
        defer { H5Pclose(fapl) }
        let flags = overwrite ? lens_H5F_ACC_TRUNC() : lens_H5F_ACC_EXCL()
        let id = H5Fcreate(path, flags, lens_H5P_DEFAULT(), fapl)
        guard id >= 0 else { throw H5Error.createFailed(path: path, reason: hdf5Message()) }
        return H5File(path: path, mode: .readWrite, id: id)
    }

    /// Opens the existing HDF5 file at `path`.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> H5File {
        prepareHDF5()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw H5Error.fileNotFound(path: path)
        }
        if isDirectory.boolValue {
            throw H5Error.openFailed(path: path, reason: "it is a directory, not an HDF5 file")
        }
        // HDF5 1.10 "opens" an empty file for read-write by writing a fresh superblock into it.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if size == 0 {
            throw H5Error.openFailed(path: path, reason: "the file is empty (not an HDF5 file)")
        }
        let fapl = try fileAccessList(path: path, creating: false)
        defer { H5Pclose(fapl) }
        let flags = mode == .readWrite ? lens_H5F_ACC_RDWR() : lens_H5F_ACC_RDONLY()
        // HDF5 locks files with flock. Another process that has the file open, or a child
        // process spawned (by any thread) in the instant before it closes inherited
        // descriptors, holds the lock briefly; wait up to a second before giving up.
        var id: hid_t
        var reason = ""
        var attempts = 0
        repeat {
            if attempts > 0 { usleep(25_000) }
            attempts += 1
            id = H5Fopen(path, flags, fapl)
            if id < 0 { reason = hdf5Message() }
        } while id < 0 && isLockConflict(reason) && attempts <= 40
        guard id >= 0 else {
            if reason.contains("signature not found") { reason += " (not an HDF5 file?)" }
            if isLockConflict(reason) {
                reason = "another process holds it locked (HDF5 locks open files; "
                    + "wait for that process to finish or close it): \(reason)"
            }
            throw H5Error.openFailed(path: path, reason: reason)
        }
        return H5File(path: path, mode: mode, id: id)
    }

    /// Whether an HDF5 open error is a file-lock conflict (EAGAIN from flock).
    private static func isLockConflict(_ reason: String) -> Bool {
        reason.contains("Resource temporarily unavailable") || reason.contains("unable to lock file")
    }

    /// A file-access property list whose close degree is "strong": closing the file
    /// closes every object still open in it, so `close()` really releases the file.
    private static func fileAccessList(path: String, creating: Bool) throws -> hid_t {
        let fapl = H5Pcreate(lens_H5P_FILE_ACCESS())
        guard fapl >= 0 else {
            let reason = hdf5Message()
            throw creating
                ? H5Error.createFailed(path: path, reason: reason)
                : H5Error.openFailed(path: path, reason: reason)
        }
        guard H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 else {
            let reason = hdf5Message()
            H5Pclose(fapl)
            throw creating
                ? H5Error.createFailed(path: path, reason: reason)
                : H5Error.openFailed(path: path, reason: reason)
        }
        return fapl
    }

    /// Whether the file is still open.
    public var isOpen: Bool { id >= 0 }

    /// The root group "/" (attributes set on it are the file's attributes). On a closed
    /// file every operation of the returned group throws `H5Error.fileClosed`.
    public var root: H5Group {
        prepareHDF5()
        guard isOpen else { return H5Group(file: self, path: "/", id: -1) }
        let gid = H5Gopen2(id, "/", lens_H5P_DEFAULT())
        if gid < 0 { discardHDF5Error() }
        return H5Group(file: self, path: "/", id: gid)
    }

    /// Writes buffered data to disk.
    public func flush() throws {
        try checkOpen()
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else {
            throw H5Error.failed(operation: "flush", path: "/", file: path, reason: hdf5Message())
        }
    }

    /// Closes the file and every object opened from it; calling it again does nothing.
    public func close() {
        guard id >= 0 else { return }
        prepareHDF5()
        if H5Fclose(id) < 0 { discardHDF5Error() }
        id = -1
    }

    /// Throws `fileClosed` once the file has been closed.
    func checkOpen() throws {
        prepareHDF5()
        guard isOpen else { throw H5Error.fileClosed(path: path) }
    }
}
