import CHDF5

/// The value of an attribute. Integers are stored as int64, reals as float64 and strings as
/// variable-length UTF-8 (h5py reads them as `str`); single values use a scalar dataspace.
public enum H5AttributeValue: Sendable, Equatable, CustomStringConvertible {
    /// One integer (stored as int64).
    case int(Int)
    /// One real (stored as float64).
    case double(Double)
    /// One string.
    case string(String)
    /// A 1-D integer array.
    case ints([Int])
    /// A 1-D real array.
    case doubles([Double])
    /// A 1-D string array.
    case strings([String])

    /// The value as Swift would print it.
    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .ints(let values): return values.description
        case .doubles(let values): return values.description
        case .strings(let values): return values.description
        }
    }
}

extension H5Object {
    /// Sets attribute `name`, replacing any existing attribute of that name.
    public func setAttribute(_ name: String, _ value: H5AttributeValue) throws {
        try checkOpen()
        let exists = H5Aexists(id, name)
        guard exists >= 0 else { throw failure("set attribute \(name) on") }
        if exists > 0 {
            guard H5Adelete(id, name) >= 0 else { throw failure("replace attribute \(name) on") }
        }
        switch value {
        case .int(let value):
            try createAttribute(name, [Int64(value)], scalar: true, type: lens_H5T_NATIVE_INT64())
        case .ints(let values):
            try createAttribute(name, values.map { Int64($0) }, scalar: false, type: lens_H5T_NATIVE_INT64())
        case .double(let value):
            try createAttribute(name, [value], scalar: true, type: lens_H5T_NATIVE_DOUBLE())
        case .doubles(let values):
            try createAttribute(name, values, scalar: false, type: lens_H5T_NATIVE_DOUBLE())
        case .string(let value):
            try createStringAttribute(name, [value], scalar: true)
        case .strings(let values):
            try createStringAttribute(name, values, scalar: false)
        }
    }

    /// Sets a string attribute (variable-length UTF-8).
    public func setAttribute(_ name: String, _ value: String) throws {
        try setAttribute(name, .string(value))
    }

    /// Sets an integer attribute (int64).
    public func setAttribute(_ name: String, _ value: Int) throws {
        try setAttribute(name, .int(value))
    }

    /// Sets a real attribute (float64).
    public func setAttribute(_ name: String, _ value: Double) throws {
        try setAttribute(name, .double(value))
    }

    /// Sets a one-dimensional integer attribute (int64).
    public func setAttribute(_ name: String, _ values: [Int]) throws {
        try setAttribute(name, .ints(values))
    }

    /// Sets a one-dimensional real attribute (float64).
    public func setAttribute(_ name: String, _ values: [Double]) throws {
        try setAttribute(name, .doubles(values))
    }

    /// Sets a one-dimensional string attribute (variable-length UTF-8).
    public func setAttribute(_ name: String, _ values: [String]) throws {
        try setAttribute(name, .strings(values))
    }

