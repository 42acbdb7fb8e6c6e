import Foundation

/// The CPU features the x86-64-v3 build's kernels may use (Package.swift), as /proc/cpuinfo
/// names them (`abm` is LZCNT).
let x86_64_v3Features = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"]

/// The features of `required` missing from the `flags` line of a /proc/cpuinfo text (nil when
/// it has no such line, so nothing can be said).
func missingCPUFeatures(cpuinfo: String, required: [String]) -> [String]? {
    guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
          let colon = line.firstIndex(of: ":") else { return nil }
    let flags = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    return required.filter { !flags.contains($0) }
}

/// Exits with one clear line, before any kernel runs, when this build needs CPU features the
/// machine lacks: the alternative is an illegal-instruction crash somewhere in a forward pass.
/// `LATENTLENS_CPUINFO` names another file to read instead of /proc/cpuinfo (for the tests).
func checkCPUFeatures() {
    #if LATENTLENS_X86_64_V3 && os(Linux)
    let path = ProcessInfo.processInfo.environment["LATENTLENS_CPUINFO"] ?? "/proc/cpuinfo"
    guard let cpuinfo = try? String(contentsOfFile: path, encoding: .utf8),
          let missing = missingCPUFeatures(cpuinfo: cpuinfo, required: x86_64_v3Features), !missing.isEmpty else { return }
    printError("error: this lens was built for x86-64-v3 CPUs and this CPU lacks \(missing.joined(separator: ", ")) "
               + "(\(path)); rebuild for any x86-64 with LATENTLENS_PORTABLE=1 make build")
    exit(2)
    #endif
}
