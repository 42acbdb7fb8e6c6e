import Testing
import KernelsAVX512
@testable import GraphTask
@testable import Transformer

/// The AVX-512 copies of the leaf kernels (Sources/KernelsAVX512) against this module's x86-64-v3
/// copies: the same bits, so a run computes the same on an AVX2 and an AVX-512 machine. Runs only
/// where the CPU has AVX-512 and the build has the copies (elsewhere calling them would crash).
@Suite(.enabled(if: LeafKernels.usesAVX512, "this CPU or build runs the x86-64-v3 leaf kernels only"))
struct KernelDispatchTests {
    static let lengths = [1, 5, 6, 7, 16, 17, 37, 191]
    static let stride = 40

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = TaskRNG(seed: seed)
        return (0..<count).map { _ in Float(rng.unitDouble()) * 2 - 1 }
    }

    @Test(arguments: lengths) func causalProductsAreBitForBitTheSame(length L: Int) {
        let a = random(L * Self.stride, seed: 1), b = random(L * Self.stride, seed: 2), p = random(L * L, seed: 3)
        var narrow = [Float](repeating: 0, count: L * L), wide = narrow
        var packed = [Float](repeating: 0, count: Transformer.causalDotsScratch(length: L))
        Transformer.causalDots(&narrow, a, b, length: L, stride: Self.stride, packed: &packed)
        KernelsAVX512.causalDots(&wide, a, b, length: L, stride: Self.stride, packed: &packed)
        #expect(narrow.map(\.bitPattern) == wide.map(\.bitPattern), "causalDots")
        var narrowMix = [Float](repeating: 0, count: L * Self.stride), wideMix = narrowMix
        Transformer.causalMix(&narrowMix, outStride: Self.stride, p, a, xStride: Self.stride, length: L)
        KernelsAVX512.causalMix(&wideMix, outStride: Self.stride, p, a, xStride: Self.stride, length: L)
        #expect(narrowMix.map(\.bitPattern) == wideMix.map(\.bitPattern), "causalMix")
        Transformer.causalTransposedMix(&narrowMix, outStride: Self.stride, p, a, xStride: Self.stride, length: L)
        KernelsAVX512.causalTransposedMix(&wideMix, outStride: Self.stride, p, a, xStride: Self.stride, length: L)
        #expect(narrowMix.map(\.bitPattern) == wideMix.map(\.bitPattern), "causalTransposedMix")
        #expect(narrowMix.contains { $0 != 0 })
    }

    @Test(arguments: [1, 2, 7, 8, 9, 64, 191, 1024]) func dropoutStreamsAreTheSame(count: Int) {
        let key: UInt64 = 0x1234_5678_9ABC_DEF0 &+ UInt64(count), threshold = dropThreshold(0.3), kept: Float = 1 / 0.7
        var narrow = [Float](repeating: .nan, count: count), wide = narrow
        Transformer.fillDropoutFactors(&narrow, count: count, key: key, threshold: threshold, kept: kept)
        KernelsAVX512.fillDropoutFactors(&wide, count: count, key: key, threshold: threshold, kept: kept)
        #expect(narrow.map(\.bitPattern) == wide.map(\.bitPattern), "fillDropoutFactors")
        let x = random(count, seed: UInt64(count))
        Transformer.applyDropoutFactors(&narrow, x, count: count, key: key, threshold: threshold, kept: kept)
        KernelsAVX512.applyDropoutFactors(&wide, x, count: count, key: key, threshold: threshold, kept: kept)
        #expect(narrow.map(\.bitPattern) == wide.map(\.bitPattern), "applyDropoutFactors")
        #expect(Transformer.splitMix64(key) == KernelsAVX512.splitMix64(key))
    }
}
