import Foundation
import LensTestSupport
import Testing
@testable import HDF5

private let h5dumpPath = "/usr/bin/h5dump"

@Suite("Interoperability with the HDF5 tools")
struct InteropTests {
    /// Writes a small file exercising datasets and every attribute kind.
    private func writeSample(_ path: String) throws {
        let file = try H5File.create(path)
        defer { file.close() }
        try file.root.setAttribute("model", "tiny-gpt")
        try file.root.setAttribute("n_layers", 2)
        try file.root.setAttribute("labels", ["alpha", "beta"])
        let group = try file.root.createGroup("layers/0")
        try group.write("bias", [Float(1.5), -2.5, 3.25], shape: [3])
        let tokens = try file.root.createExtendableDataset("tokens", of: Int64.self, rowShape: [2],
                                                           chunkRows: 4, compression: 5)
        try tokens.append([Int64]([11, 12, 13, 14]), rows: 2)
    }

    @Test("h5dump reads what the wrapper writes",
          .enabled(if: FileManager.default.isExecutableFile(atPath: h5dumpPath),
                   "h5dump is not installed (apt-get install hdf5-tools)"))
    func h5dump() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("dump.h5").path
            try writeSample(path)
            let (status, output) = try runProcess(h5dumpPath, [path])
            #expect(status == 0, "h5dump failed: \(output)")
            for expected in ["\"tiny-gpt\"", "H5T_CSET_UTF8", "STRSIZE H5T_VARIABLE", "\"alpha\", \"beta\"",
                             "H5T_STD_I64LE", "H5T_IEEE_F32LE", "1.5, -2.5, 3.25",
                             "DATASET \"tokens\"", "DATASPACE  SIMPLE { ( 2, 2 ) / ( H5S_UNLIMITED, 2 ) }",
                             "(0,0): 11, 12,", "(1,0): 13, 14"] {
                #expect(output.contains(expected), "h5dump output lacks \(expected):\n\(output)")
            }
            let (_, properties) = try runProcess(h5dumpPath, ["-p", "-d", "/tokens", path])
            #expect(properties.contains("DEFLATE { LEVEL 5 }"), "\(properties)")
        }
    }

    @Test("h5py reads what the wrapper writes",
          .enabled(if: pythonWithH5py != nil, "no python with h5py and numpy; skipping the h5py check"))
    func h5py() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("py.h5").path
            try writeSample(path)
            let script = """
            import sys, h5py
            f = h5py.File(sys.argv[1], "r")
            assert f.attrs["model"] == "tiny-gpt", repr(f.attrs["model"])
            assert isinstance(f.attrs["model"], str)
            assert int(f.attrs["n_layers"]) == 2
            assert list(f.attrs["labels"]) == ["alpha", "beta"], repr(f.attrs["labels"])
            assert f["layers/0/bias"][:].tolist() == [1.5, -2.5, 3.25]
            assert f["tokens"][:].tolist() == [[11, 12], [13, 14]]
            assert f["tokens"].maxshape == (None, 2) and f["tokens"].compression == "gzip"
            print("h5py ok")
            """
            let (status, output) = try runProcess(try #require(pythonWithH5py), ["-c", script, path])
            #expect(status == 0, "h5py check failed: \(output)")
            #expect(output.contains("h5py ok"))
        }
    }

    @Test("the wrapper reads what h5py writes",
          .enabled(if: pythonWithH5py != nil, "no python with h5py and numpy; skipping the h5py check"))
    func fromH5py() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("from-py.h5").path
            let script = """
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "w") as f:
                f.attrs["name"] = "probe"
                f.attrs["fixed"] = np.bytes_("abc")
                f.attrs["count"] = 7
                f.attrs["ratio"] = 0.25
                f.attrs["ids"] = [1, 2, 3]
                f.attrs["flag"] = True
                f.create_dataset("x", data=np.arange(6, dtype=np.float32).reshape(2, 3))
                f.create_dataset("h", data=np.arange(3, dtype=np.int16))
                f.create_dataset("grow", data=np.ones((4, 2)), maxshape=(None, 2), chunks=(2, 2), compression="gzip")
            """
            let (status, output) = try runProcess(try #require(pythonWithH5py), ["-c", script, path])
            try #require(status == 0, "h5py failed: \(output)")
            let file = try H5File.open(path)
            #expect(try file.root.stringAttribute("name") == "probe")
            #expect(try file.root.stringAttribute("fixed") == "abc")
            #expect(try file.root.intAttribute("count") == 7)
            #expect(try file.root.doubleAttribute("ratio") == 0.25)
            #expect(try file.root.attribute("ids") == .ints([1, 2, 3]))
            #expect(throws: H5Error.self) { try file.root.attribute("flag") }  // h5py stores bools as enums
            #expect(try file.root.read("x", as: Float.self) == H5Array(values: [0, 1, 2, 3, 4, 5], shape: [2, 3]))
            #expect(try file.root.dataset("h").elementType == .other("int16"))
            let grow = try file.root.dataset("grow")
            #expect(grow.gzipLevel() == 4 && grow.chunkShape() == [2, 2])
            try #require(try file.root.read("grow", as: Double.self).values == Array(repeating: 1, count: 8))
            let nodes = try file.tree()
            #expect(nodes.map(\.path) == ["/", "/grow", "/h", "/x"])
            #expect(nodes[0].attributes.map(\.0) == ["count", "fixed", "ids", "name", "ratio"])
        }
    }
}
