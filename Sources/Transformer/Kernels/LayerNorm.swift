import Dispatch

// out = (x − mean) · rstd · w + b over the last axis of width `width`, rstd = 1/sqrt(var + eps).

/// Forward LayerNorm over `rows` rows; saves mean and rstd per row for the backward pass.
func layerNormForward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                      _ rstd: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                      _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                      rows: Int, width: Int, epsilon: Float) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.layerNorm, since: profiled) }
    parallelRows(rows, minimumPerTask: 256) { range in
        for r in range {
            let xr = x + r * width, yr = out + r * width
            // The two sums in lanes (Kernels/LaneSums.swift); the loop below vectorises as written.
            let mu = laneSum(xr, count: width) / Float(width)
            let sq = laneSquaredDeviations(xr, count: width, from: mu)
            let s = 1 / (sq / Float(width) + epsilon).squareRoot()
            for i in 0..<width { yr[i] = (xr[i] - mu) * s * weight[i] + bias[i] }
            mean[r] = mu
            rstd[r] = s
        }
    }
}

/// Backward of `layerNormForward`: adds into `dx`, `dWeight`, `dBias`.
func layerNormBackward(_ dx: UnsafeMutablePointer<Float>, _ dWeight: UnsafeMutablePointer<Float>,
                       _ dBias: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                       _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                       _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
                       rows: Int, width: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.layerNorm, since: profiled) }
    // Input gradients row by row in parallel; weight gradients summed per task, then reduced.
    let tasks = parallelTaskCount(rows, minimumPerTask: 256)
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: tasks * 2 * width)
    partial.initialize(repeating: 0, count: tasks * 2 * width)
    defer { partial.deallocate() }
    parallelRows(rows, tasks: tasks) { task, range in
        let dw = partial + task * 2 * width, db = dw + width
        for r in range {
            let xr = x + r * width, dyr = dOut + r * width, dxr = dx + r * width
            let mu = mean[r], s = rstd[r]
            // The two row sums in 16 lanes (their order as in Kernels/LaneSums.swift's), then a
            // scalar tail; a scalar loop over both was two chains of dependent adds.
            var sumDxhat = SIMD16<Float>(), sumDxhatXhat = SIMD16<Float>(), i = 0
            while i + 16 <= width {
                let xhat = (loadLanes(xr + i) - mu) * s, dy = loadLanes(dyr + i)
                let dxhat = dy * loadLanes(weight + i)
                sumDxhat += dxhat
                sumDxhatXhat += dxhat * xhat
                storeLanes(loadLanes(dw + i) + dy * xhat, dw + i)
                storeLanes(loadLanes(db + i) + dy, db + i)
                i += 16
            }
            var tailDxhat: Float = 0, tailDxhatXhat: Float = 0
            while i < width {
                let xhat = (xr[i] - mu) * s
                let dxhat = dyr[i] * weight[i]
                tailDxhat += dxhat
                tailDxhatXhat += dxhat * xhat
                dw[i] += dyr[i] * xhat
                db[i] += dyr[i]
                i += 1
            }
            let meanDxhat = (reduce(sumDxhat) + tailDxhat) / Float(width)
            let meanDxhatXhat = (reduce(sumDxhatXhat) + tailDxhatXhat) / Float(width)
            for i in 0..<width {
                let xhat = (xr[i] - mu) * s
                let dxhat = dyr[i] * weight[i]
                dxr[i] += (dxhat - meanDxhat - xhat * meanDxhatXhat) * s
            }
        }
    }
    for t in 0..<tasks {
        let dw = partial + t * 2 * width, db = dw + width
        for i in 0..<width { dWeight[i] += dw[i]; dBias[i] += db[i] }
    }
}
