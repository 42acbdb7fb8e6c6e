import Dispatch

/// Computes the gradient of a block's supervised loss by data parallelism: the block's sequences
/// are cut into one shard per core, each shard runs forward and backward on its own thread with
/// its own buffers, and the shard gradients are summed in shard order.
///
/// Splitting every kernel's rows over the cores (what one `Backpropagation` does) leaves the
/// cores waiting at each kernel's join; whole shards side by side keep them busy (issue 5). The
/// result is deterministic for a given number of shards: each shard runs its kernels serially
/// and the sum's order is fixed. It differs from the single-block gradient only by rounding.
public final class ShardedBackpropagation {
    public let model: Model
    /// Shards per block (fewer when the block has fewer sequences).
    public let shards: Int
    /// One single-block worker per shard; the first one's gradient buffer receives the sum.
    let workers: [Backpropagation]
    /// First sequence of each shard in the last call, plus the end, and the block length then.
    var shardStarts: [Int] = [0]
    var length = 0

    /// Splits blocks into `shards` shards (default: one per core, LATENTLENS_THREADS included).
    public init(model: Model, shards: Int? = nil) {
        self.model = model
        self.shards = max(1, shards ?? ComputeThreads.count)
        workers = (0..<self.shards).map { _ in Backpropagation(model: model) }
    }

    /// The gradient from the last `lossAndGradient` call, flat in layout order.
    public var gradient: [Float] { workers[0].gradient }
    /// Pointer access to the gradient, for the optimizer.
    public var gradientPointer: UnsafeMutablePointer<Float> { workers[0].gradientPointer }

    /// Whether the value readout's argmax at flat row `row` of the block matched the target in the last call.
    public func valueCorrect(at row: Int) -> Bool {
        guard length > 0 else { return false }
        let sequence = row / length
        for s in 0..<(shardStarts.count - 1) where sequence < shardStarts[s + 1] {
            return workers[s].valueCorrect(at: row - shardStarts[s] * length)
        }
        return false
    }

    /// Runs forward and backward on one block, shard by shard in parallel, and leaves dLoss/dθ in
    /// `gradient`. Arguments and report mean what they mean for `Backpropagation.lossAndGradient`.
    public func lossAndGradient(inputs: [Int32], targets: [Int32], positionWeights: [Float],
                                batch: Int, length: Int, factorWeights: [Float]) -> LossReport {
        let n = batch * length
        precondition(inputs.count == n * 4 && targets.count == n * 4 && positionWeights.count == n,
                     "token block of \(batch) × \(length) needs \(n * 4) ids and \(n) weights")
        let count = min(shards, batch)
        self.length = length
        shardStarts = (0...count).map { batch * $0 / count }
        if count == 1 {
            return workers[0].lossAndGradient(inputs: inputs, targets: targets, positionWeights: positionWeights,
                                              batch: batch, length: length, factorWeights: factorWeights)
        }
        // Every shard normalises by the whole block's weight, summed in the single block's order.
        var blockWeight: Double = 0
        for w in positionWeights { blockWeight += Double(w) }
        let cores = max(1, ComputeThreads.count / count)
        let starts = shardStarts
        // One slot per shard, each written by its own thread only.
        let reports = UnsafeMutableBufferPointer<LossReport>.allocate(capacity: count)
        reports.initialize(repeating: LossReport(factorLoss: [], loss: 0, counted: [], correct: []))
        defer { reports.deinitialize(); reports.deallocate() }
        DispatchQueue.concurrentPerform(iterations: count) { s in
            let rows = (starts[s] * length)..<(starts[s + 1] * length)
            reports[s] = ComputeThreads.limited(to: cores) {
                workers[s].lossAndGradient(inputs: Array(inputs[(rows.lowerBound * 4)..<(rows.upperBound * 4)]),
                                           targets: Array(targets[(rows.lowerBound * 4)..<(rows.upperBound * 4)]),
                                           positionWeights: Array(positionWeights[rows]),
                                           batch: starts[s + 1] - starts[s], length: length,
                                           factorWeights: factorWeights, blockWeight: blockWeight)
            }
        }
        sumGradients(count)
        return LossReport(combining: Array(reports), factorWeights: factorWeights)
    }

    /// Adds the gradients of shards 1..<count into shard 0's, in shard order for every entry (so
    /// the result does not depend on how the entries are split over the cores).
    func sumGradients(_ count: Int) {
        let total = model.layout.totalCount
        let sum = workers[0].gradientPointer
        let parts = workers[1..<count].map(\.gradientPointer)
        parallelRows(total, minimumPerTask: 1 << 16) { range in
            for part in parts {
                for i in range { sum[i] += part[i] }
            }
        }
    }
}

extension LossReport {
    /// The report of a block from the reports of its shards: counts add up, each factor's mean
    /// is Σ w·CE / Σ w over all shards.
    init(combining shards: [LossReport], factorWeights: [Float]) {
        self.init(factorLoss: [nil, nil, nil, nil], loss: 0, counted: [0, 0, 0, 0], correct: [0, 0, 0, 0])
        for shard in shards {
            for f in 0..<4 {
                counted[f] += shard.counted[f]
                correct[f] += shard.correct[f]
                factorWeightedLoss[f] += shard.factorWeightedLoss[f]
                factorWeight[f] += shard.factorWeight[f]
            }
            heavyCounted += shard.heavyCounted
            heavyCorrect += shard.heavyCorrect
        }
        for f in 0..<4 where shards.contains(where: { $0.factorLoss[f] != nil }) {
            let mean = factorWeight[f] > 0 ? factorWeightedLoss[f] / factorWeight[f] : 0
            factorLoss[f] = mean
            loss += Double(factorWeights[f]) * mean
        }
    }
}
