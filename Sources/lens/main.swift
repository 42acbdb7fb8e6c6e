import Foundation
import Probes

/// A subcommand of `lens`.
protocol LensCommand {
    /// The options it accepts, declared once (`CommandOptions`).
    associatedtype Options: CommandOptions
    static var spec: CommandSpec<Options> { get }
    static func run(_ arguments: ParsedArguments<Options>) throws
}

extension LensCommand {
    /// Parses `arguments` (after the subcommand's name) and runs the command.
    static func run(arguments: [String]) throws {
        try run(parseArguments(arguments, spec: spec))
    }

    static var name: String { spec.name }
    static var help: String { spec.help }
    static var summary: String { spec.summary }
}

let commands: [any LensCommand.Type] = [
    GenerateCommand.self, SolveCommand.self, InitCommand.self, TrainCommand.self, EvalCommand.self,
    InspectCommand.self, RunCommand.self, AnalyzeCommand.self, ReportCommand.self, TimelineCommand.self, DemoCommand.self, BenchCommand.self,
]

func printUsage() {
    var lines = ["usage: lens COMMAND [options]   (lens COMMAND --help for details)", "", "commands:"]
    for command in commands {
        lines.append("  " + command.name.padding(toLength: 10, withPad: " ", startingAt: 0) + (command.summary.split(separator: "\n").first.map(String.init) ?? ""))
    }
    print(lines.joined(separator: "\n"))
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

// A file-size limit (ulimit -f) would otherwise kill us with SIGXFSZ mid-write; ignored, the
// write fails with EFBIG and becomes an error that says which file and what was kept.
signal(SIGXFSZ, SIG_IGN)
checkCPUFeatures()

let argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, name != "--help", name != "-h", name != "help" else {
    printUsage()
    exit(argv.isEmpty ? 2 : 0)
}
guard let command = commands.first(where: { $0.name == name }) else {
    let hint = closest(name, among: commands.map { $0.name }).map { "; did you mean \"\($0)\"?" } ?? ""
    printError("lens: unknown command \"\(name)\"\(hint) (lens --help lists them)")
    exit(2)
}
let rest = Array(argv.dropFirst())
if rest.contains("--help") || rest.contains("-h") {
    print(command.help)
    exit(0)
}
do {
    try command.run(arguments: rest)
} catch {
    let report = FailureReport(error)
    printError(report.message)
    exit(report.status)
}
