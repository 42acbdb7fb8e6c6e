import Foundation

/// One set of forward buffers, lent to one `run` at a time (a concurrent run allocates its own).
final class ForwardBufferPool: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: Activations?

    /// Buffers that fit a [batch, length] block: the kept ones if they fit, else new ones with
    /// headroom for slightly longer blocks later.
    func take(config: ModelConfig, batch: Int, length: Int) -> Activations {
        lock.lock()
        let candidate = kept
        kept = nil
        lock.unlock()
        if let candidate, candidate.fits(batch: batch, length: length) {
            candidate.reshape(batch: batch, length: length)
            return candidate
        }
        let acts = Activations(config: config, batch: batch, length: min(Model.maximumLength, length + length / 8 + 8))
        acts.reshape(batch: batch, length: length)
        return acts
    }

    /// Attention patterns above this many floats (256 MB) are not kept: one huge run should not
    /// hold gigabytes for the rest of the process.
    static let keptPatternLimit = 64 << 20

    /// Returns buffers for the next run.
    func give(_ acts: Activations) {
        guard acts.patternCapacity <= ForwardBufferPool.keptPatternLimit else { return }
        lock.lock()
        if kept == nil || (kept?.rowCapacity ?? 0) < acts.rowCapacity { kept = acts }
        lock.unlock()
    }
}
