import Foundation
import Testing
import GraphTask
import HDF5
import Probes
@testable import Recording
import Transformer
import LensTestSupport

func smallConfig() -> ModelConfig {
    ModelConfig(layers: 2, heads: 4, modelWidth: 16, headWidth: 4, mlpWidth: 24, relativeWindow: 8, names: 16, modulus: 23)
}

let probeText = """
context program 17 = x_4; 3 = x_5; x_4 + x_5 = x_12; 9 = x_1
equation v0 + v1 = rhs
fix v0 = x_12
sweep v1 over defined
sweep rhs over free[0], free[3]
"""

/// A recorder over the literal probe above (8 sequences, 2 iterations).
func makeRecorder(hooks: [String] = ["blocks.0.attn.hook_pattern", "blocks.1.mlp.hook_post", "hook_embed"],
                  iterations: [Int] = [0, 1], batch: Int = 3) throws -> (Recorder, Model) {
    let model = try Model.randomlyInitialised(config: smallConfig(), seed: 3)
    var probe = try ProbeParser.parse(probeText, file: "rt.probe", defaultName: "rt")
    probe.iterations = 2
    let expansion = try probe.expand(vocabulary: model.config.vocabulary)
    return (try Recorder(model: model, expansion: expansion, hookGlobs: hooks, iterations: iterations, batchSize: batch), model)
}

let provenance = ActivationFileProvenance(command: "lens run rt.probe", modelPath: "m.h5", modelSHA256: String(repeating: "ab", count: 32),
                                probe: "rt", probeText: probeText, configJSON: "{\"batch\": 3}")

@Suite struct RecordingTests {
    /// `--ablate 1.2`: head 2 of layer 1 writes zeros everywhere, the other heads and layer 0
    /// are untouched, and the heads after it see the change (the block output differs).
    @Test func ablatedHeadsRecordZerosAndChangeWhatFollows() throws {
        let (plain, model) = try makeRecorder(hooks: ["blocks.*.attn.hook_z", "blocks.1.hook_resid_post"], iterations: [0], batch: 8)
        let ablated = try Recorder(model: model, expansion: plain.expansion, hookGlobs: ["blocks.*.attn.hook_z", "blocks.1.hook_resid_post"],
                                   iterations: [0], batchSize: 8, ablatedHeads: try HeadAblation.parse("1.2"))
        let a = try plain.runBatch(0..<8), b = try ablated.runBatch(0..<8)
        let z0 = try #require(a.activations["blocks.0.attn.hook_z"]), z0b = try #require(b.activations["blocks.0.attn.hook_z"])
        #expect(z0 == z0b)
        let z1 = try #require(a.activations["blocks.1.attn.hook_z"]), z1b = try #require(b.activations["blocks.1.attn.hook_z"])
        let (heads, width) = (4, 4)
        var zeroed = 0, kept = 0, differing = 0
        for r in 0..<(z1.count / (heads * width)) {
            for h in 0..<heads {
                for i in 0..<width {
                    let k = (r * heads + h) * width + i
                    if h == 2 { if z1b[k] == 0 { zeroed += 1 }; if z1[k] != 0 { differing += 1 } } else if z1b[k] == z1[k] { kept += 1 }
                }
            }
        }
        #expect(zeroed == z1.count / heads)
        #expect(differing > 0)
        #expect(kept == z1.count / heads * (heads - 1))
        #expect(a.activations["blocks.1.hook_resid_post"] != b.activations["blocks.1.hook_resid_post"])
    }

