/// A cursor over one line of a probe file, tracking the 1-based column for errors.
struct LineScanner {
    let bytes: [UInt8]
    let file: String
    let line: Int
    var index = 0

    init(_ text: Substring, file: String, line: Int) {
        var bytes = Array(text.utf8)
        if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { bytes.removeSubrange(hash...) }
        self.bytes = bytes
        self.file = file
        self.line = line
    }

    var location: SourceLocation { SourceLocation(file: file, line: line, column: index + 1) }

    func location(at index: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: index + 1) }

    var atEnd: Bool {
        var i = index
        while i < bytes.count, Self.isSpace(bytes[i]) { i += 1 }
        return i >= bytes.count
    }

    static func isSpace(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") }
    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    mutating func skipSpaces() {
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
    }

    /// A short quote of the text at the cursor, for "found …".
    func found() -> String {
        var i = index
        while i < bytes.count, Self.isSpace(bytes[i]) { i += 1 }
        guard i < bytes.count else { return "the end of the line" }
        var end = i
        while end < bytes.count, end - i < 12, !Self.isSpace(bytes[end]) { end += 1 }
        return "\"" + String(decoding: bytes[i..<end], as: UTF8.self) + "\""
    }

    /// A run of letters, digits, `_` and `-`, or nil without consuming anything.
    mutating func word() -> String? {
        skipSpaces()
        let start = index
        while index < bytes.count, Self.isWordByte(bytes[index]) { index += 1 }
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    /// Consumes `symbol` (after spaces) when it is next.
    mutating func accept(_ symbol: String) -> Bool {
        skipSpaces()
        let s = Array(symbol.utf8)
        guard index + s.count <= bytes.count, Array(bytes[index..<(index + s.count)]) == s else { return false }
        index += s.count
        return true
    }

    mutating func expect(_ symbol: String, _ what: String) throws {
        guard accept(symbol) else { throw ProbeError.syntax(location, expected: what, found: found()) }
    }

    /// An optionally signed whole number, or nil without consuming anything.
    mutating func integer() -> Int? {
        skipSpaces()
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digits = index
        var value = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = min(value * 10 + Int(bytes[index] - UInt8(ascii: "0")), 1 << 40)
            index += 1
        }
        guard index > digits, index >= bytes.count || !Self.isWordByte(bytes[index]) else { index = start; return nil }
        return bytes[start] == UInt8(ascii: "-") ? -value : value
    }

    /// The rest of the line, trimmed, and where it starts.
    mutating func rest() -> (String, SourceLocation) {
        skipSpaces()
        let at = location
        var end = bytes.count
        while end > index, Self.isSpace(bytes[end - 1]) { end -= 1 }
        let text = String(decoding: bytes[index..<end], as: UTF8.self)
        index = bytes.count
        return (text, at)
    }

    mutating func expectEnd() throws {
        skipSpaces()
        guard atEnd else { throw ProbeError.syntax(location, expected: "the end of the line", found: found()) }
    }
}
