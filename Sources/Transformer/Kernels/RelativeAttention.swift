#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS

// DeBERTa-style causal attention with relative positions (docs/model-spec.md):
//   δ(n, m) = clamp(m − n, −(W−1), 0) + (W−1)
//   s[h,n,m] = (q[n,h]·k[m,h] + q[n,h]·Rk[δ,h] + k[m,h]·Rq[δ,h]) · scale,   m ≤ n
//   p = softmax_m(s),  z[n,h] = Σ_m p[h,n,m] v[m,h]
// q, k, v, z are [B, L, H, Dh] (row stride D = H·Dh); Rk, Rq are [W, H, Dh]; scores and
// pattern are [B, H, L, L]. Each (b, h) is an independent item; the content term and the
// two position terms are small sgemms: c2p[n, δ] = q[n]·Rk[δ], p2c[m, δ] = k[m]·Rq[δ].

/// Shapes shared by the attention kernels.
struct AttentionShape {
    var batch: Int, length: Int, heads: Int, headWidth: Int, window: Int
    var width: Int { heads * headWidth }
    var scale: Float { 1 / (3 * Float(headWidth)).squareRoot() }
    /// The score scale at attention temperature τ (training only; τ = 1 is `scale` exactly).
    func scale(temperature τ: Float) -> Float { τ == 1 ? scale : scale / τ }

    /// Relative-position index of key m seen from query n.
    @inline(__always) func delta(_ n: Int, _ m: Int) -> Int {
        max(m - n, 1 - window) + window - 1
    }
}

/// Forward pass: writes `pattern` (and, when non-nil, the masked pre-softmax `scores`) and `z`.
///
/// With a `dropout` whose attention rate is above 0 (training only), z = (p ⊙ mask)·v with the
/// mask of block `layer` (`fillAttentionDropoutRow`); `pattern` keeps the weights before dropout,
/// which is what the backward pass and the hooks need. Its `attentionTemperature` τ divides every
/// score (s/τ before the softmax); `scores` then holds the divided scores the softmax saw.
/// Heads of width 16 take the content products from Kernels/CausalProducts.swift unless
/// `causalKernels` is false (tests compare the two) or the build lacks fused multiply-adds
/// (`causalKernelsAreFast`); other widths always use OpenBLAS.
///
/// With `wholePattern` false and the causal kernels, the pattern's zeros above the diagonal are
/// not written (what is there has no meaning): nothing but a hook reads them, and the backward
/// pass reads only the triangle. That is 250 MB of stores a layer in a training step of the
/// authors' recipe (docs/benchmarks.md).
func relativeAttentionForward(z: UnsafeMutablePointer<Float>, pattern: UnsafeMutablePointer<Float>,
                              scores: UnsafeMutablePointer<Float>?,
                              q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                              relK: UnsafePointer<Float>, relQ: UnsafePointer<Float>, shape: AttentionShape,
                              dropout: Dropout? = nil, layer: Int = 0, causalKernels: Bool = true,
                              wholePattern: Bool = true) {
    let L = shape.length, D = shape.width, Dh = shape.headWidth, W = shape.window, H = shape.heads
    let scale = shape.scale(temperature: dropout?.attentionTemperature ?? 1)
    let dropping = (dropout?.attentionRate ?? 0) > 0 ? dropout : nil
    let causal = causalKernels && Dh == causalHeadWidth && causalKernelsAreFast
    // Whether the zeros above the diagonal are written: OpenBLAS reads the whole square.
    let upperZeros = wholePattern || !causal
    // FLOPs of one item's L × L × Dh product and of one L × W × Dh relative-position product.
    let contentFlops = 2 * Double(L * L * Dh), relativeFlops = 2 * Double(L * W * Dh)
    parallelRows(shape.batch * H, tasks: min(ComputeThreads.count, shape.batch * H)) { _, items in
      let c2p = UnsafeMutablePointer<Float>.allocate(capacity: 2 * L * W + L + (dropping == nil ? 0 : L * L)
                                                      + causalDotsScratch(length: L))
      defer { c2p.deallocate() }
      let p2c = c2p + L * W
      // p2c's column δ = 0 (every key beyond the window) gathered contiguous, the dropped
      // pattern of one item when dropping, and `causalDots`'s packed keys.
      let p2cFar = p2c + L * W
      let dropped = p2cFar + L
      let packed = dropped + (dropping == nil ? 0 : L * L)
      for item in items {
        let b = item / H, h = item % H
        let qh = q + b * L * D + h * Dh, kh = k + b * L * D + h * Dh, vh = v + b * L * D + h * Dh
        let p = pattern + item * L * L
        // Content scores for all pairs (the upper triangle is overwritten by the mask below).
        var t = Profiler.start()
        headDots(p, qh, kh, length: L, width: Dh, stride: D, packed: packed, causal: causal)
        Profiler.stop(.attentionContentGemm, since: t, flops: contentFlops)
        t = Profiler.start()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(L), Int32(W), Int32(Dh),
                    1, qh, Int32(D), relK + h * Dh, Int32(D), 0, c2p, Int32(W))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(L), Int32(W), Int32(Dh),
                    1, kh, Int32(D), relQ + h * Dh, Int32(D), 0, p2c, Int32(W))
        Profiler.stop(.attentionRelativeGemm, since: t, flops: 2 * relativeFlops)
        t = Profiler.start()
        for m in 0..<L { p2cFar[m] = p2c[m * W] }
        for n in 0..<L {
            let row = p + n * L
            // Keys m < near lie beyond the window (δ = 0); from near on, δ = m − n + W − 1.
            let near = max(0, n - (W - 1))
            let c2pFar = c2p[n * W]
            for m in 0..<near { row[m] = (row[m] + c2pFar + p2cFar[m]) * scale }
            let c2pRow = c2p + n * W + (W - 1) - n, p2cDiagonal = p2c + (W - 1) - n
            for m in near...n { row[m] = (row[m] + c2pRow[m] + p2cDiagonal[m * (W + 1)]) * scale }
            let maxScore = rowMaximum(row, count: n + 1)
            if let scores {
                let out = scores + item * L * L + n * L
                out.update(from: row, count: n + 1)
                for m in (n + 1)..<L { out[m] = -.infinity }
            }
            let sum = exponentiateAndSum(row, count: n + 1, subtracting: maxScore)
            let inverse = 1 / sum
            for m in 0...n { row[m] *= inverse }
            if upperZeros { for m in (n + 1)..<L { row[m] = 0 } }
        }
        Profiler.stop(.softmax, since: t)
        if let dropping {
            t = Profiler.start()
            for n in 0..<L {
                let out = dropped + n * L
                applyAttentionDropoutRow(out, p + n * L, dropping, sequence: b, layer: layer, head: h, query: n)
                if !causal { for m in (n + 1)..<L { out[m] = 0 } }
            }
            Profiler.stop(.attentionDropout, since: t)
        }
        // z_h = P · V_h (P after dropout when dropping)
        t = Profiler.start()
        headMix(z + b * L * D + h * Dh, dropping == nil ? p : dropped, vh, length: L, width: Dh, stride: D, causal: causal)
        Profiler.stop(.attentionContentGemm, since: t, flops: contentFlops)
      }
    }
}

