#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-kernel time of the training step, for `lens bench --profile` (docs/benchmarks.md).
///
/// Compiled in always, read only when `isEnabled`: a kernel calls `Profiler.start()` (one load
/// of a global flag when off, no clock read) and `Profiler.stop(_:since:)` (returns at once on a
/// start of 0). Each thread adds into its own slots, keyed by the phase it is in (forward,
/// backward, or the step around them), so shards running side by side never share a counter.
public enum Profiler {
    /// What a timed span of work is.
    public enum Region: Int, CaseIterable, Sendable {
        /// Matrix products of the Linear layers (q, k, v, o, fc, proj, readouts, relative tables).
        case linearGemm
        /// Bias broadcast (forward) and bias column sums (backward) of the Linear layers.
        case linearBias
        /// QKᵀ and P·V, and their gradients.
        case attentionContentGemm
        /// The relative-position products q·Rk and k·Rq, and their gradients.
        case attentionRelativeGemm
        /// Scores from the three terms, scale, causal mask, softmax; its backward and the scatter
        /// into the relative-position buckets.
        case softmax
        /// Attention-weight dropout masks and their application.
        case attentionDropout
        case layerNorm
        /// Dropout masks on attn_out and mlp_out and their application.
        case residualDropout
        /// ReLU, residual adds and buffer copies.
        case elementwise
        case crossEntropy
        case embedding
        /// Summing the shards' gradients.
        case gradientSum
        case gradientNorm
        case optimizer
        /// Drawing the step's graphs and tokenizing them.
        case data
    }

    /// Where in the step a span ran.
    public enum Phase: Int, CaseIterable, Sendable {
        case step, forward, backward
    }

    /// Whether kernels read the clock. Set it before timing, never while kernels run.
    nonisolated(unsafe) public static var isEnabled = false

    /// A start mark: the clock in nanoseconds when enabled, 0 otherwise.
    @inline(__always)
    public static func start() -> UInt64 { isEnabled ? now() : 0 }

    /// Adds the time since `start` (and `flops` floating-point operations) to `region` in this
    /// thread's current phase; does nothing for a start of 0.
    @inline(__always)
    public static func stop(_ region: Region, since start: UInt64, flops: Double = 0) {
        guard start != 0 else { return }
        record(region, seconds: Double(now() &- start) / 1e9, flops: flops)
    }

    /// Sets this thread's phase (only when enabled) and returns the previous one.
    @inline(__always) @discardableResult
    public static func enter(_ phase: Phase) -> Phase {
        guard isEnabled else { return .step }
        let slots = threadSlots()
        let previous = Phase(rawValue: Int(slots[phaseIndex])) ?? .step
        slots[phaseIndex] = Double(phase.rawValue)
        return previous
    }

    /// Seconds, FLOPs and calls per phase and region, summed over every thread since `reset()`.
    public struct Totals: Sendable {
        public var seconds: [[Double]], flops: [[Double]], calls: [[Double]]
        /// Summed over phases.
        public func seconds(_ region: Region) -> Double { seconds.reduce(0) { $0 + $1[region.rawValue] } }
        public func flops(_ region: Region) -> Double { flops.reduce(0) { $0 + $1[region.rawValue] } }
    }

    /// The totals of every thread that recorded anything.
    public static func totals() -> Totals {
        let empty = [[Double]](repeating: [Double](repeating: 0, count: Region.allCases.count), count: Phase.allCases.count)
        var totals = Totals(seconds: empty, flops: empty, calls: empty)
        withRegistry { slots in
            for s in slots {
                for p in 0..<Phase.allCases.count {
                    for r in 0..<Region.allCases.count {
                        let i = 3 * (p * Region.allCases.count + r)
                        totals.seconds[p][r] += s[i]
                        totals.flops[p][r] += s[i + 1]
                        totals.calls[p][r] += s[i + 2]
                    }
                }
            }
        }
        return totals
    }

    /// Zeroes every thread's counters (call while no kernel runs).
    public static func reset() {
        withRegistry { slots in for s in slots { s.update(repeating: 0, count: slotCount) } }
    }

    // MARK: storage

    static let slotCount = 3 * Phase.allCases.count * Region.allCases.count + 1
    static var phaseIndex: Int { slotCount - 1 }

    @inline(never)
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    @inline(never)
    static func record(_ region: Region, seconds: Double, flops: Double) {
        let slots = threadSlots()
        let i = 3 * (Int(slots[phaseIndex]) * Region.allCases.count + region.rawValue)
        slots[i] += seconds
        slots[i + 1] += flops
        slots[i + 2] += 1
    }

    /// This thread's counters, allocated and registered on first use (threads of the pool live on,
    /// so the registry stays as small as the pool).
    static func threadSlots() -> UnsafeMutablePointer<Double> {
        if let raw = pthread_getspecific(key) { return raw.assumingMemoryBound(to: Double.self) }
        let slots = UnsafeMutablePointer<Double>.allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        withRegistry { $0.append(slots) }
        pthread_setspecific(key, slots)
        return slots
    }

    nonisolated(unsafe) static var registry: [UnsafeMutablePointer<Double>] = []
    nonisolated(unsafe) static var lock = pthread_mutex_t()
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        pthread_mutex_init(&lock, nil)
        return key
    }()

    static func withRegistry<T>(_ body: (inout [UnsafeMutablePointer<Double>]) -> T) -> T {
        _ = key
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return body(&registry)
    }
}
