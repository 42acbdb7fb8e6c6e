// The attention's content products over the causal triangle only (m ≤ n), for heads of width 16.
//
// lens bench --profile found the six per-head products (QKᵀ and P·V forward; dZ·Vᵀ, Pᵀ·dZ, dS·K,
// dSᵀ·Q backward) at two thirds of sgemm's rate: with k = 16 or n = 16 they are skinny for
// OpenBLAS, and it computes the whole L × L although causality makes half of it zeros. These
// three loops keep a head's row of 16 in SIMD lanes and do only the triangle. Each output is a
// sum in ascending order of its index, so the results are the same on every machine and thread
// count, and equal OpenBLAS's up to float rounding (Tests/TransformerTests/CausalProductTests.swift).
// Four rows (or columns) at a time share each load.

/// Width of a head the causal kernels serve; other widths use OpenBLAS.
let causalHeadWidth = 16

private typealias HeadRow = SIMD16<Float>
/// 16 keys of one score row.
private typealias KeyLanes = SIMD16<Float>

@inline(__always) private func loadHeadRow(_ p: UnsafePointer<Float>) -> HeadRow {
    UnsafeRawPointer(p).loadUnaligned(as: HeadRow.self)
}

@inline(__always) private func store(_ row: HeadRow, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: row, as: HeadRow.self)
}

/// Stores the first `count` (≤ 16) of `keys` at `p`.
@inline(__always) private func storeKeys(_ keys: KeyLanes, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count == 16 { UnsafeMutableRawPointer(p).storeBytes(of: keys, as: KeyLanes.self) }
    else { for j in 0..<count { p[j] = keys[j] } }
}

/// Floats of the packed scratch `causalDots` needs for `length` keys.
func causalDotsScratch(length: Int) -> Int { causalHeadWidth * ((length + 15) & ~15) }

/// out[n·L + m] = a_n · b_m for m ≤ n (QKᵀ, dZ·Vᵀ). a and b hold L rows of 16 at stride `stride`;
/// `out` is L × L. Some of row n's entries after n (at most 15 past it) are written with values of no
/// meaning (the callers overwrite or ignore them); the rest are not written.
func causalDots(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                length L: Int, stride: Int, packed: UnsafeMutablePointer<Float>) {
    // bᵀ packed [16, L rounded up to 16] with zero padding, so each d gives 16 keys in one load:
    // per d, one load of keys and four broadcasts feed eight 8-lane multiply-adds.
    let padded = (L + 15) & ~15
    for d in 0..<causalHeadWidth {
        let column = packed + d * padded
        for m in 0..<L { column[m] = b[m * stride + d] }
        for m in L..<padded { column[m] = 0 }
    }
    var n0 = 0
    while n0 < L {
        // Rows n0 ..< n0 + 4; past L the last row is recomputed and not stored.
        let a0 = a + n0 * stride, a1 = a + min(n0 + 1, L - 1) * stride
        let a2 = a + min(n0 + 2, L - 1) * stride, a3 = a + min(n0 + 3, L - 1) * stride
        let last = min(n0 + 3, L - 1)
        var m = 0
        while m <= last {
            var s0 = KeyLanes(), s1 = KeyLanes(), s2 = KeyLanes(), s3 = KeyLanes()
            for d in 0..<causalHeadWidth {
                let keys = UnsafeRawPointer(packed + d * padded + m).loadUnaligned(as: KeyLanes.self)
                s0.addProduct(a0[d], keys); s1.addProduct(a1[d], keys); s2.addProduct(a2[d], keys); s3.addProduct(a3[d], keys)
            }
            let count = min(16, L - m), row = out + n0 * L + m
            storeKeys(s0, row, count: count)
            if n0 + 1 <= last { storeKeys(s1, row + L, count: count) }
            if n0 + 2 <= last { storeKeys(s2, row + 2 * L, count: count) }
            if n0 + 3 <= last { storeKeys(s3, row + 3 * L, count: count) }
            m += 16
        }
        n0 += 4
    }
}

