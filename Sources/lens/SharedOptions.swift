import Analysis
import Training

/// Options several commands declare alike.
extension Option where Value == Bool {
    /// `--force` of a command that writes one file at `--out`.
    static var forceOut: Option {
        Option(flag: "--force", help: "replace --out if it exists (once the new file is complete)")
    }
}

extension Option where Value == Int {
    /// `--extra-iterations` of the commands that run a model recurrently.
    static func extraIterations(help: String) -> Option {
        Option("--extra-iterations", "K", default: Evaluator().extraIterations,
               bounds: .within(0...OptionLimits.extraIterations, because: "each iteration is a forward pass whose predictions are kept"), help: help)
    }
}

extension Option where Value == Int {
    /// `--causal` of the commands that run the analyses: sequences for the causal checks.
    static func causalSequences(help: String) -> Option {
        Option("--causal", "N", default: AnalysisRunner().causalSequences, bounds: .within(0...OptionLimits.samples), help: help)
    }
}

extension Option where Value == [Int] {
    /// `--nodes` of the commands that evaluate a model: graph sizes.
    static func graphSizes(help: String) -> Option {
        Option("--nodes", "LIST", default: [8, 16, 32, 64], help: help)
    }
}
