import Foundation

/// A type an option's value may have: how it is read from the command line and how help
/// shows it as a default.
protocol OptionValue {
    /// The value `text` stands for; refuses it with a usage error naming `option`.
    static func read(_ text: String, for option: OptionReference) throws -> Self
    /// The value as help shows a default; nil when there is nothing to show.
    var shownAsDefault: String? { get }
}

extension String: OptionValue {
    static func read(_ text: String, for option: OptionReference) throws -> String { text }
    var shownAsDefault: String? { self }
}

extension Int: OptionValue {
    /// Digits may be grouped with underscores (100_000).
    static func read(_ text: String, for option: OptionReference) throws -> Int {
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw option.refusal("expects a whole number, found \"\(text)\"")
        }
        return value
    }
    var shownAsDefault: String? { String(self) }
}

/// A seed: any whole number from 0 to 2^64 - 1 (decimal, or hexadecimal after 0x).
extension UInt64: OptionValue {
    static func read(_ text: String, for option: OptionReference) throws -> UInt64 {
        let digits = text.replacingOccurrences(of: "_", with: "")
        let parsed = digits.lowercased().hasPrefix("0x") ? UInt64(digits.dropFirst(2), radix: 16) : UInt64(digits)
        guard let seed = parsed else {
            throw option.refusal("expects a whole number from 0 to \(UInt64.max), found \"\(text)\"")
        }
        return seed
    }
    var shownAsDefault: String? { String(self) }
}

extension Double: OptionValue {
    static func read(_ text: String, for option: OptionReference) throws -> Double {
        guard let value = Double(text), value.isFinite else {
            throw option.refusal("expects a number, found \"\(text)\"")
        }
        return value
    }
    var shownAsDefault: String? { String(format: "%g", self) }
}

/// Read as a Double, then rounded to the nearest Float (the recipe's rates are Floats).
extension Float: OptionValue {
    static func read(_ text: String, for option: OptionReference) throws -> Float {
        Float(try Double.read(text, for: option))
    }
    var shownAsDefault: String? { Double(self).shownAsDefault }
}

/// Flags take no value, so there is no text to read and no default to show.
extension Bool: OptionValue {
    static func read(_ text: String, for option: OptionReference) throws -> Bool {
        throw option.refusal("takes no value")
    }
    var shownAsDefault: String? { nil }
}

/// An option without a default: nil when not given.
extension Optional: OptionValue where Wrapped: OptionValue {
    static func read(_ text: String, for option: OptionReference) throws -> Wrapped? {
        try Wrapped.read(text, for: option)
    }
    var shownAsDefault: String? { self?.shownAsDefault }
}

/// A comma-separated list (`8,16,32`); spaces around the commas are ignored.
extension Array: OptionValue where Element: OptionListElement {
    static func read(_ text: String, for option: OptionReference) throws -> [Element] {
        try text.split(separator: ",").compactMap {
            try Element.element($0.trimmingCharacters(in: .whitespaces), of: text, for: option)
        }
    }
    var shownAsDefault: String? { isEmpty ? nil : compactMap(\.shownAsDefault).joined(separator: ",") }
}

/// A type a comma-separated list option may hold.
protocol OptionListElement: OptionValue {
    /// The element `part` of the list `text` stands for; nil to skip it.
    static func element(_ part: String, of text: String, for option: OptionReference) throws -> Self?
}

extension Int: OptionListElement {
    static func element(_ part: String, of text: String, for option: OptionReference) throws -> Int? {
        guard let value = Int(part) else {
            throw option.refusal("expects comma-separated whole numbers, found \"\(text)\"")
        }
        return value
    }
}

/// Empty names (`a,,b`) are skipped.
extension String: OptionListElement {
    static func element(_ part: String, of text: String, for option: OptionReference) throws -> String? {
        part.isEmpty ? nil : part
    }
}

/// One of a fixed set of words (`--init normal|pytorch`).
protocol OptionChoice: OptionValue, CaseIterable, RawRepresentable where RawValue == String {}

extension OptionChoice {
    static func read(_ text: String, for option: OptionReference) throws -> Self {
        guard let choice = Self(rawValue: text) else {
            let words = allCases.map(\.rawValue)
            let list = words.count > 1 ? words.dropLast().joined(separator: ", ") + " or " + (words.last ?? "") : words.joined()
            throw option.refusal("must be \(list), found \"\(text)\"")
        }
        return choice
    }
    var shownAsDefault: String? { rawValue }
}
