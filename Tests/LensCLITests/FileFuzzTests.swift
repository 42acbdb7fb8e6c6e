import Foundation
import HDF5
import Testing

/// Byte mutations of a small checkpoint and a small activation file, each loaded by `lens` in a
/// child process: every outcome must be exit 0, or exit 1 or 2 with one line on standard error
/// — never a signal, a hang or a backtrace. LATENTLENS_FILE_FUZZ_CASES sets the mutants per file
/// (default 12, a few seconds; `make fuzz` runs more).
@Suite(.serialized) struct FileFuzzTests {
    static var cases: Int { ProcessInfo.processInfo.environment["LATENTLENS_FILE_FUZZ_CASES"].flatMap(Int.init) ?? 12 }

    /// SplitMix64: a fixed, seedable stream, so a failing case can be replayed.
    struct Mix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Byte offsets of `path` outside the contiguous tensors' data, where a mutation reaches
    /// libhdf5's metadata (superblock, object headers, heaps, B-trees) rather than numbers.
    static func metadataOffsets(_ path: String, size: Int) throws -> [Int] {
        let file = try H5File.open(path)
        defer { file.close() }
        var data = [Bool](repeating: false, count: size)
        for node in try file.tree() where node.kind == .dataset {
            let dataset = try file.root.dataset(node.path)
            guard let offset = dataset.storageOffset else { continue }
            for i in offset..<min(size, offset + dataset.storageBytes) { data[i] = true }
        }
        return data.indices.filter { !data[$0] }
    }

