// The attention's content products over the causal triangle only (m ≤ n), for heads of width 16.
//
// lens bench --profile found the six per-head products (QKᵀ and P·V forward; dZ·Vᵀ, Pᵀ·dZ, dS·K,
// dSᵀ·Q backward) at two thirds of sgemm's rate: with k = 16 or n = 16 they are skinny for
// OpenBLAS, and it computes the whole L × L although causality makes half of it zeros. These
// three loops keep a head's row of 16 in SIMD lanes and do only the triangle. Each output is a
// sum in ascending order of its index, so the results are the same on every machine and thread
// count, and equal OpenBLAS's up to float rounding (Tests/TransformerTests/CausalProductTests.swift).
// Six rows (or columns) at a time share each load.

/// Width of a head the causal kernels serve; other widths use OpenBLAS.
package let causalHeadWidth = 16

private typealias HeadRow = SIMD16<Float>
/// 16 keys of one score row.
private typealias KeyLanes = SIMD16<Float>

@inline(__always) private func loadHeadRow(_ p: UnsafePointer<Float>) -> HeadRow {
    UnsafeRawPointer(p).loadUnaligned(as: HeadRow.self)
}

@inline(__always) private func store(_ row: HeadRow, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: row, as: HeadRow.self)
}

/// Stores the first `count` (≤ 6) of a block's six rows at `out`, `stride` floats apart.
@inline(__always) private func storeBlock(_ r0: HeadRow, _ r1: HeadRow, _ r2: HeadRow, _ r3: HeadRow, _ r4: HeadRow,
                                          _ r5: HeadRow, count: Int, _ out: UnsafeMutablePointer<Float>, stride: Int) {
    store(r0, out)
    if count > 1 { store(r1, out + stride) }
    if count > 2 { store(r2, out + 2 * stride) }
    if count > 3 { store(r3, out + 3 * stride) }
    if count > 4 { store(r4, out + 4 * stride) }
    if count > 5 { store(r5, out + 5 * stride) }
}

/// Stores the first `count` (≤ 16) of `keys` at `p`.
@inline(__always) private func storeKeys(_ keys: KeyLanes, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count == 16 { UnsafeMutableRawPointer(p).storeBytes(of: keys, as: KeyLanes.self) }
    else { for j in 0..<count { p[j] = keys[j] } }
}

/// Floats of the packed scratch `causalDots` needs for `length` keys.
package func causalDotsScratch(length: Int) -> Int { causalHeadWidth * ((length + 15) & ~15) }

/// out[n·L + m] = a_n · b_m for m ≤ n (QKᵀ, dZ·Vᵀ). a and b hold L rows of 16 at stride `stride`;
/// `out` is L × L. Some of row n's entries after n (at most 20 past it) are written with values of no
/// meaning (the callers overwrite or ignore them); the rest are not written.
package func causalDots(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                length L: Int, stride: Int, packed: UnsafeMutablePointer<Float>) {
    // bᵀ packed [16, L rounded up to 16] with zero padding, so each d gives 16 keys in one load:
    // per d, one load of keys and six broadcasts feed twelve 8-lane multiply-adds (twelve
    // accumulator registers of AVX2's sixteen: enough chains in flight to hide the FMA latency).
    let padded = (L + 15) & ~15
    packTransposed(packed, b, length: L, stride: stride, padded: padded)
    var n0 = 0
    while n0 < L {
        // Rows n0 ..< n0 + 6; past L the last row is recomputed and not stored.
        let rows = min(6, L - n0), last = n0 + rows - 1
        let a0 = a + n0 * stride, a1 = a + min(n0 + 1, L - 1) * stride, a2 = a + min(n0 + 2, L - 1) * stride
        let a3 = a + min(n0 + 3, L - 1) * stride, a4 = a + min(n0 + 4, L - 1) * stride, a5 = a + last * stride
        var m = 0
        while m <= last {
            var s0 = KeyLanes(), s1 = KeyLanes(), s2 = KeyLanes(), s3 = KeyLanes(), s4 = KeyLanes(), s5 = KeyLanes()
            for d in 0..<causalHeadWidth {
                let keys = UnsafeRawPointer(packed + d * padded + m).loadUnaligned(as: KeyLanes.self)
                s0.addProduct(a0[d], keys); s1.addProduct(a1[d], keys); s2.addProduct(a2[d], keys)
                s3.addProduct(a3[d], keys); s4.addProduct(a4[d], keys); s5.addProduct(a5[d], keys)
            }
            let count = min(16, L - m), row = out + n0 * L + m
            storeKeys(s0, row, count: count)
            if rows > 1 { storeKeys(s1, row + L, count: count) }
            if rows > 2 { storeKeys(s2, row + 2 * L, count: count) }
            if rows > 3 { storeKeys(s3, row + 3 * L, count: count) }
            if rows > 4 { storeKeys(s4, row + 4 * L, count: count) }
            if rows > 5 { storeKeys(s5, row + 5 * L, count: count) }
            m += 16
        }
        n0 += 6
    }
}