    @Test func badAblationsSayWhatIsWrong() throws {
        #expect(try HeadAblation.parse("1.15, 0.3,1.15") == [1: [15], 0: [3]])
        #expect(HeadAblation.text([1: [15, 2], 0: [3]]) == "0.3,1.2,1.15")
        #expect(throws: RecordingError.badAblation("\"1\" is not a LAYER.HEAD pair")) { try HeadAblation.parse("1") }
        #expect(throws: RecordingError.badAblation("\"a.b\" is not a LAYER.HEAD pair")) { try HeadAblation.parse("0.1,a.b") }
        let (plain, model) = try makeRecorder()
        #expect(throws: RecordingError.badAblation("head 4 does not exist among the 4 heads of layer 1")) {
            try Recorder(model: model, expansion: plain.expansion, hookGlobs: ["hook_embed"], iterations: [0], batchSize: 2, ablatedHeads: [1: [4]])
        }
        #expect(throws: RecordingError.badAblation("layer 2 does not exist in a model of 2 layers")) {
            try Recorder(model: model, expansion: plain.expansion, hookGlobs: ["hook_embed"], iterations: [0], batchSize: 2, ablatedHeads: [2: [0]])
        }
    }

    /// Uncompressed full tensors are written from the forward pass's own buffers on a queue of
    /// their own (HookSink). With every write held back 20 ms, a write that outlived its pass
    /// would record the next iteration's values (the pattern and embedding buffers are reused
    /// every iteration); the file must still equal a direct forward pass, iteration by iteration.
    @Test func queuedWritesRecordEachIterationsOwnValues() throws {
        try withTemporaryDirectory { dir in
            let (recorder, model) = try makeRecorder(batch: 4)
            let path = dir + "/dump.h5"
            let writer = try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: nil)
            #expect(writer.writesHooksInPlace)
            HookSink.delayBeforeWrite = 0.02
            defer { HookSink.delayBeforeWrite = 0 }
            #expect(try recorder.record(into: writer) == .complete(sequences: 8))
            let reader = try ActivationReader(path: path, requireComplete: true)
            defer { reader.close() }
            let block = recorder.expansion.batch(0..<8)
            let hooks = Hooks(config: model.config)
            var direct: [String: [Int: Tensor]] = [:]
            try hooks.observe("*") { event, tensor in direct[event.name, default: [:]][event.iteration] = tensor }
            _ = try model.run(tokens: block.ids, batch: 8, length: block.length, iterations: 2, hooks: hooks)
            for hook in reader.hooks {
                for t in [0, 1] {
                    let expected = try #require(direct[hook]?[t])
                    #expect(try reader.activations(hook, iteration: t).maxAbsDifference(expected) < 1e-5, "\(hook) iteration \(t)")
                }
            }
        }
    }

    @Test func writerReaderRoundTripEqualsADirectForwardPass() throws {
        try withTemporaryDirectory { dir in
            let (recorder, model) = try makeRecorder()
            let path = dir + "/dump.h5"
            let writer = try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: 4)
            var seen: [Int] = []
            let outcome = try recorder.record(into: writer, progress: { seen.append($0) })
            #expect(outcome == .complete(sequences: 8))
            #expect(seen == [3, 6, 8])

            let reader = try ActivationReader(path: path, requireComplete: true)
            defer { reader.close() }
            let e = recorder.expansion
            #expect(reader.isComplete && reader.count == 8 && reader.length == e.length && reader.iterations == [0, 1])
            #expect(reader.hooks == ["blocks.0.attn.hook_pattern", "blocks.1.mlp.hook_post", "hook_embed"])
            #expect(reader.attribute("probe") == "rt" && reader.attribute("model_sha256") == provenance.modelSHA256)
            #expect(reader.attribute("command") == "lens run rt.probe" && reader.attribute("config") == "{\"batch\": 3}")
            #expect(Set(reader.metaKeys) == Set(e.metaKeys))
            for key in e.metaKeys { #expect(try reader.meta(key) == e.meta[key], "\(key)") }
            #expect(try reader.meta("answer", 2..<4) == Array(e.meta["answer"]?[2..<4] ?? []))
            #expect(try reader.lengths() == e.sequences.map { Int32($0.count) })
            #expect(try reader.shape(of: "blocks.0.attn.hook_pattern") == [8, 2, 4, e.length, e.length])
            #expect(try reader.dimensions(of: "blocks.0.attn.hook_pattern") == ["sequence", "iteration", "head", "query", "key"])
            #expect(try reader.dimensions(of: "blocks.1.mlp.hook_post") == ["sequence", "iteration", "position", "d_mlp"])

            // The same sequences through one direct forward pass.
            let block = e.batch(0..<8)
            let hooks = Hooks(config: model.config)
            var direct: [String: [Int: Tensor]] = [:]
            try hooks.observe("*") { event, tensor in direct[event.name, default: [:]][event.iteration] = tensor }
            let run = try model.run(tokens: block.ids, batch: 8, length: block.length, iterations: 2, hooks: hooks)
            for hook in reader.hooks {
                for t in [0, 1] {
                    let recorded = try reader.activations(hook, iteration: t)
                    let expected = try #require(direct[hook]?[t])
                    #expect(recorded.shape == expected.shape)
                    #expect(recorded.maxAbsDifference(expected) < 1e-5, "\(hook) iteration \(t)")  // batch size changes summation order
                }
            }
            let slice = try reader.activations("hook_embed", iteration: 1, sequences: 5..<7)
            #expect(slice.shape == [2, e.length, 16])
            let full = try #require(direct["hook_embed"]?[1])
            #expect(Array(slice.scalars) == Array(full.scalars[(5 * e.length * 16)..<(7 * e.length * 16)]))
            let tokens = try reader.tokens(), predictions = try reader.predictions()
            #expect(tokens.shape == [8, 2, e.length, 4])
            for t in 0..<2 {
                for b in 0..<8 {
                    let row = (b * 2 + t) * e.length * 4
                    #expect(Array(tokens.values[row..<(row + e.length * 4)]) == Array(run.inputs[t][(b * e.length * 4)..<((b + 1) * e.length * 4)]))
                    #expect(Array(predictions.values[row..<(row + e.length * 4)]) == Array(run.predictions[t][(b * e.length * 4)..<((b + 1) * e.length * 4)]))
                }
            }
            #expect(Array(tokens.values[0..<(e.length * 4)]) == block.ids[0..<(e.length * 4)].map { $0 })

            // Every dataset carries dims.
            let file = try H5File.open(path)
            defer { file.close() }
            for node in try file.tree() where node.kind == .dataset {
                #expect(node.attributes.contains { $0.0 == "dims" }, "\(node.path) has no dims")
            }
            #expect(try file.root.intAttribute("schema_version") == 1)
        }
    }

    @Test func onlySelectedIterationsAreStored() throws {
        try withTemporaryDirectory { dir in
            let (recorder, _) = try makeRecorder(hooks: ["blocks.1.attn.hook_z"], iterations: [1], batch: 8)
            let writer = try recorder.makeWriter(path: dir + "/one.h5", overwrite: false, provenance: provenance, compression: nil)
            _ = try recorder.record(into: writer)
            let reader = try ActivationReader(path: dir + "/one.h5")
            #expect(reader.iterations == [1])
            #expect(try reader.shape(of: "blocks.1.attn.hook_z") == [8, 1, recorder.expansion.length, 4, 4])
            #expect(throws: ActivationFileError.iterationNotRecorded(path: dir + "/one.h5", iteration: 0, recorded: [1])) {
                try reader.activations("blocks.1.attn.hook_z", iteration: 0)
            }
        }
    }

    @Test func interruptedRunLeavesCompleteZeroAndFinishedBatches() throws {
        try withTemporaryDirectory { dir in
            let (recorder, _) = try makeRecorder(batch: 3)
            let path = dir + "/partial.h5"
            let writer = try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: nil)
            var batches = 0
            let outcome = try recorder.record(into: writer, shouldStop: { batches >= 2 }, progress: { _ in batches += 1 })
            #expect(outcome == .interrupted(sequences: 6))
            #expect(throws: ActivationFileError.incomplete(path: path, sequences: 6)) { try ActivationReader(path: path, requireComplete: true) }
            let reader = try ActivationReader(path: path)
            #expect(!reader.isComplete && reader.count == 6)
            #expect(try reader.activations("hook_embed", iteration: 0).shape == [6, recorder.expansion.length, 16])
            #expect(try reader.meta("answer") == Array(recorder.expansion.meta["answer"]?[0..<6] ?? []))
            #expect(throws: ActivationFileError.self) { try reader.lengths(0..<7) }
        }
    }

    @Test func existingOutputIsRefusedUnlessOverwriting() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/exists.h5"
            _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
            let (recorder, _) = try makeRecorder()
            #expect(throws: RecordingError.outputExists(path: path)) {
                try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: nil)
            }
            let writer = try recorder.makeWriter(path: path, overwrite: true, provenance: provenance, compression: nil)
            writer.abandon()
        }
    }

    @Test func readerErrorsSayWhatIsWrongAndWhatToDo() throws {
        try withTemporaryDirectory { dir in
            let (recorder, model) = try makeRecorder(hooks: ["blocks.0.attn.hook_pattern"])
            let path = dir + "/d.h5"
            _ = try recorder.record(into: try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: nil))
            let reader = try ActivationReader(path: path)
            do {
                try reader.require(hooks: ["blocks.1.mlp.hook_post"])
                Issue.record("a missing hook was accepted")
            } catch let error as ActivationFileError {
                #expect(error.description.contains("--hooks 'blocks.1.mlp.hook_post'"))
                #expect(error.description.contains("it records blocks.0.attn.hook_pattern"))
            }
            #expect(throws: ActivationFileError.self) { try reader.meta("nope") }
            reader.close()

            let checkpoint = dir + "/m.h5"
            try Checkpoint.save(model, to: checkpoint)
            #expect(throws: ActivationFileError.notActivationFile(path: checkpoint, schema: "latentlens.checkpoint")) {
                try ActivationReader(path: checkpoint)
            }
            let file = try H5File.open(path, mode: .readWrite)
            try file.root.setAttribute("schema_version", 2)
            file.close()
            #expect(throws: ActivationFileError.unsupportedVersion(path: path, found: 2, supported: 1)) {
                try ActivationReader(path: path)
            }
        }
    }

    @Test func unknownHookGlobNamesTheNearestHooks() throws {
        do {
            _ = try makeRecorder(hooks: ["blocks.0.attn.hook_patern"])
            Issue.record("an unknown hook was accepted")
        } catch let error as ModelError {
            #expect(error.description.contains("blocks.0.attn.hook_pattern"))
        }
    }

    /// Gzip goes through the batch rows; uncompressed hooks are written in place, without fill values.
    @Test(arguments: [4, nil] as [Int?]) func h5dumpAndH5pyReadADump(compression: Int?) throws {
        try withTemporaryDirectory { dir in
            let (recorder, _) = try makeRecorder(hooks: ["blocks.0.attn.hook_pattern", "hook_embed"], batch: 4)
            let path = dir + "/py.h5"
            _ = try recorder.record(into: try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: compression))
            let L = recorder.expansion.length
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/h5dump") {
                let (status, output) = try runProcess("/usr/bin/h5dump", ["-A", path])
                #expect(status == 0)
                #expect(output.contains("latentlens.activations"))
                #expect(output.contains("DATASET \"blocks.0.attn.hook_pattern\""))
                #expect(output.contains("( 8, 2, 4, \(L), \(L) ) / ( H5S_UNLIMITED, 2, 4, \(L), \(L) )"))
            }
            guard let python = pythonWithH5py else { return }  // skipped without h5py
            let script = """
            import h5py, numpy as np, sys
            f = h5py.File(sys.argv[1], "r")
            assert f.attrs["schema"] == "latentlens.activations" and f.attrs["schema_version"] == 1 and f.attrs["complete"] == 1
            p = f["activations/blocks.0.attn.hook_pattern"]
            assert list(p.attrs["dims"]) == ["sequence", "iteration", "head", "query", "key"], p.attrs["dims"]
            n = f["lengths"][:]
            rhs = f["meta/rhs_pos"][:]
            P = p[:, 0]  # [N, H, L, L] at the first recorded iteration
            rows = P[np.arange(len(n)), :, rhs, :]  # each sequence's attention from its rhs position
            assert np.allclose(rows.sum(-1), 1.0, atol=1e-5)
            assert (f["meta/answer"][:] == (f["meta/operand0_value"][:] + f["meta/operand1_value"][:]) % 23).all()
            print("h5py ok", p.shape)
            """
            let (status, output) = try runProcess(python, ["-c", script, path])
            #expect(status == 0, "\(output)")
            #expect(output.contains("h5py ok (8, 2, 4, \(L), \(L))"), "\(output)")
        }
    }
}

