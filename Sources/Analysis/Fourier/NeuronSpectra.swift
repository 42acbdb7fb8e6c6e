import Transformer

/// The 2-D Fourier spectra of every neuron of an activation grid [p, p, F] over (a, b).
///
/// Power is energy summed over the p² grid cells (Parseval: Σ coefficients² = Σ values²);
/// a neuron's variance is its energy without the constant term (p² × its variance over cells).
public struct NeuronSpectra: Sendable {
    public let basis: FourierBasis
    public let neurons: Int
    /// Coefficients, [i][j][neuron] flattened: i indexes the basis in a, j in b.
    public let coefficients: [Double]
    /// Per neuron: energy of the centred activations.
    public let variance: [Double]
    /// Per neuron: energy of the projection onto functions of (a + b) mod p, centred.
    public let aPlusBPower: [Double]

    /// Transforms `activations` [p, p, F] (axis 0: a, axis 1: b).
    public init(activations: Tensor, basis: FourierBasis) throws {
        let p = basis.modulus
        try requireRank(activations, 3, "the MLP activations over the value grid", "[\(p), \(p), F]")
        guard activations.shape[0] == p, activations.shape[1] == p else {
            throw AnalysisError.wrongShape(what: "the MLP activations over the value grid", expected: "[\(p), \(p), F]",
                                           found: activations.shape)
        }
        let f = activations.shape[2]
        var half = [Double](repeating: 0, count: p * p * f)  // Σ_a B[i][a] X[a, b, :]
        var coefficients = [Double](repeating: 0, count: p * p * f)
        activations.scalars.withUnsafeBufferPointer { x in
            half.withUnsafeMutableBufferPointer { t in
                for i in 0..<p {
                    for a in 0..<p {
                        let w = basis.functions[i][a]
                        for cell in 0..<(p * f) { t[i * p * f + cell] += w * Double(x[a * p * f + cell]) }
                    }
                }
            }
        }
        half.withUnsafeBufferPointer { t in
            coefficients.withUnsafeMutableBufferPointer { c in
                for i in 0..<p {
                    for j in 0..<p {
                        let out = (i * p + j) * f
                        for b in 0..<p {
                            let w = basis.functions[j][b], row = (i * p + b) * f
                            for k in 0..<f { c[out + k] += w * t[row + k] }
                        }
                    }
                }
            }
        }
        var variance = [Double](repeating: 0, count: f)
        for index in 1..<(p * p) {
            for k in 0..<f { variance[k] += coefficients[index * f + k] * coefficients[index * f + k] }
        }
        // Functions of s = (a + b) mod p: the mean along each anti-diagonal.
        var aPlusB = [Double](repeating: 0, count: f)
        for k in 0..<f {
            let mean = coefficients[k] / Double(p)  // constant coefficient / √(p²)
            for s in 0..<p {
                var sum = 0.0
                for a in 0..<p { sum += Double(activations.scalars[(a * p + (s - a + p) % p) * f + k]) }
                let e = sum / Double(p) - mean
                aPlusB[k] += Double(p) * e * e
            }
        }
        self.basis = basis
        neurons = f
        self.coefficients = coefficients
        self.variance = variance
        aPlusBPower = aPlusB
    }

    /// Power of `neuron` in basis element (i, j).
    public func power(neuron: Int, i: Int, j: Int) -> Double {
        let c = coefficients[(i * basis.modulus + j) * neurons + neuron]
        return c * c
    }

    /// Power of `neuron` per frequency pair: [k_a][k_b], k = 0 … (p−1)/2 (cos and sin summed).
    public func pairPower(neuron: Int) -> [[Double]] {
        let p = basis.modulus, kMax = basis.maxFrequency
        var result = [[Double]](repeating: [Double](repeating: 0, count: kMax + 1), count: kMax + 1)
        for i in 0..<p {
            for j in 0..<p { result[basis.frequency(of: i)][basis.frequency(of: j)] += power(neuron: neuron, i: i, j: j) }
        }
        return result
    }

    /// Power of `neuron` in each frequency k = 1 … (p−1)/2 (index k − 1): all its terms in a
    /// alone, in b alone and in both, (k, 0) + (0, k) + (k, k) — the last holds the a + b and
    /// a − b terms. Cross terms (k, k′ ≠ k) belong to no single frequency.
    public func frequencyPower(neuron: Int) -> [Double] {
        let pairs = pairPower(neuron: neuron)
        return (1...basis.maxFrequency).map { pairs[$0][0] + pairs[0][$0] + pairs[$0][$0] }
    }

    /// Power of `neuron` in every term whose frequencies in a and in b both lie in `frequencies`
    /// or are 0 (the constant excluded): the projection onto the span of those frequencies.
    public func power(neuron: Int, within frequencies: Set<Int>) -> Double {
        let pairs = pairPower(neuron: neuron)
        let allowed = frequencies.union([0])
        var total = 0.0
        for ka in allowed where ka < pairs.count {
            for kb in allowed where kb < pairs.count && (ka, kb) != (0, 0) { total += pairs[ka][kb] }
        }
        return total
    }
}
