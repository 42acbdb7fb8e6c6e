import Foundation
import CBLAS
import GraphTask

/// The paper's recurrent transformer: parameters in one flat buffer laid out by `ParameterLayout`.
public final class Model: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    let weights: FloatStorage
    let hookPoints: HookPoints
    /// Forward buffers kept between `run` calls: allocating and zeroing them anew cost about a
    /// tenth of a 32 × 256 forward pass in page faults and memset (perf).
    let bufferPool = ForwardBufferPool()
    /// Longest sequence a forward pass accepts (attention keeps an L × L pattern per head).
    public static let maximumLength = 4096

    /// A model of `config` with all parameters zero.
    public init(config: ModelConfig) throws {
        try config.validate()
        self.config = config
        layout = ParameterLayout(config: config)
        weights = FloatStorage(count: layout.totalCount)
        hookPoints = HookPoints(layers: config.layers)
        BLASThreads.configure()
    }

    /// How `randomlyInitialised` draws the parameters.
    public enum InitialisationScheme: String, Codable, Sendable, CaseIterable {
        /// GPT-2 style: weights N(0, 0.02), biases 0, LayerNorm 1 and 0.
        case normal
        /// PyTorch's module defaults, as a model built with torch.nn gets them.
        case pytorch
    }

    /// A freshly initialised model (GPT-2 style unless `scheme` says otherwise).
    public static func randomlyInitialised(config: ModelConfig, seed: UInt64,
                                           scheme: InitialisationScheme = .normal) throws -> Model {
        let model = try Model(config: config)
        var rng = TaskRNG(seed: seed)
        for slot in model.layout.slots {
            let p = model.weights.pointer + slot.offset
            switch scheme {
            case .normal:
                if slot.role == .bias {
                    p.update(repeating: 0, count: slot.count)
                } else if slot.kind == .layerNorm {
                    p.update(repeating: 1, count: slot.count)
                } else {
                    for i in 0..<slot.count { p[i] = 0.02 * gaussian(&rng) }
                }
            case .pytorch:
                // torch defaults: nn.Embedding N(0, 1); nn.Linear weight and bias U(±1/√fan_in);
                // nn.LayerNorm weight 1, bias 0.
                switch slot.kind {
                case .layerNorm:
                    p.update(repeating: slot.role == .bias ? 0 : 1, count: slot.count)
                case .embedding:
                    for i in 0..<slot.count { p[i] = gaussian(&rng) }
                case .attention, .mlp, .readout:
                    let bound = 1 / Float(max(slot.fanIn ?? 1, 1)).squareRoot()
                    for i in 0..<slot.count { p[i] = bound * (2 * rng.unitFloat() - 1) }
                }
            }
        }
        return model
    }

    /// A copy of all parameters, flat, in layout order.
    public var parameters: [Float] {
        get { weights.array }
        set {
            precondition(newValue.count == layout.totalCount, "parameter count \(newValue.count) ≠ \(layout.totalCount)")
            newValue.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { weights.pointer.update(from: base, count: layout.totalCount) }
            }
        }
    }

    /// The parameter tensor named by its state_dict key.
    public func tensor(named name: String) -> Tensor? {
        guard let slot = layout.slot(named: name) else { return nil }
        return Tensor(shape: slot.shape, copying: weights.pointer + slot.offset)
    }

    /// Replaces the parameter tensor `name`; its shape must match.
    public func setTensor(named name: String, _ tensor: Tensor) throws {
        guard let slot = layout.slot(named: name) else { throw ModelError.missingTensor(name: name, file: "model") }
        guard slot.shape == tensor.shape else {
            throw ModelError.wrongShape(name: name, expected: slot.shape, found: tensor.shape, file: "model")
        }
        tensor.scalars.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { (weights.pointer + slot.offset).update(from: base, count: slot.count) }
        }
    }

    /// The flat parameter buffer, for optimizers that update it in place.
    public var parameterPointer: UnsafeMutablePointer<Float> { weights.pointer }

    /// Pointer to the parameter at `offset` in the flat buffer.
    @inline(__always) func parameter(_ offset: Int) -> UnsafeMutablePointer<Float> { weights.pointer + offset }
}

/// A standard normal sample (Box–Muller) from the task RNG, so initialisation is reproducible.
public func gaussian(_ rng: inout TaskRNG) -> Float {
    let u1 = max(rng.unitDouble(), 1e-300), u2 = rng.unitDouble()
    return Float((-2 * logDouble(u1)).squareRoot() * cosDouble(2 * Double.pi * u2))
}

/// OpenBLAS runs single-threaded: `gemm` and `parallelItems` spread work over the cores.
enum BLASThreads {
    static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()
    static func configure() { _ = configured }
}
