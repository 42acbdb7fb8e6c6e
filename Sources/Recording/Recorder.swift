import GraphTask
import Outputs
import Probes
import Transformer

/// How a recording ended.
public enum RecordingOutcome: Sendable, Equatable {
    /// Every sequence was written and the file is marked complete.
    case complete(sequences: Int)
    /// `shouldStop` asked to stop; the file holds `sequences` finished ones and complete = 0.
    case interrupted(sequences: Int)
}

/// Runs a probe through a model in batches and streams the hooked tensors into an activation file.
public struct Recorder {
    public let model: Model
    public let expansion: ProbeExpansion
    /// Resolved hook points, in firing order.
    public let points: [HookPoint]
    /// Their names.
    public var hooks: [String] { points.map(\.name) }
    /// Recorded run iterations, sorted.
    public let iterations: [Int]
    public let batchSize: Int
    /// The metadata columns naming the recorded query positions, or nil when every position is
    /// recorded (`PositionSelection.all`).
    public let queryColumns: [String]?
    /// Heads zero-ablated in every forward pass, by layer (empty: the model as trained).
    public let ablatedHeads: [Int: [Int]]

    /// Resolves `hookGlobs` against the model (unknown globs throw with the nearest names) and
    /// checks the iteration and position selections.
    public init(model: Model, expansion: ProbeExpansion, hookGlobs: [String], iterations: [Int], batchSize: Int,
                positions: PositionSelection = .all, ablatedHeads: [Int: [Int]] = [:]) throws {
        let resolver = Hooks(config: model.config)
        var selected = Set<String>()
        for glob in hookGlobs { selected.formUnion(try resolver.resolve(glob)) }
        guard !selected.isEmpty else { throw RecordingError.noHooks }
        guard !iterations.isEmpty, iterations.allSatisfy({ (0..<expansion.iterations).contains($0) }) else {
            throw RecordingError.badIterations(spec: iterations.map(String.init).joined(separator: ","),
                                               reason: "this probe runs \(expansion.iterations) iterations")
        }
        guard batchSize >= 1 else { throw RecordingError.badBatch("the batch size must be at least 1") }
        for (layer, heads) in ablatedHeads.sorted(by: { $0.key < $1.key }) {
            if let problem = Hooks.ablationProblem(config: model.config, layer: layer, heads: heads) {
                throw RecordingError.badAblation(problem)
            }
        }
        self.ablatedHeads = ablatedHeads
        self.model = model
        self.expansion = expansion
        points = HookPoints(layers: model.config.layers).points.filter { selected.contains($0.name) }
        self.iterations = iterations.sorted()
        self.batchSize = batchSize
        queryColumns = try positions.columns(metaKeys: expansion.metaKeys)
    }

    /// The full (uncut) layout of each recorded hook for this probe's padded length.
    var fullLayouts: [HookLayout] {
        points.map { HookLayout(point: $0, config: model.config, length: expansion.length) }
    }

    /// The layout of each recorded hook for this probe's padded length.
    /// With query columns, per-position hooks keep [P, …] and attention [head, P, key].
    public var hookLayouts: [HookLayout] {
        fullLayouts.map { full in
            guard let columns = queryColumns else { return full }
            let cut = QueryCut(axes: full.axes, shape: full.rowShape).layout(shape: full.rowShape, axes: full.axes, p: columns.count)
            return HookLayout(name: full.name, rowShape: cut.shape, axes: cut.axes)
        }
    }

    /// Creates a writer for this recording at `path`.
    public func makeWriter(path: String, overwrite: Bool, provenance: ActivationFileProvenance, compression: Int?) throws -> ActivationWriter {
        try ActivationWriter(path: path, overwrite: overwrite, length: expansion.length, iterations: iterations,
                             runIterations: expansion.iterations, hooks: hookLayouts, metaKeys: expansion.metaKeys,
                             provenance: provenance, compression: compression, queryColumns: queryColumns)
    }

    /// The writer for this recording into `output`, a file output the caller has checked.
    public func makeWriter(output: OutputFile, provenance: ActivationFileProvenance, compression: Int?) throws -> ActivationWriter {
        try ActivationWriter(output: output, length: expansion.length, iterations: iterations,
                             runIterations: expansion.iterations, hooks: hookLayouts, metaKeys: expansion.metaKeys,
                             provenance: provenance, compression: compression, queryColumns: queryColumns)
    }

    /// Runs one batch of sequences `range` and returns it laid out for the file.
    public func runBatch(_ range: Range<Int>) throws -> RecordedBatch {
        let rows = HookRows(layouts: hookLayouts, capacity: range.count, iterations: iterations.count)
        var batch = try runBatch(range, into: .rows(rows))
        batch.activations = rows.arrays(count: batch.count)
        return batch
    }

