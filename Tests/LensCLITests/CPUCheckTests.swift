import Foundation
import Testing

/// The x86-64-v3 build (Package.swift) refuses, in one line, a CPU without the features its
/// kernels use, instead of crashing on an illegal instruction; `LATENTLENS_CPUINFO` stands in
/// for /proc/cpuinfo.
@Suite struct CPUCheckTests {
    @Test func aCPUWithoutAVX2IsRefusedInOneLine() throws {
        #if arch(x86_64) && os(Linux)
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let real = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let old = "processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx\n"
        try old.write(toFile: dir + "/cpuinfo", atomically: true, encoding: .utf8)
        try real.write(toFile: dir + "/real", atomically: true, encoding: .utf8)
        let refused = try runLens(["generate", "--nodes", "8"], in: dir, environment: ["LATENTLENS_CPUINFO": dir + "/cpuinfo"])
        let accepted = try runLens(["generate", "--nodes", "8"], in: dir, environment: ["LATENTLENS_CPUINFO": dir + "/real"])
        #expect(accepted.status == 0, "\(accepted.error)")
        if ProcessInfo.processInfo.environment["LATENTLENS_PORTABLE"].map({ !$0.isEmpty && $0 != "0" }) ?? false {
            #expect(refused.status == 0, "a portable build checks nothing: \(refused.error)")
        } else {
            #expect(refused.status == 2)
            #expect(refused.error == "error: this lens was built for x86-64-v3 CPUs and this CPU lacks avx2, fma, bmi1, bmi2, f16c, movbe, abm (\(dir)/cpuinfo); rebuild for any x86-64 with LATENTLENS_PORTABLE=1 make build\n")
        }
        #endif
    }
}
