// The hash stream behind every dropout mask (Kernels/Dropout.swift says what is keyed by what):
// hash c of a key, splitmix64 of key + c·φ, decides units 2c (its low 32 bits) and 2c + 1 (its
// high ones), each dropped when its 32 bits fall below the rate's threshold.
//
// This file is compiled twice: here for x86-64-v3, and through a link in Sources/KernelsAVX512 for
// x86-64-v4, where the 64-bit multiplies of splitmix64 are one instruction (vpmullq) instead of
// three 32-bit ones (Kernels/KernelDispatch.swift picks the copy). Integer arithmetic, so both
// copies draw the same masks.

/// The splitmix64 finaliser: a cheap bijective mix of 64 bits.
@inline(__always)
package func splitMix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Fills `row[0 ..< count]` with 0 (dropped) or `kept` from the hash stream of `key`
/// (`forEachDropoutFactor`).
package func fillDropoutFactors(_ row: UnsafeMutablePointer<Float>, count: Int, key: UInt64, threshold: UInt32, kept: Float) {
    forEachDropoutFactor(count: count, key: key, threshold: threshold, kept: kept) { i, factor in row[i] = factor }
}

/// out[i] = x[i] · factor_i for i in 0 ..< count (out may alias x), with the factors
/// `fillDropoutFactors` writes: the product as the hash stream yields it, in one pass (the same bits
/// as filling then multiplying: a product of two floats does not depend on their order).
package func applyDropoutFactors(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
                                 key: UInt64, threshold: UInt32, kept: Float) {
    forEachDropoutFactor(count: count, key: key, threshold: threshold, kept: kept) { i, factor in out[i] = x[i] * factor }
}

/// Calls `body(i, factor_i)` for i in 0 ..< count, factor 0 (dropped) or `kept`, from the hash
/// stream of `key`.
///
/// The input is kept as a running sum (the same bits as the product), whole pairs run without a
/// branch, then the odd last unit (perf: the attention fill was a tenth of a training step).
@inline(__always)
private func forEachDropoutFactor(count: Int, key: UInt64, threshold: UInt32, kept: Float, _ body: (Int, Float) -> Void) {
    let pairs = count / 2
    var input = key
    for c in 0..<pairs {
        let bits = splitMix64(input)
        input &+= 0x9E37_79B9_7F4A_7C15
        body(2 * c, UInt32(truncatingIfNeeded: bits) < threshold ? 0 : kept)
        body(2 * c + 1, UInt32(truncatingIfNeeded: bits >> 32) < threshold ? 0 : kept)
    }
    if 2 * pairs < count { body(count - 1, UInt32(truncatingIfNeeded: splitMix64(input)) < threshold ? 0 : kept) }
}
