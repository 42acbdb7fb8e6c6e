import Analysis
import Foundation
import Reports
import Transformer

/// `lens demo`: the whole pipeline on the bundled default model (what `make demo` runs).
enum DemoCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "demo", synopsis: "[--model M] [--smoke] [--out DIR] [--report DIR]",
        summary: """
        Runs the workbench end to end on the bundled model: records the shipped probes into
        notebooks-data/demo/, runs the three analyses, writes the report to reports/demo/index.html
        and prints the headline numbers (accuracy, head groups, retrieval mass, key frequencies).
        """)

    struct Options: CommandOptions {
        let model = Option<String?>("--model", "M", help: "model to use (default models/default.h5)")
        let out = Option("--out", "DIR", default: "notebooks-data/demo", help: "folder for the activation files ({default})")
        let report = Option("--report", "DIR", default: "reports/demo", help: "folder for the report ({default})")
        let smoke = Option(flag: "--smoke", help: "a quicker run with fewer evaluation graphs (CI)")
    }

    /// One `lens run` of the demo: the probe, what it records, and where.
    struct Recording {
        let probe: String
        let hooks: String
        let positions: String
        let iterations: String
    }

    /// What the analyses need from each probe (`AnalysisRecording.forAnalyses`), then the
    /// attention examples for the report's attention view.
    static let recordings: [Recording] = AnalysisRecording.forAnalyses.map {
        Recording(probe: $0.probe, hooks: $0.hooks.joined(separator: ","), positions: $0.positions, iterations: "last")
    } + [Recording(probe: "attention_examples", hooks: "blocks.*.attn.hook_pattern", positions: "all", iterations: "all")]

    static func run(_ a: ParsedArguments<Options>) throws {
        let started = Date()
        let model = a[\.model] ?? defaultModelPath()
        guard FileManager.default.fileExists(atPath: model) else {
            throw InputError("no model at \(model); train one with lens train --out \(model) or pass --model")
        }
        let fileDirectory = a[\.out]
        let reportDirectory = a[\.report]
        try FileManager.default.createDirectory(atPath: fileDirectory, withIntermediateDirectories: true)
        let smoke = a[\.smoke]

        print("== recording \(recordings.count) probes with \(model) into \(fileDirectory)/")
        var files: [String] = []
        for r in recordings {
            let path = "\(fileDirectory)/\(r.probe).h5"
            try RunCommand.run(try parseArguments([r.probe, "--model", model, "--hooks", r.hooks, "--positions", r.positions,
                                                   "--iterations", r.iterations, "--compress", "gzip", "--out", path, "--force"], spec: RunCommand.spec))
            files.append(path)
        }
        print("\n== analyses and report")
        let arguments = files + ["--model", model, "--out", reportDirectory, "--force", "--eval-samples", smoke ? "24" : "100", "--causal", smoke ? "32" : "128"]
        let (content, html) = try ReportCommand.generate(try parseArguments(arguments, spec: ReportCommand.spec))
        printHeadlines(content)
        print(String(format: "\nwhole demo: %@. Open %@ in a browser.", formatDuration(Date().timeIntervalSince(started)), html))
    }

    static func printHeadlines(_ content: ReportContent) {
        print("\n== headline numbers")
        if let card = content.modelCard {
            for s in card.accuracy {
                let ood = card.trainedMaxNodes.map { s.nodes > $0 ? "  (larger than any training graph)" : "" } ?? ""
                print(String(format: "   accuracy, %2d-node graphs: node %.3f, whole graph %.3f%@", s.nodes, s.nodeAccuracy, s.graphAccuracy, ood))
            }
        }
        let summary = content.summary
        if let heads = summary.heads {
            let g = heads.primary
            let groups = g.slots.map { "\($0) → [" + (g.groups[$0] ?? []).map(String.init).joined(separator: ",") + "]" }
            print("   layer-0 head groups: " + groups.joined(separator: "  "))
        }
        if let retrieval = summary.retrieval {
            var line = String(format: "   layer-1 attention on operand values: %.1f %%", retrieval.primary.operandMass * 100)
            if let patch = retrieval.patch { line += String(format: "; patched answers follow %.1f %%", patch.followRate * 100) }
            print(line)
        }
        if let fourier = summary.fourier {
            let keys = fourier.keyFrequencies.isEmpty ? "none" : fourier.keyFrequencies.map(String.init).joined(separator: ", ")
            print(String(format: "   MLP key frequencies: %@; variance explained %.1f %%; own-frequency share %.1f %% (weighted); share in a + b %.1f %%",
                         keys, fourier.varianceExplainedByKey * 100, fourier.weightedTopFrequencyFraction * 100, fourier.aPlusBShare * 100))
        }
        if let circuit = summary.circuit { print("   circuit: \(circuit.headline)") }
    }

    /// models/default.h5 under the current folder, else under the repository `lens` was built in.
    static func defaultModelPath() -> String {
        repositoryFile("models/default.h5") ?? "models/default.h5"
    }
}
