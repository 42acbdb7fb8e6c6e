import Foundation
import HDF5
import Recording
import Testing
import Training
import Transformer

/// The `lens` executable built next to the tests (`swift test` builds every product).
let lensExecutable: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    for configuration in ["debug", "release"] {
        let candidate = url.appendingPathComponent(".build/\(configuration)/lens").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return url.appendingPathComponent(".build/debug/lens").path
}()

/// Output and exit status of one `lens` invocation.
struct LensResult {
    let status: Int32
    let output: String
    let error: String
}

/// Starts `lens` with `arguments` in `directory`, `environment` added to ours; the caller waits
/// or signals it.
func startLens(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: lensExecutable)
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return (process, out, err)
}

func runLens(_ arguments: [String], in directory: String = NSTemporaryDirectory(),
             environment: [String: String] = [:]) throws -> LensResult {
    let (process, out, err) = try startLens(arguments, in: directory, environment: environment)
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return LensResult(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      error: String(decoding: error, as: UTF8.self))
}

func scratchDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "lens-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Waits up to `seconds` for `path` to exist and hold at least `minimumBytes`.
func waitForFile(_ path: String, seconds: Double, minimumBytes: Int = 0) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if let size, size >= minimumBytes { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return false
}

let tinyTraining = ["train", "--config", "tiny", "--out", "t.h5", "--steps", "1000000", "--checkpoint-every", "20",
                    "--log-every", "100000", "--eval-every", "0", "--min-nodes", "4", "--max-nodes", "6", "--leaves", "3",
                    "--curriculum", "none"]

@Suite(.serialized) struct LensCLITests {
    @Test func unknownCommandsAndOptionsAreUsageErrors() throws {
        let command = try runLens(["evel"])
        #expect(command.status == 2)
        #expect(command.error.contains("did you mean \"eval\""))
        let option = try runLens(["eval", "--modle", "m.h5"])
        #expect(option.status == 2)
        #expect(option.error.contains("--model"))
    }

    @Test func badProgramsNameTheColumn() throws {
        let result = try runLens(["solve", "1 = x_1; x_1 + x_9 = x_2", "--model", "absent.h5"])
        #expect(result.status == 2)
        #expect(result.error.hasPrefix("error: "))
        #expect(result.error.split(separator: "\n").count == 1)
    }

