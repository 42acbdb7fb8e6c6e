#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Transformer

/// AdamW with decoupled weight decay and bias correction, over the model's flat parameter buffer.
///
/// Weight decay applies to matrices and embedding tables only, not to biases or LayerNorm gains.
public struct AdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0.01
    /// First and second moments, flat in layout order.
    public var firstMoment: [Float]
    public var secondMoment: [Float]
    /// Steps taken so far (for bias correction).
    public var step: Int = 0
    /// 1 where weight decay applies, 0 elsewhere.
    let decayMask: [Float]

    public init(layout: ParameterLayout, weightDecay: Float = 0.01) {
        self.weightDecay = weightDecay
        firstMoment = [Float](repeating: 0, count: layout.totalCount)
        secondMoment = [Float](repeating: 0, count: layout.totalCount)
        var mask = [Float](repeating: 0, count: layout.totalCount)
        for slot in layout.slots where slot.role == .weight && slot.kind != .layerNorm {
            for i in slot.offset..<(slot.offset + slot.count) { mask[i] = 1 }
        }
        decayMask = mask
    }

    /// One update θ ← θ − lr·(m̂ / (√v̂ + ε) + λθ) with the gradient `g` scaled by `gradientScale`.
    public mutating func update(parameters: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                                learningRate: Float, gradientScale: Float = 1) {
        let profiled = Profiler.start()
        defer { Profiler.stop(.optimizer, since: profiled) }
        step += 1
        let b1 = beta1, b2 = beta2, eps = epsilon, decay = weightDecay
        let correction1 = 1 - powf(b1, Float(step)), correction2 = 1 - powf(b2, Float(step))
        let count = firstMoment.count
        let rule = AdamRule(b1: b1, b2: b2, eps: eps, decay: decay, learningRate: learningRate,
                            correction1: correction1, correction2: correction2, gradientScale: gradientScale)
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                decayMask.withUnsafeBufferPointer { maskBuffer in
                    guard let m = mBuffer.baseAddress, let v = vBuffer.baseAddress, let mask = maskBuffer.baseAddress else { return }
                    // Element-wise, so splitting it over the cores changes no result; serial, it
                    // took a twelfth of a data-parallel training step.
                    parallelRows(count, minimumPerTask: 1 << 15) { range in
                        let pointers = (p: parameters, g: gradient, m: m, v: v, mask: mask)
                        var i = range.lowerBound
                        while i + AdamRule.lanes <= range.upperBound {
                            rule.apply(pointers, at: i, count: AdamRule.lanes)
                            i += AdamRule.lanes
                        }
                        if i < range.upperBound { rule.apply(pointers, at: i, count: range.upperBound - i) }
                    }
                }
            }
        }
    }
}

/// One AdamW step on a few entries at a time, in SIMD lanes: with five arrays the compiler does
/// not vectorise the plain loop (too many possible overlaps to check), and it was then 4 % of a
/// training step. Lanes compute exactly what the scalar formula does.
struct AdamRule {
    static let lanes = 8
    typealias Lanes = SIMD8<Float>
    let b1, b2, eps, decay, learningRate, correction1, correction2, gradientScale: Float

    /// Updates entries i ..< i + count (count ≤ `lanes`) of the parameters and both moments.
    @inline(__always)
    func apply(_ x: (p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                     v: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>), at i: Int, count: Int) {
        var p = Lanes(), g = Lanes(), m = Lanes(), v = Lanes(), mask = Lanes()
        if count == AdamRule.lanes {
            p = UnsafeRawPointer(x.p + i).loadUnaligned(as: Lanes.self)
            g = UnsafeRawPointer(x.g + i).loadUnaligned(as: Lanes.self)
            m = UnsafeRawPointer(x.m + i).loadUnaligned(as: Lanes.self)
            v = UnsafeRawPointer(x.v + i).loadUnaligned(as: Lanes.self)
            mask = UnsafeRawPointer(x.mask + i).loadUnaligned(as: Lanes.self)
        } else {
            for lane in 0..<count {
                p[lane] = x.p[i + lane]; g[lane] = x.g[i + lane]; m[lane] = x.m[i + lane]
                v[lane] = x.v[i + lane]; mask[lane] = x.mask[i + lane]
            }
        }
        g *= gradientScale
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        let mHat = m / correction1, vHat = v / correction2
        p -= learningRate * (mHat / (vHat.squareRoot() + eps) + decay * mask * p)
        if count == AdamRule.lanes {
            UnsafeMutableRawPointer(x.p + i).storeBytes(of: p, as: Lanes.self)
            UnsafeMutableRawPointer(x.m + i).storeBytes(of: m, as: Lanes.self)
            UnsafeMutableRawPointer(x.v + i).storeBytes(of: v, as: Lanes.self)
        } else {
            for lane in 0..<count { x.p[i + lane] = p[lane]; x.m[i + lane] = m[lane]; x.v[i + lane] = v[lane] }
        }
    }
}

/// Global L2 norm of a flat gradient.
///
/// Summed in fixed chunks over the cores, the chunks' sums then added in order: the same
/// result whatever the number of cores.
public func gradientNorm(_ gradient: UnsafePointer<Float>, count: Int) -> Float {
    let profiled = Profiler.start()
    defer { Profiler.stop(.gradientNorm, since: profiled) }
    let chunk = 1 << 16, chunks = (count + chunk - 1) / chunk
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { sums in
        parallelRows(chunks, minimumPerTask: 4) { range in
            for c in range {
                var sum: Double = 0
                for i in (c * chunk)..<min(count, (c + 1) * chunk) { sum += Double(gradient[i]) * Double(gradient[i]) }
                sums[c] = sum
            }
        }
    }
    var sum: Double = 0
    for s in partial { sum += s }
    return Float(sum.squareRoot())
}

/// Linear warm-up to the peak rate, then cosine decay to `floor` × peak at the last step.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var floor: Float = 0.1

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, floor: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floor = floor
    }

    /// Learning rate for step `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        let cosine = 0.5 * (1 + cosf(Float.pi * progress))
        return peak * (floor + (1 - floor) * cosine)
    }
}
