#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Each loop is split over the cores when called outside a data-parallel shard (`Model.run`:
// one core alone made these a few percent of a forward pass's time); inside one it runs as is.

/// Elements per task below which an elementwise loop stays on one core.
private let elementsPerTask = 1 << 15

/// out = max(x, 0)
func reluForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.elementwise, since: profiled) }
    parallelRows(count, minimumPerTask: elementsPerTask) { range in
        for i in range { out[i] = max(x[i], 0) }
    }
}

/// dx = dOut where the forward input was positive (overwrites dx; dx may alias dOut).
func reluBackward(_ dx: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                  _ x: UnsafePointer<Float>, count: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.elementwise, since: profiled) }
    // The unconditional load makes this a select the compiler vectorises; a load only where
    // x > 0 compiled to a scalar loop that mispredicts on every other sign (perf: 4 % of a step).
    parallelRows(count, minimumPerTask: elementsPerTask) { range in
        for i in range {
            let g = dOut[i]
            dx[i] = x[i] > 0 ? g : 0
        }
    }
}

/// out = a + b
func addForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.elementwise, since: profiled) }
    parallelRows(count, minimumPerTask: elementsPerTask) { range in
        for i in range { out[i] = a[i] + b[i] }
    }
}

/// y += x
func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.elementwise, since: profiled) }
    parallelRows(count, minimumPerTask: elementsPerTask) { range in
        for i in range { y[i] += x[i] }
    }
}
