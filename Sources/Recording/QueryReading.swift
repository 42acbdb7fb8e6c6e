import HDF5
import Transformer

extension ActivationReader {
    /// Recorded query positions [n, P] of sequences `range` (rows of `/query_positions`), or nil
    /// when the activation file holds every position.
    public func queryPositions(_ range: Range<Int>? = nil) throws -> [[Int]]? {
        guard let columns = queryColumns else { return nil }
        let r = try checkRange(range)
        let flat = try file.root.dataset(ActivationSchema.queryPositionsPath).readRows(r, as: Int32.self).values
        let p = columns.count
        return (0..<r.count).map { i in (0..<p).map { Int(flat[i * p + $0]) } }
    }

    /// Whether `hook` holds attention rows ([head, query, key] after [sequence, iteration]).
    func isAttention(_ hook: String) throws -> Bool {
        let dims = try dimensions(of: hook)
        return dims.count == 5 && dims[2] == "head" && dims[3] == ActivationSchema.queryAxis
    }

    /// A hook's activations at the position named by the metadata column `column` (e.g.
    /// `rhs_pos`), at run iteration `iteration`, for sequences `range`, whichever way the file
    /// was recorded (every position, or `--positions`): per-position hooks give [n, …] (hook_z:
    /// [n, head, d_head]), attention (hook_pattern, hook_attn_scores) gives that query's rows
    /// [n, head, key].
    public func activations(_ hook: String, iteration: Int, at column: String, sequences range: Range<Int>? = nil) throws -> Tensor {
        let (dataset, shape) = try hookDataset(hook, minimumRank: 3)
        let t = try iterationIndex(iteration)
        let r = try checkRange(range)
        let attention = try isAttention(hook)
        let row = Array(shape.dropFirst(2))               // [P or L, …] or [H, P or L, L]
        let axis = attention ? 1 : 0                      // the stored position axis within a row
        let outShape = row.enumerated().filter { $0.offset != axis }.map(\.element)
        // Index along the stored position axis, per sequence.
        let index: [Int]
        if let columns = queryColumns, let k = columns.firstIndex(of: column) {
            index = [Int](repeating: k, count: r.count)
        } else if let columns = queryColumns {
            let wanted = try meta(column, r)
            let recorded = try queryPositions(r) ?? []
            index = try wanted.enumerated().map { i, q in
                guard let k = recorded[i].firstIndex(of: Int(q)) else {
                    throw ActivationFileError.positionNotRecorded(path: path, column: column, recorded: columns)
                }
                return k
            }
        } else {
            index = try meta(column, r).map { Int($0) }
            if let bad = index.first(where: { $0 < 0 || $0 >= row[axis] }) {
                throw ActivationFileError.malformed(path: path, reason: "the metadata column \(column) holds position \(bad), outside the \(row[axis]) positions of \(hook)")
            }
        }
        let outSize = outShape.reduce(1, *)
        var out = [Float](repeating: 0, count: r.count * outSize)
        if let k = index.first, index.allSatisfy({ $0 == k }) {
            // One hyperslab: the same stored index for every sequence.
            var start = [r.lowerBound, t] + row.map { _ in 0 }, counts = [r.count, 1] + row
            start[2 + axis] = k
            counts[2 + axis] = 1
            out = try dataset.readSlice(start: start, count: counts, as: Float.self).values
        } else {
            // Chunks of sequences, each read whole at this iteration and cut.
            let chunk = 32, rowSize = row.reduce(1, *)
            let inner = row.dropFirst(axis + 1).reduce(1, *), outer = row.prefix(axis).reduce(1, *)
            var begin = 0
            while begin < r.count {
                let end = min(begin + chunk, r.count)
                let values = try dataset.readSlice(start: [r.lowerBound + begin, t] + row.map { _ in 0 },
                                                   count: [end - begin, 1] + row, as: Float.self).values
                for i in begin..<end {
                    let source = (i - begin) * rowSize, target = i * outSize
                    for o in 0..<outer {
                        let from = source + (o * row[axis] + index[i]) * inner
                        out.replaceSubrange((target + o * inner)..<(target + (o + 1) * inner), with: values[from..<(from + inner)])
                    }
                }
                begin = end
            }
        }
        try checkFinite(out, hook: hook, iteration: iteration, firstSequence: r.lowerBound, perSequence: outSize)
        return Tensor(shape: [r.count] + outShape, scalars: out)
    }
}
