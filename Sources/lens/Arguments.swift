import Foundation
import GraphTask

/// One option a subcommand accepts.
struct OptionSpec {
    let name: String          // "--nodes"
    let value: String?        // placeholder such as "N"; nil for a flag without value
    let help: String
    var repeatable = false
}

/// A subcommand's interface: what `--help` prints and what the parser accepts.
struct CommandSpec {
    let name: String
    let synopsis: String
    let summary: String
    let options: [OptionSpec]
    /// Names of positional arguments, for the usage line; `minimumPositionals` are required.
    var positionals: [String] = []
    var minimumPositionals = 0
    var maximumPositionals: Int? = 0

    var help: String {
        var lines = ["usage: lens \(name) \(synopsis)", "", summary, ""]
        if !options.isEmpty { lines.append("options:") }
        let width = options.map { $0.name.count + ($0.value.map { $0.count + 1 } ?? 0) }.max() ?? 0
        for option in options {
            let left = option.name + (option.value.map { " " + $0 } ?? "")
            lines.append("  " + left + String(repeating: " ", count: max(1, width - left.count + 2)) + option.help)
        }
        lines.append("  --help" + String(repeating: " ", count: max(1, width - 4)) + "show this help")
        return lines.joined(separator: "\n")
    }
}

/// Errors of the command line itself; they exit with status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Parsed options and positionals of one invocation.
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    let command: String
    /// The arguments as given (after the subcommand), for provenance records.
    var raw: [String] = []

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    func string(_ name: String) -> String? { values[name]?.last }

    func string(_ name: String, default value: String) -> String { string(name) ?? value }

    func require(_ name: String) throws -> String {
        guard let value = string(name) else { throw UsageError("lens \(command): \(name) is required") }
        return value
    }

    func int(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw UsageError("lens \(command): \(name) expects a whole number, found \"\(text)\"")
        }
        return value
    }

    func int(_ name: String, default value: Int) throws -> Int { try int(name) ?? value }

    func positiveInt(_ name: String, default value: Int) throws -> Int { try positiveInt(name) ?? value }

    /// The option's value when given, which must be positive.
    func positiveInt(_ name: String) throws -> Int? {
        guard let v = try int(name) else { return nil }
        guard v > 0 else { throw UsageError("lens \(command): \(name) must be positive, found \(v)") }
        return v
    }

    /// The option's value when given, which must lie in `range`; the message names the range
    /// and, when given, why it has that bound.
    func int(_ name: String, in range: ClosedRange<Int>, because reason: String? = nil) throws -> Int? {
        guard let v = try int(name) else { return nil }
        guard range.contains(v) else {
            let why = reason.map { " (\($0))" } ?? ""
            throw UsageError("lens \(command): \(name) must lie in \(range.lowerBound)...\(range.upperBound)\(why), found \(v)")
        }
        return v
    }

    func int(_ name: String, in range: ClosedRange<Int>, default value: Int, because reason: String? = nil) throws -> Int {
        try int(name, in: range, because: reason) ?? value
    }

    /// A seed: any whole number from 0 to 2^64 - 1 (decimal, or hexadecimal after 0x).
    func seed(_ name: String = "--seed", default value: UInt64) throws -> UInt64 {
        guard let text = string(name) else { return value }
        let digits = text.replacingOccurrences(of: "_", with: "")
        let parsed = digits.lowercased().hasPrefix("0x") ? UInt64(digits.dropFirst(2), radix: 16) : UInt64(digits)
        guard let seed = parsed else {
            throw UsageError("lens \(command): \(name) expects a whole number from 0 to \(UInt64.max), found \"\(text)\"")
        }
        return seed
    }

    func double(_ name: String) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw UsageError("lens \(command): \(name) expects a number, found \"\(text)\"")
        }
        return value
    }

    func intList(_ name: String) throws -> [Int]? {
        guard let text = string(name) else { return nil }
        var result: [Int] = []
        for part in text.split(separator: ",") {
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw UsageError("lens \(command): \(name) expects comma-separated whole numbers, found \"\(text)\"")
            }
            result.append(v)
        }
        return result
    }
}

/// Parses `arguments` (after the subcommand name) against `spec`.
///
/// Unknown options are rejected with the nearest valid name; `--name=value` and `--name value`
/// are both accepted.
func parseArguments(_ arguments: [String], spec: CommandSpec) throws -> ParsedArguments {
    var parsed = ParsedArguments(command: spec.name)
    parsed.raw = arguments
    var i = 0
    let byName = Dictionary(uniqueKeysWithValues: spec.options.map { ($0.name, $0) })
    while i < arguments.count {
        let argument = arguments[i]
        if argument == "--" {
            parsed.positionals += arguments[(i + 1)...]
            break
        }
        if argument.hasPrefix("--") {
            var name = argument, inlineValue: String?
            if let eq = argument.firstIndex(of: "=") {
                name = String(argument[..<eq])
                inlineValue = String(argument[argument.index(after: eq)...])
            }
            guard let option = byName[name] else {
                let nearest = closest(name, among: spec.options.map(\.name) + ["--help"])
                throw UsageError("lens \(spec.name): unknown option \(name)" + (nearest.map { "; did you mean \($0)?" } ?? ""))
            }
            if option.value != nil {
                let value: String
                if let inlineValue { value = inlineValue } else {
                    guard i + 1 < arguments.count else {
                        throw UsageError("lens \(spec.name): \(name) expects a value (\(option.value ?? "VALUE"))")
                    }
                    i += 1
                    value = arguments[i]
                }
                parsed.values[name, default: []].append(value)
            } else {
                if inlineValue != nil { throw UsageError("lens \(spec.name): \(name) takes no value") }
                parsed.flags.insert(name)
            }
        } else if argument.hasPrefix("-") && argument.count > 1 && Double(argument) == nil {
            throw UsageError("lens \(spec.name): unknown option \(argument); options are spelled with two dashes")
        } else {
            parsed.positionals.append(argument)
        }
        i += 1
    }
    if parsed.positionals.count < spec.minimumPositionals {
        throw UsageError("lens \(spec.name): expected \(spec.positionals.joined(separator: " ")); see lens \(spec.name) --help")
    }
    if let maximum = spec.maximumPositionals, parsed.positionals.count > maximum {
        throw UsageError("lens \(spec.name): unexpected argument \"\(parsed.positionals[maximum])\"; see lens \(spec.name) --help")
    }
    return parsed
}

/// The candidate nearest to `word` by edit distance, if reasonably near.
func closest(_ word: String, among candidates: [String]) -> String? {
    closestWord(to: word, among: candidates, slack: 3)
}

/// Upper bounds of options whose value sizes memory or work, so that a mistyped number is
/// refused with a message instead of an allocation that cannot succeed or a run that never ends.
enum OptionLimits {
    /// Variable names of a generated problem (the paper's models have 128).
    static let names = 100_000
    /// The modulus of a generated problem (the paper's is 23).
    static let modulus = 100_000
    /// Nodes of one generated or evaluated graph.
    static let nodes = 100_000
    /// Recurrent iterations beyond a graph's depth + 1: each one is a forward pass whose tokens
    /// and predictions are kept.
    static let extraIterations = 1_000
    /// Graphs per evaluation size.
    static let samples = 10_000_000
    /// Graphs (or sequences) in one forward pass of eval and run.
    static let batch = 65_536
}
