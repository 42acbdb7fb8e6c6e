import Analysis
import Foundation
import Outputs
import Recording
import Reports
import Transformer

/// `lens report`: one self-contained HTML file (plus its JSON) from activation files.
enum ReportCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "report", synopsis: "FILES… --out DIR [--model M] [--eval-samples N] [--nodes 8,16,32,64] [--force]",
        summary: """
        Runs the three analyses on activation files and writes DIR/index.html — model card, an
        interactive attention view, layer-0 head groups, layer-1 retrieval and the layer-1 MLP's
        Fourier spectra, every figure captioned — and DIR/analysis.json with the numbers behind it.
        The page is one file with inline CSS, SVG and script: it opens offline in any browser.
        """,
        positionals: ["FILES"], minimumPositionals: 1, maximumPositionals: 64)

    struct Options: CommandOptions {
        let out = Option<String?>("--out", "DIR", help: "folder for index.html and analysis.json")
        let model = Option<String?>("--model", "M", help: "checkpoint (default: the model the activation files were recorded with)")
        let evalSamples = Option("--eval-samples", "N", default: 100, bounds: .within(0...OptionLimits.samples),
                                 help: "random graphs per size for the model card's accuracy ({default}, 0 = none)")
        let nodes = Option<[Int]>.graphSizes(help: "graph sizes for the model card ({default})")
        let causal = Option<Int>.causalSequences(help: "sequences for the patching and ablation checks ({default}, 0 = skip)")
        let force = Option(flag: "--force", help: "write into DIR even if it exists")
        let quiet = Option(flag: "--quiet", help: "no progress bars")
    }

    /// What analysis.json holds besides the analyses.
    struct ReportJSON: Encodable {
        let analysis: AnalysisSummary
        let accuracy: [Accuracy]
        let warnings: [String]
        /// The activation files read (the key keeps the name analysis.json has always had).
        let dumps: [String]
        let model: String
        struct Accuracy: Encodable {
            let nodes: Int
            let node_accuracy: Double
            let graph_accuracy: Double
            let by_depth: [Double?]
            /// Accuracy of computed nodes with 1, 2, 3 operands whose operands' values were right in their input.
            let one_step_by_operands: [Double?]
        }
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        try generate(a)
    }

    /// Writes the report and returns what it shows and where index.html is.
    @discardableResult
    static func generate(_ a: ParsedArguments<Options>) throws -> (content: ReportContent, html: String) {
        let out = try a.require(\.out)
        let files = a.positionals
        let quiet = a[\.quiet]
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            guard a[\.force] else { throw InputError("\(out) already exists; pass --force to write into it") }
            guard isDirectory.boolValue else { throw InputError("\(out) exists and is not a folder") }
        }
        // Checked before the analyses: both files replace old ones only once written in full.
        let outputs = try OutputFile.inFolder(out, names: ["index.html", "analysis.json"], what: "--out", force: a[\.force],
                                              inputs: files + [a[\.model]].compactMap { $0 })
        let (htmlOutput, jsonOutput) = (outputs[0], outputs[1])
        let html = htmlOutput.path
        for file in files where !FileManager.default.fileExists(atPath: file) {
            throw InputError("no activation file at \(file) (make one with lens run)")
        }
        // Open every activation file first: a wrong schema or version stops the report before any work.
        var records: [ActivationFileRecord] = []
        var warnings: [String] = []
        var modelFromFiles: String?
        for path in files {
            // An interrupted recording is refused here, before the model or any analysis is touched.
            let reader = try ActivationReader(path: path, requireComplete: true)
            defer { reader.close() }
            records.append(ActivationFileRecord(path: path, probe: reader.attribute("probe") ?? "?", sequences: reader.count,
                                      complete: reader.isComplete, hooks: reader.hooks))
            modelFromFiles = modelFromFiles ?? reader.attribute("model")
        }
        guard let modelPath = a[\.model] ?? modelFromFiles else {
            throw InputError("the activation files name no model; pass --model")
        }
        let model = try Checkpoint.load(modelPath)

        let causal = try a[\.causal]
        let analysis = try AnalysisRunner(modelPath: modelPath, causalSequences: causal).run(paths: files)
        let summary = analysis.summary

        let nodes = try a[\.nodes]
        let samples = try a[\.evalSamples]
        let card = try ModelCardBuilder.card(path: modelPath, model: model, nodes: nodes, samples: samples, quiet: quiet)

        var attention: AttentionViewData?
        var attentionFile: String?
        for path in files where attention == nil {
            let reader = try ActivationReader(path: path)
            defer { reader.close() }
            attention = try AttentionViewData.from(reader, limit: 3, vocabulary: model.config.vocabulary)
            if attention != nil { attentionFile = path }
        }
        // The activation file behind the attention view is read by the report even if no analysis reads it.
        warnings += analysis.warnings.filter { !($0.contains("is not read by any analysis") && attentionFile.map($0.contains) == true) }
        if attention == nil {
            warnings.append("No activation file holds full attention patterns, so the attention view is left out (record one with lens run attention_examples --hooks 'blocks.*.attn.hook_pattern').")
        }
        let grids = try neuronGrids(files: files, summary: summary, modulus: model.config.modulus)

        let content = ReportContent(command: a.commandLine, modelCard: card, summary: summary, attention: attention,
                                    neuronGrids: grids, activationFiles: records, warnings: warnings)
        let page = AnalysisReport.page(content)
        try htmlOutput.write(page.html)
        let accuracy = card.accuracy.map { s in
            ReportJSON.Accuracy(nodes: s.nodes, node_accuracy: s.nodeAccuracy, graph_accuracy: s.graphAccuracy,
                                by_depth: s.byDepth.map { $0.isFinite ? $0 : nil },
                                one_step_by_operands: s.oneStepByOperands.map { $0.isFinite ? $0 : nil })
        }
        try jsonOutput.write(try jsonText(ReportJSON(analysis: summary, accuracy: accuracy, warnings: warnings, dumps: files, model: modelPath)))
        for warning in warnings { printError("warning: " + warning) }
        print("report: \(html)")
        return (content, html)
    }

    /// The (a, b) grids of the top Fourier neurons, from the value-grid activation file.
    static func neuronGrids(files: [String], summary: AnalysisSummary, modulus p: Int) throws -> [NeuronGrid] {
        guard let fourier = summary.fourier else { return [] }
        let hook = "blocks.1.mlp.hook_post"
        for path in files {
            let reader = try ActivationReader(path: path)
            defer { reader.close() }
            guard reader.attribute("probe") == "value_grid", reader.hooks.contains(hook), let last = reader.iterations.last else { continue }
            let rows = try reader.activations(hook, iteration: last, at: "rhs_pos")
            let grid = try Fourier.grid(rows: rows, a: try reader.meta("operand0_value").map(Int.init),
                                        b: try reader.meta("operand1_value").map(Int.init), modulus: p)
            let f = grid.shape[2]
            return fourier.topNeurons.prefix(4).map { neuron in
                NeuronGrid(neuron: neuron, frequency: fourier.topFrequency[neuron], fraction: fourier.topFraction[neuron],
                           grid: (0..<p).map { x in (0..<p).map { y in Double(grid.scalars[(x * p + y) * f + neuron]) } })
            }
        }
        return []
    }
}
