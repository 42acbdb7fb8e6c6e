import Foundation
import Testing
import Timeline
import Transformer

/// The repository root, from this file's place in it.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func fixture(_ name: String) throws -> String {
    try #require(Bundle.module.path(forResource: name, ofType: "h5", inDirectory: "Fixtures"))
}

/// The tracker on two snapshots of one tiny training run on copies (scripts/make_timeline_fixture.sh):
/// its step 0 and its step 3000.
@Suite struct TimelineTests {
    var tracker: MechanismTracker {
        var tracker = MechanismTracker(probeDirectory: repositoryRoot + "/probes", contexts: 2, evaluationNodes: 6, evaluationGraphs: 64)
        tracker.names = 8  // the run drew its names from the first 8
        tracker.leaves = 3
        return tracker
    }

    /// Accuracy on copies rises, and the layer-1 head the run trained onto operand values is
    /// found at step 3000 and not at step 0.
    @Test func theMeasuresMoveTheWayTheRunDid() throws {
        let before = try tracker.measure(model: try Checkpoint.load(try fixture("copies.step0")), step: 0)
        let after = try tracker.measure(model: try Checkpoint.load(try fixture("copies.step3000")), step: 3000)
        let copiesBefore = try #require(before.accuracyByOperands[0]), copiesAfter = try #require(after.accuracyByOperands[0])
        #expect(before.nodesByOperands[0] >= 50 && after.nodesByOperands == before.nodesByOperands)
        #expect(copiesBefore < 0.1, "an untrained model copies at chance (1/23)")
        #expect(copiesAfter >= 0.15 && copiesAfter - copiesBefore >= 0.1, "\(copiesBefore) → \(copiesAfter)")
        let massBefore = try #require(before.layer1ValueMassByHead?.max()), massAfter = try #require(after.layer1ValueMassByHead?.max())
        // Uniform attention over a probe sequence puts about 0.03 on the operand values.
        #expect(massBefore < 0.05, "step 0: \(massBefore)")
        #expect(massAfter >= 0.1, "step 3000: \(massAfter)")
        // Nothing else is claimed: a run this short grows no layer-0 group and no Fourier key frequency.
        #expect(after.headGroups.values.allSatisfy { $0.isEmpty } && after.slotsWithoutGroup == ["var_0", "var_1", "var_2"])
        #expect(before.circuit == "unclear")
    }

    /// The log line names every mechanism.
    @Test func theLogLineNamesEachMechanism() throws {
        let measures = try tracker.measure(model: try Checkpoint.load(try fixture("copies.step3000")), step: 3000)
        let line = measures.logLine
        for part in ["mechanisms at step 3000", "one-step accuracy by operands", "layer-0 groups var_0 []", "layer-1 value mass", "MLP key frequencies", "circuit unclear"] {
            #expect(line.contains(part), "\(line)")
        }
    }
}
