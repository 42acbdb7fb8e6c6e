import Foundation
import HDF5
import Recording
import Testing
import Transformer

/// The output rules of every command (README "Errors and recovery"): outputs are checked before
/// the work, written aside and renamed at the end; inputs are never overwritten; a device or FIFO
/// is written in place, never replaced.
@Suite struct OutputSafetyTests {
    /// A folder with a tiny model and the three slot sweeps the heads analysis reads.
    func workspace() throws -> String {
        let dir = try scratchDirectory()
        #expect(try runLens(["init", "--config", "tiny", "--out", "m.h5"], in: dir).status == 0)
        for slot in ["slot_var0", "slot_var1", "slot_var2"] {
            let run = try runLens(["run", slot, "--model", "m.h5", "--hooks", "blocks.*.attn.hook_z,blocks.*.attn.hook_pattern",
                                   "--positions", "probe", "--out", slot + ".h5", "--quiet"], in: dir)
            #expect(run.status == 0, "\(run.error)")
        }
        return dir
    }

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    func leftovers(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") || $0.contains(".partial") }
    }

    @Test func anInputIsNeverAnOutput() throws {
        let dir = try workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = bytes(dir + "/m.h5"), dump = bytes(dir + "/slot_var0.h5")
        let cases: [[String]] = [
            ["run", "slot_var0", "--model", "m.h5", "--hooks", "hook_embed", "--out", "m.h5", "--force"],
            ["run", "slot_var0", "--model", "m.h5", "--hooks", "hook_embed", "--out", "./m.h5", "--force"],
            ["analyze", "heads", "slot_var0.h5", "slot_var1.h5", "slot_var2.h5", "--json", "slot_var0.h5", "--force"],
            ["analyze", "heads", "slot_var0.h5", "slot_var1.h5", "slot_var2.h5", "--model", "m.h5", "--json", "m.h5", "--force"],
        ]
        for arguments in cases {
            let result = try runLens(arguments, in: dir)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains("is also an input of this command"), "\(result.error)")
        }
        #expect(bytes(dir + "/m.h5") == model && bytes(dir + "/slot_var0.h5") == dump)
    }

    @Test func anExistingJSONNeedsForceAndADeviceIsWrittenInPlace() throws {
        let dir = try workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let analyze = ["analyze", "heads", "slot_var0.h5", "slot_var1.h5", "slot_var2.h5", "--causal", "0", "--json"]
        _ = FileManager.default.createFile(atPath: dir + "/notes.json", contents: Data("mine".utf8))
        let refused = try runLens(analyze + ["notes.json"], in: dir)
        #expect(refused.status == 2 && refused.error.contains("already exists; pass --force"), "\(refused.error)")
        #expect(bytes(dir + "/notes.json") == Data("mine".utf8))
        #expect(try runLens(analyze + ["notes.json", "--force"], in: dir).status == 0)
        #expect(bytes(dir + "/notes.json").map { String(decoding: $0, as: UTF8.self).contains("\"heads\"") } == true)

        #expect(try runLens(analyze + ["/dev/null"], in: dir).status == 0)
        let kind = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        #expect(kind == .typeCharacterSpecial, "/dev/null was replaced")
        // A failed write is one line naming the path, with status 1.
        let full = try runLens(analyze + ["/dev/full"], in: dir)
        #expect(full.status == 1 && full.error.contains("error: writing /dev/full failed: "), "\(full.error)")
        #expect(!full.error.contains("NSCocoaErrorDomain"))
        #expect(try leftovers(dir).isEmpty)
    }

    /// A missing folder, a folder, or a folder that cannot be written is refused before any work.
    @Test func outputLocationsAreCheckedBeforeTheWork() throws {
        let dir = try scratchDirectory()  // the checks come before any input is read
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let train = ["train", "--config", "tiny", "--steps", "1000000", "--curriculum", "none", "--min-nodes", "4", "--max-nodes", "6", "--leaves", "3"]
        for (out, says) in [("nowhere/m.h5", "does not exist"), (".", "is a folder"), ("/proc/m.h5", "is not writable")] {
            let started = Date()
            let result = try runLens(train + ["--out", out], in: dir)
            #expect(result.status == 2 && result.error.contains(says), "\(out): \(result.error)")
            #expect(Date().timeIntervalSince(started) < 10, "\(out) was found only after training started")
        }
        // A report's or timeline's folder is made with its parents (reports/demo on a fresh
        // clone), before the work; one that cannot be made is found then.
        let report = try runLens(["report", "slot_var0.h5", "--out", "/proc/latentlens/report"], in: dir)
        #expect(report.status == 2 && report.error.contains("the folder could not be made"), "\(report.error)")
        let made = try runLens(["report", "missing.h5", "--out", "new/report"], in: dir)
        #expect(made.status == 2 && made.error.contains("missing.h5"), "\(made.error)")
        #expect(FileManager.default.fileExists(atPath: dir + "/new/report"))
        let json = try runLens(["analyze", "heads", "slot_var0.h5", "--json", "nowhere/a.json"], in: dir)
        #expect(json.status == 2 && json.error.contains("does not exist"), "\(json.error)")
    }

    /// A fresh run does not replace another run's resume state; continuing a run replaces its own.
    @Test func trainingReplacesOnlyItsOwnRun() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fresh = ["train", "--config", "tiny", "--out", "t.h5", "--curriculum", "none", "--min-nodes", "4", "--max-nodes", "6",
                     "--leaves", "3", "--steps", "4", "--checkpoint-every", "2", "--log-every", "100", "--eval-every", "0"]
        _ = FileManager.default.createFile(atPath: dir + "/t.h5.resume.h5", contents: Data("someone's state".utf8))
        let refused = try runLens(fresh, in: dir)
        #expect(refused.status == 2 && refused.error.contains("the resume state of --out"), "\(refused.error)")
        #expect(bytes(dir + "/t.h5.resume.h5") == Data("someone's state".utf8))
        try FileManager.default.removeItem(atPath: dir + "/t.h5.resume.h5")
        let first = try runLens(fresh, in: dir)
        #expect(first.status == 0, "\(first.error)")
        // Continuing: --steps may grow on resume; the run's own files are replaced.
        let more = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "t.h5", "--steps", "6"], in: dir)
        #expect(more.status == 0, "\(more.error)")
        // --out may not be the state the run starts from.
        let onto = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "t.h5.resume.h5", "--steps", "8"], in: dir)
        #expect(onto.status == 2 && onto.error.contains("is also an input"), "\(onto.error)")
        // Branching to another --out that exists needs --force.
        _ = FileManager.default.createFile(atPath: dir + "/b.h5", contents: Data("mine".utf8))
        let branch = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "b.h5", "--steps", "8"], in: dir)
        #expect(branch.status == 2 && branch.error.contains("already exists"), "\(branch.error)")
        #expect(try leftovers(dir).isEmpty)
    }

    /// Replacing an activation file someone is reading leaves their open file intact, and two runs to one
    /// path both leave a complete file rather than one corrupt one.
    @Test func replacingAnActivationFileKeepsItsReadersAndConcurrentRunsDoNotCorruptIt() throws {
        let dir = try workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reader = try ActivationReader(path: dir + "/slot_var0.h5")
        defer { reader.close() }
        let before = try reader.activations("blocks.0.attn.hook_z", iteration: 0)
        let run = ["run", "slot_var1", "--model", "m.h5", "--hooks", "blocks.0.attn.hook_z", "--out", "slot_var0.h5", "--force", "--quiet"]
        let (a, _, aErr) = try startLens(run, in: dir)
        let (b, _, bErr) = try startLens(run, in: dir)
        let aMessage = String(decoding: aErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let bMessage = String(decoding: bErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        a.waitUntilExit()
        b.waitUntilExit()
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(aMessage) \(bMessage)")
        // The old file, still open here, reads as before.
        #expect(try reader.activations("blocks.0.attn.hook_z", iteration: 0) == before)
        let replaced = try ActivationReader(path: dir + "/slot_var0.h5", requireComplete: true)
        defer { replaced.close() }
        #expect(replaced.attribute("probe") == "slot_var1")
        #expect(try leftovers(dir).isEmpty)
    }

    /// A checkpoint save killed mid-write leaves PATH.tmp-PID; the next save of PATH removes it.
    @Test func temporariesOfKilledProcessesAreRemoved() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (process, _, _) = try startLens(tinyTraining, in: dir)
        #expect(waitForFile(dir + "/t.h5", seconds: 30))
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        process.waitUntilExit()
        // Whether or not the kill landed mid-save, plant what such a kill leaves.
        for name in ["t.h5", "t.h5.resume.h5"] {
            _ = FileManager.default.createFile(atPath: dir + "/\(name).tmp-\(pid)", contents: Data(count: 4096))
        }
        let resumed = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "t.h5", "--stop-after", "20"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        let left = try leftovers(dir)
        #expect(left.isEmpty, "\(left)")
    }
}