/// Backward pass. Overwrites `dq`, `dk`, `dv`; adds into `dRelK`, `dRelQ` ([W, D]).
///
/// `dRelScratch` holds 2·B·W·D floats for per-sequence partial sums of the shared tables.
/// `dropout` and `layer` must be the forward pass's: its attention masks are drawn again here,
/// and its temperature scales the softmax's gradient as it scaled the scores. `causalKernels` as
/// in the forward pass.
///
/// With `entropyBonus`, the loss also holds −Σ_{h,r} c_r · H(p[h,r]), with c_r = `scale` · w_r for
/// query row r of every head (w: `rowWeights`, [B·L], each ≥ 0), H(p) = −Σ_m p_m log p_m, the attention-entropy bonus: its gradient
/// with respect to p_m is −c_r(log p_m + 1), whose constant the softmax's backward cancels, so
/// c_r · log p_m joins dP before that backward (weights that underflowed to 0 get no gradient
/// either way). Returns Σ_{h,r} c_r · H(p[h,r]) (0 without a bonus).
@discardableResult
func relativeAttentionBackward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                               dv: UnsafeMutablePointer<Float>,
                               dRelK: UnsafeMutablePointer<Float>, dRelQ: UnsafeMutablePointer<Float>,
                               dz: UnsafePointer<Float>, pattern: UnsafePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               relK: UnsafePointer<Float>, relQ: UnsafePointer<Float>,
                               shape: AttentionShape, dRelScratch: UnsafeMutablePointer<Float>,
                               dropout: Dropout? = nil, layer: Int = 0,
                               entropyBonus: EntropyBonusWeights? = nil, causalKernels: Bool = true) -> Double {
    let B = shape.batch, L = shape.length, D = shape.width, Dh = shape.headWidth, W = shape.window, H = shape.heads
    let scale = shape.scale(temperature: dropout?.attentionTemperature ?? 1)
    let partialK = dRelScratch, partialQ = dRelScratch + B * W * D
    let dropping = (dropout?.attentionRate ?? 0) > 0 ? dropout : nil
    let causal = causalKernels && Dh == causalHeadWidth && causalKernelsAreFast
    let contentFlops = 2 * Double(L * L * Dh), relativeFlops = 2 * Double(L * W * Dh)
    let tasks = min(ComputeThreads.count, B * H)
    // Each task's Σ c_r·H, added in task order afterwards so the sum does not depend on timing.
    var entropySums = [Double](repeating: 0, count: tasks)
    entropySums.withUnsafeMutableBufferPointer { entropySums in
    parallelRows(B * H, tasks: tasks) { task, items in
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: L * L + 2 * L * W + L + (dropping == nil ? 0 : L * L)
                                                         + causalDotsScratch(length: L))
      defer { scratch.deallocate() }
      let ds = scratch, dc2p = scratch + L * L, dp2c = dc2p + L * W
      // dp2c's column δ = 0 summed contiguous (copied into dp2c after the scatter), and the
      // item's dropout factors, then its dropped pattern, when dropping.
      let dp2cFar = dp2c + L * W
      let dropped = dp2cFar + L
      let packed = dropped + (dropping == nil ? 0 : L * L)
      for item in items {
        let b = item / H, h = item % H
        let base = b * L * D + h * Dh
        let qh = q + base, kh = k + base, vh = v + base, dzh = dz + base
        let dqh = dq + base, dkh = dk + base, dvh = dv + base
        let p = pattern + item * L * L
        // dP = dZ Vᵀ (with dropout: the gradient of the dropped pattern, times the mask)
        var t = Profiler.start()
        headDots(ds, dzh, vh, length: L, width: Dh, stride: D, packed: packed, causal: causal)
        Profiler.stop(.attentionContentGemm, since: t, flops: contentFlops)
        if let dropping {
            t = Profiler.start()
            defer { Profiler.stop(.attentionDropout, since: t) }
            for n in 0..<L {
                let factors = dropped + n * L, row = ds + n * L, prow = p + n * L
                fillAttentionDropoutRow(factors, dropping, sequence: b, layer: layer, head: h, query: n)
                // Two loops of two arrays each: the compiler vectorises those, not the fused one
                // (nor a fill that writes both products at once: 90 → 142 ms a step).
                for m in 0...n { row[m] *= factors[m] }
                for m in 0...n { factors[m] *= prow[m] }
                if !causal { for m in (n + 1)..<L { factors[m] = 0 } }
            }
        }
        // dV = Pᵀ dZ (P after dropout when dropping)
        t = Profiler.start()
        headTransposedMix(dvh, dropping == nil ? p : UnsafePointer(dropped), dzh, length: L, width: Dh, stride: D, causal: causal)
        Profiler.stop(.attentionContentGemm, since: t, flops: contentFlops)
        // Softmax backward, scaled; then scatter into the relative-position buckets.
        t = Profiler.start()
        dc2p.initialize(repeating: 0, count: 2 * L * W + L)
        for n in 0..<L {
            let prow = p + n * L, row = ds + n * L
            if let bonus = entropyBonus, case let c = bonus.scale * bonus.rowWeights[b * L + n], c != 0 {
                entropySums[task] += Double(addEntropyGradient(row, prow, count: n + 1, weight: c))
            }
            let dot = laneDot(prow, row, count: n + 1)
            // As in the forward pass: keys before `near` share δ = 0. Every p2c bucket receives
            // its terms in ascending (n, m) order; c2p's δ = 0 bucket of row n sums its far keys
            // in lanes (Kernels/LaneSums.swift's order), the compiler leaves a scalar sum scalar.
            let near = max(0, n - (W - 1))
            var farLanes = SIMD8<Float>(), m = 0
            while m + 8 <= near {
                let g = loadLanes8(prow + m) * (loadLanes8(row + m) - dot) * scale
                storeLanes8(g, row + m)
                farLanes += g
                storeLanes8(loadLanes8(dp2cFar + m) + g, dp2cFar + m)
                m += 8
            }
            var farTail: Float = 0
            while m < near {
                let g = prow[m] * (row[m] - dot) * scale
                row[m] = g
                farTail += g
                dp2cFar[m] += g
                m += 1
            }
            dc2p[n * W] += reduce(SIMD16(), farLanes) + farTail
            // The window's keys: the gradients and c2p's contiguous buckets (vectorised), then
            // p2c's, which lie on a diagonal of its table (a scalar scatter).
            let dc2pRow = dc2p + n * W + (W - 1) - n, dp2cDiagonal = dp2c + (W - 1) - n
            for m in near...n {
                let g = prow[m] * (row[m] - dot) * scale
                row[m] = g
                dc2pRow[m] += g
            }
            var first = near
            if n >= W - 1 { dp2cFar[near] += row[near]; first += 1 }  // key n − (W − 1): δ = 0
            if first <= n { for m in first...n { dp2cDiagonal[m * (W + 1)] += row[m] } }
            // The causal kernels read only the triangle; OpenBLAS reads the whole square.
            if !causal { for m in (n + 1)..<L { row[m] = 0 } }
        }
        for m in 0..<L { dp2c[m * W] = dp2cFar[m] }
        Profiler.stop(.softmax, since: t)
        // dQ = dS K + dC2P Rk ;  dK = dSᵀ Q + dP2C Rq
        t = Profiler.start()
        headMix(dqh, ds, kh, length: L, width: Dh, stride: D, causal: causal)
        Profiler.stop(.attentionContentGemm, since: t, flops: contentFlops)
        t = Profiler.start()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(L), Int32(Dh), Int32(W),
                    1, dc2p, Int32(W), relK + h * Dh, Int32(D), 1, dqh, Int32(D))
        Profiler.stop(.attentionRelativeGemm, since: t, flops: relativeFlops)
        t = Profiler.start()
        headTransposedMix(dkh, ds, qh, length: L, width: Dh, stride: D, causal: causal)
        Profiler.stop(.attentionContentGemm, since: t, flops: contentFlops)
        t = Profiler.start()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(L), Int32(Dh), Int32(W),
                    1, dp2c, Int32(W), relQ + h * Dh, Int32(D), 1, dkh, Int32(D))
        // Per-sequence partials of dRk = dC2Pᵀ Q and dRq = dP2Cᵀ K (head h's columns only).
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(W), Int32(Dh), Int32(L),
                    1, dc2p, Int32(W), qh, Int32(D), 0, partialK + b * W * D + h * Dh, Int32(D))
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(W), Int32(Dh), Int32(L),
                    1, dp2c, Int32(W), kh, Int32(D), 0, partialQ + b * W * D + h * Dh, Int32(D))
        Profiler.stop(.attentionRelativeGemm, since: t, flops: 3 * relativeFlops)
      }
    }
    }
    let t = Profiler.start()
    defer { Profiler.stop(.elementwise, since: t) }
    for b in 0..<B {
        let pk = partialK + b * W * D, pq = partialQ + b * W * D
        for i in 0..<(W * D) { dRelK[i] += pk[i]; dRelQ[i] += pq[i] }
    }
    return entropySums.reduce(0, +)
}

