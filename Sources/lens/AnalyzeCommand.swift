import Analysis
import Foundation
import Outputs

extension AnalysisError: UserInputError {}

/// `lens analyze`: the three analyses on activation files.
enum AnalyzeCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "analyze", synopsis: "heads|retrieval|fourier|all FILES… [--model M] [--json OUT [--force]] [--causal N]",
        summary: """
        Runs the analyses (docs/analysis.md) on activation files from lens run: layer-0 head
        grouping (slot sweeps), layer-1 value retrieval with patching and ablation (retrieval probe
        and slot sweeps, plus the model), layer-1 MLP Fourier (value grid); decides which circuit the
        model grew. Prints a summary and warnings; --json writes the numbers.
        """,
        positionals: ["ANALYSIS", "FILES…"], minimumPositionals: 2, maximumPositionals: 10_000)

    struct Options: CommandOptions {
        let model = Option<String?>("--model", "M", help: "checkpoint for weights and causal checks (default: the activation files' model attribute)")
        let json = Option<String?>("--json", "OUT", help: "write the analysis JSON to OUT (- for standard output; a device or FIFO is written in place)")
        let force = Option(flag: "--force", help: "replace --json OUT if it exists (once the new file is complete)")
        let causal = Option<Int>.causalSequences(help: "sequences for patching and ablation ({default}; 0 skips them)")
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        let which = a.positionals[0]
        let kinds: [AnalysisKind]
        if which == "all" { kinds = AnalysisKind.allCases } else if let kind = AnalysisKind(rawValue: which) { kinds = [kind] } else {
            let hint = closest(which, among: ["heads", "retrieval", "fourier", "all"]).map { "; did you mean \"\($0)\"?" } ?? ""
            throw UsageError("lens analyze: unknown analysis \"\(which)\"\(hint) (heads, retrieval, fourier or all)")
        }
        let causal = try a[\.causal]
        let modelPath = a[\.model]
        let files = Array(a.positionals.dropFirst())
        // The output is checked before the analyses run, not after.
        let output = try a[\.json].flatMap { $0 == "-" ? nil : $0 }.map {
            try OutputFile($0, what: "--json", force: a[\.force], inputs: files + [modelPath].compactMap { $0 },
                           allowsStream: true)
        }
        let runner = AnalysisRunner(analyses: kinds, modelPath: modelPath, causalSequences: max(causal, 0), strict: kinds.count == 1)
        let started = Date()
        let outcome = try runner.run(paths: files)
        let seconds = Date().timeIntervalSince(started)
        let json = try jsonText(outcome.summary)
        if a[\.json] == "-" {
            print(json)
        } else {
            print(AnalysisText.render(outcome))
            print(String(format: "(analysed in %.1f s)", seconds))
            if let output {
                try output.write(json + "\n")
                print("wrote \(output.path)")
            }
        }
        for warning in outcome.warnings { printError("warning: " + warning) }
    }
}