@Suite struct PositionSelectionTests {
    static let hooks = ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_attn_scores", "blocks.0.attn.hook_z",
                        "blocks.1.mlp.hook_post", "hook_embed", "hook_logits.value"]

    @Test func queryPositionsGiveTheSameNumbersAsFullRecording() throws {
        try withTemporaryDirectory { dir in
            let model = try Model.randomlyInitialised(config: smallConfig(), seed: 3)
            var probe = try ProbeParser.parse(probeText, file: "rt.probe", defaultName: "rt")
            probe.iterations = 2
            let expansion = try probe.expand(vocabulary: model.config.vocabulary)
            let full = try Recorder(model: model, expansion: expansion, hookGlobs: Self.hooks, iterations: [0, 1], batchSize: 3)
            let cut = try Recorder(model: model, expansion: expansion, hookGlobs: Self.hooks, iterations: [0, 1], batchSize: 3,
                                   positions: .probe)
            #expect(cut.queryColumns == ["rhs_pos", "equals_pos", "operand0_pos", "operand1_pos"])
            _ = try full.record(into: full.makeWriter(path: dir + "/full.h5", overwrite: false, provenance: provenance, compression: nil))
            _ = try cut.record(into: cut.makeWriter(path: dir + "/cut.h5", overwrite: false, provenance: provenance, compression: 4))
            let a = try ActivationReader(path: dir + "/full.h5"), b = try ActivationReader(path: dir + "/cut.h5")
            defer { a.close(); b.close() }
            #expect(a.queryColumns == nil && b.queryColumns == cut.queryColumns)
            let p = 4, n = expansion.count, l = expansion.length
            #expect(try b.shape(of: "blocks.0.attn.hook_pattern") == [n, 2, 4, p, l])
            #expect(try b.dimensions(of: "blocks.0.attn.hook_pattern") == ["sequence", "iteration", "head", "query", "key"])
            #expect(try b.shape(of: "blocks.1.mlp.hook_post") == [n, 2, p, 24])
            #expect(try b.dimensions(of: "blocks.1.mlp.hook_post") == ["sequence", "iteration", "query", "d_mlp"])
            let recorded = try #require(try b.queryPositions())
            #expect(recorded.map { $0[0] } == (try a.meta("rhs_pos")).map { Int($0) })
            var worst: Float = 0
            for hook in Self.hooks {
                for column in ["rhs_pos", "equals_pos", "operand0_pos", "operand1_pos"] {
                    for iteration in [0, 1] {
                        let x = try a.activations(hook, iteration: iteration, at: column)
                        let y = try b.activations(hook, iteration: iteration, at: column, sequences: 0..<n)
                        #expect(x.shape == y.shape)
                        for (u, v) in zip(x.scalars, y.scalars) { worst = max(worst, abs(u - v)) }
                    }
                }
            }
            #expect(worst <= 1e-6)
            // A full activation file read at a column equals slicing the full tensor by hand.
            let rows = try a.activations("blocks.0.attn.hook_pattern", iteration: 1, at: "rhs_pos")
            let whole = try a.activations("blocks.0.attn.hook_pattern", iteration: 1)
            let rhs = try a.meta("rhs_pos")
            for i in 0..<n {
                for h in 0..<4 {
                    let q = Int(rhs[i])
                    let expected = Array(whole.scalars[(((i * 4 + h) * l + q) * l)..<(((i * 4 + h) * l + q + 1) * l)])
                    #expect(Array(rows.scalars[((i * 4 + h) * l)..<((i * 4 + h + 1) * l)]) == expected)
                }
            }
            // A column that was not recorded, in a cut activation file: the error names --positions.
            do {
                _ = try b.activations("blocks.0.attn.hook_z", iteration: 0, at: "operand0_value_pos")
                Issue.record("an unrecorded position was read")
            } catch let error as ActivationFileError {
                #expect(error.description.contains("--positions"))
            }
            #expect(throws: RecordingError.self) { try PositionSelection.parse("rhs_pos,rhs_pos") }
            #expect(throws: RecordingError.self) {
                try Recorder(model: model, expansion: expansion, hookGlobs: ["hook_embed"], iterations: [0], batchSize: 3,
                             positions: .columns(["nope_pos"]))
            }
        }
    }
}

