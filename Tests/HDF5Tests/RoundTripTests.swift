import Foundation
import LensTestSupport
import Testing
@testable import HDF5

@Suite("Dataset round trips")
struct RoundTripTests {
    @Test("every element type keeps its values and shape")
    func everyDtype() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("types.h5").path
            let floats: [Float] = [1.5, -2.25, .pi, 0, 1e-30, -7]
            let doubles: [Double] = [1.0 / 3.0, -1e300, 42]
            let int32s: [Int32] = [.min, -1, 0, 1, .max, 7, 8, 9]
            let int64s: [Int64] = [.min, .max, 0, -5]
            let bytes: [UInt8] = [0, 1, 127, 128, 255]
            do {
                let file = try H5File.create(path)
                let root = file.root
                try root.write("f32", floats, shape: [2, 3])
                try root.write("f64", doubles, shape: [3])
                try root.write("i32", int32s, shape: [2, 2, 2])
                try root.write("i64", int64s, shape: [4, 1])
                try root.write("u8", bytes, shape: [5])
                try root.write("scalar", [Double(2.5)], shape: [])
                try root.write("empty", [Float](), shape: [0, 4])
                file.close()
            }
            let file = try H5File.open(path)
            let root = file.root
            #expect(try root.read("f32", as: Float.self) == H5Array(values: floats, shape: [2, 3]))
            #expect(try root.read("f64", as: Double.self) == H5Array(values: doubles, shape: [3]))
            #expect(try root.read("i32", as: Int32.self) == H5Array(values: int32s, shape: [2, 2, 2]))
            #expect(try root.read("i64", as: Int64.self) == H5Array(values: int64s, shape: [4, 1]))
            #expect(try root.read("u8", as: UInt8.self) == H5Array(values: bytes, shape: [5]))
            #expect(try root.read("scalar", as: Double.self) == H5Array(values: [2.5], shape: []))
            #expect(try root.read("empty", as: Float.self) == H5Array(values: [], shape: [0, 4]))
            #expect(try root.dataset("f32").elementType == .float32)
            #expect(try root.dataset("f64").elementType == .float64)
            #expect(try root.dataset("i32").elementType == .int32)
            #expect(try root.dataset("i64").elementType == .int64)
            #expect(try root.dataset("u8").elementType == .uint8)
            #expect(try root.dataset("i32").shape == [2, 2, 2])
        }
    }

    @Test("generic read infers the element type")
    func inferredRead() throws {
        try withTemporaryDirectoryURL { dir in
            let file = try H5File.create(dir.appendingPathComponent("a.h5").path)
            try file.root.write("x", [Int64(3), 4], shape: [2])
            let array: H5Array<Int64> = try file.root.dataset("x").read()
            #expect(array.values == [3, 4])
        }
    }

    @Test("gzip-compressed fixed datasets round trip and report their chunking")
    func compressedFixed() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("gz.h5").path
            let values = (0..<3000).map { Float($0 % 17) * 0.5 }
            let file = try H5File.create(path)
            try file.root.write("weights", values, shape: [100, 30], compression: 6)
            let dataset = try file.root.dataset("weights")
            #expect(dataset.gzipLevel() == 6)
            #expect(dataset.chunkShape() == [100, 30])
            #expect(try dataset.read(as: Float.self).values == values)
            #expect(try file.root.dataset("weights").readRows(10..<12, as: Float.self).values
                    == Array(values[300..<360]))
        }
    }

    @Test("nested groups: create, open by path, list children")
    func nestedGroups() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("groups.h5").path
            do {
                let file = try H5File.create(path)
                let layers = try file.root.createGroup("layers")
                try layers.createGroup("1")
                let zero = try layers.createGroup("0")
                try zero.write("w", [Float(1), 2], shape: [2])
                try file.root.createGroup("deep/er/still")  // intermediate groups are created
                try file.root.write("meta/ids", [Int32(9)], shape: [1])
                #expect(zero.path == "/layers/0")
                try file.flush()
                file.close()
            }
            let file = try H5File.open(path)
            #expect(try file.root.childNames() == ["deep", "layers", "meta"])
            #expect(try file.root.group("layers").childNames() == ["0", "1"])
            let nested = try file.root.group("layers/0")
            #expect(nested.path == "/layers/0")
            #expect(try nested.read("w", as: Float.self).values == [1, 2])
            #expect(try file.root.read("layers/0/w", as: Float.self).values == [1, 2])
            #expect(try file.root.group("deep/er").contains("still"))
            #expect(try nested.group("/meta").read("ids", as: Int32.self).values == [9])
            #expect(file.root.contains("layers/0/w"))
            #expect(!file.root.contains("layers/2/w"))
            #expect(!file.root.contains("nothing"))
        }
    }

    @Test("the same file opened read-write sees earlier writes and allows more")
    func reopenReadWrite() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("rw.h5").path
            try H5File.create(path).root.write("a", [UInt8(1)], shape: [1])
            let file = try H5File.open(path, mode: .readWrite)
            try file.root.write("b", [UInt8(2)], shape: [1])
            file.close()
            file.close()  // idempotent
            #expect(try H5File.open(path).root.childNames() == ["a", "b"])
        }
    }
}
