import Foundation
import GraphTask
import Training
import Transformer

// The training step the targets are about (docs/benchmarks.md): the authors' recipe of
// docs/training.md — 32 graphs of 32 nodes, every iteration of each (about 6.5 sequences a
// graph), all four factors supervised, dropout 0.1 on the sublayer outputs and on the attention
// weights — on the paper model, as `lens train` runs it: batch generation, data-parallel
// forward and backward, gradient norm, AdamW.

/// One training step of the authors' recipe, repeatable: every call draws the same batch (the
/// generator restarts from the same state), so repetitions do the same work.
final class AuthorsTrainingStep {
    let model: Model
    let recipe: TrainingRecipe
    let data: TrainingData
    let backprop: ShardedBackpropagation
    var optimizer: AdamW
    let start: TaskRNG
    /// Useful FLOPs and real (unpadded) tokens of the step's batch (`usefulTrainingFlops`).
    private(set) var flops = 0.0, tokens = 0, sequences = 0, length = 0

    init(model: Model) {
        var r = TrainingRecipe()
        (r.minNodes, r.maxNodes, r.curriculumStartNodes, r.leaves, r.maxDepth) = (32, 32, 32, 6, 6)
        r.depthCappedByParents = true
        r.everyIteration = true
        r.factorWeights = Factor.lossWeights(counting: Set(Factor.allCases))
        r.computableWeight = 1
        r.frontierFraction = 0
        (r.dropout, r.attentionDropout) = (0.1, 0.1)
        (r.learningRate, r.warmupSteps, r.finalLearningRateFraction, r.weightDecay, r.gradientClip) = (1e-3, 0, 1, 0.01, 1e9)
        r.batchSize = 32
        recipe = r
        self.model = model
        data = TrainingData(recipe: r)
        backprop = ShardedBackpropagation(model: model)
        optimizer = AdamW(layout: model.layout, weightDecay: r.weightDecay)
        start = TaskRNG(seed: r.seed)
    }

    /// Runs the step once (what `Trainer.run` does per step, without its bookkeeping).
    func run() {
        var rng = start
        let batch = data.batch(step: 0, rng: &rng)
        let dropout = Dropout(rate: recipe.dropoutRate, seed: Dropout.stepSeed(runSeed: recipe.seed, step: 0),
                              attentionRate: recipe.attentionDropoutRate)
        _ = backprop.lossAndGradient(inputs: batch.inputs, targets: batch.targets, positionWeights: batch.weights,
                                     batch: batch.batch, length: batch.length, factorWeights: recipe.factorWeights, dropout: dropout)
        let norm = gradientNorm(backprop.gradientPointer, count: model.layout.totalCount)
        let scale = norm > recipe.gradientClip ? recipe.gradientClip / norm : 1
        optimizer.update(parameters: model.parameterPointer, gradient: backprop.gradientPointer, learningRate: 1e-4, gradientScale: scale)
        if flops == 0 {
            let lengths = (0..<batch.batch).map { b in
                (0..<batch.length).last { batch.weights[b * batch.length + $0] != 0 }.map { $0 + 1 } ?? 0
            }
            flops = lengths.reduce(0) { $0 + usefulTrainingFlops(model.config, length: $1, readouts: recipe.factorWeights.map { $0 != 0 }) }
            tokens = lengths.reduce(0, +)
            (sequences, length) = (batch.batch, batch.length)
        }
    }
}

