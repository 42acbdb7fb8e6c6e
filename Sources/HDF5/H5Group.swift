import CHDF5

/// A group: a folder of datasets and other groups. Names may be nested paths ("a/b");
/// names starting with "/" are taken from the file's root.
public final class H5Group: H5Object {
    /// What a name resolves to inside this group.
    enum Lookup: Equatable {
        case absent
        case object(kind: H5ObjectKind)
        case unsupported(String)
    }

    /// Resolves `name` without raising HDF5 errors for missing intermediate links.
    func lookup(_ name: String) -> Lookup {
        guard id >= 0, file.isOpen else { return .absent }
        var prefix = name.hasPrefix("/") ? "/" : ""
        for component in name.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix == "/") ? String(component) : "/" + component
            if H5Lexists(id, prefix, lens_H5P_DEFAULT()) <= 0 {
                discardHDF5Error()
                return .absent
            }
        }
        let type = lens_H5_object_type(id, name.isEmpty ? "." : name)
        if type < 0 {
            discardHDF5Error()
            return .absent  // e.g. a dangling soft link
        }
        switch H5O_type_t(rawValue: type) {
        case H5O_TYPE_GROUP: return .object(kind: .group)
        case H5O_TYPE_DATASET: return .object(kind: .dataset)
        case H5O_TYPE_NAMED_DATATYPE: return .unsupported("named datatype")
        default: return .unsupported("object of unknown type")
        }
    }

    /// Throws `missing` or `wrongKind` unless `name` is an object of `kind`.
    func require(_ kind: H5ObjectKind, _ name: String) throws {
        let target = joinPath(path, name)
        switch lookup(name) {
        case .absent:
            throw H5Error.missing(kind, path: target, file: file.path)
        case .object(let found) where found == kind:
            return
        case .object(let found):
            throw H5Error.wrongKind(path: target, file: file.path, expected: kind, actual: found.rawValue)
        case .unsupported(let what):
            throw H5Error.wrongKind(path: target, file: file.path, expected: kind, actual: what)
        }
    }

    /// A link-creation property list that creates missing intermediate groups.
    func intermediateGroupsList(_ target: String) throws -> hid_t {
        let lcpl = H5Pcreate(lens_H5P_LINK_CREATE())
        guard lcpl >= 0 else { throw failure("create", target) }
        guard H5Pset_create_intermediate_group(lcpl, 1) >= 0 else {
            let error = failure("create", target)
            H5Pclose(lcpl)
            throw error
        }
        return lcpl
    }

    /// Throws `alreadyExists` when something is linked at `name`.
    func requireAbsent(_ name: String) throws {
        if lookup(name) != .absent {
            throw H5Error.alreadyExists(path: joinPath(path, name), file: file.path)
        }
    }

    /// Creates a group (and any missing parents) named `name`.
    @discardableResult
    public func createGroup(_ name: String) throws -> H5Group {
        try checkOpen()
        let target = joinPath(path, name)
        try requireAbsent(name)
        let lcpl = try intermediateGroupsList(target)
        defer { H5Pclose(lcpl) }
        let gid = H5Gcreate2(id, name, lcpl, lens_H5P_DEFAULT(), lens_H5P_DEFAULT())
        guard gid >= 0 else { throw failure("create group", target) }
        return H5Group(file: file, path: target, id: gid)
    }

    /// Opens the existing group `name`.
    public func group(_ name: String) throws -> H5Group {
        try checkOpen()
        try require(.group, name)
        let target = joinPath(path, name)
        let gid = H5Gopen2(id, name, lens_H5P_DEFAULT())
        guard gid >= 0 else { throw failure("open group", target) }
        return H5Group(file: file, path: target, id: gid)
    }

    /// Removes the link `name` (a dataset or group) from this group.
    public func remove(_ name: String) throws {
        try checkOpen()
        guard H5Ldelete(id, name, lens_H5P_DEFAULT()) >= 0 else { throw failure("remove", joinPath(path, name)) }
    }

    /// Whether a group or dataset named `name` exists (false on a closed file).
    public func contains(_ name: String) -> Bool {
        guard (try? checkOpen()) != nil else { return false }
        return lookup(name) != .absent
    }

    /// The names of this group's direct children, in name order.
    public func childNames() throws -> [String] {
        try checkOpen()
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else { throw failure("list group") }
        var names: [String] = []
        names.reserveCapacity(Int(info.nlinks))
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index,
                                            nil, 0, lens_H5P_DEFAULT())
            guard length >= 0 else { throw failure("list group") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index,
                                     &buffer, buffer.count, lens_H5P_DEFAULT()) >= 0 else {
                throw failure("list group")
            }
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) },
                                as: UTF8.self))
        }
        return names
    }

    /// Opens the existing dataset `name`.
    public func dataset(_ name: String) throws -> H5Dataset {
        try checkOpen()
        try require(.dataset, name)
        let target = joinPath(path, name)
        let did = H5Dopen2(id, name, lens_H5P_DEFAULT())
        guard did >= 0 else { throw failure("open dataset", target) }
        return try H5Dataset.wrap(file: file, path: target, id: did)
    }

    /// Reads the whole dataset `name`; its stored type must be `T` (see `H5Scalar`).
    public func read<T: H5Scalar>(_ name: String, as type: T.Type = T.self) throws -> H5Array<T> {
        try dataset(name).read(as: type)
    }

    /// Writes `values` (row-major, filling `shape`; [] is a scalar) as a new fixed-size
    /// dataset `name`: contiguous, or chunked and gzip-compressed at level `compression`.
    ///
    /// `shuffle` adds HDF5's byte-shuffle filter before gzip: float bytes grouped by significance
    /// compress far better (weights and Adam moments: ≈ 20 % smaller instead of ≈ 5 %).
    public func write<T: H5Scalar>(_ name: String, _ values: [T], shape: [Int],
                                   compression: Int? = nil, shuffle: Bool = false) throws {
        try checkOpen()
        let target = joinPath(path, name)
        try checkGzipLevel(compression)
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw H5Error.invalidArgument("shape \(shape) of \(target) has a negative extent")
        }
        guard values.count == elementCount(shape) else {
            throw H5Error.shapeMismatch(
                path: target, file: file.path,
                reason: "\(values.count) values do not fill shape \(shape) (\(elementCount(shape)) elements)")
        }
        guard let memType = T.h5ElementType.nativeType else {
            throw H5Error.invalidArgument("\(T.h5ElementType) has no native HDF5 type")
        }
        try requireAbsent(name)

        let space = shape.isEmpty
            ? H5Screate(H5S_SCALAR)
            : H5Screate_simple(Int32(shape.count), dims(shape), nil)
        guard space >= 0 else { throw failure("create dataset", target) }
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(lens_H5P_DATASET_CREATE())
        guard dcpl >= 0 else { throw failure("create dataset", target) }
        defer { H5Pclose(dcpl) }
        // Chunks must be non-empty and fit fixed dimensions, so empty arrays stay contiguous.
        if let level = compression, !shape.isEmpty, elementCount(shape) > 0 {
            let chunk = chunkShape(for: shape, elementSize: MemoryLayout<T>.stride)
            guard H5Pset_chunk(dcpl, Int32(chunk.count), chunk) >= 0,
                  !shuffle || H5Pset_shuffle(dcpl) >= 0,
                  H5Pset_deflate(dcpl, UInt32(level)) >= 0 else {
                throw failure("set up compression for", target)
            }
        }
        let lcpl = try intermediateGroupsList(target)
        defer { H5Pclose(lcpl) }

        let did = H5Dcreate2(id, name, memType, space, lcpl, dcpl, lens_H5P_DEFAULT())
        guard did >= 0 else { throw failure("create dataset", target) }
        defer { H5Dclose(did) }
        guard !values.isEmpty else { return }
        let status = values.withUnsafeBytes { bytes in
            H5Dwrite(did, memType, lens_H5S_ALL(), lens_H5S_ALL(), lens_H5P_DEFAULT(), bytes.baseAddress)
        }
        guard status >= 0 else {
            let error = failure("write dataset", target)
            if H5Ldelete(id, name, lens_H5P_DEFAULT()) < 0 { discardHDF5Error() }
            throw error
        }
    }

    /// Creates an empty dataset `name` of `T` rows shaped `rowShape`, growable along its
    /// first axis with `append`; chunks hold `chunkRows` rows, gzip level `compression`.
    ///
    /// `directWrites` (uncompressed only) turns off this handle's chunk cache and fill values, so
    /// that writes go from the caller's buffer straight to the file instead of through a cached
    /// copy of each chunk; rows never written then read as whatever the file held, not zeros.
    public func createExtendableDataset<T: H5Scalar>(
        _ name: String, of type: T.Type, rowShape: [Int], chunkRows: Int, compression: Int? = nil,
        directWrites: Bool = false
    ) throws -> H5Dataset {
        try checkOpen()
        let target = joinPath(path, name)
        try checkGzipLevel(compression)
        guard !(directWrites && compression != nil) else {
            throw H5Error.invalidArgument("\(target) cannot have direct writes and compression: compressing needs the chunk cache")
        }
        guard chunkRows >= 1 else {
            throw H5Error.invalidArgument("chunkRows for \(target) must be at least 1, got \(chunkRows)")
        }
        guard rowShape.allSatisfy({ $0 >= 1 }) else {
            throw H5Error.invalidArgument("row shape \(rowShape) of \(target) must have extents of at least 1")
        }
        guard let memType = T.h5ElementType.nativeType else {
            throw H5Error.invalidArgument("\(T.h5ElementType) has no native HDF5 type")
        }
        try requireAbsent(name)

        let current = dims([0] + rowShape)
        let maximum = [lens_H5S_UNLIMITED()] + dims(rowShape)
        let space = H5Screate_simple(Int32(current.count), current, maximum)
        guard space >= 0 else { throw failure("create dataset", target) }
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(lens_H5P_DATASET_CREATE())
        guard dcpl >= 0 else { throw failure("create dataset", target) }
        defer { H5Pclose(dcpl) }
        let chunk = dims([chunkRows] + rowShape)
        guard H5Pset_chunk(dcpl, Int32(chunk.count), chunk) >= 0 else {
            throw failure("set up chunking for", target)
        }
        if let level = compression {
            guard H5Pset_deflate(dcpl, UInt32(level)) >= 0 else { throw failure("set up compression for", target) }
        }
        let dapl = H5Pcreate(lens_H5P_DATASET_ACCESS())
        guard dapl >= 0 else { throw failure("create dataset", target) }
        defer { H5Pclose(dapl) }
        if directWrites {
            // A chunk the cache cannot hold, with no fill value to write first, is written in place.
            guard H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0,
                  H5Pset_chunk_cache(dapl, lens_H5D_CHUNK_CACHE_NSLOTS_DEFAULT(), 0, 1) >= 0 else {
                throw failure("set up direct writes for", target)
            }
        }
        let lcpl = try intermediateGroupsList(target)
        defer { H5Pclose(lcpl) }

        let did = H5Dcreate2(id, name, memType, space, lcpl, dcpl, dapl)
        guard did >= 0 else { throw failure("create dataset", target) }
        return try H5Dataset.wrap(file: file, path: target, id: did)
    }
}

/// Chunk extents for compressing a fixed-size array: whole rows, about 1 MiB per chunk.
func chunkShape(for shape: [Int], elementSize: Int) -> [hsize_t] {
    let rest = Array(shape.dropFirst())
    let rowBytes = max(1, elementCount(rest) * elementSize)
    let rows = max(1, min(shape[0], (1 << 20) / rowBytes))
    return dims([rows] + rest.map { max(1, $0) })
}
