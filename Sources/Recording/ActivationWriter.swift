import Foundation
import GraphTask
import Outputs
import HDF5
import Transformer

/// Root attributes that describe where an activation file came from.
public struct ActivationFileProvenance: Sendable, Equatable {
    /// The exact command line.
    public var command: String
    /// The checkpoint path and its SHA-256.
    public var modelPath: String
    public var modelSHA256: String
    /// The probe's name and the text of its file.
    public var probe: String
    public var probeText: String
    /// JSON describing the recording (model config, hooks, iterations, batch, compression).
    public var configJSON: String

    public init(command: String, modelPath: String, modelSHA256: String, probe: String, probeText: String = "", configJSON: String) {
        self.command = command
        self.modelPath = modelPath
        self.modelSHA256 = modelSHA256
        self.probe = probe
        self.probeText = probeText
        self.configJSON = configJSON
    }
}

/// A recorded hook: its name, the shape of one sequence's tensor at one iteration, axis names.
public struct HookLayout: Sendable, Equatable {
    public var name: String
    /// Shape without the batch axis, e.g. [heads, length, length].
    public var rowShape: [Int]
    /// Axis names without the batch axis.
    public var axes: [String]

    public init(name: String, rowShape: [Int], axes: [String]) {
        self.name = name
        self.rowShape = rowShape
        self.axes = axes
    }

    /// The layout of `point`'s tensor, whole, in a forward pass of `config` over `length` tokens.
    public init(point: HookPoint, config: ModelConfig, length: Int) {
        self.init(name: point.name, rowShape: Array(point.shape(config: config, batch: 1, length: length).dropFirst()),
                  axes: Array(point.dims.dropFirst()))
    }

    /// Floats per sequence per iteration.
    public var rowSize: Int { rowShape.reduce(1, *) }
}

/// One batch of finished sequences, laid out as the file stores them.
public struct RecordedBatch: Sendable {
    /// Number of sequences.
    public var count: Int
    /// [count, T, L, `Factor.count`] input ids, flat.
    public var tokens: [Int32]
    /// [count, T, L, `Factor.count`] argmax ids, flat.
    public var predictions: [Int32]
    /// [count] unpadded lengths.
    public var lengths: [Int32]
    /// [count] per key.
    public var meta: [String: [Int32]]
    /// [count, T, rowShape…] per hook, flat.
    public var activations: [String: [Float]]
    /// [count, P] recorded query positions, flat, when recording query positions only.
    public var queryPositions: [Int32]?

    /// Bytes this batch adds to the file before compression, hook values aside.
    var metadataByteCount: Int {
        4 * (tokens.count + predictions.count + lengths.count + (queryPositions?.count ?? 0) + meta.values.reduce(0) { $0 + $1.count })
    }

    public init(count: Int, tokens: [Int32], predictions: [Int32], lengths: [Int32],
                meta: [String: [Int32]], activations: [String: [Float]], queryPositions: [Int32]? = nil) {
        self.count = count
        self.tokens = tokens
        self.predictions = predictions
        self.lengths = lengths
        self.meta = meta
        self.activations = activations
        self.queryPositions = queryPositions
    }
}

/// Streams batches into an activation file (docs/activation-file.md): every dataset grows along
/// its first axis, `/lengths` is appended last in each batch (so its size is the number of
/// finished sequences), and `complete` turns 1 only in `finish()`.
public final class ActivationWriter {
    /// Where the finished file ends up.
    public let path: String
    /// Where the file is written until it is finished (beside `path`; see `OutputFile`).
    public let writingPath: String
    /// Where an unfinished file is kept if the run stops or fails: `path` when nothing was there
    /// before, else `STEM.partial.h5` beside it, so a replaced file survives a failed run.
    public let unfinishedPath: String
    /// Where the file is now: `path` after `finish()`, where `abandon()` put it after that.
    public private(set) var keptPath: String
    let output: OutputFile
    public let length: Int
    public let iterations: [Int]
    public let hooks: [HookLayout]
    public let metaKeys: [String]
    /// Metadata columns of the recorded query positions, or nil when every position is recorded.
    public let queryColumns: [String]?
    /// Sequences written so far.
    public private(set) var count = 0

