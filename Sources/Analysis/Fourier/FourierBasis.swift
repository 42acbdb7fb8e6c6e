import Foundation

/// The real orthonormal Fourier basis over Z_p (p odd): the constant 1/√p, then for each
/// frequency k = 1 … (p−1)/2 the pair √(2/p)·cos(2πka/p), √(2/p)·sin(2πka/p).
public struct FourierBasis: Sendable, Equatable {
    /// The modulus p.
    public let modulus: Int
    /// Basis functions as rows: functions[i][a]; index 0 is the constant, 2k−1 cos k, 2k sin k.
    public let functions: [[Double]]

    /// The basis over Z_`modulus`; the modulus must be odd and at least 3.
    public init(modulus p: Int) throws {
        guard p >= 3, p % 2 == 1 else {
            throw AnalysisError.badParameter("the real Fourier basis here needs an odd modulus of at least 3, found \(p)")
        }
        modulus = p
        var rows = [[Double](repeating: 1 / Double(p).squareRoot(), count: p)]
        let scale = (2 / Double(p)).squareRoot()
        for k in 1...((p - 1) / 2) {
            rows.append((0..<p).map { scale * cos(2 * Double.pi * Double(k * $0 % p) / Double(p)) })
            rows.append((0..<p).map { scale * sin(2 * Double.pi * Double(k * $0 % p) / Double(p)) })
        }
        functions = rows
    }

    /// The highest frequency, (p − 1) / 2.
    public var maxFrequency: Int { (modulus - 1) / 2 }

    /// The frequency of basis function `index` (0 for the constant).
    public func frequency(of index: Int) -> Int { (index + 1) / 2 }

    /// A readable name of basis function `index`: "const", "cos 3", "sin 3".
    public func name(of index: Int) -> String {
        index == 0 ? "const" : (index % 2 == 1 ? "cos \(frequency(of: index))" : "sin \(frequency(of: index))")
    }

    /// Coefficients of a function on Z_p (p values) in this basis.
    public func transform(_ values: [Double]) throws -> [Double] {
        guard values.count == modulus else {
            throw AnalysisError.badParameter("a function on Z_\(modulus) needs \(modulus) values, found \(values.count)")
        }
        return functions.map { row in zip(row, values).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    /// Coefficients C = B X Bᵀ of a function on Z_p × Z_p, X given row-major [a][b] (p² values);
    /// C[i·p + j] multiplies functions[i](a)·functions[j](b).
    public func transform2D(_ grid: [Double]) throws -> [Double] {
        let p = modulus
        guard grid.count == p * p else {
            throw AnalysisError.badParameter("a function on Z_\(p) × Z_\(p) needs \(p * p) values, found \(grid.count)")
        }
        var half = [Double](repeating: 0, count: p * p)  // T = B X: [i][b]
        for i in 0..<p {
            for a in 0..<p {
                let w = functions[i][a]
                for b in 0..<p { half[i * p + b] += w * grid[a * p + b] }
            }
        }
        var result = [Double](repeating: 0, count: p * p)  // C = T Bᵀ: [i][j]
        for i in 0..<p {
            for j in 0..<p {
                var sum = 0.0
                for b in 0..<p { sum += half[i * p + b] * functions[j][b] }
                result[i * p + j] = sum
            }
        }
        return result
    }
}
