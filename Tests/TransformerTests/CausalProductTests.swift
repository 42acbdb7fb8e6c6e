import Testing
@testable import GraphTask
@testable import Transformer

/// Kernels/CausalProducts.swift against plain sums in Double, and the attention kernels built on
/// them against the same kernels on OpenBLAS.
@Suite struct CausalProductTests {
    /// Lengths around the kernels' blocks of 6 rows and 16 keys.
    static let lengths = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 16, 17, 19, 37]
    static let stride = 40  // rows of 16 inside wider rows, as a head inside [L, D]

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = TaskRNG(seed: seed)
        return (0..<count).map { _ in Float(rng.unitDouble()) * 2 - 1 }
    }

    func expectClose(_ got: Float, _ want: Double, _ what: String) {
        #expect(abs(Double(got) - want) <= 1e-5 * (1 + abs(want)), "\(what): \(got) against \(want)")
    }

    @Test(arguments: lengths) func dotsAreTheLowerTriangleOfABTransposed(length L: Int) {
        let a = random(L * Self.stride, seed: 1), b = random(L * Self.stride, seed: 2)
        var out = [Float](repeating: .nan, count: L * L)
        var packed = [Float](repeating: .nan, count: causalDotsScratch(length: L))
        causalDots(&out, a, b, length: L, stride: Self.stride, packed: &packed)
        for n in 0..<L {
            for m in 0...n {
                let want = (0..<16).reduce(0.0) { $0 + Double(a[n * Self.stride + $1]) * Double(b[m * Self.stride + $1]) }
                expectClose(out[n * L + m], want, "out[\(n), \(m)]")
            }
            // Nothing is written beyond the promised slack after the diagonal.
            for m in min(L, n + 21)..<L { #expect(out[n * L + m].isNaN, "out[\(n), \(m)] written") }
        }
    }

    /// The upper triangle of p holds NaN: the mixes must not read it.
    func lowerTriangle(_ L: Int, seed: UInt64) -> [Float] {
        var p = random(L * L, seed: seed)
        for n in 0..<L { for m in (n + 1)..<L { p[n * L + m] = .nan } }
        return p
    }

    @Test(arguments: lengths) func mixIsPTimesX(length L: Int) { checkMix(length: L, transposed: false) }

    @Test(arguments: lengths) func transposedMixIsPTransposedTimesX(length L: Int) { checkMix(length: L, transposed: true) }

    /// `causalMix` (or `causalTransposedMix`) on a random triangle: output row r against the sum
    /// over the keys it sees, j ≤ r (or over the queries that see it, j ≥ r).
    func checkMix(length L: Int, transposed: Bool) {
        let p = lowerTriangle(L, seed: transposed ? 5 : 3), x = random(L * Self.stride, seed: transposed ? 6 : 4)
        var out = [Float](repeating: .nan, count: L * Self.stride)
        if transposed { causalTransposedMix(&out, outStride: Self.stride, p, x, xStride: Self.stride, length: L) }
        else { causalMix(&out, outStride: Self.stride, p, x, xStride: Self.stride, length: L) }
        for r in 0..<L {
            let terms = transposed ? Array(r..<L) : Array(0...r)
            for d in 0..<16 {
                let want = terms.reduce(0.0) { sum, j in
                    sum + Double(transposed ? p[j * L + r] : p[r * L + j]) * Double(x[j * Self.stride + d])
                }
                expectClose(out[r * Self.stride + d], want, "out[\(r), \(d)]")
            }
            #expect(out[r * Self.stride + 16].isNaN, "row \(r) written past its 16")
        }
    }

    /// Random inputs of one attention layer, and its forward and backward passes over them.
    struct AttentionCase {
        let shape: AttentionShape
        let q: [Float], k: [Float], v: [Float], relK: [Float], relQ: [Float], dz: [Float]
        let dropout: Dropout, layer: Int

        init(length L: Int, window W: Int, seed: UInt64, dropout: Dropout, layer: Int, random: (Int, UInt64) -> [Float]) {
            shape = AttentionShape(batch: 2, length: L, heads: 2, headWidth: 16, window: W)
            let n = shape.batch * L * shape.width
            q = random(n, seed); k = random(n, seed + 1); v = random(n, seed + 2)
            relK = random(W * shape.width, seed + 3); relQ = random(W * shape.width, seed + 4); dz = random(n, seed + 5)
            self.dropout = dropout
            self.layer = layer
        }

        /// z, pattern, scores, dq, dk, dv, dRelK, dRelQ; the pattern starts filled with `patternFill`.
        func run(causal: Bool = true, wholePattern: Bool = true, patternFill: Float = 0) -> [[Float]] {
            let B = shape.batch, L = shape.length, D = shape.width, W = shape.window
            var z = [Float](repeating: 0, count: B * L * D)
            var pattern = [Float](repeating: patternFill, count: B * shape.heads * L * L), scores = pattern
            relativeAttentionForward(z: &z, pattern: &pattern, scores: &scores, q: q, k: k, v: v, relK: relK, relQ: relQ,
                                     shape: shape, dropout: dropout, layer: layer, causalKernels: causal,
                                     wholePattern: wholePattern)
            var dq = z, dk = z, dv = z
            var dRelK = [Float](repeating: 0, count: W * D), dRelQ = dRelK
            var scratch = [Float](repeating: 0, count: 2 * B * W * D)
            relativeAttentionBackward(dq: &dq, dk: &dk, dv: &dv, dRelK: &dRelK, dRelQ: &dRelQ, dz: dz, pattern: pattern,
                                      q: q, k: k, v: v, relK: relK, relQ: relQ, shape: shape, dRelScratch: &scratch,
                                      dropout: dropout, layer: layer, causalKernels: causal)
            return [z, pattern, scores, dq, dk, dv, dRelK, dRelQ]
        }
    }

    /// The whole attention forward and backward, with attention dropout and a temperature, on
    /// the causal kernels and on OpenBLAS: the same up to float rounding.
    @Test(.enabled(if: causalKernelsAreFast, "this build runs OpenBLAS for every head width"), arguments: [(19, 8), (37, 64)])
    func attentionMatchesTheOpenBLASPath(length L: Int, window W: Int) {
        let dropout = Dropout(rate: 0, seed: 13, attentionRate: 0.3, attentionTemperature: 0.8)
        let layer = AttentionCase(length: L, window: W, seed: 7, dropout: dropout, layer: 1, random: random)
        let fast = layer.run(causal: true), reference = layer.run(causal: false)
        for (name, (got, want)) in zip(["z", "pattern", "scores", "dq", "dk", "dv", "dRelK", "dRelQ"], zip(fast, reference)) {
            let largest = want.reduce(0) { max($0, abs($1.isFinite ? $1 : 0)) }
            let worst = zip(got, want).reduce(0) { max($0, $1.1.isFinite ? abs($1.0 - $1.1) : ($1.0 == $1.1 ? 0 : .infinity)) }
            #expect(largest > 0, "\(name) is all zeros")
            #expect(worst <= 1e-5 * largest, "\(name): differs by \(worst) (largest \(largest))")
        }
    }

    /// Training's pass leaves the pattern's upper triangle unwritten (`wholePattern: false`): with
    /// NaN there, z, the triangle and every gradient equal the pass that writes its zeros, bit for
    /// bit, so neither the mixes nor the backward pass read above the diagonal.
    @Test(.enabled(if: causalKernelsAreFast, "this build writes the whole pattern: OpenBLAS reads it"))
    func trainingPassNeverReadsAboveTheDiagonal() {
        let L = 37
        let layer = AttentionCase(length: L, window: 8, seed: 17, dropout: Dropout(rate: 0, seed: 23, attentionRate: 0.2),
                                  layer: 0, random: random)
        func triangle(_ pattern: [Float]) -> [Float] {
            (0..<(layer.shape.batch * layer.shape.heads)).flatMap { item in
                (0..<L).flatMap { n in (0...n).map { m in pattern[(item * L + n) * L + m] } }
            }
        }
        var training = layer.run(wholePattern: false, patternFill: .nan), whole = layer.run(wholePattern: true)
        training[1] = triangle(training[1])
        whole[1] = triangle(whole[1])
        for index in [0, 1, 3, 4, 5, 6, 7] {
            let name = ["z", "pattern's triangle", "scores", "dq", "dk", "dv", "dRelK", "dRelQ"][index]
            #expect(training[index].allSatisfy { $0.isFinite }, "\(name) read a NaN from above the diagonal")
            #expect(training[index] == whole[index], "\(name) differs")
        }
    }
}
