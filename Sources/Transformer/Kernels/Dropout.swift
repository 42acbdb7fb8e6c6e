// Inverted dropout on the two sublayer outputs of every block (GPT-2's resid_pdrop placement):
// attn_out and mlp_out are multiplied by a mask of 0 (dropped, probability P) and 1/(1 − P)
// (kept) before their residual add; and, separately, on the attention pattern (attn_pdrop):
// each weight p[h,n,m] is dropped or scaled before z = p·v, as the paper's authors trained.
// Training only: `Model.run` never passes a `Dropout`.
//
// The same value carries the step's attention temperature τ (training only too): every score
// of every head is divided by τ before the softmax, so τ > 1 keeps patterns soft early in a run
// and τ = 1 is exactly the plain pass; and the step's attention-entropy bonus λ (the loss gains
// −λ · the mean entropy of the attention rows, `Backpropagation.lossAndGradient`). They ride here
// because this is the one per-step training setting that already reaches both attention
// kernels, through every data-parallel shard.
//
// The masks come from a counter-based hash rather than a sequential generator: each mask
// entry is a pure function of (step seed, sequence index in the whole batch, position, layer,
// site, unit). So they do not depend on how many threads fill them, on how a batch is split
// into shards, or on anything but the step — which makes `--resume` continue bit for bit with
// no generator state beyond the run's seed and step, both already in the resume state.

/// Dropout of one training step: the rate, and the seed all of the step's masks derive from.
public struct Dropout: Sendable, Equatable {
    /// Probability that a unit of attn_out or mlp_out is dropped, in [0, 1).
    public var rate: Float
    /// Probability that an attention weight is dropped, in [0, 1) (0: the pattern is used as is).
    public var attentionRate: Float
    /// Seed of this step's masks (see `stepSeed(runSeed:step:)`).
    public var seed: UInt64
    /// Divisor of every attention score before the softmax, > 0 (1: the plain model's scores).
    public var attentionTemperature: Float
    /// Weight λ ≥ 0 of the attention-entropy bonus −λ·H̄ in the loss (0: none, the plain loss).
    public var attentionEntropyBonus: Float
    /// For each sequence of this block, its index in the whole batch (nil: the block is the
    /// batch). A trainer that splits a batch into shards — the data-parallel step sorts the
    /// sequences by length first — passes each shard's members, so every sequence gets the mask
    /// it would get in the unsplit batch.
    public var sequences: [Int]?

    /// Dropout with probability `rate` on sublayer outputs and `attentionRate` on attention
    /// weights, masks drawn from `seed`, attention scores divided by `attentionTemperature`, and
    /// an entropy bonus of weight `attentionEntropyBonus`.
    public init(rate: Float, seed: UInt64, sequences: [Int]? = nil, attentionRate: Float = 0,
                attentionTemperature: Float = 1, attentionEntropyBonus: Float = 0) {
        self.rate = rate
        self.seed = seed
        self.sequences = sequences
        self.attentionRate = attentionRate
        self.attentionTemperature = attentionTemperature
        self.attentionEntropyBonus = attentionEntropyBonus
    }

    /// The seed of the masks of optimizer step `step` in a run seeded with `runSeed`.
    ///
    /// The run's seed also seeds initialisation and data; the constant keeps the mask stream
    /// apart from those.
    public static func stepSeed(runSeed: UInt64, step: Int) -> UInt64 {
        splitMix64(splitMix64(runSeed ^ 0x6472_6F70_6F75_7421) &+ UInt64(truncatingIfNeeded: step))
    }

    /// The same dropout for a shard made of sequences `members` (indices into this block).
    public func shard(sequences members: [Int]) -> Dropout {
        Dropout(rate: rate, seed: seed, sequences: members.map { batchIndex(of: $0) }, attentionRate: attentionRate,
                attentionTemperature: attentionTemperature, attentionEntropyBonus: attentionEntropyBonus)
    }

    /// The index in the whole batch of this block's sequence `local`.
    @inline(__always)
    func batchIndex(of local: Int) -> Int { sequences?[local] ?? local }

    /// Whether any unit or weight can be dropped or any score rescaled (both rates 0 at τ = 1
    /// skip all of it, so the pass is exactly the one without dropout).
    var isActive: Bool { rate > 0 || attentionRate > 0 || attentionTemperature != 1 || attentionEntropyBonus > 0 }
}

