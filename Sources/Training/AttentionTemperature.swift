/// An attention temperature annealed linearly to 1: a generic remedy for attention-entropy
/// collapse that treats every head alike (research/training-history.md, "Fresh lineage on the
/// authors' data mix"). Training only: the model it leaves behind is the plain architecture,
/// evaluated and recorded at τ = 1.
///
/// τ(step) = initial + (1 − initial) · (step − fromStep) / steps while the anneal runs, and 1
/// from `fromStep + steps` on (and before `fromStep`, which a run never revisits).
public struct AttentionTemperature: Codable, Sendable, Equatable, CustomStringConvertible {
    /// τ at `fromStep`, above 0.
    public var initial: Float
    /// Steps over which τ falls (or rises) linearly to 1, at least 1.
    public var steps: Int
    /// The step at which the anneal began: 0 for a run started with it, the resume step for a
    /// run given it on `--resume`.
    public var fromStep: Int

    /// An anneal from `initial` to 1 over `steps` steps, beginning at `fromStep`.
    public init(initial: Float, steps: Int, fromStep: Int = 0) {
        self.initial = initial
        self.steps = steps
        self.fromStep = fromStep
    }

    /// Reads `T0:STEPS` (for example `3:15000`), the form `--attention-temperature` takes.
    public init?(_ text: String, fromStep: Int = 0) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let initial = Float(parts[0]), let steps = Int(parts[1]) else { return nil }
        self.init(initial: initial, steps: steps, fromStep: fromStep)
    }

    /// The temperature of optimizer step `step`.
    public func value(at step: Int) -> Float {
        let elapsed = step - fromStep
        guard elapsed >= 0, elapsed < steps else { return 1 }
        return initial + (1 - initial) * Float(elapsed) / Float(steps)
    }

    /// Why this anneal cannot be used, or nil when it can.
    public var problem: String? {
        guard initial.isFinite, initial > 0, initial <= 100 else {
            return "--attention-temperature needs a starting temperature in (0, 100], found \(initial)"
        }
        guard steps >= 1, steps <= TrainingRecipe.maximumSteps else {
            return "--attention-temperature needs 1...\(TrainingRecipe.maximumSteps) steps to anneal over, found \(steps)"
        }
        guard fromStep >= 0 else { return "an attention temperature cannot begin at a negative step (\(fromStep))" }
        return nil
    }

    /// `T0:STEPS from step S`, as the model card and log show it.
    public var description: String {
        "\(initial) → 1 over \(steps) steps" + (fromStep > 0 ? " from step \(fromStep)" : "")
    }
}
