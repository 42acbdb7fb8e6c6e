import GraphTask

/// Every intermediate of one forward pass over a [batch, length] token block, kept for the
/// backward pass and for hooks. Buffers are allocated once and reused while the block fits.
final class Activations {
    let config: ModelConfig
    /// The block shape currently held; any shape within the capacity fits.
    private(set) var batch: Int, length: Int
    var rows: Int { batch * length }
    /// Rows and pattern entries the buffers were allocated for.
    let rowCapacity: Int, patternCapacity: Int, batchCapacity: Int

    /// Per-block intermediates.
    struct Block {
        let ln1, ln1Mean, ln1Rstd, q, k, v, pattern, z, attnOut, residMid: FloatStorage
        let ln2, ln2Mean, ln2Rstd, mlpPre, mlpPost, mlpOut: FloatStorage
        let relK, relQ: FloatStorage
    }

    let tokens: Int32Storage
    /// resid[0] is the embedding; resid[l + 1] is block l's output.
    let resid: [FloatStorage]
    let blocks: [Block]
    let relLN, relMean, relRstd: FloatStorage
    let lnFinal, lnFinalMean, lnFinalRstd: FloatStorage
    let logits: [FloatStorage]
    /// Scratch for hooks that need a tensor the forward pass does not otherwise materialise
    /// (allocated the first time such a hook is registered).
    var scores: FloatStorage?
    var result: FloatStorage?
    /// Dropout masks of the last forward pass, one [rows, D] slice per layer and site (allocated
    /// the first time a training pass uses dropout; `Model.run`'s buffers never need them).
    var dropoutMasks: FloatStorage?
    /// The dropout of the last forward pass (nil: none, and `dropoutMask` answers nil).
    var dropout: Dropout?

    init(config: ModelConfig, batch: Int, length: Int) {
        self.config = config
        self.batch = batch
        self.length = length
        rowCapacity = batch * length
        patternCapacity = batch * config.heads * length * length
        batchCapacity = batch
        let n = batch * length, d = config.modelWidth, f = config.mlpWidth, w = config.relativeWindow
        let patternCount = batch * config.heads * length * length
        tokens = Int32Storage(count: n * Factor.count)
        resid = (0...config.layers).map { _ in FloatStorage(count: n * d) }
        blocks = (0..<config.layers).map { _ in
            Block(ln1: FloatStorage(count: n * d), ln1Mean: FloatStorage(count: n), ln1Rstd: FloatStorage(count: n),
                  q: FloatStorage(count: n * d), k: FloatStorage(count: n * d), v: FloatStorage(count: n * d),
                  pattern: FloatStorage(count: patternCount), z: FloatStorage(count: n * d),
                  attnOut: FloatStorage(count: n * d), residMid: FloatStorage(count: n * d),
                  ln2: FloatStorage(count: n * d), ln2Mean: FloatStorage(count: n), ln2Rstd: FloatStorage(count: n),
                  mlpPre: FloatStorage(count: n * f), mlpPost: FloatStorage(count: n * f), mlpOut: FloatStorage(count: n * d),
                  relK: FloatStorage(count: w * d), relQ: FloatStorage(count: w * d))
        }
        relLN = FloatStorage(count: w * d)
        relMean = FloatStorage(count: w)
        relRstd = FloatStorage(count: w)
        lnFinal = FloatStorage(count: n * d)
        lnFinalMean = FloatStorage(count: n)
        lnFinalRstd = FloatStorage(count: n)
        logits = config.factorSizes.map { FloatStorage(count: n * $0) }
    }

    /// Whether a block of this shape fits in the buffers.
    func fits(batch: Int, length: Int) -> Bool {
        batch <= batchCapacity && batch * length <= rowCapacity && batch * config.heads * length * length <= patternCapacity
    }

    /// Prepares the masks of `dropout` for the current block (nil or rate 0: no dropout).
    func setDropout(_ dropout: Dropout?) {
        guard let dropout, dropout.isActive else {
            self.dropout = nil
            return
        }
        self.dropout = dropout
        guard dropout.rate > 0 else { return }
        let sites = config.layers * DropoutSite.allCases.count
        if dropoutMasks == nil { dropoutMasks = FloatStorage(count: sites * rowCapacity * config.modelWidth) }
    }

    /// The mask applied at `site` of block `layer` in the last forward pass, nil without dropout.
    /// Slices are `rowCapacity` rows apart so that every block shape that fits can use them.
    func dropoutMask(layer: Int, site: DropoutSite) -> UnsafeMutablePointer<Float>? {
        guard let dropout, dropout.rate > 0, let masks = dropoutMasks else { return nil }
        return masks.pointer + (layer * DropoutSite.allCases.count + site.rawValue) * rowCapacity * config.modelWidth
    }

    /// Reuses the buffers for a block of another shape (which must fit).
    func reshape(batch: Int, length: Int) {
        precondition(fits(batch: batch, length: length), "block \(batch) × \(length) does not fit the buffers")
        self.batch = batch
        self.length = length
    }
}
