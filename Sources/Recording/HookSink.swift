import HDF5
import Transformer

/// Writes one batch's hook tensors into their datasets while the forward pass runs, straight
/// from the forward pass's own buffers: with every position recorded, a hook's [batch, …]
/// tensor is exactly the rows [start ..< start + n] of its dataset at one iteration slot, so
/// nothing needs copying first. Hook functions cannot throw, so the first failure is kept for
/// `finish()`.
final class HookSink {
    let datasets: [String: H5Dataset]
    let layouts: [String: HookLayout]
    /// The first dataset row of this batch and the batch's sequences.
    let start: Int
    let count: Int
    /// Recorded iterations per sequence.
    let iterations: Int
    private(set) var failure: Error?
    private var written: Set<String> = []

    init(datasets: [String: H5Dataset], layouts: [HookLayout], start: Int, count: Int, iterations: Int) {
        self.datasets = datasets
        self.layouts = Dictionary(uniqueKeysWithValues: layouts.map { ($0.name, $0) })
        self.start = start
        self.count = count
        self.iterations = iterations
    }

    /// Writes hook `name`'s tensor for iteration slot `slot` of the batch.
    func write(_ name: String, slot: Int, _ view: TensorView) {
        guard failure == nil else { return }
        guard let d = datasets[name], let layout = layouts[name], view.scalars.count == count * layout.rowSize else {
            failure = RecordingError.badBatch("\(name) gave \(view.scalars.count) floats where \(count) sequences need \(count * (layouts[name]?.rowSize ?? 0))")
            return
        }
        do {
            try d.write(view.scalars, start: [start, slot] + layout.rowShape.map { _ in 0 }, count: [count, 1] + layout.rowShape)
            written.insert("\(slot) \(name)")
        } catch {
            failure = error
        }
    }

    /// Throws the first failed write, or if some hook did not fire at some recorded iteration
    /// (its rows would hold whatever the file held there).
    func finish() throws {
        if let failure { throw failure }
        guard written.count == layouts.count * iterations else {
            throw RecordingError.badBatch("only \(written.count) of \(layouts.count * iterations) hook tensors of the batch were produced")
        }
    }
}
