/// What a hook function is told besides the tensor: which point fired, at which iteration.
public struct HookEvent: Sendable {
    public let name: String
    public let iteration: Int
}

/// A hooked tensor read in place: the forward pass's own buffer, valid only during the hook call.
public struct TensorView {
    /// Extent of each axis, outermost first (the batch axis included).
    public let shape: [Int]
    /// Elements in row-major order.
    public let scalars: UnsafeBufferPointer<Float>
}

/// Which recurrent iterations a hook fires on.
public enum IterationFilter: Sendable {
    case all
    case only(Set<Int>)
    /// The last iteration of a run, whatever its count.
    case last

    func contains(_ iteration: Int, of total: Int) -> Bool {
        switch self {
        case .all: return true
        case .only(let set): return set.contains(iteration)
        case .last: return iteration == total - 1
        }
    }
}

/// A set of hook functions attached to hook points by glob, for one or more forward passes.
///
/// Observers receive a copy of the tensor, readers a view of the forward pass's buffer (no copy);
/// interveners may replace it (same shape) and the forward pass continues from their tensor.
/// With no `Hooks` at all, the forward pass does no hook work whatsoever.
public final class Hooks {
    enum Kind {
        case observe((HookEvent, Tensor) -> Void)
        case read((HookEvent, TensorView) -> Void)
        case intervene((HookEvent, inout Tensor) -> Void)
    }
    struct Entry { let pattern: String; let iterations: IterationFilter; let kind: Kind }

    let validNames: [String]
    /// The model's shape, for head-level interventions.
    let config: ModelConfig
    var entries: [Entry] = []
    /// Names with at least one entry, resolved when entries are added.
    var activeNames: Set<String> = []

    /// Hooks for a model of `config`.
    public init(config: ModelConfig) {
        validNames = HookPoints(layers: config.layers).names
        self.config = config
    }

    /// Every hook name of this model.
    public var names: [String] { validNames }

    /// The hook names a glob selects; throws with the nearest names when it selects none.
    public func resolve(_ pattern: String) throws -> [String] {
        let matches = validNames.filter { hookNameMatches(pattern, $0) }
        if matches.isEmpty {
            throw ModelError.unknownHook(pattern: pattern, suggestions: nearestNames(to: pattern, among: validNames))
        }
        return matches
    }

    /// Calls `body` with a copy of every tensor whose hook name matches `pattern`.
    public func observe(_ pattern: String, iterations: IterationFilter = .all,
                        _ body: @escaping (HookEvent, Tensor) -> Void) throws {
        activeNames.formUnion(try resolve(pattern))
        entries.append(Entry(pattern: pattern, iterations: iterations, kind: .observe(body)))
    }

    /// Calls `body` with a view of every tensor whose hook name matches `pattern`, without copying
    /// it: the view is valid only until `body` returns, so copy out whatever is kept.
    public func read(_ pattern: String, iterations: IterationFilter = .all,
                     _ body: @escaping (HookEvent, TensorView) -> Void) throws {
        activeNames.formUnion(try resolve(pattern))
        entries.append(Entry(pattern: pattern, iterations: iterations, kind: .read(body)))
    }

    /// Lets `body` replace every tensor whose hook name matches `pattern`.
    public func intervene(_ pattern: String, iterations: IterationFilter = .all,
                          _ body: @escaping (HookEvent, inout Tensor) -> Void) throws {
        activeNames.formUnion(try resolve(pattern))
        entries.append(Entry(pattern: pattern, iterations: iterations, kind: .intervene(body)))
    }

    /// Zeroes `heads` of `layer` in its hook_z [B, L, H, Dh] at every position and iteration
    /// (zero-ablation: the heads write nothing to the residual stream).
    public func zeroAblate(layer: Int, heads: [Int]) throws {
        // The intervention writes through an unsafe buffer: a head outside the layer must not reach it.
        if let problem = Hooks.ablationProblem(config: config, layer: layer, heads: heads) {
            throw ModelError.badInput(problem)
        }
        let ablated = Set(heads), dh = config.headWidth, h = config.heads
        try intervene("blocks.\(layer).attn.hook_z") { _, z in
            let rows = z.count / (h * dh)
            z.scalars.withUnsafeMutableBufferPointer { buffer in
                for r in 0..<rows {
                    for head in ablated { for i in 0..<dh { buffer[(r * h + head) * dh + i] = 0 } }
                }
            }
        }
    }

    /// Zeroes the listed heads (layer → heads) in every forward pass, layer by layer.
    public func zeroAblate(_ heads: [Int: [Int]]) throws {
        for (layer, list) in heads.sorted(by: { $0.key < $1.key }) { try zeroAblate(layer: layer, heads: list) }
    }

    /// Why `heads` of `layer` cannot be ablated in a model of `config`, as a sentence; nil when they can.
    /// Callers that check a user's spec before any forward pass wrap it in their own error.
    public static func ablationProblem(config: ModelConfig, layer: Int, heads: [Int]) -> String? {
        guard (0..<config.layers).contains(layer) else {
            return "layer \(layer) does not exist in a model of \(config.layers) layers"
        }
        if let bad = heads.first(where: { !(0..<config.heads).contains($0) }) {
            return "head \(bad) does not exist among the \(config.heads) heads of layer \(layer)"
        }
        return nil
    }

    /// Whether any entry may fire at `name` (cheap; checked before any copy is made).
    @inline(__always) func isActive(_ name: String) -> Bool { activeNames.contains(name) }

    /// Fires every matching entry on the buffer at `pointer`, copying interventions back.
    /// A copy is made only for observers and interveners; readers see the buffer itself, which
    /// holds any earlier intervention's tensor because interventions are copied back at once.
    func fire(_ name: String, iteration: Int, of total: Int, pointer: UnsafeMutablePointer<Float>, shape: [Int]) {
        var tensor: Tensor?
        for entry in entries where entry.iterations.contains(iteration, of: total) && hookNameMatches(entry.pattern, name) {
            let event = HookEvent(name: name, iteration: iteration)
            switch entry.kind {
            case .read(let body):
                body(event, TensorView(shape: shape, scalars: UnsafeBufferPointer(start: pointer, count: shape.reduce(1, *))))
            case .observe(let body):
                let current = tensor ?? Tensor(shape: shape, copying: pointer)
                body(event, current)
                tensor = current
            case .intervene(let body):
                var current = tensor ?? Tensor(shape: shape, copying: pointer)
                body(event, &current)
                precondition(current.shape == shape, "hook on \(name) changed the tensor's shape from \(shape) to \(current.shape)")
                current.scalars.withUnsafeBufferPointer { source in
                    if let base = source.baseAddress { pointer.update(from: base, count: current.count) }
                }
                tensor = current
            }
        }
    }
}
