import Transformer

/// Thresholds of the Fourier analysis.
public struct FourierCriteria: Codable, Sendable, Equatable {
    /// A neuron is active when its variance is at least this fraction of the largest neuron's.
    public var activeFraction: Double
    /// A neuron counts toward its top frequency's share when at least this fraction of its
    /// variance lies in that frequency (so diffuse, untrained neurons name no key frequency).
    public var dominance: Double
    /// A key frequency is the top frequency of such neurons for at least this share of all active neurons.
    public var keyShare: Double
    /// How many of the highest-variance active neurons to list for heatmaps.
    public var topNeuronCount: Int

    public init(activeFraction: Double = 1e-3, dominance: Double = 0.5, keyShare: Double = 0.1, topNeuronCount: Int = 8) {
        self.activeFraction = activeFraction
        self.dominance = dominance
        self.keyShare = keyShare
        self.topNeuronCount = topNeuronCount
    }
}

/// Active neurons sharing a top frequency.
public struct FrequencyCluster: Codable, Sendable, Equatable {
    public var frequency: Int
    public var neurons: [Int]
    /// Mean fraction of their variance in that frequency.
    public var meanFraction: Double

    enum CodingKeys: String, CodingKey {
        case frequency, neurons
        case meanFraction = "mean_fraction"
    }
}

/// Power of a function on Z_p (summed over features) per frequency.
public struct Spectrum: Codable, Sendable, Equatable {
    /// Frequencies 1 … (p−1)/2.
    public var frequencies: [Int]
    /// Power per frequency (cos² + sin², summed over features).
    public var power: [Double]
    /// Power per frequency as a fraction of all non-constant power.
    public var fraction: [Double]
    /// Power of the constant term.
    public var constant: Double
}

/// How the value readout depends on a + b.
public struct Readout: Codable, Sendable, Equatable {
    /// Fraction of grid cells whose argmax over all classes is (a + b) mod p.
    public var accuracy: Double
    /// Mean logit of class c as a function of d = (a + b − c) mod p (index d).
    public var logitByDifference: [Double]

    enum CodingKeys: String, CodingKey {
        case accuracy
        case logitByDifference = "logit_by_difference"
    }
}

/// The `fourier` section of the analysis JSON (the keys docs/analysis.md defines first).
public struct FourierSection: Codable, Sendable, Equatable {
    public var keyFrequencies: [Int]
    /// Σ over active neurons of the power in their own top frequency / Σ of their variance.
    public var weightedTopFrequencyFraction: Double
    /// Median over active neurons of the fraction of variance in their top frequency.
    public var medianTopFrequencyFraction: Double
    /// Share of the active neurons' variance in terms built from key frequencies only.
    public var varianceExplainedByKey: Double
    /// Share of the active neurons' variance in functions of (a + b) mod p.
    public var aPlusBShare: Double
    public var neuronCount: Int
    public var activeNeurons: Int
    /// Per neuron: its top frequency (0 when inactive) and the fraction of variance in it.
    public var topFrequency: [Int]
    public var topFraction: [Double]
    /// Per neuron: variance energy over the grid.
    public var neuronVariance: [Double]
    /// Per neuron, per frequency 1 … (p−1)/2: fraction of its variance (zeros when inactive).
    public var neuronSpectrum: [[Double]]
    /// Per frequency 1 … (p−1)/2: share of the active neurons' variance.
    public var frequencyShare: [Double]
    /// Per frequency 1 … (p−1)/2: active neurons dominated by it.
    public var topFrequencyCounts: [Int]
    public var clusters: [FrequencyCluster]
    /// The highest-variance active neurons, for heatmaps.
    public var topNeurons: [Int]
    public var embeddingSpectrum: Spectrum?
    public var readout: Readout?

