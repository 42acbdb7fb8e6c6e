import Foundation
import HDF5
import Transformer

/// Writes one batch's hook tensors into their datasets while the forward pass runs, straight
/// from the forward pass's own buffers: with every position recorded, a hook's [batch, …]
/// tensor is exactly the rows [start ..< start + n] of its dataset at one iteration slot, so
/// nothing needs copying first. Hook functions cannot throw, so the first failure is kept for
/// `finish()`.
///
/// The writes run on a queue of their own, in the order the hooks fired, while the forward pass
/// goes on: the kernel's copy into the page cache was a fifth of a recording's time
/// (docs/benchmarks.md). So that no buffer changes under a pending write, `drain()` waits for
/// them: the recorder calls it from the last hook of every forward pass, before the next pass
/// reuses the buffers, and `ActivationWriter` before any HDF5 call of its own (the library is not
/// thread-safe, and nothing else calls it while a forward pass runs). The mutable fields below
/// are touched on the queue only, or after `drain()`.
final class HookSink: @unchecked Sendable {
    let datasets: [String: H5Dataset]
    let layouts: [String: HookLayout]
    /// The first dataset row of this batch and the batch's sequences.
    let start: Int
    let count: Int
    /// Recorded iterations per sequence.
    let iterations: Int
    private var failure: Error?
    private var written: Set<String> = []
    private let queue = DispatchQueue(label: "latentlens.hook-writes")
    /// Seconds each write waits before it starts (for a test: a write that outlived its buffer
    /// would then record the next pass's values).
    nonisolated(unsafe) static var delayBeforeWrite: Double = 0

    init(datasets: [String: H5Dataset], layouts: [HookLayout], start: Int, count: Int, iterations: Int) {
        self.datasets = datasets
        self.layouts = Dictionary(uniqueKeysWithValues: layouts.map { ($0.name, $0) })
        self.start = start
        self.count = count
        self.iterations = iterations
    }

    /// Hands hook `name`'s tensor for iteration slot `slot` of the batch to the write queue; the
    /// buffer behind `view` must stay as it is until `drain()`.
    func write(_ name: String, slot: Int, _ view: TensorView) {
        let pending = PendingWrite(view: view)
        queue.async { [self] in
            guard failure == nil else { return }
            let view = pending.view
            guard let d = datasets[name], let layout = layouts[name], view.scalars.count == count * layout.rowSize else {
                failure = RecordingError.badBatch("\(name) gave \(view.scalars.count) floats where \(count) sequences need \(count * (layouts[name]?.rowSize ?? 0))")
                return
            }
            if Self.delayBeforeWrite > 0 { Thread.sleep(forTimeInterval: Self.delayBeforeWrite) }
            do {
                try d.write(view.scalars, start: [start, slot] + layout.rowShape.map { _ in 0 }, count: [count, 1] + layout.rowShape)
                written.insert("\(slot) \(name)")
            } catch {
                failure = error
            }
        }
    }

    /// Waits until every write handed over so far has finished.
    func drain() { queue.sync {} }

    /// Throws the first failed write, or if some hook did not fire at some recorded iteration
    /// (its rows would hold whatever the file held there).
    func finish() throws {
        drain()
        if let failure { throw failure }
        guard written.count == layouts.count * iterations else {
            throw RecordingError.badBatch("only \(written.count) of \(layouts.count * iterations) hook tensors of the batch were produced")
        }
    }
}

/// A hook's view of a forward-pass buffer on its way to the write queue; the buffer outlives the
/// write because the queue is drained before the buffer is reused (`HookSink`).
private struct PendingWrite: @unchecked Sendable {
    let view: TensorView
}
