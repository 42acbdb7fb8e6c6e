import Foundation
import Testing
@testable import Analysis
@testable import Transformer

/// Sweeps over `slots` where head h (< slots.count) moves, on a zero-mean circle, only when
/// slot h is swept; every other head, and head h in the other sweeps, outputs a constant.
func syntheticSweeps(slots: [String], heads: Int, n: Int = 6, d: Int = 3) -> [SlotSweep] {
    slots.enumerated().map { s, slot in
        var t = Tensor(shape: [n, heads, d])
        for i in 0..<n {
            for h in 0..<heads {
                let base = (i * heads + h) * d
                if h == s {
                    let angle = 2 * Double.pi * Double(i) / Double(n)
                    t.scalars[base] = Float(cos(angle)); t.scalars[base + 1] = Float(sin(angle))
                } else {
                    t.scalars[base] = 0.5; t.scalars[base + 2] = Float(h + 1)
                }
            }
        }
        return SlotSweep(slot: slot, outputs: t, accuracy: 1 - Double(s) / 100)
    }
}

@Suite struct HeadGroupingTests {
    let slots = ["var_0", "var_1", "var_2", "rhs"]

    @Test func headOutputsProjectThroughEachHeadsColumnsOfWO() throws {
        // H = 2, Dh = 2, D = 3; W_O [3, 4]; z[0] = head 0: (1, 2), head 1: (3, 4).
        let w = Tensor(shape: [3, 4], scalars: [1, 0, 2, 0,
                                                0, 1, 0, 2,
                                                1, 1, 1, 1])
        let z = Tensor(shape: [1, 2, 2], scalars: [1, 2, 3, 4])
        let o = try HeadOutputs.project(z: z, outputWeight: w)
        #expect(o.shape == [1, 2, 3])
        #expect(o.scalars == [1, 2, 3,  6, 8, 7])
        // Gather from [N, L, H, Dh] at position 1.
        let full = Tensor(shape: [1, 2, 2, 2], scalars: [9, 9, 9, 9, 1, 2, 3, 4])
        #expect(try HeadOutputs.atPositions(z: full, positions: [1], outputWeight: w) == o)
        #expect(throws: AnalysisError.self) { try HeadOutputs.gather(z: full, positions: [2]) }
        #expect(throws: AnalysisError.self) { try HeadOutputs.project(z: z, outputWeight: Tensor(shape: [3, 3])) }
    }

    @Test func headsThatFollowOneSlotGetROneForItAndZeroElsewhere() throws {
        let grouping = try HeadGrouping(layer: 0, sweeps: syntheticSweeps(slots: slots, heads: 6))
        for (s, slot) in slots.enumerated() {
            let r = try #require(grouping.r[slot])
            for h in 0..<6 { #expect(close(r[h], h == s ? 1 : 0, 1e-6), "r_\(slot)(\(h)) = \(r[h])") }
            #expect(grouping.groups[slot] == [s])
        }
        #expect(grouping.unassigned == [4, 5])
        #expect(grouping.labels == ["var_0", "var_1", "var_2", "rhs", "unassigned", "unassigned"])
        #expect(grouping.clearGroups() == ["var_0": [0], "var_1": [1], "var_2": [2], "rhs": [3]])
        #expect(grouping.sweepAccuracy["var_2"] == 0.98)
        #expect(grouping.slotCoverage() == 1)
    }

    @Test func unassignedHeadsAreNamedByTheOffsetTheyAttendTo() throws {
        // Query 8 of 9 tokens; heads 0–3 look at offsets 6, 4, 2, 0; head 4 at "=" (offset 1); head 5 at offset 7.
        let offsets = [6, 4, 2, 0, 1, 7]
        let n = 3, queries = [8, 8, 8]
        let patterns = onehotPatterns(n: n, heads: 6, length: 9, queries: queries) { _, h in 8 - offsets[h] }
        let grouping = try HeadGrouping(layer: 0, sweeps: syntheticSweeps(slots: slots, heads: 6),
                                        attention: [QueryPatterns(patterns: patterns, queries: queries)])
        #expect(grouping.labels == ["var_0", "var_1", "var_2", "rhs", "=", "unassigned"])
        #expect(try #require(grouping.entropy).allSatisfy { $0 == 0 })
        let profile = try #require(grouping.offsetProfile)
        #expect(profile[1][4] == 1 && profile[1].reduce(0, +) == 1)
        let cosine = try #require(grouping.cosineSimilarity)
        #expect(cosine[0][0] == 1 && cosine[0][1] == 0)
        #expect(grouping.clusters == [[0], [1], [2], [3], [4], [5]])
        #expect(grouping.clusterOrder == [0, 1, 2, 3, 4, 5])
    }

    @Test func weakOrAmbiguousHeadsStayUnassigned() throws {
        // Head 0 moves in two sweeps equally: no margin.
        var sweeps = syntheticSweeps(slots: ["var_0", "var_1"], heads: 2)
        sweeps[1].outputs = sweeps[0].outputs
        let grouping = try HeadGrouping(layer: 0, sweeps: sweeps)
        #expect(grouping.groups["var_0"] == [] && grouping.groups["var_1"] == [])
        #expect(grouping.unassigned == [0, 1])
        #expect(grouping.slotCoverage() == 0)
        #expect(throws: AnalysisError.self) { try HeadGrouping(layer: 0, sweeps: []) }
        #expect(throws: AnalysisError.self) { try HeadGrouping(layer: 0, sweeps: [sweeps[0], sweeps[0]]) }
    }

    @Test func headsSectionWritesTheIssueKeysAtTheTop() throws {
        let layer0 = try HeadGrouping(layer: 0, sweeps: syntheticSweeps(slots: slots, heads: 4))
        let layer1 = try HeadGrouping(layer: 1, sweeps: syntheticSweeps(slots: slots, heads: 4))
        let section = try HeadsSection(layers: [layer0, layer1])
        let data = try JSONEncoder().encode(section)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let groups = try #require(json["groups"] as? [String: [Int]])
        #expect(groups == ["var_0": [0], "var_1": [1], "var_2": [2], "rhs": [3]])
        let r = try #require(json["r"] as? [String: [Double]])
        #expect(r["var_0"]?.count == 4)
        #expect((json["sweep_accuracy"] as? [String: Double])?["var_0"] == 1)
        #expect((json["layers"] as? [Any])?.count == 2)
        #expect(try JSONDecoder().decode(HeadsSection.self, from: data) == section)
        #expect(section.layer(1)?.layer == 1)
    }
}
