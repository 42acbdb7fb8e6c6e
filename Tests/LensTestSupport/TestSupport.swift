import Foundation

// Helpers shared by the test targets: temporary directories, child processes and the python
// that the interop tests hand files to. A plain target (not a test target) so that every test
// target can depend on it.

/// A fresh temporary directory, removed after `body` returns or throws.
public func withTemporaryDirectoryURL<R>(_ body: (URL) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("latentlens-test-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// A fresh temporary directory given as a path, removed after `body` returns or throws.
public func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    try withTemporaryDirectoryURL { url in try body(url.path) }
}

/// Runs `executable` with `arguments` to the end; returns its exit status and standard output + error.
public func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The repository's root (two levels above this file).
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../..").standardized

/// The first python that imports `modules` (e.g. "h5py, numpy"): the repository's .venv (made by
/// `make .venv/bin/python`), then /usr/bin/python3, then python3 on PATH; nil when none does.
public func python(importing modules: String) -> String? {
    var candidates = [repositoryRoot.appendingPathComponent(".venv/bin/python").path, "/usr/bin/python3"]
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        candidates.append("\(directory)/python3")
    }
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
        if let result = try? runProcess(candidate, ["-c", "import \(modules)"]), result.status == 0 {
            return candidate
        }
    }
    return nil
}

/// A python that imports h5py and numpy; nil when none does (the interop tests are then skipped).
public let pythonWithH5py: String? = python(importing: "h5py, numpy")

/// A python that imports torch, numpy and h5py; nil when none does (the PyTorch tests are then skipped).
public let pythonWithTorch: String? = python(importing: "torch, numpy, h5py")