    let file: H5File
    let tokens: H5Dataset
    let predictions: H5Dataset
    let lengths: H5Dataset
    var meta: [String: H5Dataset] = [:]
    var activations: [String: H5Dataset] = [:]
    var queryPositions: H5Dataset?
    /// Whether hooks are written into the file while the forward pass runs (`append(count:run:)`):
    /// uncompressed, every position. Compressing needs whole chunks; cutting needs a gather.
    let writesHooksInPlace: Bool

    /// Checks `path` (an existing file is refused unless `overwrite`; a folder, device or FIFO
    /// in any case) and creates the file beside it (see `init(output:…)`).
    public convenience init(path: String, overwrite: Bool, length: Int, iterations: [Int], runIterations: Int,
                            hooks: [HookLayout], metaKeys: [String], provenance: ActivationFileProvenance, compression: Int? = nil,
                            queryColumns: [String]? = nil) throws {
        let output: OutputFile
        do {
            output = try OutputFile(path, what: "the activation file", force: overwrite)
        } catch OutputError.exists {
            throw RecordingError.outputExists(path: path)
        }
        try self.init(output: output, length: length, iterations: iterations, runIterations: runIterations, hooks: hooks,
                      metaKeys: metaKeys, provenance: provenance, compression: compression, queryColumns: queryColumns)
    }

    /// Creates the file and its empty datasets beside `output`, a file output the caller has
    /// checked. The file moves to `output.path` in `finish()`; until then a reader of an older
    /// file there keeps reading it. With `queryColumns`, hooks hold query positions only (their
    /// layouts say so) and the file gets `/query_positions` [N, P] with the attribute `query_columns`.
    public init(output: OutputFile, length: Int, iterations: [Int], runIterations: Int,
                hooks: [HookLayout], metaKeys: [String], provenance: ActivationFileProvenance, compression: Int? = nil,
                queryColumns: [String]? = nil) throws {
        guard !iterations.isEmpty, length >= 1 else { throw RecordingError.badBatch("an activation file needs at least one iteration and one position") }
        self.output = output
        self.path = output.path
        unfinishedPath = output.destination == .new ? output.path : OutputFile.partialPath(of: output.path)
        writingPath = output.begin()
        keptPath = writingPath
        self.length = length
        self.iterations = iterations
        self.hooks = hooks
        self.metaKeys = metaKeys
        self.queryColumns = queryColumns
        writesHooksInPlace = compression == nil && queryColumns == nil
        file = try H5File.create(writingPath, overwrite: false)
        let root = file.root
        try root.setAttribute("schema", ActivationSchema.name)
        try root.setAttribute("schema_version", ActivationSchema.version)
        try root.setAttribute("complete", 0)
        try root.setAttribute("created", ISO8601DateFormatter().string(from: Date()))
        try root.setAttribute("command", provenance.command)
        try root.setAttribute("model", provenance.modelPath)
        try root.setAttribute("model_sha256", provenance.modelSHA256)
        try root.setAttribute("probe", provenance.probe)
        try root.setAttribute("probe_text", provenance.probeText)
        try root.setAttribute("config", provenance.configJSON)
        try root.setAttribute("iterations", iterations)
        try root.setAttribute("run_iterations", runIterations)
        try root.setAttribute("hooks", hooks.map(\.name))
        try root.setAttribute("length", length)

        let t = iterations.count
        try root.write("iterations", iterations.map { Int32($0) }, shape: [t])
        try root.dataset("iterations").setAttribute("dims", ["iteration"])
        let tokenRow = [t, length, Factor.count]
        let tokenChunk = max(1, min(256, (1 << 18) / (tokenRow.reduce(1, *) * 4)))
        tokens = try root.createExtendableDataset("tokens", of: Int32.self, rowShape: tokenRow, chunkRows: tokenChunk, compression: compression)
        predictions = try root.createExtendableDataset("predictions", of: Int32.self, rowShape: tokenRow, chunkRows: tokenChunk, compression: compression)
        lengths = try root.createExtendableDataset("lengths", of: Int32.self, rowShape: [], chunkRows: 1024, compression: compression)
        try tokens.setAttribute("dims", ActivationSchema.tokenDims)
        try predictions.setAttribute("dims", ActivationSchema.tokenDims)
        try lengths.setAttribute("dims", ["sequence"])
        try root.createGroup("meta")
        for key in metaKeys {
            let d = try root.createExtendableDataset("meta/" + key, of: Int32.self, rowShape: [], chunkRows: 1024, compression: compression)
            try d.setAttribute("dims", ["sequence"])
            meta[key] = d
        }
        if let queryColumns {
            try root.setAttribute("query_columns", queryColumns)
            let d = try root.createExtendableDataset(ActivationSchema.queryPositionsPath, of: Int32.self, rowShape: [queryColumns.count],
                                                     chunkRows: 1024, compression: compression)
            try d.setAttribute("dims", ["sequence", "query"])
            try d.setAttribute("query_columns", queryColumns)
            queryPositions = d
        }
        try root.createGroup("activations")
        for hook in hooks {
            // Uncompressed hook rows go from our buffers to the file without HDF5's chunk cache
            // (a second copy of every byte); every row is written, so no fill value is needed.
            let d = try root.createExtendableDataset(ActivationSchema.activationPath(hook.name), of: Float.self,
                                                     rowShape: [t] + hook.rowShape, chunkRows: 1, compression: compression,
                                                     directWrites: compression == nil)
            try d.setAttribute("dims", ActivationSchema.dimensions(ofRowAxes: hook.axes))
            activations[hook.name] = d
        }
        try file.flush()
    }

