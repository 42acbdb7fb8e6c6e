import Dispatch
import GraphTask

/// Computes the gradient of a block's supervised loss by data parallelism: the block's sequences
/// are cut into one shard per core, each shard runs forward and backward on its own thread with
/// its own buffers, and the shard gradients are summed in shard order.
///
/// Splitting every kernel's rows over the cores (what one `Backpropagation` does) leaves the
/// cores waiting at each kernel's join; whole shards side by side keep them busy (docs/benchmarks.md). The
/// result is deterministic for a given number of shards and cores: which sequences form a shard
/// depends on the block alone, a shard's kernels split their work the same way on every call,
/// and the sum's order is fixed. It differs from the single-block gradient only by rounding.
public final class ShardedBackpropagation {
    public let model: Model
    /// Shards per block (fewer when the block has fewer sequences).
    public let shards: Int
    /// One single-block worker per shard; the first one's gradient buffer receives the sum.
    let workers: [Backpropagation]
    /// Where the last call put each sequence of the block.
    var placement: [Placement] = []
    /// Length of each shard's block in the last call, and the whole block's.
    var shardLengths: [Int] = []
    var length = 0

    /// A sequence's shard and its index within the shard.
    struct Placement {
        var shard: Int, sequence: Int
    }

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

    /// Whether the value readout's argmax at flat row `row` of the block matched the target in the
    /// last call (false at positions cut off as trailing padding, which have weight 0).
    public func valueCorrect(at row: Int) -> Bool {
        guard length > 0, row / length < placement.count else { return false }
        let place = placement[row / length], position = row % length
        guard position < shardLengths[place.shard] else { return false }
        return workers[place.shard].valueCorrect(at: place.sequence * shardLengths[place.shard] + position)
    }

    /// Runs forward and backward on one block, shard by shard in parallel, and leaves dLoss/dθ in
    /// `gradient`. Arguments and report mean what they mean for `Backpropagation.lossAndGradient`.
    ///
    /// Sequences are sorted by length and each shard is cut to its longest sequence: attention
    /// is causal, so the weight-0 positions after a sequence's last weighted one change nothing
    /// but cost time. The shard boundaries balance the shards' rows (`balancedSplit`).
    public func lossAndGradient(inputs: [Int32], targets: [Int32], positionWeights: [Float],
                                batch: Int, length: Int, factorWeights: [Float], dropout: Dropout? = nil) -> LossReport {
        let n = batch * length
        precondition(inputs.count == n * Factor.count && targets.count == n * Factor.count && positionWeights.count == n,
                     "token block of \(batch) × \(length) needs \(n * Factor.count) ids and \(n) weights")
        let count = min(shards, batch)
        self.length = length
        if count == 1 {
            placement = (0..<batch).map { Placement(shard: 0, sequence: $0) }
            shardLengths = [length]
            return workers[0].lossAndGradient(inputs: inputs, targets: targets, positionWeights: positionWeights,
                                              batch: batch, length: length, factorWeights: factorWeights, dropout: dropout)
        }
        let lengths = (0..<batch).map { b in
            var end = 1
            for position in 0..<length where positionWeights[b * length + position] != 0 { end = position + 1 }
            return end
        }
        let order = (0..<batch).sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let bounds = ShardedBackpropagation.balancedSplit(order.map { lengths[$0] }, into: count)
        shardLengths = (0..<count).map { lengths[order[bounds[$0 + 1] - 1]] }
        placement = [Placement](repeating: Placement(shard: 0, sequence: 0), count: batch)
        for s in 0..<count {
            for (i, b) in order[bounds[s]..<bounds[s + 1]].enumerated() { placement[b] = Placement(shard: s, sequence: i) }
        }
        // Every shard normalises by the whole block's weight, summed in the single block's order.
        var blockWeight: Double = 0
        for w in positionWeights { blockWeight += Double(w) }
        let cores = max(1, ComputeThreads.count / count)
        let shardLengths = shardLengths
        // One slot per shard, each written by its own thread only.
        let reports = UnsafeMutableBufferPointer<LossReport>.allocate(capacity: count)
        reports.initialize(repeating: LossReport(factorLoss: [], loss: 0, counted: [], correct: []))
        defer { reports.deinitialize(); reports.deallocate() }
        DispatchQueue.concurrentPerform(iterations: count) { s in
            let members = order[bounds[s]..<bounds[s + 1]], shardLength = shardLengths[s]
            var shardInputs = [Int32](), shardTargets = [Int32](), shardWeights = [Float]()
            shardInputs.reserveCapacity(members.count * shardLength * Factor.count)
            shardTargets.reserveCapacity(members.count * shardLength * Factor.count)
            shardWeights.reserveCapacity(members.count * shardLength)
            for b in members {
                let rows = (b * length)..<(b * length + shardLength)
                shardInputs += inputs[(rows.lowerBound * Factor.count)..<(rows.upperBound * Factor.count)]
                shardTargets += targets[(rows.lowerBound * Factor.count)..<(rows.upperBound * Factor.count)]
                shardWeights += positionWeights[rows]
            }
            reports[s] = ComputeThreads.limited(to: cores) {
                workers[s].lossAndGradient(inputs: shardInputs, targets: shardTargets, positionWeights: shardWeights,
                                           batch: members.count, length: shardLength,
                                           factorWeights: factorWeights,
                                           dropout: dropout?.shard(sequences: Array(members)), blockWeight: blockWeight)
            }
        }
        sumGradients(count)
        return LossReport(combining: Array(reports), factorWeights: factorWeights)
    }

