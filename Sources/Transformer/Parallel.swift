import CBLAS
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Number of tasks worth splitting `rows` rows into on this machine.
func parallelTaskCount(_ rows: Int, minimumPerTask: Int) -> Int {
    max(1, min(ComputeThreads.count, rows / max(1, minimumPerTask)))
}

/// Runs `body` over contiguous row ranges, one task per core when there is enough work.
public func parallelRows(_ rows: Int, minimumPerTask: Int, _ body: (Range<Int>) -> Void) {
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

/// Runs `body` with the kernels it calls on this thread restricted to one core (for `lens bench
/// --profile`'s forward pass, whose rows are then plain time rather than a mix of wall and
/// per-thread time).
public func onOneCore<T>(_ body: () throws -> T) rethrows -> T {
    try ComputeThreads.limited(to: 1, body)
}

/// The number of cores the kernels called on this thread split their work over (all of them
/// unless LATENTLENS_THREADS says otherwise): `lens bench`'s sgemm ceiling over one of them.
public var computeCores: Int { ComputeThreads.count }

/// The number of cores the kernels use (all of them unless LATENTLENS_THREADS says otherwise).
enum ComputeThreads {
    /// Cores of the whole process.
    static let configured: Int = {
        if let text = getenvString("LATENTLENS_THREADS"), let n = Int(text), n >= 1 { return n }
        return max(1, sysconfCores())
    }()

    /// Cores the kernels called on this thread may use: `configured`, or a shard's share of them
    /// inside `limited(to:_:)`.
    static var count: Int {
        let limit = Int(bitPattern: pthread_getspecific(limitKey))
        return limit > 0 ? limit : configured
    }

    /// Runs `body` with the kernels on this thread restricted to `cores` cores, so that shards
    /// running side by side do not each split their work over every core (the pool threads a
    /// kernel fans out to run leaf work only, so the limit need not reach them).
    static func limited<T>(to cores: Int, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(limitKey)
        pthread_setspecific(limitKey, UnsafeRawPointer(bitPattern: max(1, cores)))
        defer { pthread_setspecific(limitKey, previous) }
        return try body()
    }

    /// The thread-specific slot holding the limit (0, i.e. no value, means none).
    private static let limitKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}