    enum CodingKeys: String, CodingKey {
        case keyFrequencies = "key_frequencies"
        case weightedTopFrequencyFraction = "weighted_top_frequency_fraction"
        case medianTopFrequencyFraction = "median_top_frequency_fraction"
        case varianceExplainedByKey = "variance_explained_by_key"
        case aPlusBShare = "a_plus_b_share"
        case neuronCount = "neuron_count"
        case activeNeurons = "active_neurons"
        case topFrequency = "top_frequency"
        case topFraction = "top_fraction"
        case neuronVariance = "neuron_variance"
        case neuronSpectrum = "neuron_spectrum"
        case frequencyShare = "frequency_share"
        case topFrequencyCounts = "top_frequency_counts"
        case clusters
        case topNeurons = "top_neurons"
        case embeddingSpectrum = "embedding_spectrum"
        case readout
    }

    /// Analyses MLP activations [p, p, F] over the value grid (axis 0: a, axis 1: b).
    public init(activations: Tensor, modulus: Int, criteria: FourierCriteria = FourierCriteria(),
                embeddingSpectrum: Spectrum? = nil, readout: Readout? = nil) throws {
        let basis = try FourierBasis(modulus: modulus)
        let spectra = try NeuronSpectra(activations: activations, basis: basis)
        let f = spectra.neurons, kMax = basis.maxFrequency
        let largest = spectra.variance.max() ?? 0
        let active = (0..<f).filter { largest > 0 && spectra.variance[$0] >= criteria.activeFraction * largest }

        var top = [Int](repeating: 0, count: f), fraction = [Double](repeating: 0, count: f)
        var spectrum = [[Double]](repeating: [Double](repeating: 0, count: kMax), count: f)
        var share = [Double](repeating: 0, count: kMax), counts = [Int](repeating: 0, count: kMax)
        var totalVariance = 0.0, topPower = 0.0, aPlusB = 0.0
        for n in active {
            let power = spectra.frequencyPower(neuron: n), v = spectra.variance[n]
            let best = power.indices.max { power[$0] < power[$1] || (power[$0] == power[$1] && $0 > $1) } ?? 0
            top[n] = best + 1
            fraction[n] = power[best] / v
            spectrum[n] = power.map { $0 / v }
            for k in 0..<kMax { share[k] += power[k] }
            if fraction[n] >= criteria.dominance { counts[best] += 1 }
            totalVariance += v
            topPower += power[best]
            aPlusB += spectra.aPlusBPower[n]
        }
        let keys = (1...kMax).filter { !active.isEmpty && Double(counts[$0 - 1]) >= criteria.keyShare * Double(active.count) }
        var keyPower = 0.0
        if !keys.isEmpty { for n in active { keyPower += spectra.power(neuron: n, within: Set(keys)) } }

        keyFrequencies = keys
        weightedTopFrequencyFraction = totalVariance > 0 ? topPower / totalVariance : 0
        medianTopFrequencyFraction = Statistics.median(active.map { fraction[$0] })
        varianceExplainedByKey = totalVariance > 0 ? keyPower / totalVariance : 0
        aPlusBShare = totalVariance > 0 ? aPlusB / totalVariance : 0
        neuronCount = f
        activeNeurons = active.count
        topFrequency = top
        topFraction = fraction
        neuronVariance = spectra.variance
        neuronSpectrum = spectrum
        frequencyShare = share.map { totalVariance > 0 ? $0 / totalVariance : 0 }
        topFrequencyCounts = counts
        clusters = (1...kMax).compactMap { k in
            let members = active.filter { top[$0] == k }
            guard !members.isEmpty else { return nil }
            return FrequencyCluster(frequency: k, neurons: members,
                                    meanFraction: members.map { fraction[$0] }.reduce(0, +) / Double(members.count))
        }
        topNeurons = Array(active.sorted { spectra.variance[$0] > spectra.variance[$1] || (spectra.variance[$0] == spectra.variance[$1] && $0 < $1) }
            .prefix(criteria.topNeuronCount))
        self.embeddingSpectrum = embeddingSpectrum
        self.readout = readout
    }
}
