import Foundation
import Testing
@testable import Analysis
@testable import Transformer

let p = 23

/// A [p, p, F] grid whose neuron f is `neurons[f](a, b)`.
func grid(_ neurons: [(Int, Int) -> Double]) -> Tensor {
    var t = Tensor(shape: [p, p, neurons.count])
    for a in 0..<p { for b in 0..<p { for (f, neuron) in neurons.enumerated() { t.scalars[(a * p + b) * neurons.count + f] = Float(neuron(a, b)) } } }
    return t
}

func wave(_ k: Int, _ x: Int, sine: Bool = false) -> Double {
    let angle = 2 * Double.pi * Double(k * x % p) / Double(p)
    return sine ? sin(angle) : cos(angle)
}

@Suite struct FourierTests {
    @Test func basisIsOrthonormal() throws {
        let basis = try FourierBasis(modulus: p)
        #expect(basis.functions.count == p && basis.maxFrequency == 11)
        for i in 0..<p {
            for j in 0..<p {
                let dot = zip(basis.functions[i], basis.functions[j]).reduce(0) { $0 + $1.0 * $1.1 }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5, "⟨φ\(i), φ\(j)⟩ = \(dot)")
            }
        }
        #expect(basis.name(of: 0) == "const" && basis.name(of: 5) == "cos 3" && basis.name(of: 6) == "sin 3")
        #expect(throws: AnalysisError.self) { try FourierBasis(modulus: 22) }
    }

    @Test func oneAndTwoDimensionalTransformsKeepEnergyAndFindTheFrequency() throws {
        let basis = try FourierBasis(modulus: p)
        let c = try basis.transform((0..<p).map { 3 * wave(4, $0, sine: true) })
        #expect(abs(c[8] - 3 * (Double(p) / 2).squareRoot()) < 1e-9)
        #expect(c.enumerated().allSatisfy { $0.offset == 8 || abs($0.element) < 1e-9 })
        let values = (0..<(p * p)).map { Double(($0 * 7919) % 31) - 15 }
        let coefficients = try basis.transform2D(values)
        let energy = values.reduce(0) { $0 + $1 * $1 }, power = coefficients.reduce(0) { $0 + $1 * $1 }
        #expect(abs(energy - power) < 1e-6 * energy)
    }

    @Test func reluOfTwoWavesHasItsOwnFrequency() throws {
        let neuron: (Int, Int) -> Double = { a, b in max(0, wave(3, a) + wave(3, b)) }
        let section = try FourierSection(activations: grid([neuron]), modulus: p)
        #expect(section.topFrequency == [3])
        #expect(section.topFraction[0] > 0.9, "fraction \(section.topFraction[0])")
        #expect(section.keyFrequencies == [3])
    }

    @Test func functionsOfAPlusBArePureAPlusB() throws {
        let neurons: [(Int, Int) -> Double] = [
            { a, b in wave(5, a + b) },
            { a, b in 2 * wave(5, a + b, sine: true) },
            { a, _ in 0.5 * wave(2, a) },
            { _, _ in 7 },  // constant: inactive
        ]
        let section = try FourierSection(activations: grid(neurons), modulus: p)
        #expect(section.activeNeurons == 3 && section.neuronCount == 4)
        #expect(section.topFrequency == [5, 5, 2, 0])
        for f in 0..<3 { #expect(abs(section.topFraction[f] - 1) < 1e-6) }
        #expect(section.keyFrequencies == [2, 5])
        #expect(abs(section.weightedTopFrequencyFraction - 1) < 1e-6)
        #expect(abs(section.medianTopFrequencyFraction - 1) < 1e-6)
        #expect(abs(section.varianceExplainedByKey - 1) < 1e-6)
        // Energies p²/2, 2p², p²/8: the first two lie in a + b.
        #expect(abs(section.aPlusBShare - 2.5 / 2.625) < 1e-6)
        #expect(section.clusters == [FrequencyCluster(frequency: 2, neurons: [2], meanFraction: section.clusters[0].meanFraction),
                                     FrequencyCluster(frequency: 5, neurons: [0, 1], meanFraction: section.clusters[1].meanFraction)])
        #expect(section.topNeurons == [1, 0, 2])
        #expect(abs(section.frequencyShare[4] - 2.5 / 2.625) < 1e-6)
        #expect(section.topFrequencyCounts[1] == 1 && section.topFrequencyCounts[4] == 2)

        let spectra = try NeuronSpectra(activations: grid([neurons[0]]), basis: FourierBasis(modulus: p))
        #expect(abs(spectra.aPlusBPower[0] - spectra.variance[0]) < 1e-6)
    }

    @Test func diffuseNeuronsNameNoKeyFrequency() throws {
        // ReLU of random additive inputs, like an untrained model.
        var state: UInt64 = 42
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        let neurons: [(Int, Int) -> Double] = (0..<32).map { _ in
            let u = (0..<p).map { _ in uniform() }, w = (0..<p).map { _ in uniform() }
            return { a, b in max(0, u[a] + w[b]) }
        }
        let section = try FourierSection(activations: grid(neurons), modulus: p)
        #expect(section.keyFrequencies.isEmpty, "found \(section.keyFrequencies)")
        #expect(section.weightedTopFrequencyFraction < 0.4, "fraction \(section.weightedTopFrequencyFraction)")
    }

    @Test func embeddingSpectrumAndReadout() throws {
        var table = Tensor(shape: [p + 2, 2])
        for v in 0..<p { table.scalars[v * 2] = Float(1 + wave(4, v)); table.scalars[v * 2 + 1] = Float(wave(4, v, sine: true)) }
        table.scalars[p * 2] = 50  // N/A row, ignored
        let spectrum = try Fourier.spectrum(table: table, modulus: p)
        #expect(spectrum.frequencies == Array(1...11))
        #expect(abs(spectrum.fraction[3] - 1) < 1e-9)
        #expect(abs(spectrum.power[3] - Double(p)) < 1e-6)
        #expect(abs(spectrum.constant - Double(p)) < 1e-6)

        var logits = Tensor(shape: [p, p, p + 2], repeating: -5)
        for a in 0..<p { for b in 0..<p { for c in 0..<p { logits.scalars[(a * p + b) * (p + 2) + c] = Float(wave(1, a + b + p - c)) } } }
        let readout = try Fourier.readout(logits: logits, modulus: p)
        #expect(readout.accuracy == 1)
        for d in 0..<p { #expect(abs(readout.logitByDifference[d] - wave(1, d)) < 1e-6) }
        #expect(throws: AnalysisError.self) { try Fourier.readout(logits: Tensor(shape: [p, p, 3]), modulus: p) }
    }

    @Test func gridAssemblyAveragesRepeatsAndRefusesHoles() throws {
        let q = 3
        let a = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2], b = [0, 1, 2, 0, 1, 2, 0, 1, 2, 2]
        let rows = Tensor(shape: [10, 1], scalars: [0, 1, 2, 3, 4, 5, 6, 7, 8, 10])
        let g = try Fourier.grid(rows: rows, a: a, b: b, modulus: q)
        #expect(g.shape == [3, 3, 1])
        #expect(g.scalars == [0, 1, 2, 3, 4, 5, 6, 7, 9])
        #expect(throws: AnalysisError.self) {
            try Fourier.grid(rows: Tensor(shape: [9, 1], scalars: Array(rows.scalars.prefix(9))), a: Array(a.prefix(9)), b: Array(b.prefix(8)) + [1], modulus: q)
        }
    }

    @Test func fourierSectionWritesTheIssueKeys() throws {
        let section = try FourierSection(activations: grid([{ a, b in wave(5, a + b) }]), modulus: p)
        let data = try JSONEncoder().encode(AnalysisSummary(fourier: section))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let fourier = try #require(json["fourier"] as? [String: Any])
        for key in ["key_frequencies", "weighted_top_frequency_fraction", "median_top_frequency_fraction",
                    "variance_explained_by_key", "a_plus_b_share"] {
            #expect(fourier[key] != nil, "missing \(key)")
        }
        #expect(try JSONDecoder().decode(AnalysisSummary.self, from: data).fourier == section)
    }
}