    /// Runs one batch of sequences `range`, its hooks writing into `destination` as the forward
    /// pass produces them; returns the batch's tokens and metadata (its `activations` stay
    /// empty: they are in `destination`).
    func runBatch(_ range: Range<Int>, into destination: HookDestination) throws -> RecordedBatch {
        let block = expansion.batch(range)
        let n = block.batch, L = block.length, T = iterations.count
        if case .rows(let rows) = destination, n > rows.capacity {
            throw RecordingError.badBatch("\(n) sequences do not fit a batch of \(rows.capacity)")
        }
        let slot = Dictionary(uniqueKeysWithValues: iterations.enumerated().map { ($0.element, $0.offset) })
        // Query positions per sequence of this batch, [n][P], when cutting.
        let queries: [[Int]]? = queryColumns.map { columns in
            (0..<n).map { b in columns.map { Int((expansion.meta[$0] ?? [])[range.lowerBound + b]) } }
        }
        if let queries, let bad = queries.joined().first(where: { $0 < 0 || $0 >= L }) {
            throw RecordingError.badPositions(spec: queryColumns?.joined(separator: ",") ?? "",
                                              reason: "a query position (\(bad)) lies outside the \(L) positions of the sequences")
        }
        let hookSet = Hooks(config: model.config)
        // Ablations first, so that the recorded tensors show what the ablated model computed.
        try hookSet.zeroAblate(ablatedHeads)
        for (layout, full) in zip(hookLayouts, fullLayouts) {
            let cut = QueryCut(axes: full.axes, shape: full.rowShape)
            let fullRow = full.rowSize, row = layout.rowSize
            // Read in place: the hook's tensor is not copied before it reaches its destination.
            try hookSet.read(layout.name, iterations: .only(Set(iterations))) { event, view in
                guard let t = slot[event.iteration] else { return }
                switch destination {
                case .file(let sink):
                    sink.write(event.name, slot: t, view)
                case .rows(let rows):
                    guard let from = view.scalars.baseAddress, view.scalars.count == n * fullRow else { return }
                    for b in 0..<n {
                        guard let to = rows.row(event.name, sequence: b, slot: t) else { return }
                        if let queries {
                            cut.gather(from + b * fullRow, length: L, positions: queries[b], into: to)
                        } else {
                            to.update(from: from + b * row, count: row)
                        }
                    }
                }
            }
        }
        if case .file(let sink) = destination, let last = HookPoints(layers: model.config.layers).names.last {
            // The sink writes while the pass goes on; the next pass reuses the buffers it reads,
            // so every pass ends by waiting for its writes (the last hook fires after the others).
            try hookSet.read(last) { _, _ in sink.drain() }
        }
        let run = try model.run(tokens: block.ids, batch: n, length: L, iterations: expansion.iterations, hooks: hookSet)
        let perIteration = L * Factor.count
        var tokens = [Int32](repeating: 0, count: n * T * perIteration)
        var predictions = tokens
        for (ti, t) in iterations.enumerated() {
            for b in 0..<n {
                let to = (b * T + ti) * perIteration, from = b * perIteration
                tokens.replaceSubrange(to..<(to + perIteration), with: run.inputs[t][from..<(from + perIteration)])
                predictions.replaceSubrange(to..<(to + perIteration), with: run.predictions[t][from..<(from + perIteration)])
            }
        }
        var meta: [String: [Int32]] = [:]
        for key in expansion.metaKeys { meta[key] = Array((expansion.meta[key] ?? [])[range]) }
        return RecordedBatch(count: n, tokens: tokens, predictions: predictions, lengths: block.lengths,
                             meta: meta, activations: [:],
                             queryPositions: queries.map { $0.joined().map { Int32($0) } })
    }

    /// Records every sequence into `writer`, batch by batch; between batches `shouldStop` may end
    /// the run early (the file then keeps complete = 0). `progress` gets the sequences done.
    public func record(into writer: ActivationWriter, shouldStop: () -> Bool = { false },
                       progress: (Int) -> Void = { _ in }) throws -> RecordingOutcome {
        var start = 0
        // Without the file taking hooks in place, one batch's rows, reused by every batch.
        var rows: HookRows?
        do {
            while start < expansion.count {
                if shouldStop() {
                    writer.abandon()
                    return .interrupted(sequences: writer.count)
                }
                let range = start..<min(start + batchSize, expansion.count)
                if writer.writesHooksInPlace {
                    try writer.append(count: range.count) { sink in try runBatch(range, into: .file(sink)) }
                } else {
                    let buffer = rows ?? HookRows(layouts: hookLayouts, capacity: min(batchSize, expansion.count), iterations: iterations.count)
                    rows = buffer
                    try writer.append(try runBatch(range, into: .rows(buffer)), rows: buffer)
                }
                start = range.upperBound
                progress(start)
            }
            if shouldStop() {
                writer.abandon()
                return .interrupted(sequences: writer.count)
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return .complete(sequences: writer.count)
    }
}

/// Where the recorder's hooks put each tensor.
enum HookDestination {
    /// Reused batch rows, appended to the file after the forward pass.
    case rows(HookRows)
    /// The file itself, while the forward pass runs.
    case file(HookSink)
}
