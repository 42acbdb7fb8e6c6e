#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Summary of a weighted softmax cross-entropy over some rows.
struct CrossEntropyTotals {
    var weightedLoss: Double = 0
    var weight: Double = 0
    var counted = 0
    var correct = 0
}

/// Softmax cross-entropy of `rows` logit rows against integer targets, with per-row weights.
///
/// Writes dLogits = weight · (softmax − onehot) · gradientScale (zero rows for weight 0) when
/// `dLogits` is non-nil. Targets are read at `targets[r * targetStride]`.
func crossEntropyForwardBackward(dLogits: UnsafeMutablePointer<Float>?, logits: UnsafePointer<Float>,
                                 targets: UnsafePointer<Int32>, targetStride: Int,
                                 weights: UnsafePointer<Float>, rows: Int, classes: Int,
                                 gradientScale: Float, rowCorrect: UnsafeMutablePointer<Bool>? = nil) -> CrossEntropyTotals {
    let profiled = Profiler.start()
    defer { Profiler.stop(.crossEntropy, since: profiled) }
    var totals = CrossEntropyTotals()
    // exp(logit − max) of one row, in SIMD lanes (Kernels/SoftmaxLanes.swift): two glibc expf
    // calls per logit were most of this kernel's time. Written into the row's dLogits when
    // there is one, else into this scratch row.
    let scratch = dLogits == nil ? UnsafeMutablePointer<Float>.allocate(capacity: classes) : nil
    defer { scratch?.deallocate() }
    for r in 0..<rows {
        let w = weights[r]
        let row = logits + r * classes
        if w == 0 {
            if let dLogits { (dLogits + r * classes).initialize(repeating: 0, count: classes) }
            continue
        }
        let target = Int(targets[r * targetStride])
        var maxLogit = row[0], best = 0
        for c in 1..<classes where row[c] > maxLogit { maxLogit = row[c]; best = c }
        guard let exponentials = dLogits.map({ $0 + r * classes }) ?? scratch else { continue }
        exponentials.update(from: row, count: classes)
        let sum = exponentiateAndSum(exponentials, count: classes, subtracting: maxLogit)
        let logSum = logf(sum) + maxLogit
        totals.weightedLoss += Double(w) * Double(logSum - row[target])
        totals.weight += Double(w)
        totals.counted += 1
        if best == target { totals.correct += 1 }
        rowCorrect?[r] = best == target
        if dLogits != nil {
            // softmax · w · scale = exp(logit − max) · (w · scale / sum), in place.
            let g = exponentials, s = w * gradientScale, factor = s / sum
            for c in 0..<classes { g[c] *= factor }
            g[target] -= s
        }
    }
    return totals
}

/// Index of the largest element (the lowest index among ties).
@inline(__always)
func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    var bestValue = row[0]
    for c in 1..<count where row[c] > bestValue { bestValue = row[c]; best = c }
    return best
}
