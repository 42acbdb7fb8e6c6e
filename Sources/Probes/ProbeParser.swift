import Foundation

/// Reads probe files (probes/README.md) into `Probe` values, checking everything that does not
/// need the context; `Probe.expand` checks the rest.
public enum ProbeParser {
    /// The keys a line may start with.
    static let keys = ["name", "description", "context", "equation", "fix", "sweep", "combine", "iterations"]
    static let contextOptions = ["seed", "seeds", "nodes", "leaves", "fanin", "minfanin", "names"]

    /// Reads and parses the probe file at `path`.
    public static func load(path: String) throws -> Probe {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ProbeError.unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(text, file: path, defaultName: base)
    }

    /// Parses probe text; `file` names it in errors.
    public static func parse(_ text: String, file: String = "<probe>", defaultName: String = "probe") throws -> Probe {
        var probe = Probe(name: defaultName, file: file)
        var seen: [String: Int] = [:]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, raw) in lines.enumerated() {
            var s = LineScanner(raw, file: file, line: i + 1)
            if s.atEnd { continue }
            let keyAt = s.location
            s.skipSpaces()
            let keyStart = s.location
            guard let key = s.word() else {
                throw ProbeError.syntax(keyStart, expected: "a key (\(keys.joined(separator: ", ")))", found: s.found())
            }
            guard keys.contains(key) else {
                throw ProbeError.unknownKey(keyStart, key: key, suggestion: nearest(key, among: keys))
            }
            if ["name", "equation", "combine", "iterations"].contains(key), let first = seen[key] {
                throw ProbeError.invalid(keyStart, "\"\(key)\" is given twice (first on line \(first))")
            }
            seen[key] = keyAt.line
            switch key {
            case "name":
                guard let name = s.word() else {
                    throw ProbeError.syntax(s.location, expected: "a name of letters, digits, _ or -", found: s.found())
                }
                try s.expectEnd()
                probe.name = name
            case "description":
                let (text, _) = s.rest()
                probe.description += (probe.description.isEmpty ? "" : " ") + text
            case "context":
                probe.contexts.append(try parseContext(&s))
            case "equation":
                probe.equation = try parseEquation(&s, at: keyStart)
            case "fix":
                probe.fixes.append(try parseFix(&s, at: keyStart))
            case "sweep":
                probe.sweeps.append(try parseSweep(&s, at: keyStart))
            case "combine":
                s.skipSpaces()
                let wordStart = s.index
                guard let word = s.word(), let combine = Combine(rawValue: word) else {
                    s.index = wordStart
                    throw ProbeError.syntax(s.location, expected: "\"product\" or \"zip\"", found: s.found())
                }
                try s.expectEnd()
                probe.combine = combine
                probe.combineLocation = keyStart
            default:  // iterations
                s.skipSpaces()
                let at = s.location
                guard let n = s.integer() else {
                    throw ProbeError.syntax(at, expected: "a whole number of iterations", found: s.found())
                }
                guard n >= 1 else { throw ProbeError.invalid(at, "a run needs at least 1 iteration, found \(n)") }
                try s.expectEnd()
                probe.iterations = n
            }
        }
        try check(probe, lineCount: lines.count)
        return probe
    }

    // MARK: lines

    static func parseContext(_ s: inout LineScanner) throws -> ContextSpec {
        s.skipSpaces()
        let kindStart = s.index
        guard let kind = s.word(), kind == "random" || kind == "program" else {
            s.index = kindStart
            throw ProbeError.syntax(s.location, expected: "\"random\" or \"program\" after \"context\"", found: s.found())
        }
        if kind == "program" {
            let (text, at) = s.rest()
            guard !text.isEmpty else {
                throw ProbeError.syntax(at, expected: "a program in the text syntax, like 17 = x_42; x_42 = x_5", found: "the end of the line")
            }
            return .program(text: text, at: at)
        }
        let lineAt = SourceLocation(file: s.file, line: s.line, column: 1)
        var seeds: [UInt64]?, nodes: [Int]?, leaves = 6, minFanIn = 1, maxFanIn = 3
        var names: Int?
        while !s.atEnd {
            s.skipSpaces()
            let optionAt = s.location
            guard let option = s.word() else {
                throw ProbeError.syntax(optionAt, expected: "an option like seed=7 or nodes=16", found: s.found())
            }
            guard contextOptions.contains(option) else {
                throw ProbeError.unknownOption(optionAt, option: option, suggestion: nearest(option, among: contextOptions))
            }
            try s.expect("=", "\"=\" after \(option)")
            let values = try numberList(&s, what: option)
            switch option {
            case "seed", "seeds":
                guard values.allSatisfy({ $0 >= 0 }) else { throw ProbeError.invalid(optionAt, "seeds must not be negative") }
                seeds = values.map { UInt64($0) }
            case "nodes":
                guard values.allSatisfy({ $0 >= 1 }) else { throw ProbeError.invalid(optionAt, "a graph needs at least 1 node") }
                nodes = values
            default:  // leaves, fanin, minfanin, names: one number each
                guard values.count == 1, let v = values.first, v >= 1 else {
                    throw ProbeError.invalid(optionAt, "\(option) takes one whole number of at least 1")
                }
                switch option {
                case "leaves": leaves = v
                case "fanin": maxFanIn = v
                case "minfanin": minFanIn = v
                default: names = v
                }
            }
        }
        guard let seeds else { throw ProbeError.invalid(lineAt, "a random context needs seed=S (or a list, seed=1,2 or seed=1..10)") }
        guard let nodes else { throw ProbeError.invalid(lineAt, "a random context needs nodes=N (or a list, nodes=8,16)") }
        guard minFanIn <= maxFanIn else {
            throw ProbeError.invalid(lineAt, "minfanin=\(minFanIn) exceeds fanin=\(maxFanIn); fanin is the largest number of operands")
        }
        let graphs = RandomGraphs(seeds: seeds, nodes: nodes, leaves: leaves, minFanIn: minFanIn, maxFanIn: maxFanIn, names: names)
        return .random(graphs, at: lineAt)
    }

    /// `3`, `1,2,5`, `0..9` or a mix: whole numbers (ranges inclusive).
    static func numberList(_ s: inout LineScanner, what: String) throws -> [Int] {
        var values: [Int] = []
        repeat {
            let at = s.location
            guard let a = s.integer() else { throw ProbeError.syntax(at, expected: "a whole number for \(what)", found: s.found()) }
            if s.accept("..") {
                let bAt = s.location
                guard let b = s.integer() else { throw ProbeError.syntax(bAt, expected: "the end of the range", found: s.found()) }
                guard b >= a else { throw ProbeError.invalid(at, "the range \(a)..\(b) is empty") }
                guard b - a < 1_000_000 else { throw ProbeError.invalid(at, "the range \(a)..\(b) is too large") }
                values += Array(a...b)
            } else {
                values.append(a)
            }
        } while s.accept(",")
        return values
    }

    static func slotName(_ s: inout LineScanner, after: String) throws -> (String, SourceLocation) {
        s.skipSpaces()
        let at = s.location
        guard let name = s.word(), let first = name.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            s.index = at.column - 1
            throw ProbeError.syntax(at, expected: "a slot name like v0 \(after)", found: s.found())
        }
        return (name, at)
    }

    static func parseEquation(_ s: inout LineScanner, at: SourceLocation) throws -> ProbeEquation {
        var operands: [String] = []
        var seen: Set<String> = []
        repeat {
            let (name, nameAt) = try slotName(&s, after: operands.isEmpty ? "to start the equation" : "after \"+\"")
            guard seen.insert(name).inserted else { throw ProbeError.invalid(nameAt, "the slot \(name) appears twice in the equation") }
            operands.append(name)
        } while s.accept("+")
        try s.expect("=", "\"+\" or \"=\"")
        let (rhs, rhsAt) = try slotName(&s, after: "on the right of \"=\"")
        guard seen.insert(rhs).inserted else { throw ProbeError.invalid(rhsAt, "the slot \(rhs) appears twice in the equation") }
        try s.expectEnd()
        return ProbeEquation(operands: operands, rhs: rhs, location: at)
    }

    /// `v0` or `v0.value`.
    static func slotTarget(_ s: inout LineScanner) throws -> (String, Bool, SourceLocation) {
        let (name, at) = try slotName(&s, after: "")
        if s.accept(".") {
            let fieldAt = s.location
            guard s.word() == "value" else { throw ProbeError.syntax(fieldAt, expected: "\"value\" after \"\(name).\"", found: s.found()) }
            return (name, true, at)
        }
        return (name, false, at)
    }

    static func parseFix(_ s: inout LineScanner, at: SourceLocation) throws -> Assignment {
        let (slot, isValue, slotAt) = try slotTarget(&s)
        try s.expect("=", "\"=\" after the slot")
        let items = try itemList(&s, isValue: isValue)
        guard items.count == 1, let item = items.first else {
            throw ProbeError.invalid(slotAt, "fix sets one \(isValue ? "value" : "variable"); use sweep for several")
        }
        try s.expectEnd()
        return Assignment(slot: slot, isValue: isValue, item: item, location: slotAt)
    }

    static func parseSweep(_ s: inout LineScanner, at: SourceLocation) throws -> Sweep {
        let (slot, isValue, slotAt) = try slotTarget(&s)
        s.skipSpaces()
        let overAt = s.location
        guard s.word() == "over" else { throw ProbeError.syntax(overAt, expected: "\"over\"", found: s.found()) }
        s.skipSpaces()
        let setAt = s.location
        let named: [String: SweepSet] = ["defined": .defined, "leaves": .leaves, "free": .free, "values": .values]
        var set: SweepSet
        let mark = s.index
        if let word = s.word(), let known = named[word] ?? (word.hasPrefix("Z") && Int(word.dropFirst()) != nil ? .values : nil),
           !s.accept("[") {
            set = known
        } else {
            s.index = mark
            set = .list(try itemList(&s, isValue: isValue))
        }
        try s.expectEnd()
        if isValue {
            if case .list = set {} else if set != .values {
                throw ProbeError.invalid(setAt, "a value sweep runs over values (values, Z23, 0..22 or a list of numbers)")
            }
        } else if set == .values {
            throw ProbeError.invalid(setAt, "\(slot) holds a variable; to sweep numbers write \"sweep \(slot).value over …\"")
        }
        return Sweep(slot: slot, isValue: isValue, set: set, location: slotAt)
    }

    /// Comma-separated items: numbers and ranges for values; `x_N`, `defined[i]`, `leaf[i]`,
    /// `free[i]` for variables.
    static func itemList(_ s: inout LineScanner, isValue: Bool) throws -> [SlotItem] {
        var items: [SlotItem] = []
        repeat {
            s.skipSpaces()
            let at = s.location
            if isValue {
                for v in try numberList(&s, what: "a value") {
                    guard v >= 0 else { throw ProbeError.invalid(at, "values are numbers of Z_modulus, found \(v)") }
                    items.append(.value(v, at: at))
                }
                // numberList already consumed every comma-separated number.
                break
            }
            items.append(.variable(try reference(&s), at: at))
        } while s.accept(",")
        return items
    }

    static func reference(_ s: inout LineScanner) throws -> VariableReference {
        s.skipSpaces()
        let at = s.location
        let expected = "a variable: x_N, defined[i], leaf[i] or free[i]"
        guard let word = s.word() else { throw ProbeError.syntax(at, expected: expected, found: s.found()) }
        if word.hasPrefix("x_"), let id = Int(word.dropFirst(2)), id >= 0 { return .name(id) }
        let kinds: [String: (Int) -> VariableReference] = ["defined": { .defined($0) }, "leaf": { .leaf($0) }, "free": { .free($0) }]
        guard let make = kinds[word] else {
            s.index = at.column - 1
            if let n = nearest(word, among: Array(kinds.keys)), !word.hasPrefix("x") {
                throw ProbeError.syntax(at, expected: expected + " (did you mean \(n)[i]?)", found: s.found())
            }
            throw ProbeError.syntax(at, expected: expected, found: s.found())
        }
        try s.expect("[", "\"[\" after \(word)")
        let indexAt = s.location
        guard let index = s.integer() else { throw ProbeError.syntax(indexAt, expected: "an index like 0 or -1", found: s.found()) }
        try s.expect("]", "\"]\"")
        return make(index)
    }

    // MARK: whole-file checks

    static func check(_ probe: Probe, lineCount: Int) throws {
        let fileStart = SourceLocation(file: probe.file, line: 1, column: 1)
        guard !probe.contexts.isEmpty else {
            throw ProbeError.invalid(fileStart, "the probe has no context line (context random seed=S nodes=N, or context program …)")
        }
        guard let equation = probe.equation else {
            if let first = probe.fixes.first?.location ?? probe.sweeps.first?.location {
                throw ProbeError.invalid(first, "fix and sweep need a probe equation (equation v0 + v1 = rhs)")
            }
            return
        }
        let slots = equation.slots
        var variableSetBy: [String: SourceLocation] = [:]
        var valueSetBy: [String: SourceLocation] = [:]
        func claim(_ slot: String, isValue: Bool, at: SourceLocation) throws {
            guard slots.contains(slot) else {
                throw ProbeError.unknownSlot(at, slot: slot, suggestion: nearest(slot, among: slots))
            }
            if isValue && slot == equation.rhs {
                throw ProbeError.invalid(at, "the value of \(slot) is what the model computes; only operand values can be fixed or swept")
            }
            if let first = isValue ? valueSetBy[slot] : variableSetBy[slot] {
                throw ProbeError.invalid(at, "\(slot)\(isValue ? ".value" : "") is already fixed or swept on line \(first.line)")
            }
            if isValue { valueSetBy[slot] = at } else { variableSetBy[slot] = at }
        }
        for fix in probe.fixes { try claim(fix.slot, isValue: fix.isValue, at: fix.location) }
        for sweep in probe.sweeps {
            try claim(sweep.slot, isValue: sweep.isValue, at: sweep.location)
            if sweep.slot == equation.rhs, sweep.set == .defined || sweep.set == .leaves {
                throw ProbeError.invalid(sweep.location, "\(sweep.slot) is the right-hand side: it must be a name the context leaves free (sweep \(sweep.slot) over free)")
            }
            if sweep.slot != equation.rhs, !sweep.isValue, sweep.set == .free {
                throw ProbeError.invalid(sweep.location, "\(sweep.slot) is an operand: it must be a defined variable, not a free name (sweep \(sweep.slot) over defined)")
            }
        }
        for slot in slots where variableSetBy[slot] == nil {
            throw ProbeError.invalid(equation.location, "the slot \(slot) is neither fixed nor swept (add \"fix \(slot) = …\" or \"sweep \(slot) over …\")")
        }
    }
}
