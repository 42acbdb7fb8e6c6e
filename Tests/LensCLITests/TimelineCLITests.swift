import Foundation
import HDF5
import Testing

/// `lens timeline` on the snapshots of a tiny run, and `lens train --track-every`.
@Suite struct TimelineCLITests {
    let fixtures: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("TimelineTests/Fixtures").path
    }()

    @Test func aTimelineIsJSONInStepOrderAndAPageWithAChartPerMechanism() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Given latest first: the timeline orders them by training_steps.
        let arguments = ["timeline", fixtures + "/copies.step3000.h5", fixtures + "/copies.step0.h5", "--out", "tl",
                         "--contexts", "1", "--graphs", "16", "--nodes", "6", "--leaves", "3", "--names", "8", "--quiet"]
        let result = try runLens(arguments, in: dir)
        #expect(result.status == 0, "\(result.error)")
        let data = try #require(FileManager.default.contents(atPath: dir + "/tl/timeline.json"))
        let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(entries.compactMap { $0["step"] as? Int } == [0, 3000])
        for key in ["accuracy_by_operands", "head_groups", "variance_by_slot", "layer1_operand_value_mass", "key_frequencies", "own_frequency_share", "circuit"] {
            #expect(entries.allSatisfy { $0[key] != nil }, "\(key)")
        }
        let page = try String(contentsOfFile: dir + "/tl/index.html", encoding: .utf8)
        for section in ["accuracy", "heads", "retrieval", "fourier"] {
            #expect(page.contains("<section id=\"\(section)\">"), "\(section)")
        }
        #expect(page.components(separatedBy: "<svg").count - 1 >= 8)
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http"), "the page must open offline")
        // The outputs follow the usual rules: an existing timeline is replaced only with --force.
        let again = try runLens(arguments, in: dir)
        #expect(again.status == 2 && again.error.contains("already exists"), "\(again.error)")
    }

    @Test func trackEveryLogsTheMeasuresAndStoresThemInTheCheckpoint() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try runLens(["train", "--config", "tiny", "--out", "t.h5", "--curriculum", "none", "--min-nodes", "4", "--max-nodes", "6",
                                  "--leaves", "3", "--steps", "4", "--checkpoint-every", "2", "--log-every", "100", "--eval-every", "0",
                                  "--track-every", "2"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("mechanisms at step 2: one-step accuracy by operands"), "\(result.output)")
        #expect(result.output.contains("mechanisms at step 4:"), "\(result.output)")
        let file = try H5File.open(dir + "/t.h5")
        defer { file.close() }
        let stored = try #require(try file.root.stringAttribute("mechanisms"))
        let measures = try #require(try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])
        #expect(measures["step"] as? Int == 4)
    }
}
