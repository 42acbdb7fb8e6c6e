/// A seedable, platform-independent generator: xoshiro256** seeded through SplitMix64.
///
/// Swift's system generator cannot be seeded and its `random(in:)` algorithms may change
/// between releases, so every draw the task makes goes through the methods here.
public struct TaskRNG: RandomNumberGenerator, Sendable {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole stream is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A generator continuing from a saved `state` (four words).
    public init(state: [UInt64]) {
        precondition(state.count == 4, "a TaskRNG state has four words")
        s0 = state[0]; s1 = state[1]; s2 = state[2]; s3 = state[3]
    }

    /// The four state words, for checkpoints.
    public var state: [UInt64] { [s0, s1, s2, s3] }

    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    @inline(__always) func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform integer in 0..<n (unbiased, by rejection).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(_:) needs a positive bound")
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return Int(r % bound) }
        }
    }

    /// A uniform Double in [0, 1).
    public mutating func unitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform Float in [0, 1).
    public mutating func unitFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Shuffles `array` in place (Fisher–Yates).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, below(i + 1))
        }
    }

    /// `k` distinct integers from 0..<n, in random order.
    public mutating func sample(_ k: Int, from n: Int) -> [Int] {
        precondition(k <= n, "cannot sample \(k) distinct values from \(n)")
        var pool = Array(0..<n)
        for i in 0..<k { pool.swapAt(i, i + below(n - i)) }
        return Array(pool[0..<k])
    }
}
