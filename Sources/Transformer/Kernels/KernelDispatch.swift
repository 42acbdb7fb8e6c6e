#if LATENTLENS_AVX512_KERNELS
import KernelsAVX512
#endif

// The leaf kernels that run the same source twice: this module's copies, built for x86-64-v3,
// and the KernelsAVX512 module's, built for x86-64-v4 (Package.swift). On a CPU with AVX-512 the
// latter run: the dropout hash's 64-bit multiplies become one instruction (2.5× faster fills) and
// the causal products get 32 vector registers (≈ 10 % faster in isolation). docs/benchmarks.md
// has the measurements; both copies compute the same bits (Tests/TransformerTests/KernelDispatchTests.swift).

/// Whether the causal products of Kernels/CausalProducts.swift serve heads of their width: only
/// where the build's CPU has fused multiply-adds (Package.swift, LATENTLENS_FMA). Built for
/// baseline x86-64 (LATENTLENS_PORTABLE) each of their multiply-adds would be a library call, and
/// OpenBLAS over the whole square is far faster.
#if LATENTLENS_FMA
let causalKernelsAreFast = true
#else
let causalKernelsAreFast = false
#endif

/// Which copy of the leaf kernels this process runs.
public enum LeafKernels {
    /// Whether the AVX-512 copies run: the build has them (not LATENTLENS_PORTABLE, x86-64), this
    /// CPU has every x86-64-v4 feature, and `LATENTLENS_AVX512` is not `0` (to measure or test the
    /// x86-64-v3 copies on such a CPU).
    public static let usesAVX512: Bool = {
        #if LATENTLENS_AVX512_KERNELS
        guard getenvString("LATENTLENS_AVX512") != "0", let (_, text) = CPUFeatures.cpuinfo(),
              let missing = CPUFeatures.missing(CPUFeatures.x86_64_v4, cpuinfo: text) else { return false }
        return missing.isEmpty
        #else
        return false
        #endif
    }()

    /// What runs, in a few words (for `lens bench`).
    public static var description: String {
        #if LATENTLENS_AVX512_KERNELS
        return usesAVX512 ? "AVX-512 (x86-64-v4) leaf kernels" : "x86-64-v3 leaf kernels"
        #elseif arch(x86_64)
        return "baseline x86-64 kernels (LATENTLENS_PORTABLE build)"
        #else
        return "kernels built for this architecture"
        #endif
    }
}

@inline(__always)
func dispatchCausalDots(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        length L: Int, stride: Int, packed: UnsafeMutablePointer<Float>) {
    #if LATENTLENS_AVX512_KERNELS
    if LeafKernels.usesAVX512 { return KernelsAVX512.causalDots(out, a, b, length: L, stride: stride, packed: packed) }
    #endif
    causalDots(out, a, b, length: L, stride: stride, packed: packed)
}

@inline(__always)
func dispatchCausalMix(_ out: UnsafeMutablePointer<Float>, outStride: Int, _ p: UnsafePointer<Float>,
                       _ x: UnsafePointer<Float>, xStride: Int, length L: Int) {
    #if LATENTLENS_AVX512_KERNELS
    if LeafKernels.usesAVX512 { return KernelsAVX512.causalMix(out, outStride: outStride, p, x, xStride: xStride, length: L) }
    #endif
    causalMix(out, outStride: outStride, p, x, xStride: xStride, length: L)
}

@inline(__always)
func dispatchCausalTransposedMix(_ out: UnsafeMutablePointer<Float>, outStride: Int, _ p: UnsafePointer<Float>,
                                 _ x: UnsafePointer<Float>, xStride: Int, length L: Int) {
    #if LATENTLENS_AVX512_KERNELS
    if LeafKernels.usesAVX512 {
        return KernelsAVX512.causalTransposedMix(out, outStride: outStride, p, x, xStride: xStride, length: L)
    }
    #endif
    causalTransposedMix(out, outStride: outStride, p, x, xStride: xStride, length: L)
}

@inline(__always)
func dispatchFillDropoutFactors(_ row: UnsafeMutablePointer<Float>, count: Int, key: UInt64, threshold: UInt32, kept: Float) {
    #if LATENTLENS_AVX512_KERNELS
    if LeafKernels.usesAVX512 {
        return KernelsAVX512.fillDropoutFactors(row, count: count, key: key, threshold: threshold, kept: kept)
    }
    #endif
    fillDropoutFactors(row, count: count, key: key, threshold: threshold, kept: kept)
}

@inline(__always)
func dispatchApplyDropoutFactors(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
                                 key: UInt64, threshold: UInt32, kept: Float) {
    #if LATENTLENS_AVX512_KERNELS
    if LeafKernels.usesAVX512 {
        return KernelsAVX512.applyDropoutFactors(out, x, count: count, key: key, threshold: threshold, kept: kept)
    }
    #endif
    applyDropoutFactors(out, x, count: count, key: key, threshold: threshold, kept: kept)
}