/// out_n = Σ_{m ≤ n} p[n·L + m] · x_m (P·V, dS·K): p is L × L (only its triangle is read), x holds
/// L rows of 16 at stride `xStride`, out L rows of 16 at stride `outStride`.
package func causalMix(_ out: UnsafeMutablePointer<Float>, outStride: Int, _ p: UnsafePointer<Float>,
               _ x: UnsafePointer<Float>, xStride: Int, length L: Int) {
    var n0 = 0
    while n0 < L {
        // Rows n0 ..< n0 + 6; past L the last row is recomputed and not stored.
        let rows = min(6, L - n0), last = n0 + rows - 1
        let p0 = p + n0 * L, p1 = p + min(n0 + 1, L - 1) * L, p2 = p + min(n0 + 2, L - 1) * L
        let p3 = p + min(n0 + 3, L - 1) * L, p4 = p + min(n0 + 4, L - 1) * L, p5 = p + last * L
        var z0 = HeadRow(), z1 = HeadRow(), z2 = HeadRow(), z3 = HeadRow(), z4 = HeadRow(), z5 = HeadRow()
        // Keys every row of the block sees, then the triangle's corner, each row's terms in
        // ascending order of m.
        for m in 0...n0 {
            let xm = loadHeadRow(x + m * xStride)
            z0.addProduct(p0[m], xm); z1.addProduct(p1[m], xm); z2.addProduct(p2[m], xm)
            z3.addProduct(p3[m], xm); z4.addProduct(p4[m], xm); z5.addProduct(p5[m], xm)
        }
        if rows > 1 {
            let m = n0 + 1, xm = loadHeadRow(x + m * xStride)
            z1.addProduct(p1[m], xm); z2.addProduct(p2[m], xm); z3.addProduct(p3[m], xm)
            z4.addProduct(p4[m], xm); z5.addProduct(p5[m], xm)
        }
        if rows > 2 {
            let m = n0 + 2, xm = loadHeadRow(x + m * xStride)
            z2.addProduct(p2[m], xm); z3.addProduct(p3[m], xm); z4.addProduct(p4[m], xm); z5.addProduct(p5[m], xm)
        }
        if rows > 3 {
            let m = n0 + 3, xm = loadHeadRow(x + m * xStride)
            z3.addProduct(p3[m], xm); z4.addProduct(p4[m], xm); z5.addProduct(p5[m], xm)
        }
        if rows > 4 {
            let m = n0 + 4, xm = loadHeadRow(x + m * xStride)
            z4.addProduct(p4[m], xm); z5.addProduct(p5[m], xm)
        }
        if rows > 5 { z5.addProduct(p5[n0 + 5], loadHeadRow(x + (n0 + 5) * xStride)) }
        storeBlock(z0, z1, z2, z3, z4, z5, count: rows, out + n0 * outStride, stride: outStride)
        n0 += 6
    }
}

/// out_m = Σ_{n ≥ m} p[n·L + m] · x_n (Pᵀ·dZ, dSᵀ·Q): the transpose of `causalMix`'s product, six
/// columns of p at a time so that each row of p gives six contiguous weights.
package func causalTransposedMix(_ out: UnsafeMutablePointer<Float>, outStride: Int, _ p: UnsafePointer<Float>,
                         _ x: UnsafePointer<Float>, xStride: Int, length L: Int) {
    var m0 = 0
    while m0 < L {
        let columns = min(6, L - m0)
        var y0 = HeadRow(), y1 = HeadRow(), y2 = HeadRow(), y3 = HeadRow(), y4 = HeadRow(), y5 = HeadRow()
        // The triangle's corner: query m0 + j sees columns m0 ... m0 + j; each column's terms
        // in ascending order of n.
        var xn = loadHeadRow(x + m0 * xStride)
        y0.addProduct(p[m0 * L + m0], xn)
        if columns > 1 {
            let row = p + (m0 + 1) * L + m0
            xn = loadHeadRow(x + (m0 + 1) * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn)
        }
        if columns > 2 {
            let row = p + (m0 + 2) * L + m0
            xn = loadHeadRow(x + (m0 + 2) * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn); y2.addProduct(row[2], xn)
        }
        if columns > 3 {
            let row = p + (m0 + 3) * L + m0
            xn = loadHeadRow(x + (m0 + 3) * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn); y2.addProduct(row[2], xn); y3.addProduct(row[3], xn)
        }
        if columns > 4 {
            let row = p + (m0 + 4) * L + m0
            xn = loadHeadRow(x + (m0 + 4) * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn); y2.addProduct(row[2], xn)
            y3.addProduct(row[3], xn); y4.addProduct(row[4], xn)
        }
        // Every later query sees all six (none when m0 + 5 ≥ L).
        var n = m0 + 5
        while n < L {
            let row = p + n * L + m0
            xn = loadHeadRow(x + n * xStride)
            y0.addProduct(row[0], xn); y1.addProduct(row[1], xn); y2.addProduct(row[2], xn)
            y3.addProduct(row[3], xn); y4.addProduct(row[4], xn); y5.addProduct(row[5], xn)
            n += 1
        }
        storeBlock(y0, y1, y2, y3, y4, y5, count: columns, out + m0 * outStride, stride: outStride)
        m0 += 6
    }
}

