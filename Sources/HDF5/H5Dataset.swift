import CHDF5

/// A dataset: an n-dimensional array of one element type.
public final class H5Dataset: H5Object {
    /// The stored element type.
    public let elementType: H5ElementType
    /// The current extent of each axis ([] for a scalar); grows with `append`.
    public private(set) var shape: [Int]

    private init(file: H5File, path: String, id: hid_t, elementType: H5ElementType, shape: [Int]) {
        self.elementType = elementType
        self.shape = shape
        super.init(file: file, path: path, id: id)
    }

    /// Wraps the open dataset id `id`, closing it if its type or extent cannot be read.
    static func wrap(file: H5File, path: String, id: hid_t) throws -> H5Dataset {
        let type = H5Dget_type(id)
        let space = H5Dget_space(id)
        defer {
            if type >= 0 { H5Tclose(type) }
            if space >= 0 { H5Sclose(space) }
        }
        guard type >= 0, space >= 0, let shape = spaceShape(space) else {
            let error = H5Error.failed(operation: "inspect dataset", path: path, file: file.path,
                                       reason: hdf5Message())
            H5Dclose(id)
            throw error
        }
        return H5Dataset(file: file, path: path, id: id, elementType: H5ElementType(hdf5: type), shape: shape)
    }

    /// Re-reads the extent from the file (another handle may have appended rows).
    private func refreshShape() throws {
        let space = H5Dget_space(id)
        guard space >= 0 else { throw failure("read the shape of dataset") }
        defer { H5Sclose(space) }
        guard let current = spaceShape(space) else { throw failure("read the shape of dataset") }
        shape = current
    }

    /// Throws `typeMismatch` unless the stored type is `T`; returns T's native HDF5 type.
    private func nativeType<T: H5Scalar>(for type: T.Type) throws -> hid_t {
        guard elementType == T.h5ElementType, let native = T.h5ElementType.nativeType else {
            throw H5Error.typeMismatch(path: path, file: file.path, stored: elementType, requested: T.h5ElementType)
        }
        return native
    }

    /// Bytes the dataset occupies in the file (compressed size for filtered datasets; 0 when
    /// nothing was written).
    public var storageBytes: Int { id >= 0 ? Int(clamping: H5Dget_storage_size(id)) : 0 }

    /// The file offset of a contiguous dataset's bytes; nil for chunked or unwritten datasets.
    public var storageOffset: Int? {
        guard id >= 0 else { return nil }
        let offset = H5Dget_offset(id)
        if offset == haddr_t.max { discardHDF5Error(); return nil }
        return Int(exactly: offset)
    }

    /// Reads of more than this many bytes are checked against `storageBytes` first.
    static let unverifiedReadBytes = 64 << 20