    /// Boundaries (count + 1 of them, from 0 to lengths.count) that cut ascending `lengths` into
    /// `count` non-empty runs, minimising the largest run's rows (its size × its last length):
    /// the shards then finish together.
    static func balancedSplit(_ lengths: [Int], into count: Int) -> [Int] {
        let total = lengths.count
        precondition(count >= 1 && count <= total, "cannot cut \(total) sequences into \(count) shards")
        // cost[s][j]: the best largest run when the first j sequences form s runs; cut[s][j]: the
        // start of the last of those runs.
        var cost = [[Int]](repeating: [Int](repeating: Int.max, count: total + 1), count: count + 1)
        var cut = [[Int]](repeating: [Int](repeating: 0, count: total + 1), count: count + 1)
        cost[0][0] = 0
        for s in 1...count {
            for j in s...(total - count + s) {
                for i in (s - 1)..<j where cost[s - 1][i] != Int.max {
                    let candidate = max(cost[s - 1][i], (j - i) * lengths[j - 1])
                    if candidate < cost[s][j] { cost[s][j] = candidate; cut[s][j] = i }
                }
            }
        }
        var bounds = [total]
        var j = total
        for s in stride(from: count, through: 1, by: -1) {
            j = cut[s][j]
            bounds.append(j)
        }
        return bounds.reversed()
    }

    /// Adds the gradients of shards 1..<count into shard 0's, in shard order for every entry (so
    /// the result does not depend on how the entries are split over the cores).
    func sumGradients(_ count: Int) {
        let profiled = Profiler.start()
        defer { Profiler.stop(.gradientSum, since: profiled) }
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
        self.init(factorLoss: [Double?](repeating: nil, count: Factor.count), loss: 0,
                  counted: [Int](repeating: 0, count: Factor.count), correct: [Int](repeating: 0, count: Factor.count))
        for shard in shards {
            for f in 0..<Factor.count {
                counted[f] += shard.counted[f]
                correct[f] += shard.correct[f]
                factorWeightedLoss[f] += shard.factorWeightedLoss[f]
                factorWeight[f] += shard.factorWeight[f]
            }
            heavyCounted += shard.heavyCounted
            heavyCorrect += shard.heavyCorrect
            // Each shard's bonus term is already normalised by the whole block's weight.
            attentionEntropyTerm += shard.attentionEntropyTerm
            if let entropy = shard.meanAttentionEntropy { meanAttentionEntropy = (meanAttentionEntropy ?? 0) + entropy }
        }
        for f in 0..<Factor.count where shards.contains(where: { $0.factorLoss[f] != nil }) {
            let mean = factorWeight[f] > 0 ? factorWeightedLoss[f] / factorWeight[f] : 0
            factorLoss[f] = mean
            loss += Double(factorWeights[f]) * mean
        }
        loss += attentionEntropyTerm
    }
}
