import Foundation
import LensTestSupport
import Testing
@testable import HDF5

@Suite("Errors")
struct ErrorTests {
    /// Runs `body`, expecting an `H5Error`, and returns it.
    private func capture(_ body: () throws -> Void) -> H5Error? {
        do {
            try body()
        } catch let error as H5Error {
            return error
        } catch {
            Issue.record("expected an H5Error, got \(error)")
            return nil
        }
        Issue.record("expected an H5Error, nothing was thrown")
        return nil
    }

    @Test("a missing file")
    func missingFile() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("nope.h5").path
            let error = capture { _ = try H5File.open(path) }
            #expect(error == .fileNotFound(path: path))
            #expect(error?.description == "cannot open \"\(path)\": no such file")
        }
    }

    /// Holds an exclusive flock on `path` (as HDF5 does for a writer) for `seconds`, from
    /// another process; returns once the lock is taken.
    private func lockFromAnotherProcess(_ path: String, seconds: Double) throws -> Process {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-x", path, "-c", "touch \(path).held; sleep \(seconds)"]
        try holder.run()
        while !FileManager.default.fileExists(atPath: path + ".held") { usleep(5_000) }
        return holder
    }

    @Test("a file locked by another process: waited for briefly, then a clear error",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock")))
    func lockedFile() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("locked.h5").path
            try H5File.create(path).root.write("a", [UInt8(1)], shape: [1])

            let brief = try lockFromAnotherProcess(path, seconds: 0.3)
            let file = try H5File.open(path, mode: .readWrite)  // waits for the lock
            #expect(try file.root.childNames() == ["a"])
            file.close()
            brief.waitUntilExit()
            try FileManager.default.removeItem(atPath: path + ".held")

            let long = try lockFromAnotherProcess(path, seconds: 1.6)
            defer { long.terminate(); long.waitUntilExit() }
            let error = capture { _ = try H5File.open(path, mode: .readWrite) }
            #expect(error?.description.contains("another process holds it locked") == true, "\(String(describing: error))")
        }
    }

    @Test("a file of garbage bytes")
    func garbage() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("garbage.h5").path
            let bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let error = capture { _ = try H5File.open(path) }
            #expect(error == .openFailed(path: path, reason: "file signature not found (not an HDF5 file?)"))
            #expect(error?.description == "cannot open \"\(path)\": file signature not found (not an HDF5 file?)")
            // An empty file is no HDF5 file either.
            let empty = dir.appendingPathComponent("empty.h5").path
            try Data().write(to: URL(fileURLWithPath: empty))
            // (HDF5 itself would quietly turn an empty file opened read-write into a new HDF5 file.)
            #expect(capture { _ = try H5File.open(empty, mode: .readWrite) }
                    == .openFailed(path: empty, reason: "the file is empty (not an HDF5 file)"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: empty)).isEmpty)
        }
    }

    @Test("a truncated HDF5 file")
    func truncated() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("cut.h5").path
            do {
                let file = try H5File.create(path)
                try file.root.write("x", (0..<20_000).map { Double($0) }, shape: [20_000])
                try file.root.setAttribute("note", "soon cut in half")
                file.close()
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
            let error = capture { _ = try H5File.open(path) }
            guard case .openFailed(path: path, let reason)? = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(reason.contains("truncated file"))
            #expect(error?.description.hasPrefix("cannot open \"\(path)\": truncated file") == true)
        }
    }

    @Test("a directory")
    func directory() throws {
        try withTemporaryDirectoryURL { dir in
            let error = capture { _ = try H5File.open(dir.path) }
            #expect(error == .openFailed(path: dir.path, reason: "it is a directory, not an HDF5 file"))
            let createError = capture { _ = try H5File.create(dir.path, overwrite: true) }
            guard case .createFailed(path: dir.path, _)? = createError else {
                Issue.record("unexpected \(String(describing: createError))")
                return
            }
        }
    }

    @Test("create refuses an existing file unless overwrite is passed")
    func createOverExisting() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("exists.h5").path
            try H5File.create(path).root.write("old", [UInt8(1)], shape: [1])
            let error = capture { _ = try H5File.create(path) }
            #expect(error == .fileExists(path: path))
            #expect(error?.description.contains("already exists") == true)
            #expect(try H5File.open(path).root.contains("old"))  // untouched
            let fresh = try H5File.create(path, overwrite: true)
            #expect(try fresh.root.childNames().isEmpty)
            // A missing parent directory: HDF5's system error comes through.
            let orphan = dir.appendingPathComponent("no/such/dir/x.h5").path
            #expect(capture { _ = try H5File.create(orphan) }
                    == .createFailed(path: orphan, reason: "No such file or directory"))
        }
    }

    @Test("missing objects, wrong kinds, duplicates and type mismatches")
    func objectErrors() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("run.h5").path
            let file = try H5File.create(path)
            try file.root.write("a", [Int32(1), 2], shape: [2])
            try file.root.createGroup("g")

            let missing = capture { _ = try file.root.read("tokens", as: Float.self) }
            #expect(missing == .missing(.dataset, path: "/tokens", file: path))
            #expect(missing?.description == "no dataset named /tokens in \(path)")
            #expect(capture { _ = try file.root.group("g/h/i") } == .missing(.group, path: "/g/h/i", file: path))

            let mismatch = capture { _ = try file.root.read("a", as: Float.self) }
            #expect(mismatch == .typeMismatch(path: "/a", file: path, stored: .int32, requested: .float32))
            #expect(mismatch?.description == "dataset /a in \(path) holds int32, asked for float32")

            #expect(capture { _ = try file.root.group("a") }?.description == "/a in \(path) is a dataset, not a group")
            #expect(capture { _ = try file.root.dataset("g") }
                    == .wrongKind(path: "/g", file: path, expected: .dataset, actual: "group"))
            #expect(capture { try file.root.write("a", [Int32(3)], shape: [1]) }
                    == .alreadyExists(path: "/a", file: path))
            #expect(capture { try file.root.createGroup("g") } == .alreadyExists(path: "/g", file: path))

            let shape = capture { try file.root.write("b", [Float(1), 2, 3], shape: [2, 2]) }
            #expect(shape?.description
                    == "shape mismatch for dataset /b in \(path): 3 values do not fill shape [2, 2] (4 elements)")
            #expect(!file.root.contains("b"))
        }
    }

    @Test("objects fail cleanly once their file is closed")
    func useAfterClose() throws {
        try withTemporaryDirectoryURL { dir in
            let path = dir.appendingPathComponent("closed.h5").path
            let file = try H5File.create(path)
            let group = try file.root.createGroup("g")
            let dataset = try file.root.createExtendableDataset("d", of: Float.self, rowShape: [1], chunkRows: 1)
            file.close()
            #expect(!file.isOpen)
            #expect(capture { _ = try group.childNames() } == .fileClosed(path: path))
            #expect(capture { try dataset.append([1], rows: 1) } == .fileClosed(path: path))
            #expect(capture { _ = try file.root.attribute("x") } == .fileClosed(path: path))
            #expect(capture { try file.flush() } == .fileClosed(path: path))
            #expect(!group.contains("anything"))
            // The file is really closed: it can be reopened for writing at once.
            let again = try H5File.open(path, mode: .readWrite)
            #expect(try again.root.childNames() == ["d", "g"])
        }
    }
}
