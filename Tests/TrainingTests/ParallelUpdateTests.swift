import Foundation
import Testing
@testable import GraphTask
@testable import Training
@testable import Transformer

/// The optimizer step and the gradient norm run in SIMD lanes over the cores; they must still
/// compute what the plain scalar formulas compute.
@Suite struct ParallelUpdateTests {
    @Test func adamWMatchesTheScalarFormulaBitForBit() throws {
        let model = try Model(config: tinyModelConfig())
        let n = model.layout.totalCount
        #expect(n % AdamRule.lanes != 0 || n > 1 << 15)  // a ragged tail or several tasks, or both
        var adam = AdamW(layout: model.layout, weightDecay: 0.1)
        let mask = adam.decayMask
        var rng = TaskRNG(seed: 9)
        var theta = (0..<n).map { _ in Float(rng.unitDouble()) - 0.5 }
        var expected = theta
        var m = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
        let (b1, b2, eps, decay, rate, scale): (Float, Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 0.1, 0.01, 0.7)
        for step in 1...3 {
            let gradient = (0..<n).map { _ in Float(rng.unitDouble()) * 2 - 1 }
            theta.withUnsafeMutableBufferPointer { t in
                gradient.withUnsafeBufferPointer { g in
                    if let tp = t.baseAddress, let gp = g.baseAddress {
                        adam.update(parameters: tp, gradient: gp, learningRate: rate, gradientScale: scale)
                    }
                }
            }
            let c1 = 1 - powf(b1, Float(step)), c2 = 1 - powf(b2, Float(step))
            for i in 0..<n {
                let g = gradient[i] * scale
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                let mHat = m[i] / c1, vHat = v[i] / c2
                expected[i] -= rate * (mHat / (vHat.squareRoot() + eps) + decay * mask[i] * expected[i])
            }
        }
        #expect(theta == expected)
        #expect(adam.firstMoment == m && adam.secondMoment == v)
    }

    @Test func gradientNormMatchesTheSerialSum() {
        var rng = TaskRNG(seed: 10)
        let n = 300_001  // several chunks and a ragged last one
        let values = (0..<n).map { _ in Float(rng.unitDouble()) * 2 - 1 }
        var serial: Double = 0
        for x in values { serial += Double(x) * Double(x) }
        let norm = values.withUnsafeBufferPointer { gradientNorm($0.baseAddress!, count: n) }
        #expect(abs(Double(norm) - serial.squareRoot()) <= 1e-6 * serial.squareRoot())
    }
}
