import Foundation
import Testing
@testable import GraphTask

/// Random edits of valid program texts: every one must parse and solve, or throw a ProgramError.
@Suite struct ProgramFuzzTests {
    static let fragments = ["x_", "x_1", "x_127", "x_128", "x_99999999999999999999", "+", "=", ";", " ", "  ", "0", "22",
                            "23", "-1", "x", "_", "==", "++", ";;", "é", "🙂", "\t", "\n", "x_-3", "1e5", "\u{0}", "x_01"]

    /// One random edit: delete, insert a fragment, duplicate or swap a span, or truncate.
    static func mutate(_ text: String, rng: inout TaskRNG) -> String {
        var chars = Array(text)
        let edits = 1 + rng.below(4)
        for _ in 0..<edits {
            let n = chars.count
            switch rng.below(5) {
            case 0 where n > 0:
                chars.remove(at: rng.below(n))
            case 1:
                let fragment = fragments[rng.below(fragments.count)]
                chars.insert(contentsOf: fragment, at: rng.below(n + 1))
            case 2 where n > 1:
                let a = rng.below(n), b = min(n, a + 1 + rng.below(12))
                chars.insert(contentsOf: chars[a..<b], at: rng.below(n + 1))
            case 3 where n > 1:
                let a = rng.below(n), b = rng.below(n)
                chars.swapAt(a, b)
            case 4 where n > 0:
                chars.removeLast(rng.below(min(n, 8)) + 1)
            default:
                chars.append(contentsOf: ";")
            }
        }
        return String(chars)
    }

    @Test func mutatedProgramsEndInSuccessOrATypedError() throws {
        var rng = TaskRNG(seed: 20261125)
        let vocabulary = Vocabulary()
        var parsed = 0, rejected = 0
        var seeds: [String] = []
        for seed in 0..<20 {
            seeds.append(try GraphGenerator(nodes: 3 + seed % 10, leaves: 2).generate(seed: UInt64(seed)).text)
        }
        let cases = ProcessInfo.processInfo.environment["LATENTLENS_FUZZ_CASES"].flatMap(Int.init) ?? 10_000
        for _ in 0..<cases {
            let text = Self.mutate(seeds[rng.below(seeds.count)], rng: &rng)
            do {
                let program = try Program.parse(text, vocabulary: vocabulary)
                let solution = try program.solve(vocabulary: vocabulary)
                let tokens = program.tokenize(vocabulary: vocabulary)
                _ = tokens.iterationInput(solution.maxDepth, solution: solution)
                parsed += 1
            } catch is ProgramError {
                rejected += 1
            }
        }
        // Both outcomes must be common, or the mutations test nothing.
        #expect(parsed > 200)
        #expect(rejected > 2000)
    }
}
