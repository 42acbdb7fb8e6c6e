import Transformer

/// Per-head attention outputs o_h = W_O^h z_h (without the output bias).
public enum HeadOutputs {
    /// The rows of hook_z [N, L, H, Dh] at one position per sequence, as [N, H, Dh].
    public static func gather(z: Tensor, positions: [Int]) throws -> Tensor {
        try requireRank(z, 4, "hook_z", "[N, L, H, Dh]")
        let n = z.shape[0], l = z.shape[1], width = z.shape[2] * z.shape[3]
        guard positions.count == n else {
            throw AnalysisError.badProbe("there are \(positions.count) positions for \(n) sequences of hook_z")
        }
        var out = [Float]()
        out.reserveCapacity(n * width)
        for (i, p) in positions.enumerated() {
            guard p >= 0 && p < l else {
                throw AnalysisError.badProbe("position \(p) of sequence \(i) lies outside sequences of \(l) tokens")
            }
            let start = (i * l + p) * width
            out.append(contentsOf: z.scalars[start..<(start + width)])
        }
        return Tensor(shape: [n, z.shape[2], z.shape[3]], scalars: out)
    }

    /// Projects z [N, H, Dh] through each head's columns of W_O ([D, H·Dh]) into [N, H, D]:
    /// o[n, h, j] = Σ_i W_O[j, h·Dh + i] z[n, h, i].
    public static func project(z: Tensor, outputWeight: Tensor) throws -> Tensor {
        try requireRank(z, 3, "the head values z", "[N, H, Dh]")
        try requireRank(outputWeight, 2, "the output projection W_O", "[D, H·Dh]")
        let n = z.shape[0], h = z.shape[1], dh = z.shape[2], d = outputWeight.shape[0]
        guard outputWeight.shape[1] == h * dh else {
            throw AnalysisError.wrongShape(what: "the output projection W_O", expected: "[D, \(h * dh)] for \(h) heads of \(dh)",
                                           found: outputWeight.shape)
        }
        var out = [Float](repeating: 0, count: n * h * d)
        z.scalars.withUnsafeBufferPointer { zp in
            outputWeight.scalars.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n {
                        for head in 0..<h {
                            let zRow = (i * h + head) * dh, oRow = (i * h + head) * d
                            for j in 0..<d {
                                var sum: Float = 0
                                let wRow = j * h * dh + head * dh
                                for k in 0..<dh { sum += w[wRow + k] * zp[zRow + k] }
                                o[oRow + j] = sum
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, h, d], scalars: out)
    }

    /// Per-head outputs [N, H, D] at one position per sequence, from hook_z [N, L, H, Dh].
    public static func atPositions(z: Tensor, positions: [Int], outputWeight: Tensor) throws -> Tensor {
        try project(z: gather(z: z, positions: positions), outputWeight: outputWeight)
    }

    /// The outputs of one head, [N, D], from per-head outputs [N, H, D].
    public static func head(_ head: Int, of outputs: Tensor) throws -> Tensor {
        try requireRank(outputs, 3, "the head outputs", "[N, H, D]")
        let n = outputs.shape[0], h = outputs.shape[1], d = outputs.shape[2]
        guard head >= 0 && head < h else { throw AnalysisError.badParameter("head \(head) does not exist among \(h) heads") }
        var out = [Float]()
        out.reserveCapacity(n * d)
        for i in 0..<n {
            let start = (i * h + head) * d
            out.append(contentsOf: outputs.scalars[start..<(start + d)])
        }
        return Tensor(shape: [n, d], scalars: out)
    }
}
