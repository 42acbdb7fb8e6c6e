import Foundation
import Outputs
import Timeline
import Transformer

extension TimelineError: UserInputError {}

/// `lens timeline`: the three mechanisms measured on every snapshot of a training run.
enum TimelineCommand: LensCommand {
    static let spec = CommandSpec<Options>(
        name: "timeline", synopsis: "SNAPSHOTS… --out DIR [--log FILE] [--contexts K] [--graphs N] [--nodes N] [--leaves L] [--names K] [--probes DIR] [--json] [--force]",
        summary: """
        Measures, on each snapshot of a run (ordered by its training_steps), one-step accuracy by
        operand count on held-out graphs, the layer-0 head groups per operand slot with their
        variance portions, layer-1 attention on operand values, the layer-1 MLP's key frequencies
        and own-frequency share, and the circuit verdict, from small versions of the shipped
        probes. Writes DIR/timeline.json and DIR/index.html (line charts against the step, offline).
        The training loss comes from the run's log: --log, else STEM.log beside the snapshots.
        """,
        positionals: ["SNAPSHOTS"], minimumPositionals: 1, maximumPositionals: 100_000)

    /// The tracker's own defaults.
    private static let standard = MechanismTracker(probeDirectory: "")

    struct Options: CommandOptions {
        let out = Option<String?>("--out", "DIR", help: "folder for timeline.json and index.html")
        let log = Option<String?>("--log", "FILE", help: "the run's training log, for the loss (default: STEM.log beside the snapshots, if there)")
        let contexts = Option("--contexts", "K", default: TimelineCommand.standard.contexts, bounds: .positive,
                              help: "random contexts per slot sweep ({default} of the probes' 12)")
        let graphs = Option("--graphs", "N", default: TimelineCommand.standard.evaluationGraphs, bounds: .positive,
                            help: "held-out graphs for the accuracy ({default})")
        let nodes = Option("--nodes", "N", default: TimelineCommand.standard.evaluationNodes, bounds: .positive, help: "nodes of those graphs ({default})")
        let leaves = Option("--leaves", "L", default: TimelineCommand.standard.leaves, bounds: .positive, help: "leaves of those graphs ({default})")
        let names = Option<Int?>("--names", "K", bounds: .positive,
                                 help: "draw the held-out graphs' variable names from the first K only (for a run trained on K names; default all; the probes keep theirs)")
        let probes = Option<String?>("--probes", "DIR", help: "folder of the probe files (default: the shipped probes/)")
        let json = Option(flag: "--json", help: "also print timeline.json to standard output")
        let force = Option(flag: "--force", help: "write into DIR even if it holds a timeline")
        let quiet = Option(flag: "--quiet", help: "no progress")
    }

    static func run(_ a: ParsedArguments<Options>) throws {
        let out = try a.require(\.out)
        let snapshots = a.positionals
        var tracker = MechanismTracker(probeDirectory: a[\.probes] ?? shippedProbeDirectory())
        tracker.contexts = try a[\.contexts]
        tracker.evaluationGraphs = try a[\.graphs]
        tracker.evaluationNodes = try a[\.nodes]
        tracker.names = try a[\.names]
        tracker.leaves = try a[\.leaves]
        try tracker.checkProbes()

        // Every output is checked before the first snapshot is measured.
        let outputs = try OutputFile.inFolder(out, names: ["timeline.json", "index.html"], what: "--out", force: a[\.force],
                                              inputs: snapshots)
        let (jsonOutput, htmlOutput) = (outputs[0], outputs[1])

        // Order by the step each checkpoint records, read before any model is loaded.
        var ordered: [(step: Int, path: String)] = []
        for path in snapshots {
            let attributes = try Checkpoint.attributes(of: path)
            guard let text = attributes["training_steps"], let step = Double(text).map({ Int($0) }) else {
                if attributes["source"]?.hasPrefix("lens init") == true { ordered.append((0, path)); continue }
                throw TimelineError.noStep(path: path)
            }
            ordered.append((step, path))
        }
        ordered.sort { $0.step < $1.step }
        let losses = try trainingLosses(log: a[\.log] ?? defaultLog(for: snapshots))

        let quiet = a[\.quiet] || a[\.json]
        let bar = ProgressBar("timeline", total: ordered.count, unit: "snapshots", quiet: quiet)
        var measures: [MechanismMeasures] = []
        for (i, entry) in ordered.enumerated() {
            let model = try Checkpoint.load(entry.path)
            var m = try tracker.measure(model: model, step: entry.step, snapshot: entry.path)
            m.loss = losses.last { $0.step <= entry.step }?.loss
            measures.append(m)
            if !quiet && !stdoutIsTerminal { print(m.logLine) }
            bar.update(i + 1)
        }
        bar.finish()

        let text = try jsonText(measures)
        try jsonOutput.write(text + "\n")
        let title = ordered.last.map { ($0.path as NSString).lastPathComponent } ?? "run"
        try htmlOutput.write(TimelinePage.html(measures, title: title, command: a.commandLine))
        if a[\.json] {
            print(text)
        } else {
            let seconds = measures.map(\.seconds)
            print(String(format: "timeline: %d snapshots, %.1f s each (median) → %@ and %@", measures.count,
                         seconds.sorted()[seconds.count / 2], jsonOutput.path, htmlOutput.path))
        }
    }

    /// probes/ under the current folder, else in the repository `lens` was built in.
    static func shippedProbeDirectory() -> String {
        RunCommand.probeDirectories().first { FileManager.default.fileExists(atPath: $0 + "/slot_var0.probe") } ?? "probes"
    }

    /// `runs/m.log` for snapshots `runs/m.step500.h5`, … when it exists.
    static func defaultLog(for snapshots: [String]) -> String? {
        guard let first = snapshots.first else { return nil }
        let name = (first as NSString).lastPathComponent
        let stem = name.range(of: ".step").map { String(name[..<$0.lowerBound]) } ?? (name as NSString).deletingPathExtension
        let log = ((first as NSString).deletingLastPathComponent as NSString).appendingPathComponent(stem + ".log")
        return FileManager.default.fileExists(atPath: log) ? log : nil
    }

    /// (step, loss) from `step N/M  loss X` lines of a `lens train` log, in order.
    static func trainingLosses(log: String?) throws -> [(step: Int, loss: Double)] {
        guard let log else { return [] }
        guard let data = FileManager.default.contents(atPath: log) else { throw InputError("--log \(log): cannot read the file") }
        var result: [(Int, Double)] = []
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 4, words[0] == "step", words[2] == "loss",
                  let step = words[1].split(separator: "/").first.flatMap({ Int($0) }), let loss = Double(words[3]) else { continue }
            result.append((step, loss))
        }
        return result.sorted { $0.0 < $1.0 }
    }
}