// One head's content products: its rows of width Dh lie at stride D in the [B, L, H, Dh] tensors,
// its L × L matrices are dense. With `causal` (heads of `causalHeadWidth`) the triangle-only
// kernels of Kernels/CausalProducts.swift, else OpenBLAS over the whole square.

/// out[n, m] = a_n · b_m (QKᵀ, dZ·Vᵀ); with `causal` only m ≤ n is meaningful.
private func headDots(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      length L: Int, width Dh: Int, stride D: Int, packed: UnsafeMutablePointer<Float>, causal: Bool) {
    if causal { return dispatchCausalDots(out, a, b, length: L, stride: D, packed: packed) }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(L), Int32(L), Int32(Dh),
                1, a, Int32(D), b, Int32(D), 0, out, Int32(L))
}

/// out = P · X (P·V, dS·K), P lower-triangular.
private func headMix(_ out: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                     length L: Int, width Dh: Int, stride D: Int, causal: Bool) {
    if causal { return dispatchCausalMix(out, outStride: D, p, x, xStride: D, length: L) }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(L), Int32(Dh), Int32(L),
                1, p, Int32(L), x, Int32(D), 0, out, Int32(D))
}

/// out = Pᵀ · X (Pᵀ·dZ, dSᵀ·Q), P lower-triangular.
private func headTransposedMix(_ out: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                               length L: Int, width Dh: Int, stride D: Int, causal: Bool) {
    if causal { return dispatchCausalTransposedMix(out, outStride: D, p, x, xStride: D, length: L) }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(L), Int32(Dh), Int32(L),
                1, p, Int32(L), x, Int32(D), 0, out, Int32(D))
}

/// The attention-entropy bonus's row weights c_r = `scale` · `rowWeights[r]` (relativeAttentionBackward).
struct EntropyBonusWeights {
    /// The loss weight of each position of the block, [B·L].
    var rowWeights: UnsafePointer<Float>
    /// λ over the normalisation of the bonus (Backpropagation.lossAndGradient).
    var scale: Float
}

/// The entropy bonus's share of one attention row's backward: adds `weight` · log p_m to dP_m
/// for every weight p_m > 0 of the row, and returns `weight` · H(p).
@inline(__always)
private func addEntropyGradient(_ dP: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, count: Int,
                                weight c: Float) -> Float {
    var entropy: Float = 0
    for m in 0..<count where p[m] > 0 {
        let logP = logf(p[m])
        entropy -= p[m] * logP
        dP[m] += c * logP
    }
    return c * entropy
}
