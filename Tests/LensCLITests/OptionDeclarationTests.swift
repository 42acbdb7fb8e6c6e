import Foundation
import Recording
import Testing
import Training
import Transformer

/// Options are declared once, with their type, default and help (Sources/lens/Option.swift):
/// help writes the declared defaults, which come from the libraries' own; lens train's resume
/// policy is derived from the declarations; a repeatable option counts every occurrence; and
/// every command writes the same provenance command line.
@Suite(.serialized) struct OptionDeclarationTests {
    static let commands = ["generate", "solve", "init", "train", "eval", "inspect", "run", "analyze", "report", "timeline", "demo", "bench"]

    /// The help line of `option` (its name and placeholder, as help prints them).
    func helpLine(_ help: String, _ option: String) -> String? {
        help.split(separator: "\n").map(String.init).first { $0.hasPrefix("  " + option + " ") }
    }

    @Test func everyCommandsHelpWritesItsDefaultsFromTheDeclaredValues() throws {
        // A default that its help does not show stops --help with a precondition failure.
        for command in Self.commands {
            let help = try runLens([command, "--help"])
            #expect(help.status == 0 && help.output.hasPrefix("usage: lens \(command) "), "\(command): \(help.error)")
            #expect(!help.output.contains("{default}"), "\(command)")
        }
        let train = try runLens(["train", "--help"]).output
        let recipe = TrainingRecipe()
        for (option, value) in [("--steps N", "\(recipe.steps)"), ("--batch B", "\(recipe.batchSize)"), ("--warmup N", "\(recipe.warmupSteps)"),
                                ("--advance-window N", "\(recipe.advanceWindow)"), ("--seed S", "\(recipe.seed)"), ("--frontier P", "\(recipe.frontierFraction)")] {
            let line = helpLine(train, option)
            #expect(line?.contains("(default \(value)") == true, "\(option): \(line ?? "missing")")
        }
        #expect(train.contains("auto: " + TrainingRecipe.defaultStages.map(\.text).joined(separator: ",")))
        let paper = ModelConfig.paper
        #expect(helpLine(train, "--config paper|small|tiny")?.contains("(default paper: \(paper.layers) layers, \(paper.heads) heads, d \(paper.modelWidth), MLP \(paper.mlpWidth))") == true)
        let eval = try runLens(["eval", "--help"]).output
        let evaluator = Evaluator()
        #expect(helpLine(eval, "--seed S")?.hasSuffix("evaluation seed (default \(evaluator.seed))") == true)
        #expect(helpLine(eval, "--leaves N")?.hasSuffix("leaves per graph (default \(evaluator.leaves))") == true)
    }

    @Test func onResumeOnlyTheOptionsNotFixedByTheRunMayBeGiven() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The policy is checked before the resume state is read, so no state is needed.
        let refused = try runLens(["train", "--resume", "none.resume.h5", "--out", "t.h5", "--every-iteration"], in: dir)
        #expect(refused.status == 2)
        #expect(refused.error == "error: lens train: --every-iteration cannot change on --resume (the run continues with the recipe saved in none.resume.h5); on resume only --steps, --stop-after, --lr, --final-lr-fraction, --weight-decay, --curriculum, --advance-accuracy, --max-stage-steps, --attention-temperature, --attention-entropy-bonus, --checkpoint-every, --snapshot-every, --keep-resume-every, --reset-heads, --reset-head-attention, --track-every, --probes, --eval-every, --log-every, --force may be given\n")
    }

    @Test func choicesAndBoundsAreRefusedInTheCommandsOwnWords() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (arguments, message) in [
            (["init", "--config", "huge", "--out", "m.h5"], "error: lens init: --config must be paper, small or tiny, found \"huge\""),
            (["train", "--config", "huge", "--out", "m.h5"], "error: lens train: --config must be paper, small or tiny, found \"huge\""),
            (["generate", "--nodes", "10", "--format", "xml"], "error: lens generate: --format must be text, tokens or solution, found \"xml\""),
            (["generate", "--nodes", "0"], "error: lens generate: --nodes must lie in 1...100000, found 0"),
            (["train", "--out", "m.h5", "--log-every", "0"], "error: lens train: --log-every must be positive, found 0"),
            (["run", "p", "--model", "m.h5", "--hooks", "hook_embed", "--out", "d.h5", "--compress", "gzip:12"],
             "error: lens run: --compress expects gzip, gzip:N (N in 0…9) or none, found \"gzip:12\""),
        ] {
            let result = try runLens(arguments, in: dir)
            #expect(result.status == 2 && result.error == message + "\n", "\(arguments): \(result.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.h5"))
    }

    @Test func hooksGivenTwiceRecordBothAndTheFileKeepsTheQuotedCommand() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try runLens(["init", "--config", "tiny", "--out", "tiny.h5"], in: dir).status == 0)
        let arguments = ["run", "slot_var0", "--model", "tiny.h5", "--hooks", "hook_embed", "--hooks", "blocks.*.attn.hook_z", "--out", "d.h5", "--quiet"]
        let run = try runLens(arguments, in: dir)
        #expect(run.status == 0, "\(run.error)")
        let reader = try ActivationReader(path: dir + "/d.h5")
        defer { reader.close() }
        #expect(Set(reader.hooks) == ["hook_embed", "blocks.0.attn.hook_z", "blocks.1.attn.hook_z"])
        #expect(reader.attribute("command") == "lens run slot_var0 --model tiny.h5 --hooks hook_embed --hooks 'blocks.*.attn.hook_z' --out d.h5 --quiet")
        // lens train writes its command line into the history the same way.
        let train = try runLens(["train", "--config", "tiny", "--out", "t.h5", "--steps", "2", "--log-every", "1", "--eval-every", "0",
                                 "--min-nodes", "4", "--max-nodes", "6", "--leaves", "3", "--curriculum", "2:3-5~0.5"], in: dir)
        #expect(train.status == 0, "\(train.error)")
        #expect(try Checkpoint.attributes(of: dir + "/t.h5")["training_command"]
            == "lens train --config tiny --out t.h5 --steps 2 --log-every 1 --eval-every 0 --min-nodes 4 --max-nodes 6 --leaves 3 --curriculum '2:3-5~0.5'")
    }
}