    /// Outcome of one child: nil when clean, else what went wrong.
    static func problem(of arguments: [String], in directory: String, timeout: TimeInterval = 30) throws -> String? {
        let (process, out, err) = try startLens(arguments, in: directory)
        let deadline = Date().addingTimeInterval(timeout)
        // Drain both pipes while waiting, so a chatty child cannot block on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }  // written once, read after group.wait()
        let errorData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            _ = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            group.wait()
            return "still running after \(Int(timeout)) s (a hang)"
        }
        process.waitUntilExit()
        group.wait()
        let error = String(decoding: errorData.data, as: UTF8.self)
        let lines = error.split(separator: "\n")
        if process.terminationReason == .uncaughtSignal {
            return "killed by signal \(process.terminationStatus): \(lines.first ?? "")"
        }
        switch process.terminationStatus {
        case 0: return nil
        case 1, 2:
            guard lines.count == 1, lines[0].hasPrefix("error: ") else {
                return "exit \(process.terminationStatus) with \(lines.count) lines on stderr: \(lines.prefix(3).joined(separator: " | "))"
            }
            return nil
        default:
            return "exit \(process.terminationStatus): \(lines.prefix(3).joined(separator: " | "))"
        }
    }

    /// Mutates `original` `cases` times (1 to 4 bytes at metadata offsets) into dir/name and runs
    /// each command on it; failing mutants are kept beside it as name.caseN.h5.
    static func fuzz(_ original: String, name: String, commands: [[String]], seed: UInt64, in dir: String) throws -> [String] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let offsets = try metadataOffsets(original, size: bytes.count)
        #expect(!offsets.isEmpty)
        var mix = Mix(state: seed)
        var failures: [String] = []
        for c in 0..<cases {
            var mutant = bytes
            for _ in 0..<(1 + mix.below(4)) {
                let at = offsets[mix.below(offsets.count)]
                mutant[at] = mix.below(10) < 7 ? UInt8(mix.below(256)) : mutant[at] ^ UInt8(1 << mix.below(8))
            }
            try Data(mutant).write(to: URL(fileURLWithPath: dir + "/" + name))
            for command in commands {
                if let problem = try problem(of: command, in: dir) {
                    let kept = "\(name).case\(c).h5"
                    try? FileManager.default.copyItem(atPath: dir + "/" + name, toPath: dir + "/" + kept)
                    failures.append("case \(c) (seed \(seed)), lens \(command.joined(separator: " ")): \(problem); mutant kept as \(dir)/\(kept)")
                }
            }
        }
        return failures
    }

    @Test func mutatedCheckpointsLoadOrFailInOneLine() throws {
        let dir = try scratchDirectory()
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        let failures = try Self.fuzz(dir + "/tiny.h5", name: "m.h5",
                                     commands: [["eval", "--model", "m.h5", "--nodes", "8", "--samples", "1", "--json"], ["inspect", "m.h5"]],
                                     seed: 2026_1205, in: dir)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        if failures.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    @Test func mutatedActivationFilesLoadOrFailInOneLine() throws {
        let dir = try scratchDirectory()
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        try smallGridProbe.write(toFile: dir + "/grid.probe", atomically: true, encoding: .utf8)
        let run = try runLens(["run", "grid.probe", "--model", "tiny.h5", "--hooks", "blocks.1.mlp.hook_post", "--out", "grid.h5", "--quiet"], in: dir)
        #expect(run.status == 0, "\(run.error)")
        let failures = try Self.fuzz(dir + "/grid.h5", name: "d.h5",
                                     commands: [["analyze", "fourier", "d.h5", "--model", "tiny.h5", "--causal", "0"], ["inspect", "d.h5"]],
                                     seed: 2026_1206, in: dir)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        if failures.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// The offset of `pattern` in `bytes`, if any.
    static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        return (0...(bytes.count - pattern.count)).first { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) }
    }

    static func littleEndianBytes(_ value: Int, count: Int = 8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    /// The three corruptions the fuzzing found in libhdf5 1.10's reading of a checkpoint, each
    /// made on purpose: every one segfaulted or hung `lens` before.
    @Test(arguments: ["heap object size", "heap free space of size 0", "string reference index", "contiguous layout version"])
    func corruptionsThatCrashedLibHDF5AreOneLineErrors(corruption: String) throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/tiny.h5")))
        let collection = try #require(Self.find(Array("GCOL".utf8), in: bytes))
        let firstObject = collection + 16
        switch corruption {
        case "heap object size":
            // Object 1's size (bytes 8-15 of its header) far beyond the collection.
            for k in 0..<8 { bytes[firstObject + 8 + k] = k < 5 ? 0xA8 : 0 }
        case "heap free space of size 0":
            // The first object becomes a free-space block (index 0) of size 0: libhdf5 parsed it forever.
            bytes[firstObject] = 0
            bytes[firstObject + 1] = 0
            for k in 0..<8 { bytes[firstObject + 8 + k] = 0 }
        case "string reference index":
            // A string's on-disk reference: length (4), collection address (8), index (4).
            let address = Self.littleEndianBytes(collection)
            var at = 0, changed = false
            while let hit = Self.find(address, in: Array(bytes[at...])).map({ $0 + at }) {
                if hit >= 4, hit + 12 <= bytes.count, bytes[hit + 8] != 0, bytes[hit + 9] == 0 {
                    bytes[hit + 9] = 0xA3  // object index 1 → 41729 + …
                    changed = true
                    break
                }
                at = hit + 1
            }
            #expect(changed)
        default:
            // A contiguous layout message (version 3, class 1, address, size) read as version 1.
            let file = try H5File.open(dir + "/tiny.h5")
            let dataset = try file.root.dataset("transformer.blocks.layer_1.mlp.fc.weight")
            let offset = try #require(dataset.storageOffset)
            let pattern = [3, 1] + Self.littleEndianBytes(offset) + Self.littleEndianBytes(dataset.storageBytes)
            file.close()
            let message = try #require(Self.find(pattern, in: bytes))
            bytes[message] = 1
        }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/m.h5"))
        let problem = try Self.problem(of: ["eval", "--model", "m.h5", "--nodes", "8", "--samples", "1"], in: dir, timeout: 20)
        #expect(problem == nil, "\(corruption): \(problem ?? "")")
        if problem == nil {
            let error = try runLens(["eval", "--model", "m.h5", "--nodes", "8", "--samples", "1"], in: dir)
            #expect(error.status == 2, "\(corruption): \(error.error)")
        }
    }
}
