import Transformer

/// The per-head outputs of one slot sweep at the probe's right-hand-side position.
public struct SlotSweep: Sendable {
    /// The swept slot: "var_0", "var_1", "var_2" or "rhs".
    public var slot: String
    /// Per-head outputs o_h [N, H, D] (see `HeadOutputs`).
    public var outputs: Tensor
    /// The model's accuracy at the right-hand side over the sweep, when known.
    public var accuracy: Double?
    /// Per sequence, its context (`/meta/context`): r is then computed within each context and
    /// averaged over contexts. Nil: over all sequences at once.
    public var contexts: [Int]?

    public init(slot: String, outputs: Tensor, accuracy: Double? = nil, contexts: [Int]? = nil) {
        self.slot = slot
        self.outputs = outputs
        self.accuracy = accuracy
        self.contexts = contexts
    }
}

/// The contexts of a sweep, for r per context (`SlotSweep.contexts`).
extension SlotSweep {
    /// r_s(h) per head: the variance portion within each context (sequences sharing a
    /// `contexts` value; contexts of one sequence are skipped), averaged over contexts; over
    /// all sequences when `contexts` is nil.
    public func variancePortions() throws -> [Double] {
        let heads = outputs.shape[1], d = outputs.shape[2]
        guard let contexts else {
            return try (0..<heads).map { try Statistics.variancePortion(HeadOutputs.head($0, of: outputs)) }
        }
        guard contexts.count == outputs.shape[0] else {
            throw AnalysisError.badProbe("sweep \(slot) has \(contexts.count) context labels for \(outputs.shape[0]) sequences")
        }
        var members: [Int: [Int]] = [:]
        for (i, c) in contexts.enumerated() { members[c, default: []].append(i) }
        let groups = members.keys.sorted().compactMap { members[$0] }.filter { $0.count > 1 }
        guard !groups.isEmpty else { throw AnalysisError.empty(what: "every context of sweep \(slot) (each has one sequence)") }
        var total = [Double](repeating: 0, count: heads)
        for group in groups {
            for h in 0..<heads {
                var rows = [Float]()
                rows.reserveCapacity(group.count * d)
                for i in group { rows.append(contentsOf: outputs.scalars[((i * heads + h) * d)..<((i * heads + h + 1) * d)]) }
                total[h] += try Statistics.variancePortion(Tensor(shape: [group.count, d], scalars: rows))
            }
        }
        return total.map { $0 / Double(groups.count) }
    }
}

/// When a head counts as reading a slot.
public struct GroupingCriteria: Codable, Sendable, Equatable {
    /// The best slot's r must reach this ...
    public var minimum: Double
    /// ... and exceed the second best slot's r by this much.
    public var margin: Double
    /// Heads reading no slot are named by the offset they mostly attend to, when it carries
    /// at least `offsetDominance` of their attention: by default 0 → "self", 1 → "=".
    public var offsetLabels: [Int: String]
    public var offsetDominance: Double
    /// Heads whose attention distance (1 − cosine) is at most this end in one cluster.
    public var clusterDistance: Double
    /// Offsets 0 … maxOffset in the offset profiles.
    public var maxOffset: Int

    public init(minimum: Double = 0.3, margin: Double = 0.2, offsetLabels: [Int: String] = [0: "self", 1: "="],
                offsetDominance: Double = 0.5, clusterDistance: Double = 0.5, maxOffset: Int = 16) {
        self.minimum = minimum
        self.margin = margin
        self.offsetLabels = offsetLabels
        self.offsetDominance = offsetDominance
        self.clusterDistance = clusterDistance
        self.maxOffset = maxOffset
    }
}

/// Head grouping of one layer: which slot each head reads, from the slot sweeps.
public struct HeadGrouping: Codable, Sendable, Equatable {
    public var layer: Int
    /// Slots in sweep order.
    public var slots: [String]
    /// r_s(h) per slot: [H] values.
    public var r: [String: [Double]]
    /// Slot → heads reading it (every slot present, possibly empty).
    public var groups: [String: [Int]]
    /// Heads reading no slot.
    public var unassigned: [Int]
    /// Per head: its slot, or "self" / "=" (by attention offset), or "unassigned".
    public var labels: [String]
    /// The model's accuracy per sweep, where known.
    public var sweepAccuracy: [String: Double]
    /// Mean attention entropy (nats) per head at the query position.
    public var entropy: [Double]?
    /// Mean attention per head by offset back from the query: [H][offset].
    public var offsetProfile: [[Double]]?
    /// Head × head cosine similarity of attention at the query, averaged over sequences.
    public var cosineSimilarity: [[Double]]?
    /// Clusters of heads by that similarity, and the head order that shows them.
    public var clusters: [[Int]]?
    public var clusterOrder: [Int]?

    enum CodingKeys: String, CodingKey {
        case layer, slots, r, groups, unassigned, labels
        case sweepAccuracy = "sweep_accuracy"
        case entropy
        case offsetProfile = "offset_profile"
        case cosineSimilarity = "cosine_similarity"
        case clusters
        case clusterOrder = "cluster_order"
    }