/// out_n = Σ_{m ≤ n} p[n·L + m] · x_m (P·V, dS·K): p is L × L (only its triangle is read), x holds
/// L rows of 16 at stride `xStride`, out L rows of 16 at stride `outStride`.
func causalMix(_ out: UnsafeMutablePointer<Float>, outStride: Int, _ p: UnsafePointer<Float>,
               _ x: UnsafePointer<Float>, xStride: Int, length L: Int) {
    var n0 = 0
    while n0 < L {
        let p0 = p + n0 * L, p1 = p + min(n0 + 1, L - 1) * L
        let p2 = p + min(n0 + 2, L - 1) * L, p3 = p + min(n0 + 3, L - 1) * L
        var z0 = HeadRow(), z1 = HeadRow(), z2 = HeadRow(), z3 = HeadRow()
        // Keys every row of the block sees, then the triangle's corner.
        for m in 0...n0 {
            let xm = loadHeadRow(x + m * xStride)
            z0.addProduct(p0[m], xm); z1.addProduct(p1[m], xm); z2.addProduct(p2[m], xm); z3.addProduct(p3[m], xm)
        }
        if n0 + 1 < L {
            let xm = loadHeadRow(x + (n0 + 1) * xStride)
            z1.addProduct(p1[n0 + 1], xm); z2.addProduct(p2[n0 + 1], xm); z3.addProduct(p3[n0 + 1], xm)
        }
        if n0 + 2 < L {
            let xm = loadHeadRow(x + (n0 + 2) * xStride)
            z2.addProduct(p2[n0 + 2], xm); z3.addProduct(p3[n0 + 2], xm)
        }
        if n0 + 3 < L { z3.addProduct(p3[n0 + 3], loadHeadRow(x + (n0 + 3) * xStride)) }
        store(z0, out + n0 * outStride)
        if n0 + 1 < L { store(z1, out + (n0 + 1) * outStride) }
        if n0 + 2 < L { store(z2, out + (n0 + 2) * outStride) }
        if n0 + 3 < L { store(z3, out + (n0 + 3) * outStride) }
        n0 += 4
    }
}

/// out_m = Σ_{n ≥ m} p[n·L + m] · x_n (Pᵀ·dZ, dSᵀ·Q): the transpose of `causalMix`'s product, four
/// columns of p at a time so that each row of p gives four contiguous weights.
func causalTransposedMix(_ out: UnsafeMutablePointer<Float>, outStride: Int, _ p: UnsafePointer<Float>,
                         _ x: UnsafePointer<Float>, xStride: Int, length L: Int) {
    var m0 = 0
    while m0 < L {
        var y0 = HeadRow(), y1 = HeadRow(), y2 = HeadRow(), y3 = HeadRow()
        // The triangle's corner: query m0 + j sees columns m0 ... m0 + j.
        var xn = loadHeadRow(x + m0 * xStride)
        y0.addProduct(p[m0 * L + m0], xn)
        if m0 + 1 < L {
            let row = p + (m0 + 1) * L + m0
            xn = loadHeadRow(x + (m0 + 1) * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn)
        }
        if m0 + 2 < L {
            let row = p + (m0 + 2) * L + m0
            xn = loadHeadRow(x + (m0 + 2) * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn); y2.addProduct(row[2], xn)
        }
        // Every later query sees all four (none when m0 + 3 ≥ L).
        var n = m0 + 3
        while n < L {
            let row = p + n * L + m0
            xn = loadHeadRow(x + n * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn); y2.addProduct(row[2], xn); y3.addProduct(row[3], xn)
            n += 1
        }
        store(y0, out + m0 * outStride)
        if m0 + 1 < L { store(y1, out + (m0 + 1) * outStride) }
        if m0 + 2 < L { store(y2, out + (m0 + 2) * outStride) }
        if m0 + 3 < L { store(y3, out + (m0 + 3) * outStride) }
        m0 += 4
    }
}
