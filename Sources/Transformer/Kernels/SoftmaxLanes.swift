// The softmax's row work in SIMD lanes (lens bench --profile: glibc's expf, one call per
// weight, was most of the softmax's time).
//
// exp is Cephes's expf, eight lanes at a time: x = n·ln 2 + r with n = round(x / ln 2) and
// |r| ≤ ln 2 / 2 (ln 2 in two parts, so that r is exact), exp(r) by Cephes's polynomial
// (relative error below 2e-7, checked in Tests/TransformerTests/ExponentialTests.swift), and 2ⁿ
// put into the exponent bits. Plain IEEE operations (a fused multiply-add is one too, rounded
// once), so the same bits on every machine of one build kind. Inputs
// are clamped at −80 as before: exp(−80) ≈ 2e-35 is 0 next to the row's largest weight, 1, and
// every result stays a normal float.

/// Replaces `row[0 ..< count]` by exp(max(row[i] − shift, −80)) and returns their sum.
func exponentiateAndSum(_ row: UnsafeMutablePointer<Float>, count: Int, subtracting shift: Float) -> Float {
    typealias Lanes = SIMD8<Float>
    var total = Lanes(repeating: 0)
    var i = 0
    while i + Lanes.scalarCount <= count {
        let e = exponential(UnsafeRawPointer(row + i).loadUnaligned(as: Lanes.self) - shift)
        UnsafeMutableRawPointer(row + i).storeBytes(of: e, as: Lanes.self)
        total += e
        i += Lanes.scalarCount
    }
    if i < count {
        var x = Lanes(repeating: shift)
        for j in 0..<(count - i) { x[j] = row[i + j] }
        let e = exponential(x - shift)
        for j in 0..<(count - i) {
            row[i + j] = e[j]
            total[j] += e[j]
        }
    }
    var sum: Float = 0
    for j in 0..<Lanes.scalarCount { sum += total[j] }
    return sum
}

/// exp(max(x, −80)) in each lane, for x ≤ 0.
@inline(__always)
private func exponential(_ input: SIMD8<Float>) -> SIMD8<Float> {
    let x = input.replacing(with: -80, where: input .< -80)
    // t + 1.5·2²³ rounds t to an integer n, which lands in the low bits of the sum's pattern.
    let magic: Float = 12_582_912
    let shifted = multiplyAdd(x, 1.442_695_04, magic)
    let n = shifted - magic
    let r = multiplyAdd(n, 2.121_944_4e-4, multiplyAdd(n, -0.693_359_375, x))
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = multiplyAdd(p, r, 1.398_199_950_7e-3)
    p = multiplyAdd(p, r, 8.333_451_907_3e-3)
    p = multiplyAdd(p, r, 4.166_579_589_4e-2)
    p = multiplyAdd(p, r, 1.666_666_545_9e-1)
    p = multiplyAdd(p, r, 5.000_000_120_1e-1)
    p = multiplyAdd(p, r * r, r + 1)
    // 2ⁿ: n + 127 in the exponent field (n ≥ −116 here, so a normal float).
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
    return p * scale
}

/// a · b + c in each lane: one fused multiply-add where the build's CPU has them (Package.swift,
/// LATENTLENS_FMA: the Horner chain above is then one instruction a step instead of two, 0.75 →
/// 0.52 ns a weight over a 256-row triangle), else a product and a sum (a library fmaf a lane
/// would be far slower).
@inline(__always)
private func multiplyAdd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
    #if LATENTLENS_FMA
    c.addingProduct(a, b)
    #else
    a * b + c
    #endif
}

@inline(__always)
private func multiplyAdd(_ a: SIMD8<Float>, _ b: Float, _ c: Float) -> SIMD8<Float> {
    multiplyAdd(a, SIMD8(repeating: b), SIMD8(repeating: c))
}

@inline(__always)
private func multiplyAdd(_ a: SIMD8<Float>, _ b: Float, _ c: SIMD8<Float>) -> SIMD8<Float> {
    multiplyAdd(a, SIMD8(repeating: b), c)
}

@inline(__always)
private func multiplyAdd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: Float) -> SIMD8<Float> {
    multiplyAdd(a, b, SIMD8(repeating: c))
}

/// The largest of `row[0 ..< count]` (count ≥ 1), eight lanes at a time: a maximum does not
/// depend on the order it is taken in, so this is the sequential loop's value (which, as a
/// reduction over floats, the compiler leaves scalar).
func rowMaximum(_ row: UnsafePointer<Float>, count: Int) -> Float {
    typealias Lanes = SIMD8<Float>
    var lanes = Lanes(repeating: -.infinity)
    var i = 0
    while i + Lanes.scalarCount <= count {
        // A compare and a select (pointwiseMax's NaN rules compile to a scalar loop).
        let x = UnsafeRawPointer(row + i).loadUnaligned(as: Lanes.self)
        lanes.replace(with: x, where: x .> lanes)
        i += Lanes.scalarCount
    }
    var best = lanes[0]
    for j in 1..<Lanes.scalarCount where lanes[j] > best { best = lanes[j] }
    while i < count {
        best = max(best, row[i])
        i += 1
    }
    return best
}
