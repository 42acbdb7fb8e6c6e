import Foundation

/// Bad input found by a command (a file that is not what it should be); exits with status 2.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Whether standard output is a terminal (progress bars redraw in place only there).
let stdoutIsTerminal = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil

/// A one-line progress bar with rate and ETA on a terminal; occasional plain lines elsewhere.
final class ProgressBar {
    let label: String
    let total: Int
    let unit: String
    let started = Date()
    var lastDraw = Date.distantPast
    var finished = false
    let quiet: Bool

    init(_ label: String, total: Int, unit: String = "seq", quiet: Bool = false) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        self.quiet = quiet
    }

    /// Shows that `done` of `total` units are finished.
    func update(_ done: Int, suffix: String = "") {
        guard !quiet, stdoutIsTerminal else { return }
        let now = Date()
        if done < total && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let fraction = Double(done) / Double(total)
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let text = String(format: "\r%@ %@ %d/%d %.0f %@/s ETA %@ %@", label, bar, done, total, rate, unit, formatDuration(eta), suffix)
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Ends the bar with a summary line.
    func finish(_ message: String? = nil) {
        guard !finished else { return }
        finished = true
        let elapsed = Date().timeIntervalSince(started)
        let line = message ?? "\(label): \(total) \(unit) in \(formatDuration(elapsed))"
        if quiet { return }
        if stdoutIsTerminal { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        print(line)
    }
}

/// "1h02m", "3m05s", "12.3s".
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    let s = Int(seconds.rounded())
    if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
}

/// Encodes a value as pretty, key-sorted JSON text.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch EncodingError.invalidValue(let bad, let context) {
        // Non-finite inputs are refused where they are read (ActivationReader.checkFinite), so a
        // NaN here came from the computation itself: name the field instead of Foundation's dump.
        let field = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        throw JSONOutputError(message: "the result's field \(field.isEmpty ? "(root)" : String(field.drop { $0 == "." })) is \(bad), which JSON cannot hold, so the JSON was not written")
    }
}

/// A result that cannot be written as JSON (exit status 1: a failure while working).
struct JSONOutputError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Folders that may hold the repository's own files (probes/, models/, benchmarks/): the
/// current folder, then the executable's folder and its ancestors (…/REPO/.build/<triple>/release/lens).
func repositoryRoots() -> [String] {
    var roots = [FileManager.default.currentDirectoryPath]
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<6 {
        if !roots.contains(url.path) { roots.append(url.path) }
        url.deleteLastPathComponent()
    }
    return roots
}

/// `relative` as given when it exists from the current folder, else the first existing copy
/// under the executable's repository; nil when there is none.
func repositoryFile(_ relative: String) -> String? {
    if FileManager.default.fileExists(atPath: relative) { return relative }
    return repositoryRoots().dropFirst().map { ($0 as NSString).appendingPathComponent(relative) }
        .first { FileManager.default.fileExists(atPath: $0) }
}
