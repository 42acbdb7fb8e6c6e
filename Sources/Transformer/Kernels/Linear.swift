
// y[n, out] = x[n, in] · W[out, in]ᵀ + b[out]   (PyTorch Linear layout, row-major)

/// Forward of a linear map over `rows` rows; `bias` may be nil.
@inline(__always)
func linearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                   _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                   rows: Int, inWidth: Int, outWidth: Int) {
    var beta: Float = 0
    if let bias {
        let t = Profiler.start()
        // Split over the cores like the product after it (inside a shard: one task).
        parallelRows(rows, minimumPerTask: 256) { range in
            for r in range { (y + r * outWidth).update(from: bias, count: outWidth) }
        }
        beta = 1
        Profiler.stop(.linearBias, since: t)
    }
    let t = Profiler.start()
    gemm(transposeA: false, transposeB: true, m: rows, n: outWidth, k: inWidth,
         x, lda: inWidth, weight, ldb: inWidth, beta: beta, y, ldc: outWidth)
    Profiler.stop(.linearGemm, since: t, flops: 2 * Double(rows * outWidth * inWidth))
}

/// Backward of `linearForward`: accumulates into `dWeight`, `dBias` and (when non-nil) `dx`.
///
/// `dx` is overwritten when `accumulateInput` is false, added to otherwise.
@inline(__always)
func linearBackward(_ dx: UnsafeMutablePointer<Float>?, _ dWeight: UnsafeMutablePointer<Float>,
                    _ dBias: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                    _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                    rows: Int, inWidth: Int, outWidth: Int, accumulateInput: Bool = false) {
    let t = Profiler.start()
    if let dx {
        gemm(transposeA: false, transposeB: false, m: rows, n: inWidth, k: outWidth,
             dy, lda: outWidth, weight, ldb: inWidth, beta: accumulateInput ? 1 : 0, dx, ldc: inWidth)
    }
    gemm(transposeA: true, transposeB: false, m: outWidth, n: inWidth, k: rows,
         dy, lda: outWidth, x, ldb: inWidth, beta: 1, dWeight, ldc: inWidth)
    Profiler.stop(.linearGemm, since: t, flops: 2 * Double(rows * outWidth * inWidth) * (dx == nil ? 1 : 2))
    if let dBias {
        let t = Profiler.start()
        defer { Profiler.stop(.linearBias, since: t) }
        // Column sums of dy, split over the cores by columns.
        parallelRows(outWidth, minimumPerTask: 64) { columns in
            for r in 0..<rows {
                let row = dy + r * outWidth
                for o in columns { dBias[o] += row[o] }
            }
        }
    }
}
