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
        for slot in layout.slots where slot.shape.count == 2 {
            for i in slot.offset..<(slot.offset + slot.count) { mask[i] = 1 }
        }
        decayMask = mask
    }

    /// One update θ ← θ − lr·(m̂ / (√v̂ + ε) + λθ) with the gradient `g` scaled by `gradientScale`.
    public mutating func update(parameters: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                                learningRate: Float, gradientScale: Float = 1) {
        step += 1
        let b1 = beta1, b2 = beta2, eps = epsilon, decay = weightDecay
        let correction1 = 1 - powf(b1, Float(step)), correction2 = 1 - powf(b2, Float(step))
        let count = firstMoment.count
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                decayMask.withUnsafeBufferPointer { mask in
                    let m = mBuffer, v = vBuffer
                    // Element-wise, so splitting it over the cores changes no result; serial, it
                    // took a twelfth of a data-parallel training step.
                    parallelRows(count, minimumPerTask: 1 << 15) { range in
                        for i in range {
                            let g = gradient[i] * gradientScale
                            m[i] = b1 * m[i] + (1 - b1) * g
                            v[i] = b2 * v[i] + (1 - b2) * g * g
                            let mHat = m[i] / correction1, vHat = v[i] / correction2
                            parameters[i] -= learningRate * (mHat / (vHat.squareRoot() + eps) + decay * mask[i] * parameters[i])
                        }
                    }
                }
            }
        }
    }
}

/// Global L2 norm of a flat gradient.
///
/// Summed in fixed chunks over the cores, the chunks' sums then added in order: the same
/// result whatever the number of cores.
public func gradientNorm(_ gradient: UnsafePointer<Float>, count: Int) -> Float {
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
