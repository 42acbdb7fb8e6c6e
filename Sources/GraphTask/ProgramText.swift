/// The text syntax: `17 = x_42; x_42 + x_5 = x_12` (whitespace free; `;` or newlines between
/// equations; a trailing `;` is allowed).
extension Program {
    /// The canonical text of this program.
    public var text: String {
        equations.map { equation in
            let left = equation.literal.map { "\($0)" } ?? equation.operands.map { "x_\($0)" }.joined(separator: " + ")
            return "\(left) = x_\(equation.target)"
        }.joined(separator: "; ")
    }

    /// Parses and validates `text` against `vocabulary`; errors carry the 1-based column.
    public static func parse(_ text: String, vocabulary: Vocabulary) throws -> Program {
        var parser = ProgramParser(text: text)
        let (program, columns) = try parser.parse(modulus: vocabulary.modulus)
        _ = try program.solve(vocabulary: vocabulary, columns: columns)
        return program
    }
}

/// A hand-written recursive-descent parser over the UTF-8 bytes of a program.
struct ProgramParser {
    let bytes: [UInt8]
    var index = 0

    init(text: String) { bytes = Array(text.utf8) }

    var column: Int { index + 1 }

    mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") || bytes[index] == UInt8(ascii: "\r") { index += 1 }
    }

    func describeHere() -> String {
        guard index < bytes.count else { return "the end of the program" }
        var end = index
        while end < bytes.count, end - index < 8, ![UInt8(ascii: " "), UInt8(ascii: ";"), UInt8(ascii: "\n")].contains(bytes[end]) || end == index { end += 1 }
        return "\"" + String(decoding: bytes[index..<end], as: UTF8.self) + "\""
    }

    func isSeparator(_ b: UInt8) -> Bool { b == UInt8(ascii: ";") || b == UInt8(ascii: "\n") }

    mutating func number() -> Int? {
        let start = index
        var value = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = min(value * 10 + Int(bytes[index] - UInt8(ascii: "0")), 1 << 40)
            index += 1
        }
        return index > start ? value : nil
    }

    /// `x_<digits>` → the id, or nil without consuming anything.
    mutating func variable() throws -> Int? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "x") else { return nil }
        let start = index
        index += 1
        guard index < bytes.count, bytes[index] == UInt8(ascii: "_") else {
            index = start
            throw ProgramError.syntax(column: start + 1, expected: "a variable like x_5", found: describeHere())
        }
        index += 1
        guard let id = number() else {
            throw ProgramError.syntax(column: index + 1, expected: "the digits of a variable name after \"x_\"", found: describeHere())
        }
        return id
    }

    mutating func parse(modulus: Int) throws -> (Program, [[Int]]) {
        var equations: [Equation] = []
        var columns: [[Int]] = []
        while true {
            skipSpaces()
            while index < bytes.count, isSeparator(bytes[index]) { index += 1; skipSpaces() }
            if index >= bytes.count { break }
            var cols: [Int] = []
            var equation = Equation(target: 0)
            let start = column
            if let id = try variable() {
                cols.append(start)
                equation.operands.append(id)
                while true {
                    skipSpaces()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "+") else { break }
                    index += 1
                    skipSpaces()
                    let c = column
                    guard let next = try variable() else {
                        throw ProgramError.syntax(column: c, expected: "a variable like x_5 after \"+\"", found: describeHere())
                    }
                    cols.append(c)
                    equation.operands.append(next)
                }
            } else if let value = number() {
                cols.append(start)
                equation.literal = value
            } else {
                throw ProgramError.syntax(column: column, expected: "a variable like x_5 or a number", found: describeHere())
            }
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                let expected = equation.isLeaf ? "\"=\" after the number" : "\"+\" or \"=\""
                throw ProgramError.syntax(column: column, expected: expected, found: describeHere())
            }
            index += 1
            skipSpaces()
            let c = column
            guard let target = try variable() else {
                throw ProgramError.syntax(column: c, expected: "the variable defined on the right of \"=\", like x_12", found: describeHere())
            }
            cols.append(c)
            equation.target = target
            skipSpaces()
            if index < bytes.count && !isSeparator(bytes[index]) {
                throw ProgramError.syntax(column: column, expected: "\";\" or the end of the program", found: describeHere())
            }
            equations.append(equation)
            columns.append(cols)
        }
        return (Program(equations: equations, modulus: modulus), columns)
    }
}
