import CHDF5

/// A group or dataset inside an open file: the common home of attributes.
public class H5Object {
    /// The file the object lives in (kept open while the object is referenced).
    public let file: H5File
    /// The object's absolute path inside the file, like "/layers/0/weights".
    public let path: String
    /// The HDF5 object id (-1 when the object could not be opened).
    let id: hid_t

    init(file: H5File, path: String, id: hid_t) {
        self.file = file
        self.path = path
        self.id = id
    }

    deinit {
        // After the file closed (strong close degree) HDF5 has already closed the object.
        if id >= 0 && file.isOpen {
            if H5Oclose(id) < 0 { discardHDF5Error() }
        }
    }

    /// Throws unless both the file and this object are usable.
    func checkOpen() throws {
        try file.checkOpen()
        guard id >= 0 else {
            throw H5Error.failed(operation: "use", path: path, file: file.path,
                                 reason: "the object could not be opened")
        }
    }

    /// An error for a failed HDF5 call, carrying HDF5's message.
    func failure(_ operation: String, _ target: String? = nil) -> H5Error {
        .failed(operation: operation, path: target ?? path, file: file.path, reason: hdf5Message())
    }
}
