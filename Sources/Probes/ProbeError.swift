import GraphTask

/// Where something sits in a probe file: 1-based line and column.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors jump to.
    public var description: String { "\(file):\(line):\(column)" }
}

/// Why a probe file cannot be read, parsed or expanded; every case names the place.
public enum ProbeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The text at `location` is not what the grammar allows there.
    case syntax(SourceLocation, expected: String, found: String)
    /// A line starts with a key the format does not know.
    case unknownKey(SourceLocation, key: String, suggestion: String?)
    /// A `key=value` option of a context line is unknown.
    case unknownOption(SourceLocation, option: String, suggestion: String?)
    /// A slot is named that the probe equation does not have.
    case unknownSlot(SourceLocation, slot: String, suggestion: String?)
    /// A well-formed statement that does not make sense (conflicts, missing parts, ranges).
    case invalid(SourceLocation, String)
    /// A context program or the probe equation fails the task's rules.
    case program(SourceLocation, ProgramError)
    /// A sequence is longer than the model accepts.
    case tooLong(SourceLocation, length: Int, maximum: Int)

    /// Where the error is, when it has a place in the file.
    public var location: SourceLocation? {
        switch self {
        case .unreadable: return nil
        case .syntax(let l, _, _), .unknownKey(let l, _, _), .unknownOption(let l, _, _), .unknownSlot(let l, _, _),
             .invalid(let l, _), .program(let l, _), .tooLong(let l, _, _):
            return l
        }
    }

    public var description: String {
        func hint(_ suggestion: String?) -> String { suggestion.map { "; did you mean \"\($0)\"?" } ?? "" }
        switch self {
        case .unreadable(let file, let reason):
            return "cannot read probe file \(file): \(reason)"
        case .syntax(let l, let expected, let found):
            return "\(l): expected \(expected), found \(found)"
        case .unknownKey(let l, let key, let suggestion):
            return "\(l): unknown key \"\(key)\"\(hint(suggestion)) (keys: \(ProbeParser.keys.joined(separator: ", ")))"
        case .unknownOption(let l, let option, let suggestion):
            return "\(l): unknown context option \"\(option)\"\(hint(suggestion))"
        case .unknownSlot(let l, let slot, let suggestion):
            return "\(l): the probe equation has no slot named \"\(slot)\"\(hint(suggestion))"
        case .invalid(let l, let message):
            return "\(l): \(message)"
        case .program(let l, let error):
            return "\(l): \(error)"
        case .tooLong(let l, let length, let maximum):
            return "\(l): a sequence of this probe has \(length) tokens, more than the model accepts (\(maximum))"
        }
    }
}

/// The candidate nearest to `word` by edit distance, when it is reasonably near.
func nearest(_ word: String, among candidates: [String]) -> String? {
    closestWord(to: word, among: candidates)
}
