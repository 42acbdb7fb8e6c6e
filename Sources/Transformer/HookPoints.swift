import GraphTask
/// The names of every hook point of a model, in firing order; docs/hooks.md lists them with their axes.
public struct HookPoints: Sendable {
    /// Names of one block's hook points.
    struct Block: Sendable {
        let residPre, ln1, q, k, v, scores, pattern, z, result, attnOut, residMid, ln2, mlpPre, mlpPost, mlpOut, residPost: String
        init(_ l: Int) {
            let p = "blocks.\(l)."
            residPre = p + "hook_resid_pre"
            ln1 = p + "ln1.hook_normalized"
            q = p + "attn.hook_q"; k = p + "attn.hook_k"; v = p + "attn.hook_v"
            scores = p + "attn.hook_attn_scores"; pattern = p + "attn.hook_pattern"
            z = p + "attn.hook_z"; result = p + "attn.hook_result"
            attnOut = p + "hook_attn_out"; residMid = p + "hook_resid_mid"
            ln2 = p + "ln2.hook_normalized"
            mlpPre = p + "mlp.hook_pre"; mlpPost = p + "mlp.hook_post"
            mlpOut = p + "hook_mlp_out"; residPost = p + "hook_resid_post"
        }
        var all: [String] {
            [residPre, ln1, q, k, v, scores, pattern, z, result, attnOut, residMid, ln2, mlpPre, mlpPost, mlpOut, residPost]
        }
    }

    static let embed = "hook_embed"
    static let lnFinal = "ln_final.hook_normalized"
    static let logits = ["hook_logits.syntax", "hook_logits.variable", "hook_logits.operation", "hook_logits.value"]

    let blocks: [Block]

    /// Every hook name of a model with `layers` blocks.
    public let names: [String]

    public init(layers: Int) {
        blocks = (0..<layers).map(Block.init)
        names = [Self.embed] + blocks.flatMap(\.all) + [Self.lnFinal] + Self.logits
    }

    /// Shape of the tensor a hook passes, for a batch of `batch` sequences of `length` tokens.
    public static func shape(of name: String, config: ModelConfig, batch: Int, length: Int) -> [Int] {
        let d = config.modelWidth, h = config.heads, dh = config.headWidth
        if name.hasSuffix("hook_attn_scores") || name.hasSuffix("hook_pattern") { return [batch, h, length, length] }
        if name.hasSuffix("hook_q") || name.hasSuffix("hook_k") || name.hasSuffix("hook_v") || name.hasSuffix("hook_z") {
            return [batch, length, h, dh]
        }
        if name.hasSuffix("hook_result") { return [batch, length, h, d] }
        if name.hasSuffix("mlp.hook_pre") || name.hasSuffix("mlp.hook_post") { return [batch, length, config.mlpWidth] }
        if let i = logits.firstIndex(of: name) { return [batch, length, config.factorSizes[i]] }
        return [batch, length, d]
    }

    /// Axis names of a hook's tensor, for the `dims` attribute of recorded datasets.
    public static func dimensions(of name: String) -> [String] {
        if name.hasSuffix("hook_attn_scores") || name.hasSuffix("hook_pattern") { return ["batch", "head", "query", "key"] }
        if name.hasSuffix("hook_q") || name.hasSuffix("hook_k") || name.hasSuffix("hook_v") || name.hasSuffix("hook_z") {
            return ["batch", "position", "head", "d_head"]
        }
        if name.hasSuffix("hook_result") { return ["batch", "position", "head", "d_model"] }
        if name.hasSuffix("mlp.hook_pre") || name.hasSuffix("mlp.hook_post") { return ["batch", "position", "d_mlp"] }
        if logits.contains(name) { return ["batch", "position", "class"] }
        return ["batch", "position", "d_model"]
    }
}

/// Glob matching for hook names: `*` matches any run of characters (dots included), `?` one.
public func hookNameMatches(_ pattern: String, _ name: String) -> Bool {
    let p = Array(pattern.utf8), s = Array(name.utf8)
    var pi = 0, si = 0, star = -1, mark = 0
    while si < s.count {
        if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == s[si]) {
            pi += 1; si += 1
        } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
            star = pi; mark = si; pi += 1
        } else if star >= 0 {
            pi = star + 1; mark += 1; si = mark
        } else {
            return false
        }
    }
    while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
}


/// The `count` valid names nearest to `pattern`.
public func nearestNames(to pattern: String, among names: [String], count: Int = 3) -> [String] {
    names.map { ($0, editDistance(pattern, $0)) }.sorted { $0.1 < $1.1 }.prefix(count).map(\.0)
}
