import Foundation

/// A check of a file's global heap collections, where HDF5 keeps variable-length strings.
///
/// libhdf5 (1.10 to 1.14) trusts the sizes inside a collection: a corrupted object size makes
/// `H5Aread` copy past the collection (a segfault), and a free-space object of size 0 makes it
/// parse the same bytes forever (a hang); both were found by mutating single bytes of a
/// checkpoint (Tests/LensCLITests/FileFuzzTests.swift). Before the first variable-length
/// string of a file opened for reading is read, every collection in the file is parsed the way
/// libhdf5 parses it and refused unless each object lies inside its collection.
enum GlobalHeapCheck {
    /// Bytes of a collection header: "GCOL", version, 3 reserved, collection size (8).
    static let headerSize = 16
    /// Bytes of an object header: index (2), references (2), reserved (4), size (8).
    static let objectHeaderSize = 16
    /// libhdf5's smallest collection.
    static let minimumCollection = 4096

    /// Why the global heap of the file at `path` would crash or hang libhdf5, or nil.
    static func problem(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let fileSize = try? handle.seekToEnd(), fileSize > 0 else { return nil }
        let signature: [UInt8] = Array("GCOL".utf8)
        let window = 8 << 20
        var offset: UInt64 = 0
        var carry: [UInt8] = []
        while offset < fileSize {
            guard (try? handle.seek(toOffset: offset)) != nil,
                  let data = try? handle.read(upToCount: window), !data.isEmpty else { return nil }
            let bytes = carry + [UInt8](data)
            let base = offset - UInt64(carry.count)
            let hits: [Int] = bytes.withUnsafeBytes { buffer in
                guard let start = buffer.baseAddress else { return [] }
                var found: [Int] = [], i = 0
                // memchr finds each "G" at memory speed; the other three letters are compared here.
                while i + signature.count <= buffer.count, let hit = memchr(start + i, 0x47, buffer.count - i) {
                    let at = start.distance(to: UnsafeRawPointer(hit))
                    guard at + signature.count <= buffer.count else { break }
                    if buffer[at + 1] == 0x43 && buffer[at + 2] == 0x4F && buffer[at + 3] == 0x4C { found.append(at) }
                    i = at + 1
                }
                return found
            }
            for i in hits {
                if let problem = collectionProblem(handle: handle, at: base + UInt64(i), fileSize: fileSize) { return problem }
            }
            carry = Array(bytes.suffix(signature.count - 1))
            offset += UInt64(data.count)
        }
        return nil
    }

    /// Parses the collection whose signature is at `address`, as libhdf5's deserializer does.
    static func collectionProblem(handle: FileHandle, at address: UInt64, fileSize: UInt64) -> String? {
        guard (try? handle.seek(toOffset: address)) != nil,
              let header = try? handle.read(upToCount: headerSize), header.count == headerSize else { return nil }
        let h = [UInt8](header)
        // Not a collection header (e.g. the letters inside raw data): libhdf5 would refuse it too.
        guard h[4] == 1, h[5] == 0, h[6] == 0, h[7] == 0 else { return nil }
        let size = littleEndian(h, 8)
        guard size >= UInt64(minimumCollection), size <= fileSize - address else {
            return "its global heap collection at byte \(address) declares \(size) bytes, outside the file's \(fileSize)"
        }
        guard (try? handle.seek(toOffset: address)) != nil,
              let data = try? handle.read(upToCount: Int(size)), data.count == Int(size) else {
            return "its global heap collection at byte \(address) is truncated"
        }
        let c = [UInt8](data)
        var p = headerSize
        while p + objectHeaderSize <= c.count {
            let index = UInt16(c[p]) | UInt16(c[p + 1]) << 8
            let objectSize = littleEndian(c, p + 8)
            let remaining = UInt64(c.count - p)
            let need: UInt64
            if index > 0 {
                let (aligned, overflow) = objectSize.addingReportingOverflow(7)
                guard !overflow else { return objectProblem(address, index, objectSize) }
                need = UInt64(objectHeaderSize) + (aligned & ~7)
            } else {
                need = objectSize  // the free space, its header included
            }
            guard need >= UInt64(objectHeaderSize), need <= remaining else { return objectProblem(address, index, objectSize) }
            p += Int(need)
        }
        return nil
    }

    static func objectProblem(_ address: UInt64, _ index: UInt16, _ size: UInt64) -> String {
        "object \(index) of its global heap collection at byte \(address) declares \(size) bytes, which do not fit the collection (the file is corrupted)"
    }

    static func littleEndian(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }
}
