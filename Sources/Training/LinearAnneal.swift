/// A training setting annealed linearly from a starting value to the plain model's value: the
/// generic remedies for attention-entropy collapse (research/training-history.md, "Fresh lineage
/// on the authors' data mix"). They treat every head alike and act in training only, so the
/// model they leave behind is the plain architecture, evaluated and recorded as such.
///
/// value(step) = initial + (final − initial) · (step − fromStep) / steps while the anneal runs,
/// and `final` from `fromStep + steps` on (and before `fromStep`, which a run never revisits).
public struct LinearAnneal<Setting: AnnealedSetting>: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The value at `fromStep`.
    public var initial: Float
    /// Steps over which the value moves linearly to `Setting.final`, at least 1.
    public var steps: Int
    /// The step at which the anneal began: 0 for a run started with it, the resume step for a
    /// run given it on `--resume`.
    public var fromStep: Int

    /// An anneal from `initial` to `Setting.final` over `steps` steps, beginning at `fromStep`.
    public init(initial: Float, steps: Int, fromStep: Int = 0) {
        self.initial = initial
        self.steps = steps
        self.fromStep = fromStep
    }

    /// Reads `V0:STEPS` (for example `3:15000`), the form the option takes.
    public init?(_ text: String, fromStep: Int = 0) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let initial = Float(parts[0]), let steps = Int(parts[1]) else { return nil }
        self.init(initial: initial, steps: steps, fromStep: fromStep)
    }

    /// The value at optimizer step `step`.
    public func value(at step: Int) -> Float {
        let elapsed = step - fromStep
        guard elapsed >= 0, elapsed < steps else { return Setting.final }
        return initial + (Setting.final - initial) * Float(elapsed) / Float(steps)
    }

    /// Why this anneal cannot be used, or nil when it can.
    public var problem: String? {
        guard initial.isFinite, Setting.allowedInitial(initial) else {
            return "\(Setting.option) needs \(Setting.initialDescription), found \(initial)"
        }
        guard steps >= 1, steps <= TrainingRecipe.maximumSteps else {
            return "\(Setting.option) needs 1...\(TrainingRecipe.maximumSteps) steps to anneal over, found \(steps)"
        }
        guard fromStep >= 0 else { return "\(Setting.option) cannot begin at a negative step (\(fromStep))" }
        return nil
    }

    /// `V0 → final over STEPS steps from step S`, as the model card and log show it.
    public var description: String {
        "\(initial) → \(Setting.final.formatted) over \(steps) steps" + (fromStep > 0 ? " from step \(fromStep)" : "")
    }
}

/// What a `LinearAnneal` moves: its option, the value it ends at, and the starting values allowed.
public protocol AnnealedSetting: Sendable {
    /// The value of the plain model, reached at the end of the anneal.
    static var final: Float { get }
    /// The `lens train` option that sets it.
    static var option: String { get }
    /// The allowed starting values, in words (for the message when one is not).
    static var initialDescription: String { get }
    /// Whether `value` (finite) may start an anneal.
    static func allowedInitial(_ value: Float) -> Bool
}

/// The attention temperature τ: every score of every head is divided by τ before the softmax.
public enum TemperatureSetting: AnnealedSetting {
    public static let final: Float = 1
    public static let option = "--attention-temperature"
    public static let initialDescription = "a starting temperature in (0, 100]"
    public static func allowedInitial(_ value: Float) -> Bool { value > 0 && value <= 100 }
}

/// The attention-entropy bonus λ: the loss gains −λ · H̄, H̄ the mean entropy (nats) of the
/// attention rows of every head and layer at the supervised positions, weighted as the loss
/// weights them (`Backpropagation.lossAndGradient`).
public enum EntropyBonusSetting: AnnealedSetting {
    public static let final: Float = 0
    public static let option = "--attention-entropy-bonus"
    public static let initialDescription = "a starting weight in (0, 10]"
    public static func allowedInitial(_ value: Float) -> Bool { value > 0 && value <= 10 }
}

/// Attention scores divided by τ annealed to 1.
public typealias AttentionTemperature = LinearAnneal<TemperatureSetting>
/// A bonus −λ·H̄ on the loss for soft attention, λ annealed to 0.
public typealias AttentionEntropyBonus = LinearAnneal<EntropyBonusSetting>

extension Float {
    /// 1 as "1", 0 as "0", others as Swift prints them.
    fileprivate var formatted: String { self == rounded() ? String(Int(self)) : "\(self)" }
}