private typealias Eight = SIMD8<Float>

/// The 8 × 8 transpose of rows r0 … r7 in three rounds of two-vector shuffles (each initialiser
/// below compiles to one unpack, shuffle or lane permute). The packing had been a scalar load and
/// store per element, a fifth of `causalDots`'s time (perf annotate).
@inline(__always)
private func transpose8(_ r0: Eight, _ r1: Eight, _ r2: Eight, _ r3: Eight, _ r4: Eight, _ r5: Eight, _ r6: Eight, _ r7: Eight)
    -> (Eight, Eight, Eight, Eight, Eight, Eight, Eight, Eight) {
    @inline(__always) func low(_ a: Eight, _ b: Eight) -> Eight { Eight(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
    @inline(__always) func high(_ a: Eight, _ b: Eight) -> Eight { Eight(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
    @inline(__always) func pairsLow(_ a: Eight, _ b: Eight) -> Eight { Eight(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
    @inline(__always) func pairsHigh(_ a: Eight, _ b: Eight) -> Eight { Eight(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
    @inline(__always) func halvesLow(_ a: Eight, _ b: Eight) -> Eight { Eight(lowHalf: a.lowHalf, highHalf: b.lowHalf) }
    @inline(__always) func halvesHigh(_ a: Eight, _ b: Eight) -> Eight { Eight(lowHalf: a.highHalf, highHalf: b.highHalf) }
    let t0 = low(r0, r1), t1 = high(r0, r1), t2 = low(r2, r3), t3 = high(r2, r3)
    let t4 = low(r4, r5), t5 = high(r4, r5), t6 = low(r6, r7), t7 = high(r6, r7)
    let u0 = pairsLow(t0, t2), u1 = pairsHigh(t0, t2), u2 = pairsLow(t1, t3), u3 = pairsHigh(t1, t3)
    let u4 = pairsLow(t4, t6), u5 = pairsHigh(t4, t6), u6 = pairsLow(t5, t7), u7 = pairsHigh(t5, t7)
    return (halvesLow(u0, u4), halvesLow(u1, u5), halvesLow(u2, u6), halvesLow(u3, u7),
            halvesHigh(u0, u4), halvesHigh(u1, u5), halvesHigh(u2, u6), halvesHigh(u3, u7))
}

/// packed[d · padded + m] = b[m · stride + d] for d < 16, m < L; zeros for L ≤ m < padded.
@inline(__always)
private func packTransposed(_ packed: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, length L: Int, stride: Int, padded: Int) {
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> Eight { UnsafeRawPointer(p).loadUnaligned(as: Eight.self) }
    @inline(__always) func put(_ x: Eight, _ d: Int, _ m: Int) { UnsafeMutableRawPointer(packed + d * padded + m).storeBytes(of: x, as: Eight.self) }
    var m = 0
    while m + 8 <= L {
        for half in 0..<2 {
            let base = b + m * stride + 8 * half
            let c = transpose8(load(base), load(base + stride), load(base + 2 * stride), load(base + 3 * stride),
                               load(base + 4 * stride), load(base + 5 * stride), load(base + 6 * stride), load(base + 7 * stride))
            let d0 = 8 * half
            put(c.0, d0, m); put(c.1, d0 + 1, m); put(c.2, d0 + 2, m); put(c.3, d0 + 3, m)
            put(c.4, d0 + 4, m); put(c.5, d0 + 5, m); put(c.6, d0 + 6, m); put(c.7, d0 + 7, m)
        }
        m += 8
    }
    for d in 0..<causalHeadWidth {
        let column = packed + d * padded
        for r in m..<L { column[r] = b[r * stride + d] }
        for r in L..<padded { column[r] = 0 }
    }
}
