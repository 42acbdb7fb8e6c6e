import CHDF5
import Foundation

/// Variable-length strings read without libhdf5's global-heap reader.
///
/// libhdf5 (1.10 to 1.14) trusts the fields of a string's on-disk reference and of the global
/// heap collection it points into: a corrupted object size makes `H5Aread` copy past the
/// collection (a segfault), a free-space object of size 0 makes it parse the same bytes
/// forever (a hang), and an object index out of range makes it dereference a missing object;
/// all three were found by mutating single bytes of a checkpoint (Tests/LensCLITests/FileFuzzTests.swift).
/// For files opened for reading, the references are therefore read raw (a registered
/// conversion to an opaque type, `lens_raw_vlen_conv` in Sources/CHDF5/shim.h), every field is
/// checked, and the string's bytes are read from the file here.
struct GlobalHeapCollection {
    /// Bytes of a collection header: "GCOL", version, 3 reserved, collection size.
    static let headerSize = 16
    /// Bytes of an object header: index (2), references (2), reserved (4), size (8).
    static let objectHeaderSize = 16
    /// libhdf5's smallest collection.
    static let minimumSize = 4096
    /// The largest collection read (libhdf5 makes them 4 KiB unless one object is larger; a
    /// string attribute of 64 MiB is not one LatentLens writes).
    static let maximumSize = 64 << 20

    /// The collection's bytes, header included.
    let bytes: [UInt8]
    /// Each object's data: index → (offset in `bytes`, size).
    let objects: [Int: (start: Int, size: Int)]

    /// Reads and parses the collection at byte `offset` of `handle` the way libhdf5 does,
    /// throwing a sentence unless every object lies inside it.
    init(handle: FileHandle, offset: UInt64, fileSize: UInt64) throws {
        func corrupted(_ what: String) -> String { "the global heap collection at byte \(offset) \(what) (the file is corrupted)" }
        guard offset < fileSize, (try? handle.seek(toOffset: offset)) != nil,
              let header = try? handle.read(upToCount: Self.headerSize), header.count == Self.headerSize else {
            throw GlobalHeapError(corrupted("lies outside the file"))
        }
        let h = [UInt8](header)
        guard h[0] == 0x47, h[1] == 0x43, h[2] == 0x4F, h[3] == 0x4C, h[4] == 1 else {
            throw GlobalHeapError(corrupted("has no collection header"))
        }
        let size = littleEndian(h, 8, width: 8)
        guard size >= UInt64(Self.minimumSize), size <= UInt64(Self.maximumSize), size <= fileSize - offset else {
            throw GlobalHeapError(corrupted("declares \(size) bytes"))
        }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: Int(size)),
              data.count == Int(size) else {
            throw GlobalHeapError(corrupted("is truncated"))
        }
        bytes = [UInt8](data)
        var objects: [Int: (start: Int, size: Int)] = [:]
        var p = Self.headerSize
        while p + Self.objectHeaderSize <= bytes.count {
            let index = Int(littleEndian(bytes, p, width: 2))
            let objectSize = littleEndian(bytes, p + 8, width: 8)
            let remaining = UInt64(bytes.count - p)
            let need: UInt64
            if index > 0 {
                guard objectSize <= remaining else { throw GlobalHeapError(corrupted("has object \(index) of \(objectSize) bytes, beyond its end")) }
                need = UInt64(Self.objectHeaderSize) + ((objectSize + 7) & ~7)
            } else {
                need = objectSize  // the free space, its header included
            }
            guard need >= UInt64(Self.objectHeaderSize), need <= remaining else {
                throw GlobalHeapError(corrupted("has object \(index) of \(objectSize) bytes, which does not fit"))
            }
            if index > 0 { objects[index] = (p + Self.objectHeaderSize, Int(objectSize)) }
            p += Int(need)
        }
        self.objects = objects
    }
}

/// Why a variable-length string could not be read safely; one sentence.
struct GlobalHeapError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The unsigned little-endian number of `width` bytes at `at`.
func littleEndian(_ bytes: [UInt8], _ at: Int, width: Int) -> UInt64 {
    (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
}

extension H5File {
    /// The strings whose raw on-disk references are `raw` (`count` references of
    /// `LENS_RAW_VLEN_SIZE` bytes, as `lens_raw_vlen_conv` leaves them), each checked against
    /// its collection and read from the file.
    func strings(fromRawReferences raw: [UInt8], count: Int) throws -> [String] {
        var addressSize = 0
        var base: UInt64 = 0
        guard lens_H5_address_layout(id, &addressSize, &base) >= 0, (2...8).contains(addressSize) else {
            throw GlobalHeapError("the file's address size cannot be read")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw GlobalHeapError("the file cannot be read directly") }
        defer { try? handle.close() }
        let fileSize = (try? handle.seekToEnd()) ?? 0
        var collections: [UInt64: GlobalHeapCollection] = [:]
        let stride = Int(LENS_RAW_VLEN_SIZE)
        return try (0..<count).map { i in
            let at = i * stride
            let length = Int(littleEndian(raw, at, width: 4))
            let address = littleEndian(raw, at + 4, width: addressSize)
            let index = Int(littleEndian(raw, at + 4 + addressSize, width: 4))
            if length == 0 { return "" }
            let (offset, overflow) = address.addingReportingOverflow(base)
            guard !overflow else { throw GlobalHeapError("string \(i) points outside the file") }
            let collection: GlobalHeapCollection
            if let known = collections[offset] { collection = known } else {
                collection = try GlobalHeapCollection(handle: handle, offset: offset, fileSize: fileSize)
                collections[offset] = collection
            }
            guard let object = collection.objects[index] else {
                throw GlobalHeapError("string \(i) names object \(index) of the global heap collection at byte \(offset), which holds no such object (the file is corrupted)")
            }
            guard length <= object.size else {
                throw GlobalHeapError("string \(i) declares \(length) bytes but its heap object holds \(object.size) (the file is corrupted)")
            }
            let bytes = collection.bytes[object.start..<(object.start + length)]
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
