import CBLAS

// y[n, out] = x[n, in] · W[out, in]ᵀ + b[out]   (PyTorch Linear layout, row-major)

/// Forward of a linear map over `rows` rows; `bias` may be nil.
@inline(__always)
func linearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                   _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                   rows: Int, inWidth: Int, outWidth: Int) {
    var beta: Float = 0
    if let bias {
        for r in 0..<rows { (y + r * outWidth).update(from: bias, count: outWidth) }
        beta = 1
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outWidth), Int32(inWidth),
                1, x, Int32(inWidth), weight, Int32(inWidth), beta, y, Int32(outWidth))
}

/// Backward of `linearForward`: accumulates into `dWeight`, `dBias` and (when non-nil) `dx`.
///
/// `dx` is overwritten when `accumulateInput` is false, added to otherwise.
@inline(__always)
func linearBackward(_ dx: UnsafeMutablePointer<Float>?, _ dWeight: UnsafeMutablePointer<Float>,
                    _ dBias: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                    _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                    rows: Int, inWidth: Int, outWidth: Int, accumulateInput: Bool = false) {
    if let dx {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inWidth), Int32(outWidth),
                    1, dy, Int32(outWidth), weight, Int32(inWidth), accumulateInput ? 1 : 0, dx, Int32(inWidth))
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outWidth), Int32(inWidth), Int32(rows),
                1, dy, Int32(outWidth), x, Int32(inWidth), 1, dWeight, Int32(inWidth))
    if let dBias {
        for r in 0..<rows {
            let row = dy + r * outWidth
            for o in 0..<outWidth { dBias[o] += row[o] }
        }
    }
}