/// Record → read back → equals the hook tensors of one direct `Model.run`, for every position
/// selection, uncompressed (hooks written into the file in place, or gathered into batch rows)
/// and gzip (batch rows), with a last batch shorter than the others.
@Suite struct RecordingRoundTripTests {
    static let hooks = ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_attn_scores", "blocks.1.mlp.hook_post", "hook_embed"]
    static let modes: [PositionSelection] = [.all, .probe, .columns(["operand1_pos", "rhs_pos"])]

    @Test(arguments: modes, [nil, 4] as [Int?])
    func recordedTensorsEqualTheForwardPassHooks(positions: PositionSelection, compression: Int?) throws {
        try withTemporaryDirectory { dir in
            let model = try Model.randomlyInitialised(config: smallConfig(), seed: 5)
            var probe = try ProbeParser.parse(probeText, file: "rt.probe", defaultName: "rt")
            probe.iterations = 3
            let e = try probe.expand(vocabulary: model.config.vocabulary)
            let recorder = try Recorder(model: model, expansion: e, hookGlobs: Self.hooks, iterations: [0, 2], batchSize: 3,
                                        positions: positions)
            let path = dir + "/rt.h5"
            let writer = try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: compression)
            #expect(writer.writesHooksInPlace == (compression == nil && positions == .all))
            #expect(try recorder.record(into: writer) == .complete(sequences: 8))

            let block = e.batch(0..<8)
            let direct = Hooks(config: model.config)
            var expected: [String: [Int: Tensor]] = [:]
            try direct.observe("*") { event, tensor in expected[event.name, default: [:]][event.iteration] = tensor }
            _ = try model.run(tokens: block.ids, batch: 8, length: block.length, iterations: 3, hooks: direct)

            let reader = try ActivationReader(path: path, requireComplete: true)
            defer { reader.close() }
            let L = e.length
            let columns = recorder.queryColumns
            for hook in Self.hooks {
                for t in [0, 2] {
                    let full = try #require(expected[hook]?[t])
                    let recorded = try reader.activations(hook, iteration: t)
                    let want: [Float]
                    if let columns {
                        want = cutByHand(full, hook: hook, length: L, queries: (0..<8).map { b in columns.map { Int((e.meta[$0] ?? [])[b]) } })
                    } else {
                        #expect(recorded.shape == full.shape, "\(hook)")
                        want = full.scalars
                    }
                    #expect(recorded.count == want.count, "\(hook) iteration \(t)")
                    let worst = zip(recorded.scalars, want).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                    #expect(worst < 1e-5, "\(hook) iteration \(t) \(positions)")  // batch size changes summation order
                }
            }
        }
    }

    /// A batch whose forward pass fails after its hook rows were added leaves the file as it was.
    @Test func aFailedInPlaceBatchDropsItsRows() throws {
        try withTemporaryDirectory { dir in
            let (recorder, _) = try makeRecorder(batch: 3)
            let path = dir + "/fail.h5"
            let writer = try recorder.makeWriter(path: path, overwrite: false, provenance: provenance, compression: nil)
            #expect(writer.writesHooksInPlace)
            try writer.append(count: 3) { sink in try recorder.runBatch(0..<3, into: .file(sink)) }
            #expect(throws: RecordingError.badBatch("boom")) {
                try writer.append(count: 3) { _ in throw RecordingError.badBatch("boom") }
            }
            // A batch whose hooks never reached the sink is refused too.
            #expect(throws: RecordingError.self) {
                try writer.append(count: 3) { _ in try recorder.runBatch(3..<6) }
            }
            #expect(writer.count == 3)
            for hook in recorder.hooks { #expect(writer.activations[hook]?.shape.first == 3, "\(hook)") }
            writer.abandon()
            let reader = try ActivationReader(path: path)
            defer { reader.close() }
            #expect(reader.count == 3 && !reader.isComplete)
            #expect(try reader.shape(of: "hook_embed") == [3, 2, recorder.expansion.length, 16])
        }
    }
}

/// A [B, …] hook tensor cut to query positions as the file stores it: per-position hooks keep
/// the query rows [P, …], attention the query rows of each head [H, P, L].
func cutByHand(_ full: Tensor, hook: String, length l: Int, queries: [[Int]]) -> [Float] {
    let perSequence = full.count / queries.count
    var out: [Float] = []
    for (b, positions) in queries.enumerated() {
        let base = b * perSequence
        if hook.hasSuffix("hook_pattern") || hook.hasSuffix("hook_attn_scores") {
            for h in 0..<full.shape[1] {
                for q in positions {
                    let start = base + (h * l + q) * l
                    out += full.scalars[start..<(start + l)]
                }
            }
        } else {
            let inner = perSequence / l
            for q in positions { out += full.scalars[(base + q * inner)..<(base + (q + 1) * inner)] }
        }
    }
    return out
}
