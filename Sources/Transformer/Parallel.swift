import CBLAS
import Dispatch

/// Number of tasks worth splitting `rows` rows into on this machine.
func parallelTaskCount(_ rows: Int, minimumPerTask: Int) -> Int {
    max(1, min(ComputeThreads.count, rows / max(1, minimumPerTask)))
}

/// Runs `body` over contiguous row ranges, one task per core when there is enough work.
func parallelRows(_ rows: Int, minimumPerTask: Int, _ body: (Range<Int>) -> Void) {
    parallelRows(rows, tasks: parallelTaskCount(rows, minimumPerTask: minimumPerTask)) { _, range in body(range) }
}

/// Runs `body(task, range)` over `tasks` contiguous row ranges.
func parallelRows(_ rows: Int, tasks: Int, _ body: (Int, Range<Int>) -> Void) {
    if tasks <= 1 {
        body(0, 0..<rows)
        return
    }
    DispatchQueue.concurrentPerform(iterations: tasks) { task in
        let start = rows * task / tasks, end = rows * (task + 1) / tasks
        body(task, start..<end)
    }
}

/// Runs independent items in parallel (OpenBLAS itself is single-threaded, see `gemm`).
func parallelItems(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 || ComputeThreads.count <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}

/// The number of cores the kernels use (all of them unless LATENTLENS_THREADS says otherwise).
enum ComputeThreads {
    static let count: Int = {
        if let text = getenvString("LATENTLENS_THREADS"), let n = Int(text), n >= 1 { return n }
        return max(1, sysconfCores())
    }()
}