    @Test func badCheckpointsAreInputErrors() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.h5"))
        for (model, expected) in [(dir, "is a directory"), (dir + "/text.h5", "not an HDF5 file"), (dir + "/absent.h5", "no such file")] {
            let result = try runLens(["eval", "--model", model, "--nodes", "8", "--samples", "2"])
            #expect(result.status == 2, "\(model)")
            #expect(result.error.contains(expected), "\(result.error)")
        }
    }

    @Test func evalTakesAFanInOfOneToThree() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "m.h5"], in: dir).status == 0)
        let bad = try runLens(["eval", "--model", "m.h5", "--nodes", "8", "--samples", "2", "--max-fan-in", "4"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.error.contains("--max-fan-in must be 1, 2 or 3"))
        let copies = try runLens(["eval", "--model", "m.h5", "--nodes", "8", "--samples", "4", "--max-fan-in", "1", "--json"], in: dir)
        #expect(copies.status == 0, "\(copies.error)")
        #expect(copies.output.contains("\"node_accuracy\""))
        #expect(copies.output.contains("\"step_accuracy_by_operands\""))
        #expect(copies.output.contains("\"nodes_by_operands\""))
        let ablated = try runLens(["eval", "--model", "m.h5", "--nodes", "8", "--samples", "4", "--ablate", "1.3,0.1", "--json"], in: dir)
        #expect(ablated.status == 0 && ablated.output.contains("\"ablated_heads\" : \"0.1,1.3\""), "\(ablated.output) \(ablated.error)")
        let missing = try runLens(["eval", "--model", "m.h5", "--nodes", "8", "--samples", "4", "--ablate", "0.4"], in: dir)
        #expect(missing.status == 2 && missing.error.contains("--ablate") && missing.error.contains("4"), "\(missing.error)")
        let badSpec = try runLens(["eval", "--model", "m.h5", "--nodes", "8", "--samples", "4", "--ablate", "0-3"], in: dir)
        #expect(badSpec.status != 0 && badSpec.error.contains("\"0-3\" is not a LAYER.HEAD pair"), "\(badSpec.error)")
    }

    @Test func runAblatesHeadsAndRecordsThem() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "m.h5"], in: dir).status == 0)
        let bad = try runLens(["run", "slot_var0", "--model", "m.h5", "--hooks", "hook_embed", "--out", "d.h5", "--ablate", "1.9"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.error.contains("--ablate: head 9 does not exist among the 4 heads of layer 1"), "\(bad.error)")
        let good = try runLens(["run", "slot_var0", "--model", "m.h5", "--hooks", "blocks.1.attn.hook_z", "--out", "d.h5",
                                "--ablate", "1.3,0.1", "--quiet"], in: dir)
        #expect(good.status == 0, "\(good.error)")
        let file = try H5File.open(dir + "/d.h5")
        defer { file.close() }
        let config = try #require(try file.root.stringAttribute("config"))
        #expect(config.contains("\"ablated_heads\":\"0.1,1.3\"") || config.contains("\"ablated_heads\" : \"0.1,1.3\""), "\(config)")
    }

    @Test func existingOutputsAreKeptUnlessForced() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "m.h5"], in: dir).status == 0)
        let again = try runLens(["init", "--config", "tiny", "--out", "m.h5"], in: dir)
        #expect(again.status == 2)
        #expect(again.error.contains("already exists; pass --force"))
        #expect(try runLens(["init", "--config", "tiny", "--out", "m.h5", "--force"], in: dir).status == 0)
    }

    @Test func badDropoutAndInitValuesAreUsageErrors() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (flag, value, expected) in [("--dropout", "1", "--dropout must lie in [0, 1)"), ("--dropout", "-0.1", "--dropout must lie in [0, 1)"),
                                        ("--dropout", "abc", "--dropout expects a number"),
                                        ("--attention-dropout", "1", "--attention-dropout must lie in [0, 1)"),
                                        ("--final-lr-fraction", "2", "--final-lr-fraction must lie in 0...1"),
                                        ("--attention-temperature", "3", "--attention-temperature expects T0:STEPS"),
                                        ("--attention-temperature", "0:100", "--attention-temperature needs a starting temperature in (0, 100]"),
                                        ("--attention-temperature", "3:0", "--attention-temperature needs 1...1099511627776 steps"),
                                        ("--attention-entropy-bonus", "0.5", "--attention-entropy-bonus expects L0:STEPS like 0.01:15000"),
                                        ("--attention-entropy-bonus", "0:100", "--attention-entropy-bonus needs a starting weight in (0, 10]"),
                                        ("--attention-entropy-bonus", "0.5:0", "--attention-entropy-bonus needs 1...1099511627776 steps"),
                                        ("--init", "xavier", "--init must be normal or pytorch")] {
            let result = try runLens(tinyTraining + [flag, value], in: dir)
            #expect(result.status == 2, "\(flag) \(value): \(result.error)")
            #expect(result.error.hasPrefix("error: ") && result.error.contains(expected), "\(result.error)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/t.h5"))
        }
    }

    /// Snapshots land at the first checkpoint past each multiple of N, also across a resume.
    @Test func snapshotsKeepTheModelAtEveryNSteps() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try runLens(Array(tinyTraining.dropLast(2)) + ["--checkpoint-every", "4", "--snapshot-every", "10", "--stop-after", "22"], in: dir)
        #expect(first.status == 0, "\(first.error)")
        let resumed = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "t.h5", "--force", "--checkpoint-every", "4",
                                   "--snapshot-every", "10", "--stop-after", "12"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".step") }.sorted()
        #expect(snapshots == ["t.step12.h5", "t.step20.h5", "t.step32.h5"], "\(snapshots)")
        _ = try Checkpoint.load(dir + "/t.step20.h5")
        #expect(try Checkpoint.attributes(of: dir + "/t.step20.h5")["training_steps"].flatMap(Double.init) == 20)
        let bad = try runLens(tinyTraining + ["--out", "u.h5", "--snapshot-every", "0"], in: dir)
        #expect(bad.status == 2 && bad.error.contains("--snapshot-every must be positive"), "\(bad.error)")
    }

    /// Kept resume states land beside the snapshots, and a run branched from one continues bit for bit.
    @Test func keptResumeStatesBranchTheRunBitForBit() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try runLens(Array(tinyTraining.dropLast(2)) + ["--checkpoint-every", "4", "--keep-resume-every", "10", "--stop-after", "22"], in: dir)
        #expect(first.status == 0, "\(first.error)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".step") }.sorted()
        #expect(kept == ["t.step12.resume.h5", "t.step20.resume.h5"], "\(kept)")
        let branch = try runLens(["train", "--resume", "t.step12.resume.h5", "--out", "b.h5", "--checkpoint-every", "4", "--stop-after", "10"], in: dir)
        #expect(branch.status == 0, "\(branch.error)")
        #expect(try TrainingStateFile.load(dir + "/t.step12.resume.h5").1.step == 12)
        let original = try Checkpoint.load(dir + "/t.h5"), branched = try Checkpoint.load(dir + "/b.h5")
        #expect(try Checkpoint.attributes(of: dir + "/b.h5")["training_steps"].flatMap(Double.init) == 22)
        #expect(original.parameters == branched.parameters)
        let bad = try runLens(tinyTraining + ["--out", "u.h5", "--keep-resume-every", "-3"], in: dir)
        #expect(bad.status == 2 && bad.error.contains("--keep-resume-every must be positive"), "\(bad.error)")
    }

    /// `--reset-heads` acts on a resumed run only, says so in the log and in the command history.
    @Test func resetHeadsNeedsAResumeAndValidHeads() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fresh = try runLens(tinyTraining + ["--reset-heads", "0.1", "--stop-after", "2"], in: dir)
        #expect(fresh.status == 2 && fresh.error.contains("--reset-heads re-initialises heads of a trained run, so it needs --resume"), "\(fresh.error)")
        #expect(try runLens(tinyTraining + ["--stop-after", "4"], in: dir).status == 0)
        let resume = ["train", "--resume", "t.h5.resume.h5", "--out", "t.h5", "--stop-after", "2"]
        let badSpec = try runLens(resume + ["--reset-heads", "0:1"], in: dir)
        #expect(badSpec.status == 2 && badSpec.error.contains("LAYER.HEAD pairs like 0.3,0.11, found \"0:1\""), "\(badSpec.error)")
        let missing = try runLens(resume + ["--reset-heads", "0.9"], in: dir)
        #expect(missing.status != 0 && missing.error.contains("head 9 does not exist (the model has heads 0–3)"), "\(missing.error)")
        let before = try Checkpoint.load(dir + "/t.h5").parameters
        let good = try runLens(resume + ["--reset-heads", "0.1,1.3"], in: dir)
        #expect(good.status == 0 && good.output.contains("re-initialised heads 0.1,1.3 at step 4"), "\(good.error)")
        #expect(try Checkpoint.attributes(of: dir + "/t.h5")["training_command"]?.contains("--reset-heads 0.1,1.3") == true)
        #expect(try Checkpoint.load(dir + "/t.h5").parameters != before)
    }

    @Test func dropoutIsRecordedInTheCheckpoint() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try runLens(tinyTraining + ["--dropout", "0.1", "--stop-after", "3"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        let attributes = try Checkpoint.attributes(of: dir + "/t.h5")
        #expect(attributes["dropout"].flatMap(Double.init).map { abs($0 - 0.1) < 1e-6 } == true, "\(attributes)")
        #expect(try TrainingStateFile.load(dir + "/t.h5.resume.h5").1.recipe.dropoutRate == 0.1)
    }

    /// The authors' recipe flags reach the recipe and the checkpoint's attributes; the ones that
    /// shape the data and the model's noise cannot change on resume, the rate's floor can.
    @Test func authorsRecipeFlagsAreRecorded() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let flags = ["--attention-dropout", "0.1", "--every-iteration", "--depth-by-parents", "--final-lr-fraction", "1", "--stop-after", "2"]
        let result = try runLens(tinyTraining + flags, in: dir)
        #expect(result.status == 0, "\(result.error)")
        let attributes = try Checkpoint.attributes(of: dir + "/t.h5")
        #expect(attributes["attention_dropout"].flatMap(Double.init).map { abs($0 - 0.1) < 1e-6 } == true, "\(attributes)")
        let recipe = try TrainingStateFile.load(dir + "/t.h5.resume.h5").1.recipe
        #expect(recipe.attentionDropoutRate == 0.1 && recipe.everyIteration == true && recipe.finalLearningRateFraction == 1)
        #expect(recipe.depthCappedByParents == true)
        for fixed in [["--attention-dropout", "0.2"], ["--every-iteration"], ["--depth-by-parents"]] {
            let refused = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "t.h5"] + fixed, in: dir)
            #expect(refused.status == 2 && refused.error.contains("\(fixed[0]) cannot change on --resume"), "\(refused.error)")
        }
        let resumed = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "t.h5", "--final-lr-fraction", "0.5", "--stop-after", "1"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(try TrainingStateFile.load(dir + "/t.h5.resume.h5").1.recipe.finalLearningRateFraction == 0.5)
        // An anneal given on resume starts at the resume step, and the progress line shows its
        // value while it runs (that of the next step, as the rate it shows).
        func resumeOneStep(_ option: String, _ value: String, shows expected: String) throws -> TrainingRecipe {
            let result = try runLens(["train", "--resume", "t.h5.resume.h5", "--out", "t.h5", option, value,
                                      "--stop-after", "1", "--log-every", "1"], in: dir)
            #expect(result.status == 0 && result.output.contains(expected), "\(result.output)\(result.error)")
            return try TrainingStateFile.load(dir + "/t.h5.resume.h5").1.recipe
        }
        #expect(try resumeOneStep("--attention-temperature", "2:10", shows: "τ 1.90").attentionTemperature
                == AttentionTemperature(initial: 2, steps: 10, fromStep: 3))
        // The entropy bonus shows λ and the window's mean attention entropy.
        #expect(try resumeOneStep("--attention-entropy-bonus", "0.5:10", shows: "λ 0.45 H̄ ").attentionEntropyBonus
                == AttentionEntropyBonus(initial: 0.5, steps: 10, fromStep: 4))
    }

    @Test func ctrlCDuringTrainingLeavesAResumableCheckpoint() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (process, _, err) = try startLens(tinyTraining, in: dir)
        #expect(waitForFile(dir + "/t.h5.resume.h5", seconds: 30))
        Thread.sleep(forTimeInterval: 0.3)
        kill(process.processIdentifier, SIGINT)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(message.contains("--resume t.h5.resume.h5"))
        let (_, state, _) = try TrainingStateFile.load(dir + "/t.h5.resume.h5")
        #expect(state.step > 0)
        _ = try Checkpoint.load(dir + "/t.h5")
        let resumed = try runLens(["train", "--resume", "t.h5.resume.h5", "--stop-after", "5", "--out", "t.h5", "--force"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(try TrainingStateFile.load(dir + "/t.h5.resume.h5").1.step == state.step + 5)
    }

    @Test func aCurriculumOrOptimiserSettingGivenOnResumeChangesTheRunFromThere() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try runLens(Array(tinyTraining.dropLast(2)) + ["--curriculum", "3:4-6/2-2,4:5-8", "--stop-after", "4"], in: dir)
        #expect(first.status == 0, "\(first.error)")
        let resumed = try runLens(["train", "--resume", "t.h5.resume.h5", "--stop-after", "3", "--out", "t.h5", "--force",
                                   "--curriculum", "3:4-6/1,4:5-9@16"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        let (_, state, history) = try TrainingStateFile.load(dir + "/t.h5.resume.h5")
        // The stage that ran stays; the new ones follow it, and the first of them began at step 4.
        #expect(state.recipe.stages == [CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 6, maxFanIn: 2, minFanIn: 2),
                                        CurriculumStage(leaves: 3, minNodes: 4, maxNodes: 6, maxFanIn: 1),
                                        CurriculumStage(leaves: 4, minNodes: 5, maxNodes: 9, names: 16)])
        #expect(state.stage == 1 && state.stageStarts == [4] && state.step == 7)
        #expect(state.recipe.maxNodes == 9)
        #expect(history.count == 2 && history[1].contains("--curriculum 3:4-6/1,4:5-9@16"))
        // The peak learning rate and the weight decay may change on resume too.
        let retuned = try runLens(["train", "--resume", "t.h5.resume.h5", "--stop-after", "1", "--out", "t.h5", "--force",
                                   "--lr", "2e-4", "--weight-decay", "0.2"], in: dir)
        #expect(retuned.status == 0, "\(retuned.error)")
        let (_, changed, _) = try TrainingStateFile.load(dir + "/t.h5.resume.h5")
        #expect(changed.recipe.learningRate == 2e-4 && changed.recipe.weightDecay == 0.2 && changed.optimizer.weightDecay == 0.2)
        #expect(changed.recipe.stages == state.recipe.stages && changed.step == 8)
        let bad = try runLens(["train", "--resume", "t.h5.resume.h5", "--stop-after", "1", "--out", "t.h5", "--force",
                               "--curriculum", "3:4-6/x"], in: dir)
        #expect(bad.status == 2 && bad.error.contains("3:4-6/x"), "\(bad.error)")
        // A recipe option the resumed run would ignore is refused, naming it.
        let ignored = try runLens(["train", "--resume", "t.h5.resume.h5", "--stop-after", "1", "--out", "t.h5", "--force",
                                   "--batch", "64"], in: dir)
        #expect(ignored.status == 2 && ignored.error.contains("--batch cannot change on --resume"), "\(ignored.error)")
        #expect(try TrainingStateFile.load(dir + "/t.h5.resume.h5").1.step == 8)
    }

    @Test func killDuringTrainingNeverLeavesAHalfWrittenCheckpoint() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (process, _, _) = try startLens(tinyTraining, in: dir)
        #expect(waitForFile(dir + "/t.h5", seconds: 30))
        // Checkpoints come every few milliseconds here, so a kill at any moment often lands mid-write.
        Thread.sleep(forTimeInterval: 0.37)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        _ = try Checkpoint.load(dir + "/t.h5")
        let (_, state, _) = try TrainingStateFile.load(dir + "/t.h5.resume.h5")
        #expect(state.step > 0)
    }

    @Test func theDemoPipelineWritesAReportFromActivationFiles() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        let demo = try runLens(["demo", "--model", "tiny.h5", "--smoke", "--out", "dumps", "--report", "report"], in: dir)
        #expect(demo.status == 0, "\(demo.error)")
        #expect(demo.output.contains("== headline numbers"))
        // The verdict line names the circuit and whether it is whole ("paper circuit, partial: …").
        #expect(demo.output.contains("   circuit: "))
        let html = try String(contentsOfFile: dir + "/report/index.html", encoding: .utf8)
        for section in ["Model card", "Attention view", "head groups", "retrieving the operands", "Fourier basis", "Provenance"] {
            #expect(html.contains(section), "the report lacks \(section)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/report/analysis.json"))) as? [String: Any]
        let analysis = json?["analysis"] as? [String: Any]
        #expect(analysis?["heads"] != nil && analysis?["retrieval"] != nil && analysis?["fourier"] != nil)
        // Self-contained: the only URL is the SVG namespace.
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(25)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") }, "\(Set(urls))")
        // Every figure section has its SVG.
        for id in ["model", "heads", "retrieval", "fourier"] {
            let start = try #require(html.range(of: "<section id=\"\(id)\">"))
            let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex)?.lowerBound ?? html.endIndex
            #expect(html[start.upperBound..<end].contains("<svg"), "section \(id) has no figure")
        }
        // The page shows the JSON's numbers.
        func percent(_ x: Any?) -> String { String(format: "%.1f %%", ((x as? NSNumber)?.doubleValue ?? .nan) * 100) }
        let retrieval = analysis?["retrieval"] as? [String: Any], fourier = analysis?["fourier"] as? [String: Any]
        #expect(html.contains(percent(retrieval?["operand_mass"])))
        #expect(html.contains(percent(retrieval?["patch_follow_rate"])))
        #expect(html.contains(percent(fourier?["variance_explained_by_key"])))
        #expect(html.contains(percent(fourier?["a_plus_b_share"])))
        let accuracy = (json?["accuracy"] as? [[String: Any]])?.first
        #expect(html.contains(percent(accuracy?["node_accuracy"])))
        #expect((accuracy?["one_step_by_operands"] as? [Any])?.count == 3)
        #expect(html.contains("One step at a time"))

        // The report folder exists now: refused without --force.
        let dumps = ["slot_var0", "slot_var1", "slot_var2", "slot_rhs", "retrieval_distance", "value_grid"].map { "dumps/\($0).h5" }
        let again = try runLens(["report"] + dumps + ["--out", "report", "--eval-samples", "0", "--causal", "0"], in: dir)
        #expect(again.status == 2)
        #expect(again.error.contains("already exists; pass --force"))

        // An interrupted activation file is named as the cause before any work, and the report is not rewritten.
        let file = try H5File.open(dir + "/dumps/value_grid.h5", mode: .readWrite)
        try file.root.setAttribute("complete", 0)
        file.close()
        let before = try String(contentsOfFile: dir + "/report/index.html", encoding: .utf8)
        let marked = try runLens(["report"] + dumps + ["--out", "report", "--force", "--eval-samples", "0", "--causal", "0"], in: dir)
        #expect(marked.status == 2, "\(marked.error)")
        #expect(marked.error.contains("dumps/value_grid.h5 is incomplete (complete = 0)") && marked.error.contains("record it again"), "\(marked.error)")
        #expect(try String(contentsOfFile: dir + "/report/index.html", encoding: .utf8) == before)
    }

    @Test func killDuringARecordingKeepsTheFinishedBatches() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The paper-size model, one sequence per batch: the run lasts seconds, batches are many.
        #expect(try runLens(["init", "--config", "paper", "--out", "paper.h5"], in: dir).status == 0)
        let (process, _, err) = try startLens(["run", "slot_rhs", "--model", "paper.h5", "--hooks", "blocks.0.attn.hook_pattern",
                                               "--batch", "1", "--out", "d.h5", "--quiet"], in: dir)
        // The file is written beside d.h5 until it is complete (or stopped). Wait for batches in
        // it: the empty name appears earlier, when --out is checked, before the signal handlers.
        #expect(waitForFile(dir + "/d.h5.tmp-\(process.processIdentifier)", seconds: 30, minimumBytes: 2_000_000))
        kill(process.processIdentifier, SIGTERM)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(message)")
        let reader = try ActivationReader(path: dir + "/d.h5")
        defer { reader.close() }
        #expect(!reader.isComplete)
        #expect(reader.count > 0 && reader.count < 324)
        let patterns = try reader.activations("blocks.0.attn.hook_pattern", iteration: 0, sequences: 0..<reader.count)
        #expect(patterns.shape == [reader.count, 16, reader.length, reader.length])
        #expect(throws: ActivationFileError.self) { try ActivationReader(path: dir + "/d.h5", requireComplete: true) }
    }

    @Test func aFullDiskIsAClearErrorAndKeepsAReadableFile() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        // A 20 MB file-size limit stands in for a full disk (slot_rhs's patterns need about 60 MB).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "ulimit -f 20480; exec \"$0\" run slot_rhs --model tiny.h5 --hooks 'blocks.*.attn.hook_pattern' --batch 4 --out d.h5 --quiet",
                             lensExecutable]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.contains("stopped before the disk filled up"), "\(message)")
        let reader = try ActivationReader(path: dir + "/d.h5")
        defer { reader.close() }
        #expect(!reader.isComplete)
        #expect(reader.count > 0 && reader.count < 324)
        _ = try reader.activations("blocks.0.attn.hook_pattern", iteration: 0, sequences: 0..<reader.count)
    }
}