    /// The attribute `name`, or nil when there is none. Integer attributes of any width read
    /// as `.int`/`.ints`, reals as `.double`/`.doubles`, strings (variable or fixed length)
    /// as `.string`/`.strings`; other types throw.
    public func attribute(_ name: String) throws -> H5AttributeValue? {
        try checkOpen()
        let exists = H5Aexists(id, name)
        guard exists >= 0 else { throw failure("look up attribute \(name) of") }
        guard exists > 0 else { return nil }
        let attr = H5Aopen(id, name, lens_H5P_DEFAULT())
        guard attr >= 0 else { throw failure("open attribute \(name) of") }
        defer { H5Aclose(attr) }
        let type = H5Aget_type(attr)
        guard type >= 0 else { throw failure("read attribute \(name) of") }
        defer { H5Tclose(type) }
        let space = H5Aget_space(attr)
        guard space >= 0 else { throw failure("read attribute \(name) of") }
        defer { H5Sclose(space) }

        let spaceClass = H5Sget_simple_extent_type(space)
        guard spaceClass != H5S_NULL else {
            throw H5Error.failed(operation: "read attribute \(name) of", path: path, file: file.path,
                                 reason: "the attribute has no value (null dataspace)")
        }
        let scalar = spaceClass == H5S_SCALAR
        let count = Int(H5Sget_simple_extent_npoints(space))
        guard count >= 0 else { throw failure("read attribute \(name) of") }
        // The dataspace's extent sizes our buffer: it must fit the bytes the attribute stores
        // (a variable-length element stores at least its 16-byte heap reference).
        let stored = Int(clamping: H5Aget_storage_size(attr))
        let variable = H5Tis_variable_str(type) > 0 || H5Tget_class(type) == H5T_VLEN
        let elementSize = variable ? 16 : max(Int(H5Tget_size(type)), 1)
        let (needed, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, needed <= stored else {
            throw H5Error.openFailed(path: file.path, reason: "the attribute \(name) of \(path) declares \(count) values but stores only \(stored) bytes (the file is corrupted)")
        }

        switch H5Tget_class(type) {
        case H5T_INTEGER:
            let values = try readNumbers(attr, name, count: count, type: lens_H5T_NATIVE_INT64(), as: Int64.self)
            return scalar ? .int(Int(values.first ?? 0)) : .ints(values.map { Int($0) })
        case H5T_FLOAT:
            let values = try readNumbers(attr, name, count: count, type: lens_H5T_NATIVE_DOUBLE(), as: Double.self)
            return scalar ? .double(values.first ?? 0) : .doubles(values)
        case H5T_STRING:
            let values = try readStrings(attr, name, count: count, type: type, space: space)
            return scalar ? .string(values.first ?? "") : .strings(values)
        default:
            throw H5Error.failed(operation: "read attribute \(name) of", path: path, file: file.path,
                                 reason: "unsupported attribute type \(H5ElementType(hdf5: type))")
        }
    }

    /// The integer attribute `name`, or nil when missing or not a single integer.
    public func intAttribute(_ name: String) throws -> Int? {
        if case .int(let value)? = try attribute(name) { return value }
        return nil
    }

    /// The real attribute `name` (integers convert), or nil when missing or not a single number.
    public func doubleAttribute(_ name: String) throws -> Double? {
        switch try attribute(name) {
        case .double(let value)?: return value
        case .int(let value)?: return Double(value)
        default: return nil
        }
    }

    /// The string attribute `name`, or nil when missing or not a single string.
    public func stringAttribute(_ name: String) throws -> String? {
        if case .string(let value)? = try attribute(name) { return value }
        return nil
    }

    /// The names of this object's attributes, in name order.
    public func attributeNames() throws -> [String] {
        try checkOpen()
        let count = lens_H5_attribute_count(id)
        guard count >= 0 else { throw failure("list attributes of") }
        var names: [String] = []
        for index in 0..<hsize_t(count) {
            let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, lens_H5P_DEFAULT())
            guard length >= 0 else { throw failure("list attributes of") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index,
                                     &buffer, buffer.count, lens_H5P_DEFAULT()) >= 0 else {
                throw failure("list attributes of")
            }
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    // MARK: Plumbing

    /// Creates attribute `name` holding `values` (one scalar, or a 1-D array).
    private func createAttribute<T: BitwiseCopyable>(_ name: String, _ values: [T], scalar: Bool,
                                                     type: hid_t) throws {
        try values.withUnsafeBytes { bytes in
            try createAttribute(name, count: values.count, scalar: scalar, fileType: type, memType: type,
                                data: bytes.baseAddress)
        }
    }

    /// Creates attribute `name` holding variable-length UTF-8 strings.
    private func createStringAttribute(_ name: String, _ values: [String], scalar: Bool) throws {
        let type = try variableStringType(cset: H5T_CSET_UTF8, for: name)
        defer { H5Tclose(type) }
        let pointers = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        try pointers.withUnsafeBufferPointer { buffer in
            try createAttribute(name, count: values.count, scalar: scalar, fileType: type, memType: type,
                                data: UnsafeRawPointer(buffer.baseAddress))
        }
    }

    private func createAttribute(_ name: String, count: Int, scalar: Bool, fileType: hid_t, memType: hid_t,
                                 data: UnsafeRawPointer?) throws {
        var extent = [hsize_t(count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &extent, nil)
        guard space >= 0 else { throw failure("set attribute \(name) on") }
        defer { H5Sclose(space) }
        let attr = H5Acreate2(id, name, fileType, space, lens_H5P_DEFAULT(), lens_H5P_DEFAULT())
        guard attr >= 0 else { throw failure("set attribute \(name) on") }
        defer { H5Aclose(attr) }
        if count > 0 {
            guard H5Awrite(attr, memType, data) >= 0 else { throw failure("write attribute \(name) on") }
        }
    }

    /// A new variable-length string type in character set `cset`; the caller closes it.
    private func variableStringType(cset: H5T_cset_t, for name: String) throws -> hid_t {
        let type = H5Tcopy(lens_H5T_C_S1())
        guard type >= 0 else { throw failure("make a string type for attribute \(name) of") }
        guard H5Tset_size(type, lens_H5T_VARIABLE()) >= 0, H5Tset_cset(type, cset) >= 0 else {
            let error = failure("make a string type for attribute \(name) of")
            H5Tclose(type)
            throw error
        }
        return type
    }

    private func readNumbers<T: BitwiseCopyable>(_ attr: hid_t, _ name: String, count: Int, type: hid_t,
                                                 as: T.Type) throws -> [T] {
        guard count > 0 else { return [] }
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Aread(attr, type, buffer.baseAddress)
            initialized = status >= 0 ? count : 0
        }
        guard status >= 0 else { throw failure("read attribute \(name) of") }
        return values
    }

    private func readStrings(_ attr: hid_t, _ name: String, count: Int, type: hid_t, space: hid_t) throws -> [String] {
        guard count > 0 else { return [] }
        let variable = H5Tis_variable_str(type)
        guard variable >= 0 else { throw failure("read attribute \(name) of") }
        if variable > 0 {
            // libhdf5 trusts the references and sizes of a file's global heap, and a corrupted
            // one crashes or hangs it: files opened for reading give their references raw and
            // the strings are read after checks (Sources/HDF5/GlobalHeapCheck.swift). A file
            // opened for writing may hold strings libhdf5 has not flushed yet.
            if file.mode == .readOnly {
                let rawType = lens_raw_vlen_type()
                guard rawType >= 0 else { throw failure("read attribute \(name) of") }
                defer { H5Tclose(rawType) }
                var raw = [UInt8](repeating: 0, count: count * Int(LENS_RAW_VLEN_SIZE))
                guard H5Aread(attr, rawType, &raw) >= 0 else { throw failure("read attribute \(name) of") }
                do { return try file.strings(fromRawReferences: raw, count: count) } catch let error as GlobalHeapError {
                    throw H5Error.openFailed(path: file.path, reason: "the string attribute \(name) of \(path) cannot be read: \(error)")
                }
            }
            // Read in the stored character set: HDF5 will not convert between ASCII and UTF-8.
            let memType = try variableStringType(cset: H5Tget_cset(type), for: name)
            defer { H5Tclose(memType) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Aread(attr, memType, &pointers) >= 0 else { throw failure("read attribute \(name) of") }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            if lens_H5_reclaim(memType, space, &pointers) < 0 { discardHDF5Error() }
            return strings
        }
        let size = H5Tget_size(type)
        guard size > 0 else { throw failure("read attribute \(name) of") }
        var bytes = [UInt8](repeating: 0, count: size * count)
        guard H5Aread(attr, type, &bytes) >= 0 else { throw failure("read attribute \(name) of") }
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        return (0..<count).map { index in
            var field = bytes[(index * size)..<((index + 1) * size)]
            if let end = field.firstIndex(of: 0) { field = field[..<end] }
            if spacePadded { while field.last == 0x20 { field = field.dropLast() } }
            return String(decoding: field, as: UTF8.self)
        }
    }
}
