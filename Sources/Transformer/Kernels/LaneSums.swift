// Sums of floats in SIMD lanes, for the reductions the compiler leaves scalar (a float sum's
// order is part of its value, so it may not reorder one): LayerNorm's mean and variance and the
// softmax backward's row dot were chains of one dependent add per element (lens bench --profile).
//
// The order is fixed by the code, not by the machine: element i goes to lane i mod 16 of the
// main loop, the last count mod 16 elements to lanes 0 … 7 and then to a scalar tail, and the
// lanes are added in one written order. So every machine and thread count computes the same
// bits (the Swift code runs the same instructions on AVX2 and AVX-512 CPUs, Package.swift).

@inline(__always) func loadLanes(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) func loadLanes8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func storeLanes(_ x: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD16<Float>.self)
}

@inline(__always) func storeLanes8(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
}

/// The lanes of `wide` and `narrow` added in a fixed order.
@inline(__always) func reduce(_ wide: SIMD16<Float>, _ narrow: SIMD8<Float> = SIMD8()) -> Float {
    let folded = wide.lowHalf + wide.highHalf + narrow
    let four = folded.lowHalf + folded.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// Σ x[i] over `count` elements, in lanes.
@inline(__always)
func laneSum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var wide = SIMD16<Float>(), narrow = SIMD8<Float>(), i = 0
    while i + 16 <= count { wide += loadLanes(x + i); i += 16 }
    if i + 8 <= count { narrow = loadLanes8(x + i); i += 8 }
    var tail: Float = 0
    while i < count { tail += x[i]; i += 1 }
    return reduce(wide, narrow) + tail
}

/// Σ (x[i] − shift)² over `count` elements, in lanes.
@inline(__always)
func laneSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, from shift: Float) -> Float {
    var wide = SIMD16<Float>(), narrow = SIMD8<Float>(), i = 0
    while i + 16 <= count { let d = loadLanes(x + i) - shift; wide += d * d; i += 16 }
    if i + 8 <= count { let d = loadLanes8(x + i) - shift; narrow = d * d; i += 8 }
    var tail: Float = 0
    while i < count { let d = x[i] - shift; tail += d * d; i += 1 }
    return reduce(wide, narrow) + tail
}

/// Σ a[i] · b[i] over `count` elements, in lanes.
@inline(__always)
func laneDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var wide = SIMD16<Float>(), narrow = SIMD8<Float>(), i = 0
    while i + 16 <= count { wide += loadLanes(a + i) * loadLanes(b + i); i += 16 }
    if i + 8 <= count { narrow = loadLanes8(a + i) * loadLanes8(b + i); i += 8 }
    var tail: Float = 0
    while i < count { tail += a[i] * b[i]; i += 1 }
    return reduce(wide, narrow) + tail
}
