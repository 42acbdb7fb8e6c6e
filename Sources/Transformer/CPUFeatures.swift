#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU features of the x86-64 levels the kernels are built for (Package.swift), as
/// /proc/cpuinfo names them.
public enum CPUFeatures {
    /// x86-64-v3: AVX2 and FMA (`abm` is LZCNT). The Transformer and Training modules need them.
    public static let x86_64_v3 = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"]
    /// x86-64-v4: AVX-512's foundation and the four extensions the level adds. The leaf kernels of
    /// the KernelsAVX512 module need them.
    public static let x86_64_v4 = x86_64_v3 + ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]

    /// The features of `required` missing from the `flags` line of a /proc/cpuinfo text (nil when
    /// it has no such line, so nothing can be said).
    public static func missing(_ required: [String], cpuinfo: String) -> [String]? {
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        let flags = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        return required.filter { !flags.contains($0) }
    }

    /// The text of /proc/cpuinfo, or of the file `LATENTLENS_CPUINFO` names (for the tests); nil
    /// where there is none.
    public static func cpuinfo() -> (path: String, text: String)? {
        let path = getenvString("LATENTLENS_CPUINFO") ?? "/proc/cpuinfo"
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let read = fread(&buffer, 1, buffer.count, file)
            if read <= 0 { break }
            bytes += buffer[0..<read]
        }
        return (path, String(decoding: bytes, as: UTF8.self))
    }
}