/// Useful FLOPs of one training step on one sequence of `length` real tokens, from the model's
/// shapes: 3 × the forward pass's (the backward pass does two products per forward product:
/// the input's gradient and the weight's).
///
/// The forward pass counts 2·m·n·k per matrix product, per layer and token: q, k, v and o
/// (4 · 2d²), fc and proj (2 · 2·d·f), the attention scores QKᵀ and the mix P·V over all
/// `length` keys (2 · 2·L·d: the full L × L, as PyTorch's and llm.c's FLOP counts do, though
/// the mask makes half of it zeros), the relative-position terms q·Rk and k·Rq over the window
/// (2 · 2·W·d); and per token the readouts that are trained (2·d·classes each). Softmax,
/// LayerNorm, dropout and the optimizer count nothing; the relative tables' own projections
/// (once a step, 2 · 2·W·d² a layer, < 0.01 % of a step) are left out.
func usefulTrainingFlops(_ c: ModelConfig, length: Int, readouts: [Bool]) -> Double {
    let d = Double(c.modelWidth), f = Double(c.mlpWidth), l = Double(length), w = Double(c.relativeWindow)
    let layer = 2 * (4 * d * d + 2 * d * f) + 2 * 2 * l * d + 2 * 2 * w * d
    let classes = zip(c.factorSizes, readouts).reduce(0) { $0 + ($1.1 ? $1.0 : 0) }
    return 3 * l * (Double(c.layers) * layer + 2 * d * Double(classes))
}

extension BenchCommand {
    /// `lens bench --profile`: where one training step's time goes, kernel by kernel.
    static func profileTrainingStep(model: Model, repetitions: Int) {
        let step = AuthorsTrainingStep(model: model)
        let (plain, profiled, best) = profiledBest(repetitions: repetitions) { step.run() }
        let sgemm = sgemmGflops(repetitions: 3)
        let shards = Double(min(step.backprop.shards, step.sequences))
        print(String(format: "profile of one training step: the authors' recipe (32 graphs of 32 nodes, every iteration, all factors, dropout 0.1 and attention dropout 0.1), %d sequences padded to %d, %d real tokens, %.0f shards, %@; best of %d",
                     step.sequences, step.length, step.tokens, shards, LeafKernels.description, repetitions))
        let usefulRate = step.flops / plain / 1e9
        print(String(format: "step %.3f s without the profiler, %.3f s with it; %.0f tokens/s; useful %.1f GFLOP/s (%.1f GFLOP a step) = %.2f of sgemm 1024³ (%.1f GFLOP/s, both cores, this run)",
                     plain, profiled, Double(step.tokens) / plain, usefulRate, step.flops / 1e9, usefulRate / sgemm, sgemm))
        print("Inside the shards a row's time is its thread time over the shards (each core's mean); outside them, wall time.")
        let regions = Profiler.Region.allCases
        var table: [(String, Double, Double, Double, Double)] = []  // name, forward, backward, outside, flops
        for r in regions {
            let forward = best.seconds[Profiler.Phase.forward.rawValue][r.rawValue] / shards
            let backward = best.seconds[Profiler.Phase.backward.rawValue][r.rawValue] / shards
            let outside = best.seconds[Profiler.Phase.step.rawValue][r.rawValue]
            guard forward + backward + outside > 0 else { continue }
            table.append(("\(r)", forward, backward, outside, best.flops(r)))
        }
        let accounted = table.reduce(0) { $0 + $1.1 + $1.2 + $1.3 }
        table.sort { $0.1 + $0.2 + $0.3 > $1.1 + $1.2 + $1.3 }
        table.append(("rest (shard set-up, imbalance, joins)", 0, 0, profiled - accounted, 0))
        print("kernel".padding(toLength: 40, withPad: " ", startingAt: 0)
              + " forward ms  backward ms  outside ms   total ms  share   GFLOP  GFLOP/s")
        for (name, forward, backward, outside, flops) in table {
            let total = forward + backward + outside
            let rate = flops > 0 ? String(format: "%8.1f", flops / total / 1e9) : "       –"
            let gflop = flops > 0 ? String(format: "%7.1f", flops / 1e9) : "      –"
            print(name.padding(toLength: 40, withPad: " ", startingAt: 0)
                  + String(format: " %10.1f  %11.1f  %10.1f  %9.1f  %4.1f%%  ", forward * 1e3, backward * 1e3, outside * 1e3, total * 1e3, 100 * total / profiled)
                  + gflop + " " + rate)
        }
        let spans = best.calls.joined().reduce(0, +)
        print(String(format: "GFLOP counts what each product computes (2·m·n·k); GFLOP/s is over both cores, to compare with sgemm's. %.0f timed spans a step (with the profiler off, each is one test of a flag).", spans))
    }

