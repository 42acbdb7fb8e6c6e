import Foundation
import LensTestSupport
import Outputs
import Testing

@Suite struct OutputFileTests {
    func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func read(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    @Test func anExistingFileNeedsForceAndIsReplacedOnlyAtCommit() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/out.json"
            try write("old", path)
            #expect(throws: OutputError.exists(path: path, what: "--json")) {
                try OutputFile(path, what: "--json", force: false)
            }
            let output = try OutputFile(path, force: true)
            #expect(output.destination == .replacing)
            let temporary = output.begin()
            try write("new", temporary)
            #expect(try read(path) == "old", "the old file must stay until the new one is complete")
            try output.commit()
            #expect(try read(path) == "new")
            #expect(!FileManager.default.fileExists(atPath: temporary))
        }
    }

    /// A reader that opened the old file keeps reading it after the replacement (rename, not
    /// truncation), as an h5py notebook reading yesterday's activation file would.
    @Test func anOpenReaderKeepsTheOldFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/d.h5"
            try write("yesterday", path)
            let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? reader.close() }
            try OutputFile(path, force: true).write("today")
            #expect(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) == "yesterday")
            #expect(try read(path) == "today")
        }
    }

    @Test func anInputIsRefusedUnderAnyName() throws {
        try withTemporaryDirectory { dir in
            let model = dir + "/model.h5"
            try write("weights", model)
            try FileManager.default.createSymbolicLink(atPath: dir + "/alias.h5", withDestinationPath: model)
            for spelling in [model, dir + "/./model.h5", dir + "/alias.h5"] {
                #expect(throws: OutputError.self) { try OutputFile(spelling, force: true, inputs: [model]) }
            }
            #expect(try read(model) == "weights")
        }
    }

    @Test func aLinkIsFollowedAndKept() throws {
        try withTemporaryDirectory { dir in
            try write("old", dir + "/target.json")
            try FileManager.default.createSymbolicLink(atPath: dir + "/link.json", withDestinationPath: dir + "/target.json")
            try OutputFile(dir + "/link.json", force: true).write("new")
            #expect(try read(dir + "/target.json") == "new")
            let kind = try FileManager.default.attributesOfItem(atPath: dir + "/link.json")[.type] as? FileAttributeType
            #expect(kind == .typeSymbolicLink)
        }
    }

    @Test func foldersMissingFoldersAndDevicesAreRefusedOrWrittenInPlace() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: OutputError.isFolder(path: dir, what: "--out")) { try OutputFile(dir, what: "--out", force: true) }
            #expect(throws: OutputError.noFolder(path: dir + "/no/x.h5", what: "--out", folder: dir + "/no")) {
                try OutputFile(dir + "/no/x.h5", what: "--out", force: false)
            }
            #expect(throws: OutputError.notAFile(path: "/dev/null", what: "--out")) {
                try OutputFile("/dev/null", what: "--out", force: true)
            }
            // A stream is written in place: /dev/null stays a character device.
            let output = try OutputFile("/dev/null", force: false, allowsStream: true)
            #expect(output.destination == .stream)
            try output.write("{}\n")
            let kind = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
            #expect(kind == .typeCharacterSpecial)
        }
    }

    @Test func anUnwritableFolderIsFoundBeforeTheWork() throws {
        // Root may write anywhere but not on a read-only file system; /proc stands in for one.
        #expect(throws: OutputError.self) { try OutputFile("/proc/latentlens-test.json", force: false) }
        try withTemporaryDirectory { dir in
            guard getuid() != 0 else { return }  // root ignores the folder's mode
            try FileManager.default.createDirectory(atPath: dir + "/locked", withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o555])
            #expect(throws: OutputError.self) { try OutputFile(dir + "/locked/x.json", force: false) }
        }
    }

    /// Temporaries of processes that are gone are removed; those of running ones are left.
    @Test func staleTemporariesAreRemoved() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/m.h5"
            let (status, output) = try runProcess("/bin/sh", ["-c", "echo $$"])
            #expect(status == 0)
            let deadPID = Int32(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(deadPID > 0)
            let stale = path + ".tmp-\(deadPID)", live = path + ".tmp-1", other = dir + "/n.h5.tmp-\(deadPID)"
            for file in [stale, live, other] { try write("x", file) }
            let temporary = OutputFile(checked: path).begin()
            #expect(!FileManager.default.fileExists(atPath: stale))
            #expect(FileManager.default.fileExists(atPath: live), "pid 1 runs: its temporary is not ours to remove")
            #expect(FileManager.default.fileExists(atPath: other), "another output's temporary is left alone")
            #expect(temporary == path + ".tmp-\(getpid())")
        }
    }

    /// An unfinished output goes to the path when it is free, else beside it, replacing nothing.
    @Test func anUnfinishedOutputIsKeptWithoutReplacingAnything() throws {
        try withTemporaryDirectory { dir in
            let fresh = try OutputFile(dir + "/a.h5", force: false)
            try write("partial", fresh.begin())
            #expect(fresh.keepUnfinished() == dir + "/a.h5")

            try write("yesterday", dir + "/b.h5")
            let replacing = try OutputFile(dir + "/b.h5", force: true)
            try write("partial", replacing.begin())
            #expect(replacing.keepUnfinished() == dir + "/b.partial.h5")
            #expect(try read(dir + "/b.h5") == "yesterday")
            #expect(try read(dir + "/b.partial.h5") == "partial")
        }
    }

    /// A report's or timeline's folder is made with its parents; its files follow the file rules.
    @Test func filesInAFolderMakeTheFolderAndFollowTheFileRules() throws {
        try withTemporaryDirectory { dir in
            let outputs = try OutputFile.inFolder(dir + "/a/b", names: ["x.json", "y.html"], what: "--out", force: false)
            #expect(outputs.map(\.path) == [dir + "/a/b/x.json", dir + "/a/b/y.html"])
            #expect(outputs.allSatisfy { $0.destination == .new })
            try outputs[0].write("{}")
            #expect(throws: OutputError.exists(path: dir + "/a/b/x.json", what: "--out")) {
                try OutputFile.inFolder(dir + "/a/b", names: ["x.json"], what: "--out", force: false)
            }
            #expect(throws: OutputError.notAFolder(path: dir + "/a/b/x.json", what: "--out")) {
                try OutputFile.inFolder(dir + "/a/b/x.json", names: ["y.html"], what: "--out", force: true)
            }
        }
    }

    @Test func aFailedWriteNamesThePathAndReplacesNothing() throws {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let output = try OutputFile("/dev/full", force: false, allowsStream: true)
        #expect(throws: OutputError.writeFailed(path: "/dev/full", reason: String(cString: strerror(ENOSPC)))) {
            try output.write("x")
        }
    }
}
