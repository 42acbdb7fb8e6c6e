/// One batch of hook values laid out as the file stores them ([sequence, iteration, row…] per
/// hook), allocated once per recording and refilled batch after batch: the hooks write straight
/// into it and the file write reads it, so a hooked tensor is copied once on its way to HDF5 and
/// no batch allocates (or page-faults in) fresh memory.
final class HookRows {
    let layouts: [HookLayout]
    /// Sequences one batch may hold.
    let capacity: Int
    /// Recorded iterations per sequence.
    let iterations: Int
    private let storage: [UnsafeMutableBufferPointer<Float>]
    private let slots: [String: Int]

    init(layouts: [HookLayout], capacity: Int, iterations: Int) {
        self.layouts = layouts
        self.capacity = capacity
        self.iterations = iterations
        storage = layouts.map { layout in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, capacity * iterations * layout.rowSize))
            buffer.initialize(repeating: 0)
            return buffer
        }
        slots = Dictionary(uniqueKeysWithValues: layouts.enumerated().map { ($0.element.name, $0.offset) })
    }

    deinit { for buffer in storage { buffer.deallocate() } }

    /// Where sequence `sequence`, iteration slot `slot` of hook `name` starts, or nil for an unknown hook.
    func row(_ name: String, sequence: Int, slot: Int) -> UnsafeMutablePointer<Float>? {
        guard let i = slots[name], let base = storage[i].baseAddress else { return nil }
        return base + (sequence * iterations + slot) * layouts[i].rowSize
    }

    /// The rows of the first `count` sequences of hook `name`, or nil for an unknown hook.
    func rows(_ name: String, count: Int) -> UnsafeBufferPointer<Float>? {
        guard let i = slots[name], count <= capacity else { return nil }
        return UnsafeBufferPointer(rebasing: storage[i][0..<(count * iterations * layouts[i].rowSize)])
    }

    /// Bytes the first `count` sequences take, over every hook.
    func byteCount(count: Int) -> Int {
        layouts.reduce(0) { $0 + 4 * count * iterations * $1.rowSize }
    }

    /// Copies of the first `count` sequences' rows, per hook (for `Recorder.runBatch`'s arrays).
    func arrays(count: Int) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: layouts.map { ($0.name, Array(rows($0.name, count: count) ?? UnsafeBufferPointer(start: nil, count: 0))) })
    }
}
