import Foundation

/// Heads to zero-ablate while recording, as `lens run --ablate` spells them.
public enum HeadAblation {
    /// Parses `LAYER.HEAD` pairs separated by commas (`1.15,0.3`) into heads by layer; the
    /// ranges are checked against the model by `Recorder`.
    public static func parse(_ spec: String) throws -> [Int: [Int]] {
        var heads: [Int: [Int]] = [:]
        for item in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let layer = Int(parts[0]), let head = Int(parts[1]) else {
                throw RecordingError.badAblation("\"\(item)\" is not a LAYER.HEAD pair")
            }
            if !(heads[layer] ?? []).contains(head) { heads[layer, default: []].append(head) }
        }
        return heads
    }

    /// The spec back in its canonical form (layers and heads sorted), for the file's config.
    public static func text(_ heads: [Int: [Int]]) -> String {
        heads.keys.sorted().flatMap { layer in (heads[layer] ?? []).sorted().map { "\(layer).\($0)" } }.joined(separator: ",")
    }
}
