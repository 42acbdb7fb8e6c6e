import Foundation
import HDF5
import Testing
@testable import Transformer

/// The PyTorch reference's answers (scripts/make_parity_fixture.py wrote them with
/// scripts/reference_model.py, an independent implementation of docs/model-spec.md).
struct ParityFixture {
    let model: Model
    let tokens: [Int32]
    let batch: Int, length: Int, iterations: Int
    let lengths: [Int]
    let inputs: H5Array<Int32>
    let predictions: H5Array<Int32>
    /// logits per factor name, [T, B, L, V].
    let logits: [String: Tensor]
    /// hook tensors by hook name, [T, ...].
    let hooks: [String: Tensor]

    static func load() throws -> ParityFixture {
        let path = try #require(Bundle.module.path(forResource: "parity", ofType: "h5", inDirectory: "Fixtures"),
                                "Fixtures/parity.h5 is missing; run scripts/make_parity_fixture.py")
        let model = try Checkpoint.load(path)
        let file = try H5File.open(path)
        defer { file.close() }
        let parity = try file.root.group("parity")
        let tokens = try parity.read("tokens", as: Int32.self)
        let iterations = try #require(try parity.intAttribute("iterations"))
        func tensors(_ group: H5Group) throws -> [String: Tensor] {
            var result: [String: Tensor] = [:]
            for name in try group.childNames() {
                let array = try group.read(name, as: Float.self)
                result[name] = Tensor(shape: array.shape, scalars: array.values)
            }
            return result
        }
        return ParityFixture(model: model, tokens: tokens.values, batch: tokens.shape[0], length: tokens.shape[1],
                             iterations: iterations,
                             lengths: try parity.read("lengths", as: Int32.self).values.map(Int.init),
                             inputs: try parity.read("inputs", as: Int32.self),
                             predictions: try parity.read("predictions", as: Int32.self),
                             logits: try tensors(try parity.group("logits")),
                             hooks: try tensors(try parity.group("hooks")))
    }

    /// Runs the Swift model with observers on `names`; returns each hook's tensors stacked over iterations.
    func runSwift(observing names: [String], tokens: [Int32]? = nil, batch: Int? = nil,
                  length: Int? = nil) throws -> (RecurrentRun, [String: Tensor]) {
        let hooks = Hooks(config: model.config)
        var seen: [String: [Tensor]] = [:]
        for name in names {
            try hooks.observe(name) { event, tensor in seen[event.name, default: []].append(tensor) }
        }
        let run = try model.run(tokens: tokens ?? self.tokens, batch: batch ?? self.batch, length: length ?? self.length,
                                iterations: iterations, hooks: hooks)
        var stacked: [String: Tensor] = [:]
        for (name, list) in seen {
            stacked[name] = Tensor(shape: [list.count] + list[0].shape, scalars: list.flatMap(\.scalars))
        }
        return (run, stacked)
    }
}

/// Swift forward pass and recurrence against the PyTorch reference (max abs error ≤ 1e-4).
@Suite struct ParityTests {
    static let tolerance: Float = 1e-4

    @Test func logitsAndRecurrentPredictionsMatchThePyTorchReference() throws {
        let fixture = try ParityFixture.load()
        #expect(fixture.iterations == 3)
        let (run, seen) = try fixture.runSwift(observing: ["hook_logits.*"])
        for (factor, expected) in fixture.logits {
            let got = try #require(seen["hook_logits.\(factor)"])
            #expect(got.shape == expected.shape)
            let error = got.maxAbsDifference(expected)
            print("parity: hook_logits.\(factor) max abs error \(error)")
            #expect(error <= Self.tolerance, "logits of \(factor): max abs error \(error)")
        }
        // Inputs and predictions of every iteration, every position (padding included), every factor.
        #expect(run.inputs.flatMap { $0 } == fixture.inputs.values, "recurrent inputs differ")
        let predicted = run.predictions.flatMap { $0 }
        let expected = fixture.predictions.values
        let mismatches = zip(predicted, expected).filter { $0 != $1 }.count
        #expect(mismatches == 0, "\(mismatches) of \(expected.count) predicted ids differ from the reference")
    }

    @Test func hookTensorsMatchThePyTorchReference() throws {
        let fixture = try ParityFixture.load()
        // Observing hook_result also switches the attention output to the per-head sum path.
        let (_, seen) = try fixture.runSwift(observing: Array(fixture.hooks.keys))
        #expect(fixture.hooks.count >= 8)
        for (name, expected) in fixture.hooks.sorted(by: { $0.key < $1.key }) {
            let got = try #require(seen[name], "hook \(name) did not fire")
            #expect(got.shape == expected.shape, "\(name)")
            guard got.shape == expected.shape else { continue }
            let error = got.maxAbsDifference(expected)
            print("parity: \(name) max abs error \(error)")
            #expect(error <= Self.tolerance, "\(name): max abs error \(error)")
        }
    }

    @Test func eachSequenceAloneMatchesTheReferenceOnItsRealTokens() throws {
        let fixture = try ParityFixture.load()
        let L = fixture.length, sizes = fixture.model.config.factorSizes
        let expected = try #require(fixture.logits["value"])
        for b in 0..<fixture.batch {
            let n = fixture.lengths[b]
            let alone = Array(fixture.tokens[(b * L * 4)..<((b * L + n) * 4)])
            let (run, seen) = try fixture.runSwift(observing: ["hook_logits.value"], tokens: alone, batch: 1, length: n)
            let got = try #require(seen["hook_logits.value"])
            var worst: Float = 0
            for t in 0..<fixture.iterations {
                for p in 0..<n {
                    for v in 0..<sizes[3] {
                        worst = max(worst, abs(got[t, 0, p, v] - expected[t, b, p, v]))
                    }
                    let reference = fixture.predictions.values[((t * fixture.batch + b) * L + p) * 4 + 3]
                    #expect(run.prediction(iteration: t, sequence: 0, position: p, factor: .value) == reference,
                            "sequence \(b) alone, iteration \(t), position \(p)")
                }
            }
            #expect(worst <= Self.tolerance, "sequence \(b) alone: value logits max abs error \(worst)")
        }
    }
}