    /// Appends one batch and flushes, so the file on disk holds every finished batch.
    public func append(_ batch: RecordedBatch) throws {
        let n = batch.count, t = iterations.count
        try write(batch, activationBytes: 4 * batch.activations.values.reduce(0) { $0 + $1.count }) { hook, d in
            guard let values = batch.activations[hook.name], values.count == n * t * hook.rowSize else {
                throw RecordingError.badBatch("\(hook.name) needs \(n * t * hook.rowSize) floats")
            }
            try d.append(values, rows: n)
        }
    }

    /// Appends one batch whose hook values are in `rows` (the recorder's reused buffers), handing
    /// them to HDF5 without copying them first.
    func append(_ batch: RecordedBatch, rows: HookRows) throws {
        let n = batch.count
        try write(batch, activationBytes: rows.byteCount(count: n)) { hook, d in
            guard let values = rows.rows(hook.name, count: n), values.count == n * iterations.count * hook.rowSize else {
                throw RecordingError.badBatch("\(hook.name) needs \(n * iterations.count * hook.rowSize) floats")
            }
            try d.append(values, rows: n)
        }
    }

    /// Appends one batch of `n` sequences whose hook tensors `run` hands to the sink as the
    /// forward pass produces them, each written straight into its rows of the file (see
    /// `writesHooksInPlace`); `run` returns the batch's tokens and metadata, appended after.
    /// Room for the whole batch is checked before `run`; on failure the hook rows are dropped.
    func append(count n: Int, run: (HookSink) throws -> RecordedBatch) throws {
        let t = iterations.count
        let hookBytes = hooks.reduce(0) { $0 + 4 * n * t * $1.rowSize }
        let metadataBytes = 4 * n * (2 * t * length * Factor.count + 1 + metaKeys.count + (queryColumns?.count ?? 0))
        try checkRoom(forBytes: hookBytes + metadataBytes)
        let sink = HookSink(datasets: activations, layouts: hooks, start: count, count: n, iterations: t)
        let finished = count
        func dropHookRows() { for d in activations.values { try? d.resize(rows: finished) } }
        let batch: RecordedBatch
        do {
            for d in activations.values { try d.resize(rows: count + n) }
        } catch {
            dropHookRows()
            throw RecordingError.writeFailed(path: unfinishedPath, sequences: count, reason: "\(error)")
        }
        do {
            batch = try run(sink)  // its own errors (a bad position, a model error) pass unchanged
        } catch {
            sink.drain()  // no HDF5 call while the sink's queue may still write
            dropHookRows()
            throw error
        }
        do {
            try sink.finish()
            guard batch.count == n else { throw RecordingError.badBatch("a batch of \(n) sequences came back with \(batch.count)") }
            try appendMetadata(batch)
        } catch let error as RecordingError {
            dropHookRows()
            throw error
        } catch {
            dropHookRows()
            throw RecordingError.writeFailed(path: unfinishedPath, sequences: count, reason: "\(error)")
        }
    }