/// Where in a block a dropout mask applies.
enum DropoutSite: Int, CaseIterable {
    /// attn_out = o_proj(z), before `resid_mid = resid_pre + attn_out`.
    case attentionOutput = 0
    /// mlp_out = proj(relu(fc(·))), before `resid_post = resid_mid + mlp_out`.
    case mlpOutput = 1
}

/// Fills the mask of one site of one layer for a [batch, length] block, `width` units a row:
/// 0 where a unit is dropped, 1/(1 − rate) where it is kept.
func fillDropoutMask(_ mask: UnsafeMutablePointer<Float>, _ dropout: Dropout, batch: Int, length: Int, width: Int,
                 layer: Int, site: DropoutSite) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.residualDropout, since: profiled) }
    // Two units per 64-bit hash (`dropThreshold`).
    let threshold = dropThreshold(dropout.rate)
    let kept = 1 / (1 - dropout.rate)
    let siteIndex = UInt64(layer * DropoutSite.allCases.count + site.rawValue)
    parallelRows(batch * length, minimumPerTask: 32) { rows in
        for r in rows {
            let sequence = UInt64(dropout.batchIndex(of: r / length)), position = UInt64(r % length)
            // Disjoint bit fields: sequences < 2²⁸, positions < 2²⁰, sites < 2¹⁶.
            let key = splitMix64(dropout.seed ^ splitMix64(sequence << 36 | position << 16 | siteIndex))
            dispatchFillDropoutFactors(mask + r * width, count: width, key: key, threshold: threshold, kept: kept)
        }
    }
}

/// out = x ⊙ mask (out may alias x).
func dropoutForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.residualDropout, since: profiled) }
    for i in 0..<count { out[i] = x[i] * mask[i] }
}

/// dx = dOut ⊙ mask: the mask is the diagonal of the Jacobian (dx may alias dOut).
func dropoutBackward(_ dx: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    let profiled = Profiler.start()
    defer { Profiler.stop(.residualDropout, since: profiled) }
    for i in 0..<count { dx[i] = dOut[i] * mask[i] }
}

/// Fills `row[0...query]` with the attention-dropout factors of one query row of one head:
/// 0 where the weight p[h, query, m] is dropped, 1/(1 − attentionRate) where it is kept.
///
/// Keyed like the sublayer masks by (step seed, sequence in the whole batch, query position), with
/// a site field of its own (bit 15 set, then layer and head: layers < 128, heads < 256), so it is
/// independent of them and of sharding, and the backward pass regenerates exactly the forward's.
func fillAttentionDropoutRow(_ row: UnsafeMutablePointer<Float>, _ dropout: Dropout, sequence local: Int,
                             layer: Int, head: Int, query: Int) {
    let (key, threshold, kept) = attentionDropoutStream(dropout, sequence: local, layer: layer, head: head, query: query)
    dispatchFillDropoutFactors(row, count: query + 1, key: key, threshold: threshold, kept: kept)
}

/// out[m] = x[m] · factor_m for m ≤ `query`, with the factors `fillAttentionDropoutRow` writes
/// (out may alias x): the forward pass's dropped pattern row in one pass instead of a fill and a
/// product (the same bits: a product of two floats does not depend on their order).
func applyAttentionDropoutRow(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ dropout: Dropout,
                              sequence local: Int, layer: Int, head: Int, query: Int) {
    let (key, threshold, kept) = attentionDropoutStream(dropout, sequence: local, layer: layer, head: head, query: query)
    dispatchApplyDropoutFactors(out, x, count: query + 1, key: key, threshold: threshold, kept: kept)
}

/// The hash stream of one query row's attention-dropout factors: its key, threshold and kept factor.
@inline(__always)
private func attentionDropoutStream(_ dropout: Dropout, sequence local: Int, layer: Int, head: Int,
                                    query: Int) -> (key: UInt64, threshold: UInt32, kept: Float) {
    let site = UInt64(1 << 15 | layer << 8 | head)
    let sequence = UInt64(dropout.batchIndex(of: local))
    let key = splitMix64(dropout.seed ^ splitMix64(sequence << 36 | UInt64(query) << 16 | site))
    return (key, dropThreshold(dropout.attentionRate), 1 / (1 - dropout.attentionRate))
}

/// A unit is dropped when 32 hash bits fall below rate · 2³². Compared as 32-bit numbers (the
/// 64-bit compare has no SSE2 instruction and made the vectorised fill slow); rates lie in
/// [0, 1) (`TrainingRecipe.validate`), so the threshold fits.
@inline(__always)
func dropThreshold(_ rate: Float) -> UInt32 {
    UInt32(min(Double(rate) * 4_294_967_296.0, 4_294_967_295.0))
}
