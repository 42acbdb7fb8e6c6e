import Foundation
import Testing
@testable import Transformer

/// The softmax's SIMD exponential against the C library's, over every input it can get.
@Suite struct ExponentialTests {
    @Test func matchesExpWithinTwoTenMillionthsAndClampsAtMinus80() {
        // Inputs from −100 to 0 in steps that hit no grid, minus a shift; 1,003 of them, so the
        // last chunk is a partial one.
        let count = 1_003, shift: Float = 1.5
        let inputs = (0..<count).map { Float(-100.0 + 100.0 * Double($0) / Double(count - 1)) + shift }
        var row = inputs
        let sum = row.withUnsafeMutableBufferPointer { exponentiateAndSum($0.baseAddress!, count: count, subtracting: shift) }
        var worst = 0.0, expected = 0.0
        for (x, e) in zip(inputs, row) {
            let exact = exp(max(Double(x - shift), -80))
            worst = max(worst, abs(Double(e) - exact) / exact)
            expected += exact
        }
        #expect(worst < 2e-7, "largest relative error \(worst)")
        #expect(abs(Double(sum) - expected) / expected < 1e-6)
        #expect(row.last == 1, "exp(0)")
    }
}
