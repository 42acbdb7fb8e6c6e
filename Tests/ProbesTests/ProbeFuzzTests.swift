import Foundation
import GraphTask
import Testing
@testable import Probes

/// Mutated probe files: every one must parse and expand, or throw a ProbeError or ProgramError
/// (a crash fails the whole test process). `make fuzz` runs more cases.
@Suite struct ProbeFuzzTests {
    static let fragments = ["context", "random", "program", "equation", "sweep", "fix", "over", "combine", "zip", "product",
                            "seed=", "nodes=", "leaves=", "fanin=", "1..3", "..", "=", "+", ";", ",", "\n", " ", "#", "v0", "rhs",
                            ".value", "defined", "defined[", "]", "[-1]", "leaf[0]", "free[0]", "x_", "x_999", "values", "Z23",
                            "99999999999999999999", "-7", "0", "22", "23", "é", "\u{0}", "\t", "iterations 0", "iterations 99"]

    static func mutate(_ text: String, rng: inout TaskRNG) -> String {
        var chars = Array(text)
        for _ in 0..<(1 + rng.below(4)) {
            let n = chars.count
            switch rng.below(5) {
            case 0 where n > 0:
                let a = rng.below(n)
                chars.removeSubrange(a..<min(n, a + 1 + rng.below(6)))
            case 1:
                chars.insert(contentsOf: fragments[rng.below(fragments.count)], at: rng.below(n + 1))
            case 2 where n > 1:
                let a = rng.below(n), b = min(n, a + 1 + rng.below(20))
                chars.insert(contentsOf: chars[a..<b], at: rng.below(n + 1))
            case 3 where n > 1:
                chars.swapAt(rng.below(n), rng.below(n))
            default:
                if n > 0 { chars.removeLast(rng.below(min(n, 12)) + 1) }
            }
        }
        return String(chars)
    }

    static let seeds = [
        "context random seed=1..2 nodes=8 leaves=3\nequation v0 + v1 = rhs\nsweep v0 over defined\nfix v1 = leaf[0]\nfix rhs = free[0]\n",
        "context program 1 = x_1; 2 = x_2; x_1 + x_2 = x_3\nequation p + q = r\nsweep p over x_1, x_2\nsweep q over x_2, x_1\nfix r = free[0]\ncombine zip\n",
        "context random seed=3 nodes=6 leaves=2\nequation v0 + v1 = rhs\nfix v0 = leaf[0]\nfix v1 = leaf[1]\nfix rhs = free[1]\nsweep v0.value over 0..4\nsweep v1.value over 1, 5\n",
        "name g\ncontext random seed=4 nodes=5,7 leaves=2\n",
    ]

    @Test func mutatedProbeFilesEndInAnExpansionOrATypedError() throws {
        let cases = ProcessInfo.processInfo.environment["LATENTLENS_FUZZ_CASES"].flatMap(Int.init) ?? 10_000
        var rng = TaskRNG(seed: 20261126)
        let vocabulary = Vocabulary()
        var expanded = 0, rejected = 0
        for _ in 0..<cases {
            let text = Self.mutate(Self.seeds[rng.below(Self.seeds.count)], rng: &rng)
            do {
                let probe = try ProbeParser.parse(text, file: "fuzz.probe")
                let expansion = try probe.expand(vocabulary: vocabulary, maximumLength: 512)
                #expect(expansion.sequences.count == expansion.meta.values.first?.count ?? expansion.sequences.count)
                expanded += 1
            } catch let error as ProbeError {
                #expect(error.description.hasPrefix("fuzz.probe"), "\(error)")
                rejected += 1
            } catch is ProgramError {
                rejected += 1
            }
        }
        #expect(expanded > cases / 100)
        #expect(rejected > cases / 5)
    }
}
