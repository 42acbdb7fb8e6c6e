// x[n] = Σ_f E_f[tokens[n, f]]  — one learned table per token factor, summed.

/// Forward of the factored embedding for `rows` tokens of 4 factor ids each.
func embeddingForward(_ out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                      tables: [UnsafePointer<Float>], rows: Int, width: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.embedding, since: profiled) }
    parallelRows(rows, minimumPerTask: 256) { range in
        for r in range {
            let y = out + r * width
            y.update(from: tables[0] + Int(tokens[r * 4]) * width, count: width)
            for f in 1..<tables.count {
                let e = tables[f] + Int(tokens[r * 4 + f]) * width
                for i in 0..<width { y[i] += e[i] }
            }
        }
    }
}

/// Backward of `embeddingForward`: adds each row's gradient into the rows of the tables it read.
func embeddingBackward(dTables: [UnsafeMutablePointer<Float>], dOut: UnsafePointer<Float>,
                       tokens: UnsafePointer<Int32>, rows: Int, width: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.embedding, since: profiled) }
    for r in 0..<rows {
        let g = dOut + r * width
        for f in 0..<dTables.count {
            let e = dTables[f] + Int(tokens[r * 4 + f]) * width
            for i in 0..<width { e[i] += g[i] }
        }
    }
}
