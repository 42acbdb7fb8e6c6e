import Foundation

/// One option of a subcommand, declared once: its name, the type of its value, its default,
/// its help, whether `lens train --resume` accepts it, and its bounds. A command reads it
/// through a key path into its `Options` (`try a[\.steps]`), so an option that was not declared
/// cannot be read.
struct Option<Value: OptionValue> {
    let name: String
    /// What help shows for the value ("N"); nil for a flag.
    let placeholder: String?
    /// The value when the option is not given.
    let defaultValue: Value
    /// Help text; `{default}` stands for "default X", X written from `defaultValue`.
    let help: String
    private(set) var onResume = ResumePolicy.mayChange
    /// Combines the values of every occurrence; nil: the last occurrence counts.
    private(set) var combine: (([Value]) -> Value)?
    /// Checks a given value (not the default) against the option's bounds.
    private(set) var check: (Value, OptionReference) throws -> Void = { _, _ in }

    /// An option with a value, `defaultValue` when it is not given.
    init(_ name: String, _ placeholder: String, default value: Value, help: String) {
        self.name = name
        self.placeholder = placeholder
        defaultValue = value
        self.help = help
    }

    /// Refused by `lens train --resume`: it shapes a fresh run, and the resumed run continues
    /// with the recipe it saved.
    func fixedOnResume() -> Option {
        var option = self
        option.onResume = .fixed
        return option
    }

    /// Names the run (`--out`, `--resume`) rather than setting how it trains.
    func namesTheRun() -> Option {
        var option = self
        option.onResume = .namesTheRun
        return option
    }
}

extension Option {
    /// An option whose value is nil when it is not given.
    init<Wrapped>(_ name: String, _ placeholder: String, help: String) where Value == Wrapped? {
        self.init(name, placeholder, default: nil, help: help)
    }
}

extension Option where Value == Bool {
    /// A flag: an option without a value, false unless given.
    init(flag name: String, help: String) {
        self.name = name
        placeholder = nil
        defaultValue = false
        self.help = help
    }
}

extension Option where Value == Int {
    /// A whole-number option whose given value must lie within `bounds`.
    init(_ name: String, _ placeholder: String, default value: Int, bounds: IntBounds, help: String) {
        self.init(name, placeholder, default: value, help: help)
        check = { try bounds.check($0, $1) }
    }
}

extension Option where Value == Int? {
    /// A whole-number option, nil when not given, whose given value must lie within `bounds`.
    init(_ name: String, _ placeholder: String, bounds: IntBounds, help: String) {
        self.init(name, placeholder, help: help)
        check = { value, option in try value.map { try bounds.check($0, option) } }
    }
}

extension Option where Value: RangeReplaceableCollection {
    /// Every occurrence counts: `--hooks a --hooks b,c` reads as `a,b,c`.
    func repeatable() -> Option {
        var option = self
        option.combine = { $0.reduce(Value(), +) }
        return option
    }
}

/// When `lens train --resume` accepts an option.
enum ResumePolicy {
    /// Honoured on resume; the command history records the change.
    case mayChange
    /// Shapes a fresh run, so it is refused on resume rather than silently ignored.
    case fixed
    /// Says which run (`--out`, `--resume`), not how it trains.
    case namesTheRun
}

/// The bounds of a whole-number option, so that a mistyped number is refused with a message.
enum IntBounds {
    case positive
    /// Within `range`; `because` says why it has that bound.
    case within(ClosedRange<Int>, because: String?)

    static func within(_ range: ClosedRange<Int>) -> IntBounds { .within(range, because: nil) }

    func check(_ value: Int, _ option: OptionReference) throws {
        switch self {
        case .positive:
            guard value > 0 else { throw option.refusal("must be positive, found \(value)") }
        case .within(let range, let reason):
            guard range.contains(value) else {
                let why = reason.map { " (\($0))" } ?? ""
                throw option.refusal("must lie in \(range.lowerBound)...\(range.upperBound)\(why), found \(value)")
            }
        }
    }
}

/// An option as one command reads it, for messages: "lens train: --steps …".
struct OptionReference {
    let command: String
    let name: String

    func refusal(_ problem: String) -> UsageError {
        UsageError("lens \(command): \(name) \(problem)")
    }
}

/// What an option, seen without its value type, tells the parser and the help.
protocol DeclaredOption {
    var name: String { get }
    var placeholder: String? { get }
    var onResume: ResumePolicy { get }
    /// The help with its default written in.
    var renderedHelp: String { get }
}

extension Option: DeclaredOption {
    var renderedHelp: String {
        guard let shown = defaultValue.shownAsDefault else {
            precondition(!help.contains("{default}"), "\(name) has no default to show in its help")
            return help
        }
        // A default the help does not show would be a default written twice, or hidden.
        precondition(help.contains("{default}"), "the help of \(name) must show its default with {default}")
        return help.replacingOccurrences(of: "{default}", with: "default " + shown)
    }
}

/// The options of one command: a struct whose every stored property is an `Option`, each
/// with its default value. The parser, the help and `lens train`'s resume policy list them
/// from the struct itself, in declaration order, so there is no second list to keep.
protocol CommandOptions {
    init()
}

extension CommandOptions {
    /// The name of the option at `key` ("--steps"), for messages.
    static func name<Value>(of key: KeyPath<Self, Option<Value>>) -> String {
        Self()[keyPath: key].name
    }

    /// Every option, in declaration order.
    static var all: [DeclaredOption] {
        let options = Mirror(reflecting: Self()).children.map { child -> DeclaredOption in
            guard let option = child.value as? DeclaredOption else {
                preconditionFailure("\(Self.self).\(child.label ?? "?") is not an Option")
            }
            return option
        }
        precondition(Set(options.map(\.name)).count == options.count, "\(Self.self) declares an option name twice")
        return options
    }
}
