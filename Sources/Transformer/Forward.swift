import CBLAS
import GraphTask

extension Model {
    /// Runs one forward pass over the tokens already in `acts.tokens`.
    ///
    /// `readouts[f]` says whether factor f's logits are computed (training needs only the value
    /// factor). Hooks fire with `iteration` of `iterations`; with `hooks == nil` nothing extra runs.
    /// `dropout` (training only) drops units of attn_out and mlp_out after their hooks fired,
    /// before the residual adds, and keeps the masks in `acts` for the backward pass; its
    /// attention rate drops attention weights inside the attention kernel.
    func forward(_ acts: Activations, hooks: Hooks?, iteration: Int = 0, of iterations: Int = 1,
                 readouts: [Bool] = [true, true, true, true], dropout: Dropout? = nil) {
        let c = config, L = acts.length, B = acts.batch, N = acts.rows
        let D = c.modelWidth, F = c.mlpWidth, W = c.relativeWindow, H = c.heads, Dh = c.headWidth
        let eps = c.layerNormEpsilon
        let shape = AttentionShape(batch: B, length: L, heads: H, headWidth: Dh, window: W)
        let points = hookPoints
        acts.setDropout(dropout)

        // Drops units of a sublayer output in place; the backward of its Linear reads only the
        // Linear's input, so the pre-dropout values need not be kept.
        func drop(_ out: UnsafeMutablePointer<Float>, layer: Int, site: DropoutSite) {
            guard let d = acts.dropout, let mask = acts.dropoutMask(layer: layer, site: site) else { return }
            fillDropoutMask(mask, d, batch: B, length: L, width: D, layer: layer, site: site)
            dropoutForward(out, out, mask: mask, count: N * D)
        }

        // Fires the hooks on `point` with `buffer`, shaped by the point's axes, when someone registered one.
        @inline(__always) func hook(_ point: HookPoint, _ buffer: UnsafeMutablePointer<Float>) {
            guard let hooks, hooks.isActive(point.name) else { return }
            hooks.fire(point.name, iteration: iteration, of: iterations, pointer: buffer,
                       shape: point.shape(config: c, batch: B, length: L))
        }

        embeddingForward(acts.resid[0].pointer, tokens: acts.tokens.pointer,
                         tables: layout.embeddings.map { UnsafePointer(parameter($0)) }, rows: N, width: D)
        hook(HookPoints.embed, acts.resid[0].pointer)

        layerNormForward(acts.relLN.pointer, acts.relMean.pointer, acts.relRstd.pointer,
                         parameter(layout.relEmbeddings), parameter(layout.relLNWeight), parameter(layout.relLNBias),
                         rows: W, width: D, epsilon: eps)

        for l in 0..<c.layers {
            let p = layout.blocks[l], a = acts.blocks[l], n = points.blocks[l]
            let x = acts.resid[l].pointer
            hook(n.residPre, x)
            layerNormForward(a.ln1.pointer, a.ln1Mean.pointer, a.ln1Rstd.pointer, x,
                             parameter(p.ln1Weight), parameter(p.ln1Bias), rows: N, width: D, epsilon: eps)
            hook(n.ln1, a.ln1.pointer)
            linearForward(a.q.pointer, a.ln1.pointer, parameter(p.qWeight), parameter(p.qBias), rows: N, inWidth: D, outWidth: D)
            linearForward(a.k.pointer, a.ln1.pointer, parameter(p.kWeight), parameter(p.kBias), rows: N, inWidth: D, outWidth: D)
            linearForward(a.v.pointer, a.ln1.pointer, parameter(p.vWeight), parameter(p.vBias), rows: N, inWidth: D, outWidth: D)
            hook(n.q, a.q.pointer)
            hook(n.k, a.k.pointer)
            hook(n.v, a.v.pointer)
            linearForward(a.relK.pointer, acts.relLN.pointer, parameter(p.relKWeight), parameter(p.relKBias), rows: W, inWidth: D, outWidth: D)
            linearForward(a.relQ.pointer, acts.relLN.pointer, parameter(p.relQWeight), parameter(p.relQBias), rows: W, inWidth: D, outWidth: D)

            var scores: UnsafeMutablePointer<Float>? = nil
            if let hooks, hooks.isActive(n.scores.name) {
                if acts.scores == nil { acts.scores = FloatStorage(count: acts.patternCapacity) }
                scores = acts.scores?.pointer
            }
            relativeAttentionForward(z: a.z.pointer, pattern: a.pattern.pointer, scores: scores,
                                     q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
                                     relK: a.relK.pointer, relQ: a.relQ.pointer, shape: shape,
                                     dropout: acts.dropout, layer: l,
                                     wholePattern: hooks?.isActive(n.pattern.name) ?? false)
            if let scores { hook(n.scores, scores) }
            hook(n.pattern, a.pattern.pointer)
            hook(n.z, a.z.pointer)

            if let hooks, hooks.isActive(n.result.name) {
                // Per-head outputs, summed afterwards so that an intervention on them takes effect.
                if acts.result == nil { acts.result = FloatStorage(count: acts.rowCapacity * H * D) }
                guard let result = acts.result?.pointer else { return }
                headResults(result, z: a.z.pointer, oWeight: parameter(p.oWeight), rows: N)
                hook(n.result, result)
                for r in 0..<N {
                    let out = a.attnOut.pointer + r * D
                    out.update(from: parameter(p.oBias), count: D)
                    for h in 0..<H { accumulate(out, result + (r * H + h) * D, count: D) }
                }
            } else {
                linearForward(a.attnOut.pointer, a.z.pointer, parameter(p.oWeight), parameter(p.oBias), rows: N, inWidth: D, outWidth: D)
            }
            hook(n.attnOut, a.attnOut.pointer)
            drop(a.attnOut.pointer, layer: l, site: .attentionOutput)
            addForward(a.residMid.pointer, x, a.attnOut.pointer, count: N * D)
            hook(n.residMid, a.residMid.pointer)

            layerNormForward(a.ln2.pointer, a.ln2Mean.pointer, a.ln2Rstd.pointer, a.residMid.pointer,
                             parameter(p.ln2Weight), parameter(p.ln2Bias), rows: N, width: D, epsilon: eps)
            hook(n.ln2, a.ln2.pointer)
            linearForward(a.mlpPre.pointer, a.ln2.pointer, parameter(p.fcWeight), parameter(p.fcBias), rows: N, inWidth: D, outWidth: F)
            hook(n.mlpPre, a.mlpPre.pointer)
            reluForward(a.mlpPost.pointer, a.mlpPre.pointer, count: N * F)
            hook(n.mlpPost, a.mlpPost.pointer)
            linearForward(a.mlpOut.pointer, a.mlpPost.pointer, parameter(p.projWeight), parameter(p.projBias), rows: N, inWidth: F, outWidth: D)
            hook(n.mlpOut, a.mlpOut.pointer)
            drop(a.mlpOut.pointer, layer: l, site: .mlpOutput)
            addForward(acts.resid[l + 1].pointer, a.residMid.pointer, a.mlpOut.pointer, count: N * D)
            hook(n.residPost, acts.resid[l + 1].pointer)
        }

        layerNormForward(acts.lnFinal.pointer, acts.lnFinalMean.pointer, acts.lnFinalRstd.pointer, acts.resid[c.layers].pointer,
                         parameter(layout.lnFinalWeight), parameter(layout.lnFinalBias), rows: N, width: D, epsilon: eps)
        hook(HookPoints.lnFinal, acts.lnFinal.pointer)
        let sizes = c.factorSizes
        for f in 0..<Factor.count where readouts[f] {
            linearForward(acts.logits[f].pointer, acts.lnFinal.pointer, parameter(layout.readoutWeights[f]),
                          parameter(layout.readoutBiases[f]), rows: N, inWidth: D, outWidth: sizes[f])
            hook(HookPoints.logits[f], acts.logits[f].pointer)
        }
    }

    /// result[r, h, :] = z[r, h, :] · Wo[:, h·Dh ..< (h+1)·Dh]ᵀ  (no bias).
    func headResults(_ result: UnsafeMutablePointer<Float>, z: UnsafePointer<Float>,
                     oWeight: UnsafePointer<Float>, rows: Int) {
        let D = config.modelWidth, H = config.heads, Dh = config.headWidth
        for h in 0..<H {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(D), Int32(Dh),
                        1, z + h * Dh, Int32(D), oWeight + h * Dh, Int32(D), 0, result + h * D, Int32(H * D))
        }
    }
}