    /// Groups the heads of `layer` from its slot sweeps and (optionally) its attention at the query.
    public init(layer: Int, sweeps: [SlotSweep], attention: [QueryPatterns] = [],
                criteria: GroupingCriteria = GroupingCriteria()) throws {
        guard let first = sweeps.first else { throw AnalysisError.empty(what: "the list of slot sweeps") }
        try requireRank(first.outputs, 3, "the head outputs of sweep \(first.slot)", "[N, H, D]")
        let heads = first.outputs.shape[1]
        guard Set(sweeps.map(\.slot)).count == sweeps.count else {
            throw AnalysisError.badParameter("each slot may be swept once, found \(sweeps.map(\.slot))")
        }
        self.layer = layer
        slots = sweeps.map(\.slot)
        var r: [String: [Double]] = [:]
        var accuracy: [String: Double] = [:]
        for sweep in sweeps {
            try requireRank(sweep.outputs, 3, "the head outputs of sweep \(sweep.slot)", "[N, H, D]")
            guard sweep.outputs.shape[1] == heads else {
                throw AnalysisError.wrongShape(what: "the head outputs of sweep \(sweep.slot)", expected: "[N, \(heads), D]",
                                               found: sweep.outputs.shape)
            }
            r[sweep.slot] = try sweep.variancePortions()
            accuracy[sweep.slot] = sweep.accuracy
        }
        self.r = r
        sweepAccuracy = accuracy

        if !attention.isEmpty {
            let combined = try HeadGrouping.attentionSummary(attention, heads: heads, maxOffset: criteria.maxOffset)
            entropy = combined.entropy
            offsetProfile = combined.offsets
            cosineSimilarity = combined.similarity
            let clustering = try Clustering.bySimilarity(combined.similarity, stop: .distance(criteria.clusterDistance))
            clusters = clustering.clusters
            clusterOrder = clustering.order
        }

        var groups = Dictionary(uniqueKeysWithValues: slots.map { ($0, [Int]()) })
        var labels = [String](repeating: "unassigned", count: heads)
        var unassigned: [Int] = []
        for h in 0..<heads {
            let ranked = slots.map { ($0, r[$0]?[h] ?? 0) }.sorted { $0.1 > $1.1 }
            let best = ranked[0], second = ranked.count > 1 ? ranked[1].1 : 0
            if best.1 >= criteria.minimum && best.1 - second >= criteria.margin {
                groups[best.0, default: []].append(h)
                labels[h] = best.0
                continue
            }
            unassigned.append(h)
            if let profile = offsetProfile?[h], let peak = profile.indices.max(by: { profile[$0] < profile[$1] }),
               profile[peak] >= criteria.offsetDominance, let name = criteria.offsetLabels[peak] {
                labels[h] = name
            }
        }
        self.groups = groups
        self.labels = labels
        self.unassigned = unassigned
    }

    /// Slot → heads whose r for that slot is at least `high` while at most `low` for every
    /// other slot (the target: 0.6 and 0.1).
    public func clearGroups(high: Double = 0.6, low: Double = 0.1) -> [String: [Int]] {
        let heads = r.values.first?.count ?? 0
        var result: [String: [Int]] = [:]
        for slot in slots {
            result[slot] = (0..<heads).filter { h in
                (r[slot]?[h] ?? 0) >= high && slots.allSatisfy { $0 == slot || (r[$0]?[h] ?? 0) <= low }
            }
        }
        return result
    }

    /// Entropy, offset profile and similarity averaged over every sequence of every pattern set.
    static func attentionSummary(_ sets: [QueryPatterns], heads: Int, maxOffset: Int)
        throws -> (entropy: [Double], offsets: [[Double]], similarity: [[Double]]) {
        var entropy = [Double](repeating: 0, count: heads)
        var offsets = [[Double]](repeating: [Double](repeating: 0, count: maxOffset + 1), count: heads)
        var similarity = [[Double]](repeating: [Double](repeating: 0, count: heads), count: heads)
        var total = 0
        for set in sets {
            let (n, h, _) = try Statistics.patternShape(set.patterns, queries: set.queries)
            guard h == heads else {
                throw AnalysisError.wrongShape(what: "the attention patterns", expected: "[N, \(heads), L, L]", found: set.patterns.shape)
            }
            let w = Double(n)
            let e = try Statistics.attentionEntropy(patterns: set.patterns, queries: set.queries)
            let o = try Statistics.meanOffsetProfile(patterns: set.patterns, queries: set.queries, maxOffset: maxOffset)
            let s = try Statistics.attentionSimilarity(patterns: set.patterns, queries: set.queries)
            for a in 0..<heads {
                entropy[a] += w * e[a]
                for d in 0...maxOffset { offsets[a][d] += w * o[a][d] }
                for b in 0..<heads { similarity[a][b] += w * s[a][b] }
            }
            total += n
        }
        let scale = 1 / Double(max(total, 1))
        return (entropy.map { $0 * scale }, offsets.map { $0.map { $0 * scale } }, similarity.map { $0.map { $0 * scale } })
    }
}
