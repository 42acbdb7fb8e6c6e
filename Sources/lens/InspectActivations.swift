import Foundation
import GraphTask
import Recording

extension InspectCommand {
    /// Prints a readable summary of an activation file: probe, model, hooks with shapes, N, iterations, completeness.
    static func printActivationSummary(_ path: String) throws {
        let reader = try ActivationReader(path: path)
        defer { reader.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        print("\(path): LatentLens activation file (schema \(ActivationSchema.name) v\(reader.schemaVersion))")
        let status = reader.isComplete ? "complete" : "INCOMPLETE (complete = 0: the run stopped early; the finished sequences are readable)"
        print("  status      \(status)")
        print("  probe       \(reader.attribute("probe") ?? "?")  (\(reader.count) sequences, padded length \(reader.length))")
        let sha = reader.attribute("model_sha256") ?? "?"
        print("  model       \(reader.attribute("model") ?? "?")  sha256 \(sha.prefix(16))…")
        print("  created     \(reader.attribute("created") ?? "?")")
        print("  command     \(reader.attribute("command") ?? "?")")
        let run = reader.attribute("run_iterations").map { " of a \($0)-iteration run" } ?? ""
        print("  iterations  \(reader.iterations.map(String.init).joined(separator: ", "))\(run)")
        print("  meta        \(reader.metaKeys.joined(separator: ", "))")
        print("  tokens      int32 [\(reader.count), \(reader.iterations.count), \(reader.length), \(Factor.count)]  (also predictions)")
        print("  hooks       \(reader.hooks.count)")
        let width = reader.hooks.map(\.count).max() ?? 0
        for hook in reader.hooks {
            let shape = try reader.shape(of: hook)
            let dims = try reader.dimensions(of: hook)
            print("    " + hook.padding(toLength: width, withPad: " ", startingAt: 0) + "  float32 \(shape)  (\(dims.joined(separator: ", ")))")
        }
        if let size { print(String(format: "  size        %.1f MB", Double(size) / 1e6)) }
    }
}