    /// `lens bench --profile`, second part: where one forward pass of 32 × 256 (the forward
    /// target's shape) spends its time, on one core so that every row is that core's time (on
    /// two, the GEMMs, the attention and the row-wise kernels split evenly over both cores).
    static func profileForward(model: Model, repetitions: Int) throws {
        let (batch, length) = (32, 256)
        let ids = benchTokens(model.config, batch: batch, length: length)
        let (plain, profiled, best) = try profiledBest(repetitions: repetitions) {
            _ = try onOneCore { try model.run(tokens: ids, batch: batch, length: length, iterations: 1) }
        }
        let flops = Double(batch * length) * forwardFlopsPerToken(model.config, length: length)
        let core = sgemmGflops(repetitions: 3) / Double(computeCores)
        print(String(format: "profile of one forward pass of 32 × 256 (Model.run, one iteration, every readout and its argmax) on one core, %@; best of %d",
                     LeafKernels.description, repetitions))
        print(String(format: "pass %.3f s without the profiler, %.3f s with it; %.1f GFLOP/s (%.1f GFLOP) = %.2f of one core's share of sgemm 1024³ (%.1f GFLOP/s, this run)",
                     plain, profiled, flops / plain / 1e9, flops / 1e9, flops / plain / 1e9 / core, core))
        var table: [(String, Double, Double)] = Profiler.Region.allCases.compactMap { r in
            let time = best.seconds(r)
            return time > 0 ? ("\(r)", time, best.flops(r)) : nil
        }
        let accounted = table.reduce(0) { $0 + $1.1 }
        table.sort { $0.1 > $1.1 }
        table.append(("rest (argmax, token copies, hooks' checks)", profiled - accounted, 0))
        print("kernel".padding(toLength: 44, withPad: " ", startingAt: 0) + "     ms  share   GFLOP  GFLOP/s")
        for (name, time, flops) in table {
            let rate = flops > 0 ? String(format: "%8.1f", flops / time / 1e9) : "       –"
            let gflop = flops > 0 ? String(format: "%7.1f", flops / 1e9) : "      –"
            print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " %6.1f  %4.1f%%  ", time * 1e3, 100 * time / profiled) + gflop + " " + rate)
        }
        print("GFLOP counts what each product computes (the causal kernels' half of L × L counted whole, as in the useful count); GFLOP/s is one core's, to compare with one core's share of sgemm.")
    }

    /// Runs `body` once to warm up (buffers, pool threads), then `repetitions` times without the
    /// profiler's clock and with it, alternately: each side's best time, and the totals of the
    /// best profiled run.
    static func profiledBest(repetitions: Int, _ body: () throws -> Void) rethrows
        -> (plain: Double, profiled: Double, totals: Profiler.Totals) {
        try body()
        var plain = Double.infinity, profiled = Double.infinity
        var best = Profiler.totals()
        for _ in 0..<repetitions {
            plain = min(plain, try seconds(body))
            Profiler.reset()
            Profiler.isEnabled = true
            let t = try seconds(body)
            Profiler.isEnabled = false
            if t < profiled { profiled = t; best = Profiler.totals() }
        }
        return (plain, profiled, best)
    }

    /// Seconds `body` takes once.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// The machine's sgemm rate: a 1024³ product over both cores, the best of `repetitions`.
    static func sgemmGflops(repetitions: Int) -> Double {
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0..<(repetitions + 1) {
            best = min(best, seconds {
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    benchGemm(n, pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                } } }
            })
        }
        return 2 * Double(n * n * n) / best / 1e9
    }
}
