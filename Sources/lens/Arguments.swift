import Foundation
import GraphTask

/// A subcommand's interface: what `--help` prints and what the parser accepts. Its options
/// are the properties of `Options`.
struct CommandSpec<Options: CommandOptions> {
    let name: String
    let synopsis: String
    let summary: String
    /// Names of positional arguments, for the usage line; `minimumPositionals` are required.
    var positionals: [String] = []
    var minimumPositionals = 0
    var maximumPositionals: Int? = 0

    var options: [DeclaredOption] { Options.all }

    var help: String {
        let options = self.options
        var lines = ["usage: lens \(name) \(synopsis)", "", summary, ""]
        if !options.isEmpty { lines.append("options:") }
        let width = options.map { $0.name.count + ($0.placeholder.map { $0.count + 1 } ?? 0) }.max() ?? 0
        for option in options {
            let left = option.name + (option.placeholder.map { " " + $0 } ?? "")
            lines.append("  " + left + String(repeating: " ", count: max(1, width - left.count + 2)) + option.renderedHelp)
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

/// Parsed options and positionals of one invocation of the command whose options are `Options`.
struct ParsedArguments<Options: CommandOptions> {
    let command: String
    /// The texts given for each option with a value, in order.
    var texts: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    /// The arguments as given (after the subcommand), for provenance records.
    var raw: [String] = []
    private let options = Options()

    init(command: String) { self.command = command }

    /// The option's value: as given, else its default.
    subscript<Value>(_ key: KeyPath<Options, Option<Value>>) -> Value {
        get throws { try given(key) ?? options[keyPath: key].defaultValue }
    }

    /// A text option's value (text is read as given, so reading it cannot fail).
    subscript(_ key: KeyPath<Options, Option<String>>) -> String {
        texts[options[keyPath: key].name]?.last ?? options[keyPath: key].defaultValue
    }

    /// A text option's value, nil when not given.
    subscript(_ key: KeyPath<Options, Option<String?>>) -> String? {
        texts[options[keyPath: key].name]?.last
    }

    /// Whether a flag was given.
    subscript(_ key: KeyPath<Options, Option<Bool>>) -> Bool {
        flags.contains(options[keyPath: key].name)
    }

    /// The option's value when it was given on the command line, else nil (its default is not
    /// used): what `lens train --resume` changes in the saved recipe.
    func given<Value>(_ key: KeyPath<Options, Option<Value>>) throws -> Value? {
        let option = options[keyPath: key]
        guard let texts = texts[option.name], let last = texts.last else { return nil }
        let reference = OptionReference(command: command, name: option.name)
        let value: Value
        if let combine = option.combine {
            value = combine(try texts.map { try Value.read($0, for: reference) })
        } else {
            value = try Value.read(last, for: reference)
        }
        try option.check(value, reference)
        return value
    }

    /// The value of an option without a default, which must be given.
    func require(_ key: KeyPath<Options, Option<String?>>) throws -> String {
        guard let value = self[key] else {
            throw UsageError("lens \(command): \(options[keyPath: key].name) is required")
        }
        return value
    }

    /// Whether `option` (one of `Options.all`) was given, with or without a value.
    func isGiven(_ option: DeclaredOption) -> Bool {
        flags.contains(option.name) || texts[option.name] != nil
    }

    /// Whether the option was given, with or without a value.
    func isGiven<Value>(_ key: KeyPath<Options, Option<Value>>) -> Bool {
        isGiven(options[keyPath: key])
    }

    /// The command line for provenance records, shell-quoted: `lens COMMAND ARGUMENTS…`, also
    /// when another command (lens demo) ran this one.
    var commandLine: String {
        (["lens", command] + raw).map(shellQuoted).joined(separator: " ")
    }
}

/// `word` as a shell reads it back: unchanged when plain, else in single quotes.
func shellQuoted(_ word: String) -> String {
    let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@+".contains($0) }
    return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Parses `arguments` (after the subcommand name) against `spec`.
///
/// Unknown options are rejected with the nearest valid name; `--name=value` and `--name value`
/// are both accepted.
func parseArguments<Options>(_ arguments: [String], spec: CommandSpec<Options>) throws -> ParsedArguments<Options> {
    var parsed = ParsedArguments<Options>(command: spec.name)
    parsed.raw = arguments
    var i = 0
    let options = spec.options
    let byName = Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0) })
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
                let nearest = closest(name, among: options.map(\.name) + ["--help"])
                throw UsageError("lens \(spec.name): unknown option \(name)" + (nearest.map { "; did you mean \($0)?" } ?? ""))
            }
            if let placeholder = option.placeholder {
                let value: String
                if let inlineValue { value = inlineValue } else {
                    guard i + 1 < arguments.count else {
                        throw UsageError("lens \(spec.name): \(name) expects a value (\(placeholder))")
                    }
                    i += 1
                    value = arguments[i]
                }
                parsed.texts[name, default: []].append(value)
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
