import Foundation
import LensTestSupport
import Testing
@testable import HDF5

@Suite("Extendable datasets and slices")
struct ExtendableTests {
    @Test("append 3 rows, close, reopen read-write, append 2 more, read 5")
    func appendAcrossReopen() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("acts.h5").path
            let rows = (0..<5).map { row in (0..<4).map { Float(row * 10 + $0) } }
            do {
                let file = try H5File.create(path)
                let acts = try file.root.createExtendableDataset(
                    "activations", of: Float.self, rowShape: [4], chunkRows: 2)
                #expect(acts.shape == [0, 4])
                try acts.append(Array(rows[0..<3].joined()), rows: 3)
                #expect(acts.shape == [3, 4])
                file.close()
            }
            do {
                let file = try H5File.open(path, mode: .readWrite)
                let acts = try file.root.dataset("activations")
                #expect(acts.shape == [3, 4])
                let more = Array(rows[3..<5].joined())
                try more.withUnsafeBufferPointer { try acts.append($0, rows: 2) }
                file.close()
            }
            let file = try H5File.open(path)
            let all = try file.root.read("activations", as: Float.self)
            #expect(all.shape == [5, 4])
            #expect(all.values == Array(rows.joined()))
        }
    }

    @Test("gzip-compressed extendable dataset round trip")
    func compressedExtendable() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("gz.h5").path
            var expected: [Int64] = []
            do {
                let file = try H5File.create(path)
                let tokens = try file.root.createExtendableDataset(
                    "runs/tokens", of: Int64.self, rowShape: [3, 2], chunkRows: 8, compression: 4)
                for batch in 0..<7 {
                    let values = (0..<(batch * 6)).map { Int64(batch * 1000 + $0) }
                    try tokens.append(values, rows: batch)
                    expected += values
                }
                file.close()
            }
            let file = try H5File.open(path)
            let tokens = try file.root.dataset("runs/tokens")
            #expect(tokens.shape == [21, 3, 2])
            #expect(tokens.gzipLevel() == 4)
            #expect(tokens.chunkShape() == [8, 3, 2])
            #expect(try tokens.read(as: Int64.self).values == expected)
        }
    }

    @Test("hyperslab and row reads match hand-computed values")
    func slices() throws {
        try withTemporaryDirectoryURL { dir in
            let file = try H5File.create(dir.appendingPathComponent("s.h5").path)
            // value at [i, j, k] = 100 i + 10 j + k, shape [3, 4, 5]
            var cube: [Int32] = []
            for i in 0..<3 { for j in 0..<4 { for k in 0..<5 { cube.append(Int32(100 * i + 10 * j + k)) } } }
            try file.root.write("cube", cube, shape: [3, 4, 5])
            let dataset = try file.root.dataset("cube")

            let slice = try dataset.readSlice(start: [1, 2, 3], count: [2, 2, 2], as: Int32.self)
            #expect(slice.shape == [2, 2, 2])
            #expect(slice.values == [123, 124, 133, 134, 223, 224, 233, 234])

            let column = try dataset.readSlice(start: [0, 3, 4], count: [3, 1, 1], as: Int32.self)
            #expect(column.values == [34, 134, 234])

            let rows = try dataset.readRows(2..<3, as: Int32.self)
            #expect(rows.shape == [1, 4, 5])
            #expect(rows.values.first == 200)
            #expect(rows.values.last == 234)
            #expect(rows.values.count == 20)

            let none = try dataset.readRows(1..<1, as: Int32.self)
            #expect(none.shape == [0, 4, 5] && none.values.isEmpty)

            #expect(throws: H5Error.self) { try dataset.readSlice(start: [2, 0, 0], count: [2, 1, 1], as: Int32.self) }
            #expect(throws: H5Error.self) { try dataset.readSlice(start: [0, 0], count: [1, 1], as: Int32.self) }
        }
    }

    @Test("append checks the number of values and the element type")
    func appendValidation() throws {
        try withTemporaryDirectoryURL { dir in
            let file = try H5File.create(dir.appendingPathComponent("v.h5").path)
            let dataset = try file.root.createExtendableDataset("x", of: Double.self, rowShape: [2], chunkRows: 4)
            do {
                try dataset.append([1.0, 2.0, 3.0], rows: 2)
                Issue.record("expected a shape mismatch")
            } catch let error as H5Error {
                guard case .shapeMismatch(path: "/x", _, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(error.description.contains("3 values do not make 2 rows of shape [2]"))
            }
            #expect(throws: H5Error.typeMismatch(path: "/x", file: file.path, stored: .float64, requested: .float32)) {
                try dataset.append([Float(1), 2], rows: 1)
            }
            #expect(dataset.shape == [0, 2])
            #expect(throws: H5Error.self) {
                try file.root.createExtendableDataset("y", of: Float.self, rowShape: [2], chunkRows: 0)
            }
            #expect(throws: H5Error.self) {
                try file.root.createExtendableDataset("y", of: Float.self, rowShape: [2], chunkRows: 2, compression: 10)
            }
            // A fixed-size dataset cannot grow: HDF5's own message comes through.
            try file.root.write("fixed", [Double(1), 2], shape: [1, 2])
            do {
                try file.root.dataset("fixed").append([3.0, 4.0], rows: 1)
                Issue.record("expected appending to a fixed dataset to fail")
            } catch let error as H5Error {
                #expect(error.description.hasPrefix("cannot append rows to /fixed in "))
            }
        }
    }

    @Test("direct writes: resize, write slabs in place, shrink; refused with compression")
    func directWrites() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("d.h5").path
            do {
                let file = try H5File.create(path)
                // [rows, 2 slots, 3]: one row per chunk, each slot written separately as the recorder does.
                let d = try file.root.createExtendableDataset("x", of: Float.self, rowShape: [2, 3], chunkRows: 1, directWrites: true)
                try d.resize(rows: 2)
                #expect(d.shape == [2, 2, 3])
                for slot in 0..<2 {
                    let values = (0..<6).map { Float(100 * slot + $0) }  // rows 0 and 1 of this slot
                    try values.withUnsafeBufferPointer { try d.write($0, start: [0, slot, 0], count: [2, 1, 3]) }
                }
                try d.append([Float](repeating: 7, count: 6), rows: 1)
                try d.resize(rows: 4)
                try d.resize(rows: 3)  // drops the row never written
                #expect(throws: H5Error.self) {
                    try [Float(1), 2, 3].withUnsafeBufferPointer { try d.write($0, start: [3, 0, 0], count: [1, 1, 3]) }
                }
                #expect(throws: H5Error.self) {
                    try [Float(1), 2].withUnsafeBufferPointer { try d.write($0, start: [0, 0, 0], count: [1, 1, 3]) }
                }
                #expect(throws: H5Error.self) {
                    try file.root.createExtendableDataset("y", of: Float.self, rowShape: [2], chunkRows: 1, compression: 4, directWrites: true)
                }
                file.close()
            }
            let file = try H5File.open(path)
            let x = try file.root.read("x", as: Float.self)
            #expect(x.shape == [3, 2, 3])
            #expect(x.values == [0, 1, 2, 100, 101, 102, 3, 4, 5, 103, 104, 105] + [Float](repeating: 7, count: 6))
        }
    }
}
