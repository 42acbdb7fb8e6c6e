import Foundation
import Testing
@testable import Analysis
@testable import Transformer

@Suite struct StatisticsTests {
    @Test func variancePortionMatchesHandComputedCases() throws {
        // mean (2, 0); E‖o − Eo‖² = 1; E‖o‖² = (1 + 9) / 2 = 5.
        #expect(close(try Statistics.variancePortion(Tensor(shape: [2, 2], scalars: [1, 0, 3, 0])), 0.2))
        #expect(try Statistics.variancePortion(Tensor(shape: [3, 2], scalars: [1, 2, 1, 2, 1, 2])) == 0)
        #expect(try Statistics.variancePortion(Tensor(shape: [2, 1], scalars: [0, 0])) == 0)
        #expect(close(try Statistics.variancePortion(Tensor(shape: [2, 2], scalars: [1, -2, -1, 2])), 1))
        #expect(throws: AnalysisError.self) { try Statistics.variancePortion(Tensor(shape: [4], scalars: [1, 2, 3, 4])) }
    }

    @Test func entropyOfUniformAndOneHot() {
        #expect(close(Statistics.entropy([Float](repeating: 0.25, count: 4)), log(4.0), 1e-7))
        #expect(Statistics.entropy([Float]([0, 1, 0])) == 0)
    }

    @Test func attentionEntropyAveragesOverSequencesAtTheQuery() throws {
        // One head, L = 2; sequence 0 attends uniformly at query 1, sequence 1 one-hot.
        let p = Tensor(shape: [2, 1, 2, 2], scalars: [1, 0, 0.5, 0.5,  1, 0, 0, 1])
        let e = try Statistics.attentionEntropy(patterns: p, queries: [1, 1])
        #expect(close(e[0], log(2.0) / 2, 1e-7))
        #expect(throws: AnalysisError.self) { try Statistics.attentionEntropy(patterns: p, queries: [1]) }
        #expect(throws: AnalysisError.self) { try Statistics.attentionEntropy(patterns: p, queries: [1, 2]) }
    }

    @Test func offsetProfilesReadBackFromTheQuery() throws {
        // One head, L = 3, query 2 attends 0.2 / 0.3 / 0.5 to keys 0, 1, 2.
        let p = Tensor(shape: [1, 3, 3], scalars: [1, 0, 0,  0.5, 0.5, 0,  0.2, 0.3, 0.5])
        let profile = try Statistics.offsetProfile(patterns: p, query: 2, maxOffset: 3)
        #expect(profile.count == 1)
        #expect(zip(profile[0], [0.5, 0.3, 0.2, 0]).allSatisfy { close($0, $1, 1e-7) })

        // Two sequences with different queries: offsets 1 and 2 each get half.
        let n = onehotPatterns(n: 2, heads: 1, length: 5, queries: [4, 3]) { i, _ in i == 0 ? 3 : 1 }
        let mean = try Statistics.meanOffsetProfile(patterns: n, queries: [4, 3], maxOffset: 2)
        #expect(mean[0] == [0, 0.5, 0.5])
    }

    @Test func cosineSimilarityOfHandPickedRows() {
        let s = Statistics.cosineSimilarity([[1, 0], [0, 1], [1, 1], [0, 0]])
        #expect(s[0][0] == 1 && s[0][1] == 0)
        #expect(close(s[0][2], 1 / 2.0.squareRoot()))
        #expect(close(s[2][1], 1 / 2.0.squareRoot()))
        #expect(s[3][0] == 0 && s[3][3] == 1)
    }

    @Test func attentionSimilarityComparesHeadsAtTheQuery() throws {
        // Heads 0 and 1 look at the same key, head 2 elsewhere.
        let p = onehotPatterns(n: 2, heads: 3, length: 4, queries: [3, 3]) { _, h in h == 2 ? 0 : 2 }
        let s = try Statistics.attentionSimilarity(patterns: p, queries: [3, 3])
        #expect(s[0][1] == 1 && s[0][2] == 0 && s[2][2] == 1)
    }

    @Test func accuracyAndMedian() throws {
        #expect(try Statistics.accuracy(predicted: [1, 2, 3, 4], expected: [1, 0, 3, 0]) == 0.5)
        #expect(throws: AnalysisError.self) { try Statistics.accuracy(predicted: [1], expected: []) }
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 2, 3]) == 2.5)
        #expect(Statistics.median([]) == 0)
    }
}

@Suite struct ClusteringTests {
    /// Points on a line: 0, 0.1 | 1, 1.2 | 5; distance = |x − y|.
    let points: [Double] = [0, 1, 0.1, 1.2, 5]
    var distances: [[Double]] { points.map { x in points.map { abs(x - $0) } } }

    @Test func thresholdStopsBeforeDistantMerges() throws {
        let c = try Clustering(distances: distances, stop: .distance(0.5))
        #expect(c.clusters == [[0, 2], [1, 3], [4]])
        #expect(c.order == [0, 2, 1, 3, 4])
    }

    @Test func countStopsAtKClustersWithAverageLinkage() throws {
        let c = try Clustering(distances: distances, stop: .count(2))
        // {0,2} and {1,3}: average distance (1 + 1.2 + 0.9 + 1.1) / 4 = 1.05 < distance to 5.
        #expect(c.clusters == [[0, 2, 1, 3], [4]])
        let one = try Clustering(distances: distances, stop: .count(1))
        #expect(one.order.sorted() == [0, 1, 2, 3, 4])
        #expect(one.clusters.count == 1)
    }

    @Test func tiesBreakTowardTheLowestIndicesAndBadInputThrows() throws {
        let equal = [[0.0, 1, 1], [1, 0, 1], [1, 1, 0]]
        #expect(try Clustering(distances: equal, stop: .count(2)).clusters == [[0, 1], [2]])
        #expect(throws: AnalysisError.self) { try Clustering(distances: [[0, 1]], stop: .count(1)) }
        #expect(throws: AnalysisError.self) { try Clustering(distances: equal, stop: .count(0)) }
    }
}
