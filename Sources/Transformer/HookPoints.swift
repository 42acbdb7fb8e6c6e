import GraphTask

/// One axis of a hooked tensor: what it indexes, its `dims` label and its extent.
public enum HookAxis: Sendable, Hashable {
    /// The sequences of the block.
    case batch
    /// Token positions.
    case position
    /// Attention heads.
    case head
    /// The attending position of an attention row.
    case query
    /// The attended position of an attention row.
    case key
    /// Features of one head.
    case headWidth
    /// Features of the residual stream.
    case modelWidth
    /// MLP neurons.
    case mlpWidth
    /// The classes of one factor's readout.
    case classes(Factor)

    /// The axis name in the `dims` attribute of recorded datasets (docs/hooks.md).
    public var label: String {
        switch self {
        case .batch: return "batch"
        case .position: return "position"
        case .head: return "head"
        case .query: return "query"
        case .key: return "key"
        case .headWidth: return "d_head"
        case .modelWidth: return "d_model"
        case .mlpWidth: return "d_mlp"
        case .classes: return "class"
        }
    }

    /// The axis's extent in a forward pass of `config` over `batch` sequences of `length` tokens.
    public func extent(config: ModelConfig, batch: Int, length: Int) -> Int {
        switch self {
        case .batch: return batch
        case .position, .query, .key: return length
        case .head: return config.heads
        case .headWidth: return config.headWidth
        case .modelWidth: return config.modelWidth
        case .mlpWidth: return config.mlpWidth
        case .classes(let factor): return config.factorSizes[factor.rawValue]
        }
    }
}

/// A place in the forward pass where hooks fire: its TransformerLens name and the axes of the
/// tensor it passes. The forward pass, the recorder and the activation file's `dims` all read
/// a hook's shape from here.
public struct HookPoint: Sendable, Hashable {
    /// The hook name, e.g. `blocks.0.attn.hook_pattern`.
    public let name: String
    /// The tensor's axes, outermost first (batch first).
    public let axes: [HookAxis]
    /// Whether the tensor holds -infinity where the causal mask hides a key (attention scores).
    public let holdsMaskedScores: Bool

    init(name: String, axes: [HookAxis], holdsMaskedScores: Bool = false) {
        self.name = name
        self.axes = axes
        self.holdsMaskedScores = holdsMaskedScores
    }

    /// The axis labels, for the `dims` attribute of recorded datasets.
    public var dims: [String] { axes.map(\.label) }

    /// The tensor's shape in a forward pass of `config` over `batch` sequences of `length` tokens.
    public func shape(config: ModelConfig, batch: Int, length: Int) -> [Int] {
        axes.map { $0.extent(config: config, batch: batch, length: length) }
    }
}

extension [HookAxis] {
    /// [batch, position, d_model]: the residual stream and everything of its width.
    static let residual: [HookAxis] = [.batch, .position, .modelWidth]
    /// [batch, position, head, d_head]: queries, keys, values and mixed values per head.
    static let perHead: [HookAxis] = [.batch, .position, .head, .headWidth]
    /// [batch, head, query, key]: attention scores and weights.
    static let attention: [HookAxis] = [.batch, .head, .query, .key]
    /// [batch, position, head, d_model]: each head's output.
    static let headResult: [HookAxis] = [.batch, .position, .head, .modelWidth]
    /// [batch, position, d_mlp]: MLP neurons.
    static let mlp: [HookAxis] = [.batch, .position, .mlpWidth]
}

/// Every hook point of a model, in firing order; docs/hooks.md lists them with their axes.
public struct HookPoints: Sendable {
    /// One block's hook points.
    struct Block: Sendable {
        let residPre, ln1, q, k, v, scores, pattern, z, result, attnOut, residMid, ln2, mlpPre, mlpPost, mlpOut, residPost: HookPoint
        init(_ l: Int) {
            func point(_ suffix: String, _ axes: [HookAxis], masked: Bool = false) -> HookPoint {
                HookPoint(name: "blocks.\(l)." + suffix, axes: axes, holdsMaskedScores: masked)
            }
            residPre = point("hook_resid_pre", .residual)
            ln1 = point("ln1.hook_normalized", .residual)
            q = point("attn.hook_q", .perHead); k = point("attn.hook_k", .perHead); v = point("attn.hook_v", .perHead)
            scores = point("attn.hook_attn_scores", .attention, masked: true); pattern = point("attn.hook_pattern", .attention)
            z = point("attn.hook_z", .perHead); result = point("attn.hook_result", .headResult)
            attnOut = point("hook_attn_out", .residual); residMid = point("hook_resid_mid", .residual)
            ln2 = point("ln2.hook_normalized", .residual)
            mlpPre = point("mlp.hook_pre", .mlp); mlpPost = point("mlp.hook_post", .mlp)
            mlpOut = point("hook_mlp_out", .residual); residPost = point("hook_resid_post", .residual)
        }
        var all: [HookPoint] {
            [residPre, ln1, q, k, v, scores, pattern, z, result, attnOut, residMid, ln2, mlpPre, mlpPost, mlpOut, residPost]
        }
    }

    static let embed = HookPoint(name: "hook_embed", axes: .residual)
    static let lnFinal = HookPoint(name: "ln_final.hook_normalized", axes: .residual)
    /// The readout of each factor, in factor order.
    static let logits = Factor.allCases.map { HookPoint(name: "hook_logits." + $0.name, axes: [.batch, .position, .classes($0)]) }

    let blocks: [Block]

    /// Every hook point of a model with `layers` blocks, in firing order.
    public let points: [HookPoint]

    /// Every hook name, in firing order.
    public var names: [String] { points.map(\.name) }

    public init(layers: Int) {
        blocks = (0..<layers).map(Block.init)
        points = [Self.embed] + blocks.flatMap(\.all) + [Self.lnFinal] + Self.logits
    }

    /// The hook point named `name` in a model of any depth (`blocks.7.…` exists in a model of at
    /// least 8 blocks), or nil when no model has one of that name.
    public static func point(named name: String) -> HookPoint? {
        let prefix = "blocks."
        if name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0 else { return nil }
            return Block(layer).all.first { $0.name == name }
        }
        return ([embed, lnFinal] + logits).first { $0.name == name }
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
