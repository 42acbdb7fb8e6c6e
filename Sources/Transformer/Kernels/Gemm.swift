import CBLAS
import Dispatch

/// C[M×N] = alpha · op(A) · op(B) + beta · C, row-major, split over the cores by rows of C.
///
/// OpenBLAS runs single-threaded (its own pool spin-waits against Dispatch on two cores);
/// large products are cut into one horizontal band of C per core instead.
@inline(__always)
func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
          _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
          beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
    let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
    let tasks = (m * n * k >= 1 << 18) ? min(ComputeThreads.count, max(1, m / 16)) : 1
    if tasks <= 1 {
        cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        return
    }
    DispatchQueue.concurrentPerform(iterations: tasks) { t in
        let start = m * t / tasks, end = m * (t + 1) / tasks
        // Rows start..<end of op(A): row offset when A is stored as given, column offset when transposed.
        let aBand = transposeA ? a + start : a + start * lda
        cblas_sgemm(CblasRowMajor, ta, tb, Int32(end - start), Int32(n), Int32(k), alpha, aBand, Int32(lda),
                    b, Int32(ldb), beta, c + start * ldc, Int32(ldc))
    }
}

/// C = A·B for square n × n row-major matrices through the same core-splitting path the
/// model uses (for `lens bench`'s sgemm ceiling).
public func benchGemm(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
    BLASThreads.configure()
    gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, a, lda: n, b, ldb: n, beta: 0, c, ldc: n)
}