    /// Writes `batch`'s datasets, each hook's through `writeHook`, after checking its counts and
    /// the room for it.
    private func write(_ batch: RecordedBatch, activationBytes: Int,
                       activations writeHook: (HookLayout, H5Dataset) throws -> Void) throws {
        try checkCounts(batch)
        try checkRoom(forBytes: batch.metadataByteCount + activationBytes)
        do {
            for hook in hooks {
                guard let d = activations[hook.name] else { throw RecordingError.badBatch("\(hook.name) has no dataset") }
                try writeHook(hook, d)
            }
        } catch let error as RecordingError {
            throw error
        } catch {
            throw RecordingError.writeFailed(path: unfinishedPath, sequences: count, reason: "\(error)")
        }
        try appendMetadata(batch)
    }

    /// Throws unless `batch` holds token ids and lengths for its sequences.
    private func checkCounts(_ batch: RecordedBatch) throws {
        let n = batch.count, t = iterations.count
        guard batch.tokens.count == n * t * length * Factor.count, batch.predictions.count == batch.tokens.count,
              batch.lengths.count == n else {
            throw RecordingError.badBatch("\(n) sequences need \(n * t * length * Factor.count) token ids and \(n) lengths")
        }
    }

    /// Appends everything of `batch` but its hooks (already written): metadata, query positions,
    /// tokens, predictions, then /lengths last, and flushes; the batch then counts as finished.
    private func appendMetadata(_ batch: RecordedBatch) throws {
        try checkCounts(batch)
        let n = batch.count
        do {
            for key in metaKeys {
                guard let values = batch.meta[key], values.count == n, let d = meta[key] else {
                    throw RecordingError.badBatch("metadata \(key) needs \(n) values")
                }
                try d.append(values, rows: n)
            }
            if let d = queryPositions, let columns = queryColumns {
                guard let values = batch.queryPositions, values.count == n * columns.count else {
                    throw RecordingError.badBatch("/query_positions needs \(n * columns.count) positions")
                }
                try d.append(values, rows: n)
            }
            try tokens.append(batch.tokens, rows: n)
            try predictions.append(batch.predictions, rows: n)
            try lengths.append(batch.lengths, rows: n)  // last: its size counts finished sequences
            try file.flush()
        } catch let error as RecordingError {
            throw error
        } catch {
            throw RecordingError.writeFailed(path: unfinishedPath, sequences: count, reason: "\(error)")
        }
        count += n
    }

    /// Refuses a batch the disk (or the process's file-size limit) has no room for, before any
    /// byte of it is written: a write that fails half-way can leave HDF5's metadata pointing past
    /// the end of the file, which no reader can open. Twice the batch plus 4 MB of slack is asked.
    func checkRoom(forBytes bytes: Int) throws {
        let needed = Double(bytes) * 2 + 4_000_000
        var available = Double.infinity
        var fs = statvfs()
        if statvfs(writingPath, &fs) == 0 { available = Double(fs.f_bavail) * Double(fs.f_frsize) }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
            var info = stat()
            let size = stat(writingPath, &info) == 0 ? Double(info.st_size) : 0
            available = min(available, Double(limit.rlim_cur) - size)
        }
        if needed > available {
            throw RecordingError.noRoom(path: unfinishedPath, sequences: count, neededBytes: Int(needed), availableBytes: Int(max(available, 0)))
        }
    }

    /// Marks the file complete, closes it and moves it to `path`.
    public func finish() throws {
        do {
            try file.root.setAttribute("complete", 1)
            try file.flush()
        } catch {
            abandon()
            throw RecordingError.writeFailed(path: keptPath, sequences: count, reason: "\(error)")
        }
        file.close()
        try output.commit()
        keptPath = path
    }

    /// Closes the file leaving `complete = 0` (an interrupted or failed run) and keeps it at
    /// `unfinishedPath` (or, should something have appeared there meanwhile, where it was
    /// written); `keptPath` says where.
    public func abandon() {
        guard keptPath == writingPath else { return }
        try? file.flush()
        file.close()
        keptPath = output.keepUnfinished()
    }
}