    /// Why reading this dataset whole would allocate more than the file honestly holds, or nil.
    ///
    /// The extent must have a representable size, and a dataset of more than 64 MiB must store
    /// at least 1/1100 of its bytes: deflate never compresses better than about 1032 : 1, so a
    /// smaller store means unwritten or crafted storage behind a huge declared extent.
    public func storageProblem() -> String? {
        if let problem = storageProblem(reading: shape) { return problem }
        // A contiguous or compact dataset's recorded size must be its extent's: libhdf5 1.10
        // copies the extent's bytes out of a buffer of the recorded size (a corrupted layout
        // message crashed it).
        if !isChunked, let elements = checkedElementCount(shape), storedElementSize > 0 {
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: storedElementSize)
            if overflow || storageBytes != bytes {
                return "records \(storageBytes) bytes of storage for an extent \(shape) of \(overflow ? "more" : String(bytes)) bytes (the file is corrupted)"
            }
        }
        return nil
    }

    /// Whether the dataset's bytes are stored in chunks (else in one block or in its header).
    var isChunked: Bool {
        let plist = H5Dget_create_plist(id)
        guard plist >= 0 else { discardHDF5Error(); return false }
        defer { H5Pclose(plist) }
        return H5Pget_layout(plist) == H5D_CHUNKED
    }

    /// Bytes one element takes in the file.
    var storedElementSize: Int {
        let type = H5Dget_type(id)
        guard type >= 0 else { discardHDF5Error(); return 0 }
        defer { H5Tclose(type) }
        return Int(H5Tget_size(type))
    }

    /// Why reading a block of `count` elements per axis would allocate more than the file
    /// honestly holds, or nil (see `storageProblem()`).
    func storageProblem(reading count: [Int]) -> String? {
        let width = elementType.byteWidth
        guard let elements = checkedElementCount(count), case let (bytes, false) = elements.multipliedReportingOverflow(by: width) else {
            return "declares the extent \(count), whose size does not fit in memory"
        }
        guard bytes > H5Dataset.unverifiedReadBytes else { return nil }
        let stored = storageBytes
        let (bound, overflow) = stored.multipliedReportingOverflow(by: 1100)
        if !overflow && bound < bytes {
            return "declares \(count == shape ? "the extent" : "a block of") \(count) (\(bytes) bytes) but the file stores only \(stored) bytes of it (unwritten, truncated or crafted)"
        }
        return nil
    }

    /// Throws `shapeMismatch` when reading `count` elements would allocate more than the
    /// dataset honestly holds (see `storageProblem()`).
    private func checkReadable(count: [Int]) throws {
        if let problem = storageProblem(reading: count) ?? (isChunked ? nil : storageProblem()) {
            throw H5Error.shapeMismatch(path: path, file: file.path, reason: "the dataset \(problem)")
        }
    }

    /// Reads the whole dataset; its stored type must be `T`.
    public func read<T: H5Scalar>(as type: T.Type = T.self) throws -> H5Array<T> {
        try checkOpen()
        let memType = try nativeType(for: type)
        try refreshShape()
        try checkReadable(count: shape)
        let count = elementCount(shape)
        let values = try readValues(count: count, memType: memType, memSpace: lens_H5S_ALL(),
                                    fileSpace: lens_H5S_ALL(), as: T.self)
        return H5Array(values: values, shape: shape)
    }

    /// Reads the hyperslab of `count` elements per axis starting at `start`.
    public func readSlice<T: H5Scalar>(start: [Int], count: [Int], as type: T.Type = T.self) throws -> H5Array<T> {
        try checkOpen()
        let memType = try nativeType(for: type)
        try refreshShape()
        guard start.count == shape.count, count.count == shape.count else {
            throw H5Error.shapeMismatch(
                path: path, file: file.path,
                reason: "slice start \(start) and count \(count) must both have \(shape.count) axes like shape \(shape)")
        }
        try checkReadable(count: count)
        for axis in shape.indices {
            guard start[axis] >= 0, count[axis] >= 0, start[axis] <= shape[axis], count[axis] <= shape[axis] - start[axis] else {
                throw H5Error.shapeMismatch(
                    path: path, file: file.path,
                    reason: "slice start \(start) count \(count) falls outside shape \(shape)")
            }
        }
        let total = elementCount(count)
        if shape.isEmpty || total == 0 {
            let values = try readValues(count: total, memType: memType, memSpace: lens_H5S_ALL(),
                                        fileSpace: lens_H5S_ALL(), as: T.self)
            return H5Array(values: values, shape: count)
        }
        let fileSpace = H5Dget_space(id)
        guard fileSpace >= 0 else { throw failure("select a slice of dataset") }
        defer { H5Sclose(fileSpace) }
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, dims(start), nil, dims(count), nil) >= 0 else {
            throw failure("select a slice of dataset")
        }
        let memSpace = H5Screate_simple(Int32(count.count), dims(count), nil)
        guard memSpace >= 0 else { throw failure("select a slice of dataset") }
        defer { H5Sclose(memSpace) }
        let values = try readValues(count: total, memType: memType, memSpace: memSpace,
                                    fileSpace: fileSpace, as: T.self)
        return H5Array(values: values, shape: count)
    }

    /// Reads the rows `range` of the first axis (all of the other axes).
    public func readRows<T: H5Scalar>(_ range: Range<Int>, as type: T.Type = T.self) throws -> H5Array<T> {
        try checkOpen()
        try refreshShape()
        guard !shape.isEmpty else {
            throw H5Error.shapeMismatch(path: path, file: file.path, reason: "a scalar dataset has no rows")
        }
        let rest = Array(shape.dropFirst())
        return try readSlice(start: [range.lowerBound] + rest.map { _ in 0 },
                             count: [range.count] + rest, as: type)
    }

    /// Runs H5Dread for `count` elements into a new array.
    private func readValues<T: H5Scalar>(count: Int, memType: hid_t, memSpace: hid_t, fileSpace: hid_t,
                                         as type: T.Type) throws -> [T] {
        guard count > 0 else { return [] }
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(id, memType, memSpace, fileSpace, lens_H5P_DEFAULT(), buffer.baseAddress)
            initialized = status >= 0 ? count : 0
        }
        guard status >= 0 else { throw failure("read dataset") }
        return values
    }

    /// Appends `rows` rows (row-major `values`) along the first, unlimited axis.
    public func append<T: H5Scalar>(_ values: [T], rows: Int) throws {
        try values.withUnsafeBufferPointer { try append($0, rows: rows) }
    }

    /// Appends `rows` rows read straight from `values`, without copying them first.
    public func append<T: H5Scalar>(_ values: UnsafeBufferPointer<T>, rows: Int) throws {
        try checkOpen()
        let memType = try nativeType(for: T.self)
        try refreshShape()
        guard !shape.isEmpty else {
            throw H5Error.shapeMismatch(path: path, file: file.path, reason: "cannot append rows to a scalar")
        }
        let rowShape = Array(shape.dropFirst())
        guard rows >= 0, values.count == rows * elementCount(rowShape) else {
            throw H5Error.shapeMismatch(
                path: path, file: file.path,
                reason: "\(values.count) values do not make \(rows) rows of shape \(rowShape)")
        }
        guard rows > 0 else { return }
        let oldShape = shape
        let newShape = [oldShape[0] + rows] + rowShape
        guard H5Dset_extent(id, dims(newShape)) >= 0 else { throw failure("append rows to") }
        do {
            let fileSpace = H5Dget_space(id)
            guard fileSpace >= 0 else { throw failure("append rows to") }
            defer { H5Sclose(fileSpace) }
            let start = [oldShape[0]] + rowShape.map { _ in 0 }
            let count = [rows] + rowShape
            guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, dims(start), nil, dims(count), nil) >= 0 else {
                throw failure("append rows to")
            }
            let memSpace = H5Screate_simple(Int32(count.count), dims(count), nil)
            guard memSpace >= 0 else { throw failure("append rows to") }
            defer { H5Sclose(memSpace) }
            guard H5Dwrite(id, memType, memSpace, fileSpace, lens_H5P_DEFAULT(), values.baseAddress) >= 0 else {
                throw failure("append rows to")
            }
        } catch {
            // Undo the extension so a failed append leaves no rows of fill values behind.
            if H5Dset_extent(id, dims(oldShape)) < 0 { discardHDF5Error() }
            throw error
        }
        shape = newShape
    }

    /// Sets the extent of the first, unlimited axis to `rows` (growing leaves the new rows
    /// unwritten; shrinking drops the last rows).
    public func resize(rows: Int) throws {
        try checkOpen()
        try refreshShape()
        guard !shape.isEmpty, rows >= 0 else {
            throw H5Error.shapeMismatch(path: path, file: file.path, reason: "cannot give \(rows) rows to shape \(shape)")
        }
        let newShape = [rows] + shape.dropFirst()
        guard H5Dset_extent(id, dims(newShape)) >= 0 else { throw failure("resize") }
        shape = newShape
    }

    /// Writes row-major `values` into the hyperslab of `count` elements per axis starting at
    /// `start`, straight from the caller's memory; the slab must lie inside the current shape.
    public func write<T: H5Scalar>(_ values: UnsafeBufferPointer<T>, start: [Int], count: [Int]) throws {
        try checkOpen()
        let memType = try nativeType(for: T.self)
        try refreshShape()
        guard start.count == shape.count, count.count == shape.count, !shape.isEmpty,
              shape.indices.allSatisfy({ start[$0] >= 0 && count[$0] >= 1 && start[$0] + count[$0] <= shape[$0] }) else {
            throw H5Error.shapeMismatch(path: path, file: file.path,
                                        reason: "slab start \(start) count \(count) falls outside shape \(shape)")
        }
        guard values.count == elementCount(count) else {
            throw H5Error.shapeMismatch(path: path, file: file.path,
                                        reason: "\(values.count) values do not fill a slab of \(count)")
        }
        let fileSpace = H5Dget_space(id)
        guard fileSpace >= 0 else { throw failure("write a slab of") }
        defer { H5Sclose(fileSpace) }
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, dims(start), nil, dims(count), nil) >= 0 else {
            throw failure("write a slab of")
        }
        let memSpace = H5Screate_simple(Int32(count.count), dims(count), nil)
        guard memSpace >= 0 else { throw failure("write a slab of") }
        defer { H5Sclose(memSpace) }
        guard H5Dwrite(id, memType, memSpace, fileSpace, lens_H5P_DEFAULT(), values.baseAddress) >= 0 else {
            throw failure("write a slab of")
        }
    }

    /// The chunk extents, or nil for contiguous or compact storage.
    func chunkShape() -> [Int]? {
        let dcpl = H5Dget_create_plist(id)
        guard dcpl >= 0 else { discardHDF5Error(); return nil }
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
        var chunk = [hsize_t](repeating: 0, count: max(1, shape.count))
        let rank = H5Pget_chunk(dcpl, Int32(chunk.count), &chunk)
        guard rank >= 0 else { discardHDF5Error(); return nil }
        return chunk.prefix(Int(rank)).map { Int($0) }
    }

    /// The gzip (deflate) level, or nil when the dataset is not gzip-compressed.
    func gzipLevel() -> Int? {
        let dcpl = H5Dget_create_plist(id)
        guard dcpl >= 0 else { discardHDF5Error(); return nil }
        defer { H5Pclose(dcpl) }
        let filters = H5Pget_nfilters(dcpl)
        guard filters > 0 else { return nil }
        for index in 0..<UInt32(filters) {
            var flags: UInt32 = 0
            var valueCount = 8
            var values = [UInt32](repeating: 0, count: valueCount)
            var name = [CChar](repeating: 0, count: 64)
            var config: UInt32 = 0
            let filter = H5Pget_filter2(dcpl, index, &flags, &valueCount, &values, name.count, &name, &config)
            if filter == H5Z_FILTER_DEFLATE {
                return valueCount > 0 ? Int(values[0]) : nil
            }
        }
        return nil
    }
}
