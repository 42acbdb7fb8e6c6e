import CHDF5

/// HDF5's own message for the failure just reported on this thread (innermost entry of the
/// error stack), with the stack cleared afterwards.
func hdf5Message() -> String {
    var buffer = [CChar](repeating: 0, count: 1024)
    let length = lens_H5_error_message(&buffer, buffer.count)
    guard length > 0 else { return "unknown HDF5 error" }
    let text = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // System-call failures read "unable to open file: name = ..., errno = 2,
    // error message = 'No such file or directory', ..."; keep the useful part.
    if let range = text.range(of: "error message = '"),
       let end = text[range.upperBound...].firstIndex(of: "'") {
        return String(text[range.upperBound..<end])
    }
    return text
}

/// Forgets an expected failure (e.g. a probe that returned "no").
func discardHDF5Error() {
    lens_H5_clear_errors()
}

/// Silences HDF5's automatic error printing for the calling thread (once per thread).
func prepareHDF5() {
    lens_H5_silence_errors()
}

/// Joins an object path and a child name; names starting with "/" are absolute.
func joinPath(_ base: String, _ name: String) -> String {
    if name.hasPrefix("/") { return name }
    let trimmed = name.hasSuffix("/") && name.count > 1 ? String(name.dropLast()) : name
    return base == "/" ? "/" + trimmed : base + "/" + trimmed
}

/// The number of elements of an array with `shape` (1 for a scalar), or nil when the product
/// overflows `Int` (a corrupted or crafted extent).
func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for size in shape {
        guard size >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        if overflow { return nil }
        count = product
    }
    return count
}

/// The number of elements of an array with `shape` (1 for a scalar); only for shapes this
/// process made or already checked with `checkedElementCount`.
func elementCount(_ shape: [Int]) -> Int {
    checkedElementCount(shape) ?? Int.max
}

/// `shape` as HDF5 dimension sizes.
func dims(_ shape: [Int]) -> [hsize_t] {
    shape.map { hsize_t($0) }
}

/// The extent of the dataspace `space`: [] for a scalar or null dataspace.
func spaceShape(_ space: hid_t) -> [Int]? {
    let rank = H5Sget_simple_extent_ndims(space)
    guard rank >= 0 else { return nil }
    if rank == 0 { return [] }
    var sizes = [hsize_t](repeating: 0, count: Int(rank))
    guard H5Sget_simple_extent_dims(space, &sizes, nil) >= 0 else { return nil }
    return sizes.map { Int($0) }
}

/// Validates a gzip level.
func checkGzipLevel(_ level: Int?) throws {
    if let level, !(0...9).contains(level) {
        throw H5Error.invalidArgument("gzip compression level must be in 0...9, got \(level)")
    }
}
