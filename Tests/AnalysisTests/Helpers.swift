import Foundation
import Testing
@testable import Analysis
@testable import Transformer

/// True when `a` and `b` differ by at most `tolerance`.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance }

/// Attention patterns [N, H, L, L] in which head h of sequence i attends at query `queries[i]`
/// only to key `keys(i, h)` (every other query attends to itself).
func onehotPatterns(n: Int, heads: Int, length: Int, queries: [Int], keys: (Int, Int) -> Int) -> Tensor {
    var t = Tensor(shape: [n, heads, length, length])
    for i in 0..<n {
        for h in 0..<heads {
            for q in 0..<length {
                let k = q == queries[i] ? keys(i, h) : q
                t.scalars[((i * heads + h) * length + q) * length + k] = 1
            }
        }
    }
    return t
}
